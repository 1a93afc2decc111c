#!/usr/bin/env python3
"""Turbine against the frameworks its users would otherwise pick: `bench/run --peers [options]`.

Every entry (Turbine through its full stack, the Rust baselines, Express, Express on node:cluster,
Fastify, Flask, Django, Laravel) answers TechEmpower's tests on the Postgres data of
bench/db/setup. For each entry in turn: bench/verify checks its database endpoints (starting it
behind the counting proxy), then it is started pinned to CPU 0 (or on both cores with
--both-cores), its plaintext and JSON answers are checked (bench/report.py's checks), and per
test: warm-up, N measured wrk runs (on CPU 1), median req/s and p99, server CPU per request and
the RSS of its whole process tree (workers included). An entry that fails a check is reported
FAILED with the reason and never measured. Output: a markdown table of ratios to Turbine (same
run), then the absolute numbers; bench/results/peers.json; a log-scale chart (PNG + SVG) drawn by
bench/peers/chart.py with the peers' venv. Standard library only; usage: bench/README.md "Peers".
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

PEERS = Path(__file__).resolve().parent
BENCH = PEERS.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "db"))
import report as R  # noqa: E402  (bench/report.py: /proc readers, endpoint checks, facts)

# bench/db/run.py (a module named `run`, like this file): Server, Postgres backends, psql, facts.
_spec = importlib.util.spec_from_file_location("bench_db_run", BENCH / "db" / "run.py")
D = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(D)

VENV_PY = PEERS / ".venv" / "bin" / "python"
GUNICORN = PEERS / ".venv" / "bin" / "gunicorn"
NODE_DIR = PEERS / "node"
REPORT_LUA = BENCH / "wrk_report.lua"
PIPELINE_LUA = PEERS / "pipeline.lua"

# TechEmpower's tests: (path, what bench/verify or report.py checks it as). `cached` is listed so
# the table says so: Turbine's cache battery does not exist yet.
TESTS = {
    "plaintext": "/plaintext",
    "pipelined": "/plaintext",  # the same endpoint, 16 requests in flight per connection
    "json": "/json",
    "db": "/db",
    "queries": "/queries?queries=20",
    "fortunes": "/fortunes",
    "updates": "/updates?queries=20",
}
DB_TESTS = ["db", "queries", "fortunes", "updates"]
NA_TESTS = {"cached": "cached queries: n/a until Turbine's cache battery exists"}
TEST_LABEL = {"plaintext": "plaintext", "pipelined": "plaintext ×16 pipelined", "json": "JSON",
              "db": "single query", "queries": "20 queries", "fortunes": "fortunes",
              "updates": "20 updates"}
ALL = list(TESTS)
WEB = ["plaintext", "pipelined", "json"]

# The issue's bars: Turbine's req/s ÷ the peer's, on each test both implement.
BARS = {"express": 10, "express-cluster": 10, "fastify": 5, "django": 20, "flask": 20, "laravel": 20}


def entries(cpus: int) -> list[dict]:
    """What is measured, in order. `group` is the table row: Turbine's plaintext/JSON binary and
    its ORM binary are one row, as axum and hyper are the Rust baselines' rows.
    `cpus`: CPUs the server may use (1 pinned, 2 with --both-cores), for worker counts."""
    tgt = "{target}/release/"
    turbine_env = ["env", "TURBINE_ENV=prod", "TURBINE_SECRET_KEY={secret}", 'TURBINE_SERVER__ALLOWED_HOSTS=["*"]']
    node = ["env", "NODE_ENV=production", "node"]
    gunicorn_workers = 2 * cpus + 1
    gunicorn = [str(GUNICORN), "--no-control-socket", "-k", "sync", "-w", str(gunicorn_workers), "-b", "127.0.0.1:{port}"]
    return [
        {"name": "turbine", "group": "turbine", "label": "Turbine", "port": 8081, "tests": WEB,
         "package": "bench-turbine", "how": "bench-turbine: full default production stack (TURBINE_ENV=prod)",
         "command": turbine_env + [tgt + "bench-turbine", "serve", "--host", "127.0.0.1", "--port", "{port}"]},
        {"name": "turbine-orm", "group": "turbine", "label": "Turbine", "port": 8086, "tests": DB_TESTS,
         "package": "bench-turbine-orm",
         "how": "bench-turbine-orm: full stack + ORM + minijinja templates (TURBINE_ENV=prod), pool {pool}",
         "command": turbine_env + ["TURBINE_DATABASE__URL={db}?pool_size={pool}", tgt + "bench-turbine-orm",
                                   "serve", "--host", "127.0.0.1", "--port", "{port}"]},
        {"name": "axum", "group": "axum", "label": "bare axum 0.8", "port": 8082, "tests": WEB,
         "package": "bench-axum", "how": "bare axum, tokio multi-thread runtime",
         "command": [tgt + "bench-axum", "--port", "{port}"]},
        {"name": "axum-pg", "group": "axum-pg", "label": "axum + tokio-postgres", "port": 8084, "tests": DB_TESTS,
         "package": "bench-axum-pg", "how": "hand-written axum + tokio-postgres + deadpool, pool {pool}",
         "command": [tgt + "bench-axum-pg", "--port", "{port}"]},
        {"name": "hyper", "group": "hyper", "label": "raw hyper 1.x", "port": 8083, "tests": WEB,
         "package": "bench-hyper", "how": "hyper::server::conn::http1, no router",
         "command": [tgt + "bench-hyper", "--port", "{port}"]},
        {"name": "express", "group": "express", "label": "Express 5", "port": 8090, "tests": ALL,
         "how": "NODE_ENV=production node express.js: one process, pg pool {pool}",
         "command": node + [str(NODE_DIR / "express.js"), "--port", "{port}"]},
        {"name": "express-cluster", "group": "express-cluster", "label": "Express 5, node:cluster", "port": 8091,
         "tests": ALL, "how": f"node cluster.js express: {cpus} worker(s) (one per CPU) + primary, "
                              "pg pool {pool} split across workers",
         "command": node + [str(NODE_DIR / "cluster.js"), "express", "--port", "{port}"]},
        {"name": "fastify", "group": "fastify", "label": "Fastify 5", "port": 8092, "tests": ALL,
         "how": "NODE_ENV=production node fastify.js: one process, logger off, pg pool {pool}",
         "command": node + [str(NODE_DIR / "fastify.js"), "--port", "{port}"]},
        {"name": "flask", "group": "flask", "label": "Flask 3.1 (gunicorn)", "port": 8093, "tests": ALL,
         "how": f"gunicorn, {gunicorn_workers} sync workers (2 × CPUs + 1), psycopg 3, 1 connection per worker",
         "command": gunicorn + ["--chdir", str(PEERS / "python"), "flask_app:app"]},
        {"name": "django", "group": "django", "label": "Django 5.2 (gunicorn)", "port": 8094, "tests": ALL,
         "how": f"gunicorn, {gunicorn_workers} sync workers (2 × CPUs + 1), ORM, persistent connection per worker",
         "command": gunicorn + ["--chdir", str(PEERS / "python" / "djangoapp"), "wsgi:application"]},
        {"name": "laravel", "group": "laravel", "label": "Laravel 8 (nginx + php-fpm)", "port": 8095, "tests": ALL,
         "how": f"Debian's php-laravel-framework, nginx ({cpus} worker(s)) + php-fpm 8.2 "
                f"(pm static, {gunicorn_workers} children), Eloquent + Blade, opcache",
         "command": [str(PEERS / "laravel" / "serve"), "--port", "{port}"]},
    ]


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def fill(words: list[str], subs: dict[str, str]) -> list[str]:
    out = []
    for w in words:
        for k, v in subs.items():
            w = w.replace(k, v)
        out.append(w)
    return out


# ---------------------------------------------------------------------------------- measure


def measure(a: argparse.Namespace, e: dict, test: str, pid: int, kind: str, run: int, seconds: int,
            db_name: str) -> dict:
    """One wrk run against entry e's test: wrk's numbers, the server tree's CPU, the Postgres
    backends' CPU (bench/db/run.py's helpers), wrk's own CPU and the machine's."""
    url = f"http://127.0.0.1:{e['port']}{TESTS[test]}"
    cmd = a.wrk_pin + ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{seconds}s", "--timeout", f"{a.timeout}s",
                       "--latency", "-s"]
    cmd += [str(PIPELINE_LUA), url, "--", str(a.pipeline)] if test == "pipelined" else [str(REPORT_LUA), url]
    db_test = test in DB_TESTS
    backends, _ = D.pg_processes(db_name) if db_test else ([], [])
    if db_test and a.pg_cpu != "any":
        for b in backends:
            try:
                os.sched_setaffinity(b, {int(a.pg_cpu)})
            except OSError:
                pass  # ended meanwhile
    pg0 = D.ticks(backends)
    srv0, sys0, t0 = R.tree_cpu_ticks(pid), R.cpu_times(), time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        sys1, srv1 = R.cpu_times(), R.tree_cpu_ticks(pid)
        pg1 = D.ticks(D.pg_processes(db_name)[0]) if db_test else {}
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    text = out.decode("utf-8", "replace")
    wrk = next((json.loads(l[9:]) for l in text.splitlines() if l.startswith("WRK_JSON ")), None)
    ev = {"entry": e["name"], "group": e["group"], "test": test, "kind": kind, "run": run, "cmd": cmd,
          "exit_code": code, "wall_s": round(wall, 3), "server_alive_after": R.alive(pid), "wrk_stdout": text,
          "wrk_stderr": stderr}
    if wrk is None or code != 0 or not wrk["requests"]:
        ev["ok"] = False
        log(f"  wrk failed (exit {code}): {stderr.strip() or text.strip()}")
        return ev
    n, dur = wrk["requests"], wrk["duration_us"] / 1e6
    non2xx = 0
    for line in text.splitlines():  # wrk: "  Non-2xx or 3xx responses: N"
        if "Non-2xx or 3xx responses:" in line:
            non2xx = int(line.rsplit(":", 1)[1])
    srv_s, pg_s = (srv1 - srv0) / R.CLK_TCK, D.ticks_delta(pg0, pg1) / R.CLK_TCK
    wrk_s = rusage.ru_utime + rusage.ru_stime
    errors = sum(wrk["errors"].values())
    cpus = R.cpu_usage(sys0, sys1, wall)
    total_busy = cpus.get("cpu", {}).get("busy_pct")
    good = max(n - non2xx, 0)
    ev.update(
        ok=ev["server_alive_after"], requests=n, non_2xx=non2xx, duration_s=round(dur, 4),
        rps=round(good / dur, 1), errors=wrk["errors"], errors_total=errors, latency_us=wrk["latency_us"],
        p99_ms=round(wrk["latency_us"]["p99"] / 1000, 3),
        server_cpu_s=round(srv_s, 3), server_cpu_us_per_req=round(srv_s * 1e6 / max(good, 1), 3),
        server_cpu_pct=round(100 * srv_s / wall, 1),
        pg_cpu_s=round(pg_s, 3), pg_cpu_us_per_req=round(pg_s * 1e6 / max(good, 1), 3) if db_test else None,
        stack_cpu_us_per_req=round((srv_s + pg_s) * 1e6 / max(good, 1), 3),
        wrk_cpu_s=round(wrk_s, 3), wrk_cpu_pct=round(100 * wrk_s / wall, 1), cpus=cpus,
        other_cpu_pct=None if total_busy is None else round(total_busy - 100 * (srv_s + pg_s + wrk_s) / wall, 1),
    )
    label = "warm-up" if kind == "warmup" else f"run {run}"
    log(f"  {e['name']:15} {test:9} {label:7} {ev['rps']:>10,.0f} req/s  p99 {ev['p99_ms']:8.2f} ms  "
        f"server {ev['server_cpu_us_per_req']:8.1f} µs/req ({ev['server_cpu_pct']:5.1f}%)  wrk {ev['wrk_cpu_pct']:5.1f}%"
        + (f"  socket errors {errors}" if errors else "") + (f"  non-2xx {non2xx}" if non2xx else ""))
    return ev


def check_web(e: dict, tests: list[str]) -> list[str]:
    """plaintext and JSON checked as bench/run checks them (report.py's verify)."""
    problems = []
    for case in sorted({"plaintext" if t == "pipelined" else t for t in tests if t in WEB}):
        errs, observed = R.verify(e["port"], case)
        problems += [f"/{case}: {x}" for x in errs]
    return problems


def run_entry(a, e: dict, subs: dict, env: dict, db_url: str, db_name: str, work: Path, res: dict) -> None:
    name = e["name"]
    status = res["entries"][name]
    subs = dict(subs, **{"{port}": str(e["port"])})
    cmd = fill(e["command"], subs)
    tests = [t for t in e["tests"] if t in a.tests]
    status.update(command=shlex.join(fill(e["command"], dict(subs, **{"{secret}": "<64 random hex digits>"}))),
                  tests=tests)
    if not tests:
        status.update(status="skipped", reason="none of --tests")
        return
    if R.cmd_port_free(argparse.Namespace(port=e["port"])):
        status.update(status="failed", reason=f"port 127.0.0.1:{e['port']} already in use (a leftover server?)")
        log(f"{name} FAILED: {status['reason']}")
        return
    db_tests = [t for t in tests if t in DB_TESTS]
    if db_tests:
        log(f"{name}: bench/verify --tests {','.join(db_tests)} (started behind the counting proxy)")
        vjson = work / f"{name}.verify.json"
        vcmd = [str(BENCH / "verify"), "--url", f"http://127.0.0.1:{e['port']}", "--db-url", db_url,
                "--tests", ",".join(db_tests), "--json", str(vjson), "--server-log", str(work / f"{name}.verify.log"),
                "--"] + fill(e["command"], {k: v for k, v in subs.items() if k != "{db}"})
        v = subprocess.run(vcmd, env=env, capture_output=True, text=True)
        sys.stderr.write("".join(f"  {line}\n" for line in v.stdout.splitlines()))
        res["verifications"][name] = json.loads(vjson.read_text()) if vjson.exists() else {"stdout": v.stdout}
        if v.returncode != 0:
            failed = [f"{c['check']}: {c['detail']}" for c in res["verifications"][name].get("checks", []) if not c["ok"]]
            status.update(status="failed", reason="bench/verify failed: " + ("; ".join(failed)[:2000] or v.stdout[-2000:]
                                                                            or v.stderr[-2000:]))
            log(f"{name} FAILED: {status['reason']}")
            return
    log(f"{name}: starting on 127.0.0.1:{e['port']} ({'pinned to CPU 0' if a.wrk_pin else 'both cores'})")
    server = D.Server(cmd, a.server_pin, env, work / f"{name}.log")
    try:
        if R.cmd_wait_ready(argparse.Namespace(port=e["port"], pid=server.pid, timeout=60)):
            status.update(status="failed", reason=f"did not start listening on 127.0.0.1:{e['port']}\n{server.tail()}")
            log(f"{name} FAILED: {status['reason']}")
            return
        time.sleep(0.5)  # pre-forked workers (gunicorn, php-fpm, cluster) finish booting
        problems = check_web(e, tests)
        res["verifications"].setdefault(name, {})["web"] = problems or "ok"
        if problems:
            status.update(status="failed", reason="; ".join(problems))
            log(f"{name} FAILED: {status['reason']}")
            return
        rss = []
        for test in tests:
            if test in DB_TESTS:
                D.psql(db_url, "VACUUM world")  # updates leave dead rows behind
            plan = ([("warmup", 0, a.warmup)] if a.warmup else []) + [("run", r, a.duration) for r in range(1, a.runs + 1)]
            for kind, r, secs in plan:
                if kind == "run" and test == "updates" and r > 1:
                    D.psql(db_url, "VACUUM world")
                if a.wait_quiet > 0:
                    R.wait_quiet(a.wait_quiet)
                ev = measure(a, e, test, server.pid, kind, r, secs, db_name)
                if kind == "run":
                    ev["rss_kib"] = R.tree_rss_kib(server.pid)
                    rss.append(ev["rss_kib"])
                res["runs"].append(ev)
                if not ev.get("ok"):
                    status.update(status="failed", reason=f"{kind} {r} of {test} failed (wrk exit {ev['exit_code']}, "
                                                          f"server alive: {ev['server_alive_after']})\n{server.tail()}")
                    log(f"{name} FAILED: {status['reason']}")
                    return
        status.update(status="ok", rss_kib=max(rss) if rss else None)
    finally:
        server.stop()


# --------------------------------------------------------------------------------- summary


def summarise(res: dict, ents: list[dict], tests: list[str]) -> dict:
    """Median per (entry, test) over the measured runs, each column on its own."""
    out: dict[str, dict[str, dict]] = {}
    for e in ents:
        if res["entries"][e["name"]].get("status") != "ok":
            continue
        for t in e["tests"]:
            runs = [ev for ev in res["runs"] if ev["entry"] == e["name"] and ev["test"] == t
                    and ev["kind"] == "run" and ev.get("ok")]
            if not runs or t not in tests:
                continue
            med = lambda k: statistics.median([ev[k] for ev in runs if ev.get(k) is not None]) \
                if any(ev.get(k) is not None for ev in runs) else None  # noqa: E731
            out.setdefault(e["group"], {})[t] = {
                "entry": e["name"], "runs": len(runs), "rps": med("rps"), "p99_ms": med("p99_ms"),
                "server_cpu_us_per_req": med("server_cpu_us_per_req"), "pg_cpu_us_per_req": med("pg_cpu_us_per_req"),
                "stack_cpu_us_per_req": med("stack_cpu_us_per_req"),
                "server_cpu_pct": med("server_cpu_pct"), "wrk_cpu_pct": med("wrk_cpu_pct"),
                "other_cpu_pct_max": max((ev.get("other_cpu_pct") or 0) for ev in runs),
                "rss_mib": round(max(ev.get("rss_kib", 0) for ev in runs) / 1024, 1),
                "errors_total": sum(ev.get("errors_total", 0) for ev in runs),
                "non_2xx": sum(ev.get("non_2xx", 0) for ev in runs),
                "requests": sum(ev.get("requests", 0) for ev in runs),
            }
    for g, per in out.items():
        for t, s in per.items():
            base = out.get("turbine", {}).get(t)
            s["rps_vs_turbine"] = round(s["rps"] / base["rps"], 4) if base and base["rps"] else None
            s["turbine_x"] = round(base["rps"] / s["rps"], 2) if base and s["rps"] else None
            if base and base["server_cpu_us_per_req"] and s["server_cpu_us_per_req"]:
                s["cpu_per_req_vs_turbine"] = round(s["server_cpu_us_per_req"] / base["server_cpu_us_per_req"], 3)
            if base and base.get("stack_cpu_us_per_req") and s.get("stack_cpu_us_per_req"):
                s["stack_cpu_per_req_vs_turbine"] = round(s["stack_cpu_us_per_req"] / base["stack_cpu_us_per_req"], 3)
            s["noisy"] = bool(s["other_cpu_pct_max"] > R.BUSY_OTHER_PCT or (base and base["other_cpu_pct_max"] > R.BUSY_OTHER_PCT))
    return out


def fmt(v, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def render(facts: dict, config: dict, res: dict, ents: list[dict], summary: dict, tests: list[str]) -> str:
    groups = []
    for e in ents:
        if e["group"] not in groups:
            groups.append(e["group"])
    label = {e["group"]: e["label"] for e in ents}
    L = []
    L.append(f"Peers, {config['mode']} mode ({'server on CPU 0, wrk on CPU 1' if config['mode'] == 'pinned' else 'nothing pinned'}"
             f"; Postgres backends on CPU {config['pg_cpu']}), {config['runs']} × {config['duration']} s runs after a "
             f"{config['warmup']} s warm-up, wrk -t{config['threads']} -c{config['connections']}"
             f" (pipelined: depth {config['pipeline']}), {facts.get('date')}, commit "
             f"{(facts.get('git_commit') or '')[:10]}{' (dirty tree)' if facts.get('git_dirty') else ''}.")
    L.append("")
    def ratio_table(title: str, key: str) -> None:
        L.append(title)
        L.append("")
        L.append("| entry | " + " | ".join(TEST_LABEL[t] for t in tests) + " | cached queries |")
        L.append("|---|" + "---:|" * len(tests) + "---|")
        for g in groups:
            st = [res["entries"][e["name"]] for e in ents if e["group"] == g]
            failed = [x for x in st if x.get("status") == "failed"]
            cells = []
            for t in tests:
                s = summary.get(g, {}).get(t)
                if s is None:
                    owner = next((e for e in ents if e["group"] == g and t in e["tests"]), None)
                    cells.append("FAILED" if owner and res["entries"][owner["name"]].get("status") == "failed" else "—")
                    continue
                bad = s["errors_total"] + s["non_2xx"]
                flag = (" E" if bad > 0.01 * s["requests"] else "") + (" ‡" if s.get("noisy") and g != "turbine" else "")
                cells.append(fmt(s.get(key), ".3f") + flag)
            L.append(f"| {label[g]}{' (FAILED: see below)' if failed else ''} | " + " | ".join(cells) + " | n/a |")
        L.append("")

    ratio_table("**req/s ÷ Turbine's req/s, same run** (Turbine = 1; higher is better; — = not implemented by "
                "that entry or not selected; ‡ = a neighbour used > 10 % of a CPU during this entry's or Turbine's "
                "runs of that test, so the req/s ratio is suspect):", "rps_vs_turbine")
    ratio_table("**CPU per request ÷ Turbine's, same run** (Turbine = 1; higher = the entry spends more CPU per "
                "answer; plaintext and JSON: the server's process tree; DB tests: server + the Postgres backends "
                "serving it, since how an entry queries moves work into Postgres). Steadier than req/s on this "
                "noisy machine and valid whoever saturates first:", "stack_cpu_per_req_vs_turbine")
    bar_lines = []
    for g, bar in BARS.items():
        if g not in summary:
            continue
        parts = []
        for t in tests:
            s = summary[g].get(t)
            if s and s.get("turbine_x") is not None:
                cpu = s.get("stack_cpu_per_req_vs_turbine")
                parts.append(f"{TEST_LABEL[t]} {s['turbine_x']:.1f}× {'✓' if s['turbine_x'] >= bar else '✗'}"
                             + (f" (CPU {cpu:.1f}×)" if cpu else "") + (" ‡" if s.get("noisy") else ""))
        if parts:
            bar_lines.append(f"- Turbine vs {label[g]} (bar ≥ {bar}×): " + ", ".join(parts))
    if bar_lines:
        L.append("Against the issue's bars: Turbine's req/s ÷ the peer's, same test, same run (✓ meets the bar); in "
                 "brackets the peer's CPU per request ÷ Turbine's:")
        L.append("")
        L += bar_lines
        L.append("")
    L.append("**Absolute numbers** (median of the runs; server CPU and RSS over the whole process tree, workers "
             "included; pg = the Postgres backends serving the benchmark database):")
    L.append("")
    L.append("| test | entry | req/s | p99 ms | server CPU µs/req | pg CPU µs/req | RSS MiB | server CPU % | wrk CPU % | errors |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for t in tests:
        for g in groups:
            s = summary.get(g, {}).get(t)
            if s is None:
                continue
            errs = s["errors_total"] + s["non_2xx"]
            err_text = "0" if not errs else (f"{s['errors_total']} socket, {s['non_2xx']} non-2xx of {s['requests']:,}")
            sat = " †" if (s["wrk_cpu_pct"] or 0) >= R.WRK_SATURATED_PCT else ""
            noisy = " ‡" if (s["other_cpu_pct_max"] or 0) > R.BUSY_OTHER_PCT else ""
            L.append(f"| {TEST_LABEL[t]} | {label[g]} | {fmt(s['rps'], ',.0f')}{sat}{noisy} | {fmt(s['p99_ms'], '.2f') if t != 'pipelined' else 'n/m'} | "
                     f"{fmt(s['server_cpu_us_per_req'], '.1f')} | {fmt(s['pg_cpu_us_per_req'], '.1f')} | "
                     f"{fmt(s['rss_mib'], '.1f')} | {fmt(s['server_cpu_pct'], '.0f')} | {fmt(s['wrk_cpu_pct'], '.0f')} | {err_text} |")
    L.append("")
    L.append("† wrk used ≥ 90 % of its CPU: load-generator bound, compare by server CPU µs/req. ‡ something else "
             "used > 10 % of a CPU during a run. n/m: wrk's latency is not meaningful with pipelining. E (ratio table) = errors or non-2xx answers on > 1 % of requests. "
             "Cached queries: n/a until Turbine's cache battery exists.")
    L.append("")
    L.append("Entries:")
    for e in ents:
        st = res["entries"][e["name"]]
        line = f"- `{e['name']}` ({st.get('status', 'not run')}): {st.get('how', '')}"
        if st.get("status") == "failed":
            line += f". **FAILED**: {' '.join((st.get('reason') or '').split())[:400]}"
        L.append(line)
    return "\n".join(L)


# -------------------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run --peers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 s runs, 2 s warm-up (default 10 s, 5 s)")
    p.add_argument("--both-cores", action="store_true",
                   help="pin nothing: the server (and its workers) may use both cores, as may wrk and Postgres")
    p.add_argument("--only", help="comma-separated entries (default all): " + ",".join(e["name"] for e in entries(1))
                   + "; `turbine` also selects turbine-orm")
    p.add_argument("--tests", default=",".join(ALL), help="comma-separated subset of " + ",".join(ALL))
    p.add_argument("--duration", type=int, help="seconds per measured run (overrides --quick)")
    p.add_argument("--warmup", type=int, help="seconds of warm-up per test (overrides --quick)")
    p.add_argument("--runs", type=int, default=3, help="measured runs per test (default 3; the median is reported)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--pipeline", type=int, default=16, help="pipelining depth of the `pipelined` test (default 16)")
    p.add_argument("--timeout", type=int, default=8, help="wrk's per-request timeout in s (default 8: the slow peers' "
                                                          "20-query answers can take seconds under 64 connections)")
    p.add_argument("--pool-size", type=int, default=16, help="BENCH_DB_POOL_SIZE for every entry (default 16)")
    p.add_argument("--pg-cpu", default="0", choices=["0", "1", "any"],
                   help="pin the benchmark database's Postgres backends to this CPU (default 0, with the server, as "
                        "bench/run --db does)")
    p.add_argument("--wait-quiet", type=float, default=0, help="before each run, wait up to N s for an idle machine")
    p.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    p.add_argument("--no-setup", action="store_true",
                   help="run neither bench/peers/setup nor bench/db/setup (use what is installed and the database as it is)")
    p.add_argument("--out", default=str(BENCH / "results" / "peers.json"), help="JSON results (default bench/results/peers.json)")
    p.add_argument("--chart", default=str(BENCH / "results" / "peers"), help="chart path without extension "
                                                                            "(default bench/results/peers → .png and .svg)")
    a = p.parse_args()
    a.duration = a.duration or (3 if a.quick else 10)
    a.warmup = a.warmup if a.warmup is not None else (2 if a.quick else 5)
    wanted = a.tests.split(",")
    if set(wanted) - set(ALL) - set(NA_TESTS):
        p.error(f"--tests: choose from {','.join(ALL)}")
    a.tests = [t for t in ALL if t in wanted]
    if not a.tests:
        p.error("--tests selected nothing")
    if min(a.duration, a.runs, a.connections, a.threads, a.pipeline) < 1:
        p.error("--duration, --runs, --connections, --threads and --pipeline must be >= 1")
    if a.both_cores:
        a.pg_cpu = "any"
    return a


def main() -> int:
    a = parse_args()
    pinned = not a.both_cores
    if pinned and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("bench/run --peers: pinned mode needs 2 CPUs; use --both-cores")
    a.server_pin, a.wrk_pin = (["taskset", "-c", "0"], ["taskset", "-c", "1"]) if pinned else ([], [])
    cpus = 1 if pinned else len(os.sched_getaffinity(0))
    ents = entries(cpus)
    if a.only:
        wanted = set(a.only.split(","))
        if "turbine" in wanted:
            wanted.add("turbine-orm")
        unknown = wanted - {e["name"] for e in ents}
        if unknown:
            raise SystemExit(f"bench/run --peers: unknown entr(y/ies) {sorted(unknown)}; choose from "
                             + ",".join(e["name"] for e in ents))
        ents = [e for e in ents if e["name"] in wanted]
    if not any(e["group"] == "turbine" for e in ents):
        log("note: Turbine is not selected, so the ratio columns stay empty")

    os.chdir(ROOT)
    if not a.no_setup:
        log("bench/peers/setup")
        if subprocess.run([str(PEERS / "setup")], stdout=sys.stderr).returncode:
            raise SystemExit("bench/run --peers: bench/peers/setup failed (see above); fix it or pass --no-setup")
    for tool, hint in (("wrk", "bench/peers/setup installs it"), ("psql", "apt-get install postgresql-client"),
                       ("taskset", "util-linux"), ("node", "bench/peers/setup")):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise SystemExit(f"bench/run --peers: {tool} not found ({hint})")
    rust = sorted({e["package"] for e in ents if "package" in e})
    if rust and not a.no_build:
        log("cargo build --release " + " ".join(f"-p {p}" for p in rust))
        subprocess.run(["cargo", "build", "--release"] + [x for p in rust for x in ("-p", p)], check=True, stdout=sys.stderr)
    tdir = D.target_dir()
    for e in ents:
        if "package" in e and not Path(tdir, "release", e["package"]).exists():
            raise SystemExit(f"bench/run --peers: {tdir}/release/{e['package']} missing (build failed, or --no-build)")
        if "package" not in e and not (GUNICORN.exists() and (NODE_DIR / "node_modules").exists()):
            raise SystemExit("bench/run --peers: the peers are not installed: run bench/peers/setup")

    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if a.no_setup:
        u = urllib.parse.urlsplit(admin_url)
        db_url = urllib.parse.urlunsplit(u._replace(path="/" + os.environ.get("BENCH_DB_NAME", "turbine_bench")))
    else:
        log("bench/db/setup")
        db_url = subprocess.run([str(BENCH / "db" / "setup")], check=True, capture_output=True, text=True).stdout.strip()
    db_name = urllib.parse.urlsplit(db_url).path.lstrip("/")

    work = Path(tempfile.mkdtemp(prefix="turbine-bench-peers."))
    facts = D.machine_facts(work, db_url)
    facts["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    facts["python_venv"] = subprocess.run([str(VENV_PY), "--version"], capture_output=True, text=True).stdout.strip()
    facts["php"] = subprocess.run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout.strip()
    config = {"mode": "pinned" if pinned else "both-cores", "server_cpus": cpus, "pg_cpu": a.pg_cpu,
              "duration": a.duration, "warmup": a.warmup, "runs": a.runs, "connections": a.connections,
              "threads": a.threads, "pipeline": a.pipeline, "timeout_s": a.timeout, "pool_size": a.pool_size,
              "tests": {t: TESTS[t] for t in a.tests}, "not_applicable": NA_TESTS, "database": db_name,
              "target_dir": tdir, "quick": a.quick}
    subs = {"{target}": tdir, "{db}": db_url, "{pool}": str(a.pool_size)}
    env = dict(os.environ, BENCH_DATABASE_URL=db_url, BENCH_DB_POOL_SIZE=str(a.pool_size), NODE_ENV="production")
    res = {"entries": {}, "runs": [], "verifications": {}}
    for e in ents:
        res["entries"][e["name"]] = {"group": e["group"], "label": e["label"], "port": e["port"],
                                     "how": fill([e["how"]], subs)[0]}
    log(f"{config['mode']} mode: {a.duration}s runs x {a.runs}, {a.warmup}s warm-up, wrk -t{a.threads} "
        f"-c{a.connections}; entries: {', '.join(e['name'] for e in ents)}; tests: {', '.join(a.tests)}")
    for e in ents:
        subs["{secret}"] = secrets.token_hex(32)
        run_entry(a, e, subs, env, db_url, db_name, work, res)

    summary = summarise(res, ents, a.tests)
    text = render(facts, config, res, ents, summary, a.tests)
    print(text)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": facts, "config": config, "entries": res["entries"], "summary": summary,
                               "verifications": res["verifications"], "runs": res["runs"], "table_markdown": text},
                              indent=2, ensure_ascii=False) + "\n")
    log(f"raw runs and machine facts: {out}")
    # The tables as markdown beside the JSON, ready for bench/RESULTS.md.
    out.with_suffix(".md").write_text(text + "\n")
    log(f"tables (markdown): {out.with_suffix('.md')}")
    if VENV_PY.exists():
        c = subprocess.run([str(VENV_PY), str(PEERS / "chart.py"), str(out), a.chart], stdout=sys.stderr)
        if c.returncode:
            log("chart.py failed (see above)")
    else:
        log(f"no chart: {VENV_PY} missing (bench/peers/setup installs matplotlib there)")
    ok = all(s.get("status") in ("ok", "skipped") for s in res["entries"].values())
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        log(f"some entry failed: the servers' and the verifier's logs are kept in {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
