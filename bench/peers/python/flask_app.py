"""Flask 3 peer, served by gunicorn (sync workers; see bench/peers/run.py for the count):

    gunicorn --chdir bench/peers/python -w N -b 127.0.0.1:PORT flask_app:app

Raw SQL with psycopg 3: one connection per worker process (a sync worker serves one request at a
time), opened at the first request; psycopg prepares a statement after its 5th execution (its
default `prepare_threshold`). Fortunes through a Jinja2 template with autoescaping, as Flask apps
render HTML.
"""

import psycopg
from flask import Flask, Response, jsonify, render_template_string, request

from common import ADDED_FORTUNE, database_url, new_random_number, queries_param, random_id

app = Flask(__name__)
app.json.sort_keys = False
# gunicorn adds the Server (gunicorn) and Date headers.
DB_URL = database_url()
_conn = None

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = %s"
UPDATE_WORLDS = ("UPDATE world SET randomnumber = v.r FROM (SELECT unnest(%s::int[]) AS id, "
                 "unnest(%s::int[]) AS r) AS v WHERE world.id = v.id")
FORTUNES = """<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
<tr><th>id</th><th>message</th></tr>\
{% for f in fortunes %}<tr><td>{{ f[0] }}</td><td>{{ f[1] }}</td></tr>{% endfor %}\
</table></body></html>"""


def conn() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed or _conn.broken:
        _conn = psycopg.connect(DB_URL, autocommit=True)
    return _conn


@app.get("/plaintext")
def plaintext():
    return Response(b"Hello, World!", mimetype="text/plain")


@app.get("/json")
def json_():
    return jsonify(message="Hello, World!")


def get_worlds(cur, n: int) -> list[dict]:
    out = []
    for _ in range(n):  # one query per row, as TechEmpower requires
        cur.execute(SELECT_WORLD, (random_id(),))
        wid, number = cur.fetchone()
        out.append({"id": wid, "randomNumber": number})
    return out


@app.get("/db")
def db():
    with conn().cursor() as cur:
        return jsonify(get_worlds(cur, 1)[0])


@app.get("/queries")
def queries():
    with conn().cursor() as cur:
        return jsonify(get_worlds(cur, queries_param(request.args.get("queries"))))


@app.get("/fortunes")
def fortunes():
    with conn().cursor() as cur:
        cur.execute("SELECT id, message FROM fortune")
        rows = cur.fetchall()
    rows.append((0, ADDED_FORTUNE))
    rows.sort(key=lambda f: f[1])
    return render_template_string(FORTUNES, fortunes=rows)


@app.get("/updates")
def updates():
    c = conn()
    with c.cursor() as cur:
        worlds = get_worlds(cur, queries_param(request.args.get("queries")))
        for w in worlds:
            w["randomNumber"] = new_random_number(w["randomNumber"])
        ordered = sorted(worlds, key=lambda w: w["id"])  # same lock order in every request
        cur.execute(UPDATE_WORLDS, ([w["id"] for w in ordered], [w["randomNumber"] for w in ordered]))
    return jsonify(worlds)
