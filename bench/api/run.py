#!/usr/bin/env python3
"""REST resources (issue 5): Turbine's API battery against a hand-written axum + tokio-postgres
handler doing the same work, in one run: `bench/api/run [options]`.

Cases: `list` = `GET /posts?limit=20&expand=author` (20 posts with their author, one joined
query, a signed cursor, an ETag), `create` = `POST /posts` with a JSON body (validated, inserted,
201 + Location + ETag). Servers: `resource` (bench-api: the `/posts` resource, creates with a
bearer token of a user holding `bench.post.add`, the resource's default permission rule),
`resource-anyone` (the same binary with creates open to anyone: no token, no permission
lookup; create case only) and `hand-written` (bench-api-axum, the baseline).

A fresh database `turbine_bench_api_<random>` is created (and dropped at the end); bench-api's
migrations create the tables and it seeds 50 authors x 20 posts. Every server is checked first
(status, JSON shape and values against the other server, headers); then per case and run, every
server in turn is started pinned to CPU 0, warmed up, measured with wrk on CPU 1 and stopped
(runs interleave). Per run: req/s, p99, the server's CPU per request (process tree, utime +
stime), the Postgres backends' CPU per request. The measuring, server lifecycle and Postgres
helpers are bench/db/run.py's and bench/report.py's. Results: a markdown table on stdout,
everything in bench/results/api.json. Usage: bench/README.md, "REST resources".
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

API_DIR = Path(__file__).resolve().parent
BENCH = API_DIR.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "db"))
import report as R  # noqa: E402  (bench/report.py: /proc readers, wait_quiet, wait_ready)
import run as dbrun  # noqa: E402  (bench/db/run.py: Server, measure, run_server_once, Postgres)

BAR = 0.70  # the resource >= 0.70 x hand-written
CASES = {"list": "/posts?limit=20&expand=author", "create": "/posts"}
SCRIPTS = {"list": BENCH / "wrk_report.lua", "create": API_DIR / "wrk_create.lua"}
BASELINE = "hand-written"


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def server_list(secret: str) -> list[dict]:
    """The servers, as bench/db/servers lines would give them ({bin}, {port}, {db}, {pool})."""
    turbine = ["env", "TURBINE_ENV=prod", f"TURBINE_SECRET_KEY={secret}", 'TURBINE_SERVER__ALLOWED_HOSTS=["*"]',
               "TURBINE_DATABASE__URL={db}?pool_size={pool}", "TURBINE_AUTH__ACCESS_TTL=24h"]
    serve = ["{bin}", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return [
        {"name": "resource", "port": 8096, "package": "bench-api", "token": True,
         "cases": ["list", "create"], "command": turbine + serve,
         "what": "Turbine API battery, /posts resource; creates with a bearer token (permission bench.post.add)"},
        {"name": "resource-anyone", "port": 8098, "package": "bench-api", "token": False, "cases": ["create"],
         "command": turbine + ["BENCH_API_CREATE=anyone"] + serve,
         "what": "the same, creates open to anyone (.access(Op::Create, Rule::Anyone)): no token, no permission lookup"},
        {"name": BASELINE, "port": 8097, "package": "bench-api-axum", "token": False, "cases": ["list", "create"],
         "command": ["env", f"BENCH_CURSOR_SECRET={secret}", "{bin}", "--port", "{port}"],
         "what": "hand-written axum 0.8 + tokio-postgres + deadpool (bench/servers/api-axum)"},
    ]


# ------------------------------------------------------------------------------------ http


def http(method: str, port: int, path: str, body: dict | None = None, token: str | None = None,
         headers: dict | None = None) -> tuple[int, dict, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def shape(v):
    """A JSON value's shape: keys in order and types, recursively (lists by their first item)."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    return type(v).__name__


def fetch_token(port: int) -> str:
    status, _, body = http("POST", port, "/bench-token", {})
    if status != 200:
        raise RuntimeError(f"POST /bench-token answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def check_server(s: dict, token: str | None) -> tuple[list[str], dict]:
    """Checks one running server; returns (problems, what it answered)."""
    port, problems, seen = s["port"], [], {}
    status, headers, body = http("GET", port, CASES["list"])
    seen["list"] = {"status": status, "headers": headers, "body": body.decode(errors="replace")}
    if status != 200:
        problems.append(f"GET {CASES['list']}: status {status}, expected 200: {body[:300]!r}")
    else:
        page = json.loads(body)
        seen["list"]["json"] = page
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append(f"list: Content-Type {headers.get('content-type')!r}")
        if not headers.get("etag"):
            problems.append("list: no ETag")
        items = page.get("items") or []
        if len(items) != 20:
            problems.append(f"list: {len(items)} items, expected 20")
        if not isinstance(page.get("next_cursor"), str) or not isinstance(page.get("next"), str):
            problems.append("list: next_cursor / next missing")
        if items and not isinstance(items[0].get("author"), dict):
            problems.append("list: author not expanded")
        ids = [i.get("id") for i in items]
        if ids != sorted(ids, reverse=True):
            problems.append("list: not newest first")
        if headers.get("etag"):
            st, _, _ = http("GET", port, CASES["list"], headers={"If-None-Match": headers["etag"]})
            if st != 304:
                problems.append(f"list: If-None-Match with its ETag answered {st}, expected 304")
        if isinstance(page.get("next"), str):
            st, _, b2 = http("GET", port, page["next"])
            if st != 200 or not json.loads(b2).get("items") or json.loads(b2)["items"][0]["id"] >= ids[-1]:
                problems.append(f"list: the next page ({page['next']}) answered {st} or did not follow")
            tampered = page["next_cursor"][:-2] + ("AA" if not page["next_cursor"].endswith("AA") else "BB")
            st, _, _ = http("GET", port, "/posts?limit=20&expand=author&cursor=" + urllib.parse.quote(tampered))
            if st != 400:
                problems.append(f"list: a tampered cursor answered {st}, expected 400")
    new = {"author": 7, "title": "Verification post", "body": "Checking the create endpoint."}
    status, headers, body = http("POST", port, CASES["create"], new, token=token)
    seen["create"] = {"status": status, "headers": headers, "body": body.decode(errors="replace")}
    if status != 201:
        problems.append(f"POST {CASES['create']}: status {status}, expected 201: {body[:300]!r}")
    else:
        obj = json.loads(body)
        seen["create"]["json"] = obj
        for k, v in new.items():
            if obj.get(k) != v:
                problems.append(f"create: {k} = {obj.get(k)!r}, expected {v!r}")
        if headers.get("location") != f"/posts/{obj.get('id')}":
            problems.append(f"create: Location {headers.get('location')!r}")
        if not headers.get("etag"):
            problems.append("create: no ETag")
    status, _, body = http("POST", port, CASES["create"], dict(new, title="x" * 201), token=token)
    if status != 422:
        problems.append(f"create: a 201-character title answered {status}, expected 422")
    status, _, body = http("POST", port, CASES["create"], dict(new, author=999999), token=token)
    if status not in (400, 422):
        problems.append(f"create: an author that does not exist answered {status}, expected 422")
    if s["token"]:
        status, _, _ = http("POST", port, CASES["create"], new)
        if status != 401:
            problems.append(f"create without a token answered {status}, expected 401 (permission rule off?)")
    return problems, seen


def compare(seen: dict[str, dict], problems: dict[str, list[str]]) -> None:
    """The resource's answers against the baseline's: same shapes, same list items."""
    base = seen.get(BASELINE, {})
    for name, got in seen.items():
        if name == BASELINE:
            continue
        for case in ("list", "create"):
            a, b = got.get(case, {}).get("json"), base.get(case, {}).get("json")
            if a is None or b is None:
                continue
            if shape(a) != shape(b):
                problems[name].append(f"{case}: JSON shape differs from {BASELINE}'s: {shape(a)} vs {shape(b)}")
            if case == "list" and a.get("items") != b.get("items"):
                problems[name].append(f"list: items differ from {BASELINE}'s")
            # Same data, same cursor key, same key order: the same bytes, hence the same ETag.
            if case == "list" and got["list"]["body"] != base["list"]["body"]:
                problems[name].append(f"list: body not byte-for-byte {BASELINE}'s")
            if case == "list" and got["list"]["headers"].get("etag") != base["list"]["headers"].get("etag"):
                problems[name].append(f"list: ETag differs from {BASELINE}'s")
            if case == "list" and a.get("next_cursor") and b.get("next_cursor") \
                    and a["next_cursor"].split(".")[0] != b["next_cursor"].split(".")[0]:
                problems[name].append(f"list: cursor position differs from {BASELINE}'s "
                                      f"({a['next_cursor']} vs {b['next_cursor']})")


class PgPinner(threading.Thread):
    """Keeps every Postgres backend of the benchmark database on one CPU, new ones included.

    bench/db/run.py's measure() pins the backends it finds when a run starts. Turbine's pool
    closes a connection whose transaction was cancelled (wrk hanging up mid-create at the end of
    the warm-up cancels up to 64 requests), so its creates reopen connections during the measured
    run: unpinned, those backends would run on wrk's CPU for free. This thread pins them within
    ~0.1 s of their start."""

    def __init__(self, db_name: str, cpu: int):
        super().__init__(daemon=True)
        self.db_name, self.cpu, self.done, self.pinned = db_name, cpu, threading.Event(), set()

    def run(self) -> None:
        while not self.done.wait(0.1):
            backends, _ = dbrun.pg_processes(self.db_name)
            for b in backends:
                if b not in self.pinned:
                    try:
                        os.sched_setaffinity(b, {self.cpu})
                        self.pinned.add(b)
                    except OSError:
                        pass


# ------------------------------------------------------------------------------------ main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/api/run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 s runs, 2 s warm-up (default 10 s, 5 s)")
    p.add_argument("--cases", default="list,create", help="comma-separated subset of list,create")
    p.add_argument("--only", help="comma-separated servers (resource, resource-anyone, hand-written)")
    p.add_argument("--duration", type=int), p.add_argument("--warmup", type=int)
    p.add_argument("--runs", type=int, default=3, help="measured runs per case and server (default 3; median)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--pool-size", type=int, default=16, help="database pool of every server (default 16)")
    p.add_argument("--pg-cpu", default="0", choices=["0", "1", "any"],
                   help="pin the Postgres backends of the benchmark database to this CPU (default 0, with "
                        "the server, as bench/run --db does)")
    p.add_argument("--wait-quiet", type=float, default=0, help="before each run, wait up to N s for an idle machine")
    p.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    p.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    p.add_argument("--out", default=str(BENCH / "results" / "api.json"), help="JSON results (default bench/results/api.json)")
    a = p.parse_args()
    a.duration = a.duration or (3 if a.quick else 10)
    a.warmup = a.warmup if a.warmup is not None else (2 if a.quick else 5)
    wanted = a.cases.split(",")
    if set(wanted) - set(CASES):
        p.error("--cases: choose from list,create")
    a.cases = [c for c in CASES if c in wanted]
    return a


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, spec: str) -> str:
    return "–" if v is None else format(v, spec)


def summarize(results: dict, servers: list[dict], cases: list[str]) -> tuple[str, dict]:
    summary: dict = {}
    for case in cases:
        for s in servers:
            runs = [e for e in results["runs"] if e["server"] == s["name"] and e["case"] == case
                    and e["kind"] == "run" and e.get("ok")]
            if not runs:
                continue
            summary.setdefault(case, {})[s["name"]] = {
                "runs": len(runs),
                "rps": med([e["rps"] for e in runs]),
                "p99_ms": med([e["p99_ms"] for e in runs]),
                "server_cpu_us_per_req": med([e["server_cpu_us_per_req"] for e in runs]),
                "pg_cpu_us_per_req": med([e["pg_cpu_us_per_req"] for e in runs]),
                "stack_cpu_us_per_req": med([e["stack_cpu_us_per_req"] for e in runs]),
                "server_cpu_pct": med([e["server_cpu_pct"] for e in runs]),
                "pg_cpu_pct": med([e["pg_cpu_pct"] for e in runs]),
                "wrk_cpu_pct": med([e["wrk_cpu_pct"] for e in runs]),
                "other_cpu_pct_max": max((e["other_cpu_pct"] or 0) for e in runs),
                "errors": sum(e["errors_total"] for e in runs),
                "rss_mib": round(max(e.get("rss_kib", 0) for e in runs) / 1024, 1),
            }
    lines = ["| case | server | req/s | p99 ms | server CPU µs/req | pg CPU µs/req | server+pg µs/req "
             "| req/s ÷ hand-written | server CPU/req ÷ hand-written | server / pg / wrk / other CPU % | RSS MiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    verdicts = []
    for case in cases:
        rows = summary.get(case, {})
        base = rows.get(BASELINE)
        for name, m in rows.items():
            if base and name != BASELINE:
                m["rps_ratio"] = round(m["rps"] / base["rps"], 3)
                m["cpu_ratio"] = round(m["server_cpu_us_per_req"] / base["server_cpu_us_per_req"], 3)
                m["stack_cpu_ratio"] = round(m["stack_cpu_us_per_req"] / base["stack_cpu_us_per_req"], 3)
                m["pass_rps"] = m["rps_ratio"] >= BAR
                m["pass_cpu"] = m["cpu_ratio"] <= 1 / BAR
            noisy = " ‡" if m["other_cpu_pct_max"] > R.BUSY_OTHER_PCT else ""
            lines.append(
                f"| {case} | {name} | {m['rps']:,.0f} | {m['p99_ms']:.2f} | {m['server_cpu_us_per_req']:.1f} "
                f"| {m['pg_cpu_us_per_req']:.1f} | {m['stack_cpu_us_per_req']:.1f} "
                f"| {fmt(m.get('rps_ratio'), '.3f') if name != BASELINE else '1'} "
                f"| {fmt(m.get('cpu_ratio'), '.3f') if name != BASELINE else '1'} "
                f"| {m['server_cpu_pct']:.0f} / {m['pg_cpu_pct']:.0f} / {m['wrk_cpu_pct']:.0f} / "
                f"{m['other_cpu_pct_max']:.0f}{noisy} | {m['rss_mib']} |")
            if base and name != BASELINE:
                ok = m["pass_rps"] and m["pass_cpu"]
                verdicts.append(
                    f"- {case}, {name}: req/s {m['rps_ratio']:.3f} × hand-written (bar ≥ {BAR}), server "
                    f"CPU/req {m['cpu_ratio']:.3f} × (bar ≤ {1 / BAR:.3f}; efficiency {1 / m['cpu_ratio']:.3f}), "
                    f"server+pg CPU/req {m['stack_cpu_ratio']:.3f} × → **{'PASS' if ok else 'FAIL'}**")
    text = "\n".join(lines) + "\n\n" + "\n".join(verdicts) + "\n"
    return text, summary


def main() -> int:
    a = parse_args()
    secret = secrets.token_hex(32)
    servers = server_list(secret)
    if a.only:
        wanted = a.only.split(",")
        if BASELINE not in wanted:
            wanted.append(BASELINE)
        servers = [s for s in servers if s["name"] in wanted]
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("bench/api/run: needs 2 CPUs (server on CPU 0, wrk on CPU 1)")
    server_pin, a.wrk_pin = ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    a.port_of = {s["name"]: s["port"] for s in servers}
    os.chdir(ROOT)
    if not a.no_build:
        pkgs = sorted({s["package"] for s in servers})
        log("cargo build --release " + " ".join(f"-p {p}" for p in pkgs))
        subprocess.run(["cargo", "build", "--release"] + [x for p in pkgs for x in ("-p", p)], check=True,
                       stdout=sys.stderr)
    tdir = dbrun.target_dir()
    for tool in ("wrk", "psql", "taskset"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise SystemExit(f"bench/api/run: {tool} not found")
    for s in servers:
        if R.cmd_port_free(argparse.Namespace(port=s["port"])):
            raise SystemExit(f"bench/api/run: port 127.0.0.1:{s['port']} is in use (a leftover server?)")

    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    db_name = f"turbine_bench_api_{secrets.token_hex(4)}"
    u = urllib.parse.urlsplit(admin_url)
    db_url = urllib.parse.urlunsplit(u._replace(path="/" + db_name))
    log(f"creating database {db_name}")
    dbrun.psql(admin_url, f"CREATE DATABASE {db_name} ENCODING 'UTF8' TEMPLATE template0")
    # As bench/db/setup does for TechEmpower's tables: this database only.
    dbrun.psql(admin_url, f"ALTER DATABASE {db_name} SET synchronous_commit = off")
    work = Path(tempfile.mkdtemp(prefix="turbine-bench-api."))
    os.environ["BENCH_DB_POOL_SIZE"] = str(a.pool_size)
    os.environ["WRK_REPORT_LUA"] = str(BENCH / "wrk_report.lua")
    env = dict(os.environ, BENCH_DATABASE_URL=db_url)
    results: dict = {"servers": {}, "runs": [], "verifications": {}}
    config = {"duration": a.duration, "warmup": a.warmup, "runs": a.runs, "connections": a.connections,
              "threads": a.threads, "pool_size": a.pool_size, "pg_cpu": a.pg_cpu, "cases": CASES,
              "database": db_name, "synchronous_commit": "off", "wait_quiet": a.wait_quiet, "bar": BAR,
              "baseline": BASELINE, "target_dir": tdir}
    try:
        facts = dbrun.machine_facts(work, db_url)

        def reset() -> None:
            """Back to the seeded 1,000 posts (creates add rows), dead rows vacuumed."""
            dbrun.psql(db_url, "DELETE FROM bench_post WHERE id > 1000")
            dbrun.psql(db_url, "VACUUM ANALYZE bench_post")

        # bench-api first: its migrations create the tables and it seeds them.
        order = sorted(servers, key=lambda s: s["name"] == BASELINE)
        token, seen, problems = None, {}, {}
        for s in order:
            results["servers"][s["name"]] = {"port": s["port"], "package": s["package"], "what": s["what"],
                                             "command": dbrun.command_for(s, tdir, db_url)}
            srv = dbrun.Server(dbrun.command_for(s, tdir, db_url), server_pin, env, work / f"{s['name']}.verify.log")
            try:
                if R.cmd_wait_ready(argparse.Namespace(port=s["port"], pid=srv.pid, timeout=120)):
                    problems[s["name"]] = [f"did not start listening\n{srv.tail()}"]
                    continue
                if s["token"] and token is None:
                    token = fetch_token(s["port"])
                problems[s["name"]], seen[s["name"]] = check_server(s, token if s["token"] else None)
            finally:
                srv.stop()
            reset()  # the next server sees the seeded table again
        compare(seen, problems)
        results["verifications"] = {n: {"problems": problems.get(n, []), "answers": seen.get(n)} for n in problems}
        ready = []
        for s in servers:
            if problems.get(s["name"]):
                results["servers"][s["name"]].update(status="failed", reason=problems[s["name"]])
                log(f"{s['name']} FAILED:\n  " + "\n  ".join(problems[s["name"]]))
            else:
                log(f"{s['name']}: verified")
                ready.append(s)
        if not any(s["name"] == BASELINE for s in ready):
            raise SystemExit("bench/api/run: the baseline failed its checks")

        if a.pg_cpu != "any":
            pinner = PgPinner(db_name, int(a.pg_cpu))
            pinner.start()
        dbrun.CASES = CASES  # bench/db/run.py's measure() takes the path from here...
        for case in a.cases:
            dbrun.LUA = SCRIPTS[case]  # ...and the wrk script from here
            for r in range(1, a.runs + 1):
                for s in ready:
                    status = results["servers"][s["name"]]
                    if case not in s["cases"] or status.get("status") == "failed":
                        continue
                    os.environ["BENCH_TOKEN"] = token if (s["token"] and case == "create") else ""
                    if case == "create":
                        reset()  # every create run starts from the seeded table
                    failed = dbrun.run_server_once(a, s, case, r, tdir, db_url, db_name, env, server_pin, work,
                                                   results)
                    if failed:
                        status.update(status="failed", reason=failed)
                        log(f"{s['name']} FAILED: {failed}")
        if a.pg_cpu != "any":
            pinner.done.set()
            config["pg_backends_pinned"] = len(pinner.pinned)
        for s in ready:
            results["servers"][s["name"]].setdefault("status", "ok")
        text, summary = summarize(results, servers, a.cases)
        header = (f"bench/api/run: {a.duration} s runs × {a.runs} (median), {a.warmup} s warm-up, wrk "
                  f"-t{a.threads} -c{a.connections} on CPU 1, server and Postgres backends on CPU {a.pg_cpu}, "
                  f"pool {a.pool_size}; commit {facts.get('git_commit', '?')[:10]}; {facts.get('postgres', '')[:16]}\n\n")
        print(header + text)
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"machine": facts, "config": config, "servers": results["servers"],
                                   "summary": summary, "verifications": results["verifications"],
                                   "runs": results["runs"], "table_markdown": header + text},
                                  indent=2, ensure_ascii=False, default=str) + "\n")
        log(f"raw runs and machine facts: {out}")
        return 0
    finally:
        if a.keep_db:
            log(f"kept database {db_url}")
        else:
            log(f"dropping database {db_name}")
            subprocess.run(["psql", "-X", "-q", admin_url, "-c", f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"],
                           capture_output=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
