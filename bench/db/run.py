#!/usr/bin/env python3
"""The TechEmpower database tests for every server in bench/db/servers: `bench/run --db [options]`.

First bench/verify starts each server behind the counting proxy and checks every endpoint (a
server that fails is reported FAILED and never measured). Then, per case and run, every server in
turn is started pinned, straight on Postgres, warmed up, measured with wrk and stopped, so the
servers' runs interleave and a noisy minute on the machine hits them alike. Per run: the
server's CPU (its process tree, utime + stime), the CPU of the Postgres backends serving its
database (the same, summed over the backends), wrk's own CPU, and the whole machine's. Results:
a table on stdout and everything in bench/results/db.json. Usage and columns: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

DB_DIR = Path(__file__).resolve().parent
BENCH = DB_DIR.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(DB_DIR))
import report as R  # noqa: E402  (bench/report.py: /proc readers, facts, wait_quiet)
import table  # noqa: E402

CASES = {
    "db": "/db",
    "queries": "/queries?queries=20",
    "fortunes": "/fortunes",
    "updates": "/updates?queries=20",
}
LUA = BENCH / "wrk_report.lua"


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- servers


def read_servers(path: Path) -> list[dict]:
    servers = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line)
        if len(words) < 4 or not words[1].isdigit():
            raise SystemExit(f"{path}:{n}: expected NAME PORT PACKAGE COMMAND..., got {line!r}")
        servers.append({"name": words[0], "port": int(words[1]), "package": words[2],
                        "command": words[3:], "line": line.strip()})
    return servers


def command_for(server: dict, target_dir: str, db_url: str | None, binary: list[str] | None = None) -> list[str]:
    """The server's command with {bin} (default: the release binary; `binary` replaces it, e.g.
    with valgrind in front), {port}, {pool}, {secret} filled in, and {db} too unless None
    (bench/verify fills that with its proxy's URL)."""
    binary = binary or [f"{target_dir}/release/{server['package']}"]
    subs = {"{port}": str(server["port"]), "{secret}": secrets.token_hex(32),
            "{pool}": os.environ.get("BENCH_DB_POOL_SIZE", "16")}
    if db_url is not None:
        subs["{db}"] = db_url
    out = []
    for word in server["command"]:
        if word == "{bin}":
            out += binary
            continue
        for k, v in subs.items():
            word = word.replace(k, v)
        out.append(word)
    return out


class Server:
    def __init__(self, cmd: list[str], pin: list[str], env: dict, log_path: Path):
        self.log_path = log_path
        with open(log_path, "wb") as out:
            self.proc = subprocess.Popen(pin + cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid  # taskset and env exec: this is the server itself

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""


# --------------------------------------------------------------------------------- postgres


def pg_processes(db_name: str) -> tuple[list[int], list[int]]:
    """(backends connected to db_name, Postgres background processes: WAL writer, checkpointer,
    autovacuum...). Other databases' backends (other users of the server) are in neither."""
    ours, background = [], []
    backend = re.compile(r"^postgres: [^:]+: \S+ (\S+) (\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]|\S+\(\d+\))")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if not title.startswith("postgres: "):
            continue
        m = backend.match(title)
        if m:
            if m.group(1) == db_name:
                ours.append(int(entry))
        elif "autovacuum worker" not in title or db_name in title:
            background.append(int(entry))
    return ours, background


def ticks(pids: list[int]) -> dict[int, int]:
    out = {}
    for p in pids:
        try:
            out[p] = R.cpu_ticks(p)
        except OSError:
            pass
    return out


def ticks_delta(before: dict[int, int], after: dict[int, int]) -> int:
    # A process that appeared during the run counts from zero; one that exited is lost (rare).
    return sum(t - before.get(p, 0) for p, t in after.items())


def psql(db_url: str, sql: str) -> None:
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db_url, "-c", sql], check=True,
                   capture_output=True, timeout=600)


# ---------------------------------------------------------------------------------- measure


def measure(a: argparse.Namespace, name: str, case: str, pid: int, kind: str, run: int, seconds: int,
            db_name: str) -> dict:
    url = f"http://127.0.0.1:{a.port_of[name]}{CASES[case]}"
    cmd = a.wrk_pin + ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{seconds}s", "--latency", "-s", str(LUA), url]
    waited = busy_before = None
    if a.wait_quiet > 0:
        waited, busy_before = R.wait_quiet(a.wait_quiet)
    backends, background = pg_processes(db_name)
    if a.pg_cpu != "any":
        for b in backends:
            try:
                os.sched_setaffinity(b, {int(a.pg_cpu)})
            except ProcessLookupError:
                pass  # a short-lived connection (psql) that just ended
            except OSError as e:
                log(f"could not pin Postgres backend {b} to CPU {a.pg_cpu}: {e}")
    pg0, bg0 = ticks(backends), ticks(background)
    srv0, sys0, t0 = R.tree_cpu_ticks(pid), R.cpu_times(), time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        sys1, srv1 = R.cpu_times(), R.tree_cpu_ticks(pid)
        backends1, background1 = pg_processes(db_name)
        pg1, bg1 = ticks(backends1), ticks(background1)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    text = out.decode("utf-8", "replace")
    wrk = next((json.loads(l[9:]) for l in text.splitlines() if l.startswith("WRK_JSON ")), None)
    ev = {"server": name, "case": case, "kind": kind, "run": run, "cmd": cmd, "exit_code": proc.returncode,
          "wall_s": round(wall, 3), "server_alive_after": R.alive(pid), "quiet_wait_s": waited,
          "busy_pct_before": busy_before, "wrk_stdout": text, "wrk_stderr": stderr,
          "pg_backends": sorted(pg1), "pg_cpu_pinned_to": a.pg_cpu}
    if wrk is None or proc.returncode != 0 or not wrk["requests"]:
        ev["ok"] = False
        log(f"  wrk failed (exit {proc.returncode}): {stderr.strip() or text.strip()}")
        return ev
    n, dur = wrk["requests"], wrk["duration_us"] / 1e6
    srv_s, pg_s = (srv1 - srv0) / R.CLK_TCK, ticks_delta(pg0, pg1) / R.CLK_TCK
    bg_s, wrk_s = ticks_delta(bg0, bg1) / R.CLK_TCK, rusage.ru_utime + rusage.ru_stime
    errors = sum(wrk["errors"].values())
    cpus = R.cpu_usage(sys0, sys1, wall)
    total_busy = cpus.get("cpu", {}).get("busy_pct")
    ev.update(
        ok=ev["server_alive_after"], requests=n, duration_s=round(dur, 4), rps=round(n / dur, 1),
        errors=wrk["errors"], errors_total=errors, latency_us=wrk["latency_us"],
        p99_ms=round(wrk["latency_us"]["p99"] / 1000, 3),
        server_cpu_s=round(srv_s, 3), server_cpu_us_per_req=round(srv_s * 1e6 / n, 3),
        server_cpu_pct=round(100 * srv_s / wall, 1),
        pg_cpu_s=round(pg_s, 3), pg_cpu_us_per_req=round(pg_s * 1e6 / n, 3), pg_cpu_pct=round(100 * pg_s / wall, 1),
        pg_background_cpu_s=round(bg_s, 3), pg_background_cpu_us_per_req=round(bg_s * 1e6 / n, 3),
        stack_cpu_us_per_req=round((srv_s + pg_s) * 1e6 / n, 3),
        wrk_cpu_s=round(wrk_s, 3), wrk_cpu_pct=round(100 * wrk_s / wall, 1), cpus=cpus,
        other_cpu_pct=None if total_busy is None else round(total_busy - 100 * (srv_s + pg_s + bg_s + wrk_s) / wall, 1),
    )
    label = "warm-up" if kind == "warmup" else f"run {run}"
    log(f"  {name:10} {case:8} {label:8} {ev['rps']:>10,.0f} req/s  p99 {ev['p99_ms']:7.2f} ms  "
        f"server {ev['server_cpu_us_per_req']:7.2f} µs/req ({ev['server_cpu_pct']:5.1f}%)  "
        f"pg {ev['pg_cpu_us_per_req']:7.2f} µs/req ({ev['pg_cpu_pct']:5.1f}%)  wrk {ev['wrk_cpu_pct']:5.1f}%  "
        f"other {ev['other_cpu_pct'] if ev['other_cpu_pct'] is not None else float('nan'):5.1f}%"
        + (f"  ERRORS {errors}" if errors else ""))
    return ev


def run_server_once(a, s: dict, case: str, r: int, tdir: str, db_url: str, db_name: str, env: dict,
                    server_pin: list[str], work: Path, results: dict) -> str | None:
    """Starts the server, warms it up, measures run r of case, stops it. Returns why it failed."""
    name, port = s["name"], s["port"]
    server = Server(command_for(s, tdir, db_url), server_pin, env, work / f"{name}.log")
    try:
        if R.cmd_wait_ready(argparse.Namespace(port=port, pid=server.pid, timeout=60)):
            return f"did not start listening on 127.0.0.1:{port}\n{server.tail()}"
        plan = ([("warmup", r, a.warmup)] if a.warmup else []) + [("run", r, a.duration)]
        for kind, n, secs in plan:
            ev = measure(a, name, case, server.pid, kind, n, secs, db_name)
            if kind == "run":
                ev["rss_kib"] = R.tree_rss_kib(server.pid)
            results["runs"].append(ev)
            if not ev.get("ok"):
                return f"{kind} {n} of {CASES[case]} failed\n{server.tail()}"
        return None
    finally:
        server.stop()


# -------------------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run --db", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 s runs, 2 s warm-up (default 10 s, 5 s)")
    p.add_argument("--shared", action="store_true", help="pin nothing: server, wrk and Postgres may use both CPUs")
    p.add_argument("--only", help="comma-separated server names from bench/db/servers (default: all)")
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    p.add_argument("--duration", type=int), p.add_argument("--warmup", type=int)
    p.add_argument("--runs", type=int, default=3, help="measured runs per case (default 3; median reported)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--pool-size", type=int, default=16, help="BENCH_DB_POOL_SIZE for every server (default 16)")
    p.add_argument("--pg-cpu", default="0", choices=["0", "1", "any"],
                   help="pin the Postgres backends serving the benchmark database to this CPU (default 0: "
                        "with the server, so CPU 0 is saturated and req/s reflects server + database cost; "
                        "1 = with wrk; any = not pinned)")
    p.add_argument("--servers", default=str(DB_DIR / "servers"), help="server list (default bench/db/servers)")
    p.add_argument("--wait-quiet", type=float, default=0, help="before each run, wait up to N s for an idle machine")
    p.add_argument("--no-build", action="store_true", help="use the release binaries already built")
    p.add_argument("--no-setup", action="store_true", help="keep the database as it is (default: bench/db/setup first)")
    p.add_argument("--out", default=str(BENCH / "results" / "db.json"), help="JSON results (default bench/results/db.json)")
    a = p.parse_args()
    a.duration = a.duration or (3 if a.quick else 10)
    a.warmup = a.warmup if a.warmup is not None else (2 if a.quick else 5)
    wanted = a.cases.split(",")
    a.cases = [c for c in CASES if c in wanted]
    if not a.cases or set(wanted) - set(CASES):
        p.error(f"--cases: choose from {','.join(CASES)}")
    if a.shared:
        a.pg_cpu = "any"
    return a


def machine_facts(work: Path, db_url: str) -> dict:
    """bench/report.py's machine facts (CPU, kernel, rustc, git commit…) plus Postgres' version."""
    events = work / "facts.jsonl"
    R.cmd_facts(argparse.Namespace(events=str(events), root=str(ROOT)))
    facts = json.loads(events.read_text().splitlines()[0])
    facts.pop("event", None)
    facts["postgres"] = subprocess.run(["psql", "-X", "-At", db_url, "-c", "SELECT version()"],
                                       capture_output=True, text=True).stdout.strip()
    return facts


def target_dir() -> str:
    try:
        meta = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
        return json.loads(meta)["target_directory"]
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
        return os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))


def main() -> int:
    a = parse_args()
    servers = read_servers(Path(a.servers))
    baseline = servers[0]["name"] if servers else None
    if a.only:
        wanted = a.only.split(",")
        unknown = set(wanted) - {s["name"] for s in servers}
        if unknown:
            raise SystemExit(f"bench/run --db: unknown server(s) {sorted(unknown)} (see {a.servers})")
        servers = [s for s in servers if s["name"] in wanted]
    if not servers:
        raise SystemExit("bench/run --db: no server selected")
    a.port_of = {s["name"]: s["port"] for s in servers}
    pinned = not a.shared
    if pinned and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("bench/run --db: pinned mode needs 2 CPUs; use --shared")
    server_pin, a.wrk_pin = (["taskset", "-c", "0"], ["taskset", "-c", "1"]) if pinned else ([], [])

    os.chdir(ROOT)
    if not a.no_build:
        pkgs = sorted({s["package"] for s in servers})
        log("cargo build --release " + " ".join(f"-p {p}" for p in pkgs))
        subprocess.run(["cargo", "build", "--release"] + [x for p in pkgs for x in ("-p", p)], check=True,
                       stdout=sys.stderr)
    tdir = target_dir()
    if subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode:
        log("installing wrk from Debian")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update"], check=True, stdout=sys.stderr)
        subprocess.run(sudo + ["apt-get", "install", "-y", "wrk"], check=True, stdout=sys.stderr)
    for tool in ("wrk", "psql", "taskset"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise SystemExit(f"bench/run --db: {tool} not found")
    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if a.no_setup:
        u = urllib.parse.urlsplit(admin_url)
        db_url = urllib.parse.urlunsplit(u._replace(path="/" + os.environ.get("BENCH_DB_NAME", "turbine_bench")))
    else:
        log("bench/db/setup")
        db_url = subprocess.run([str(DB_DIR / "setup")], check=True, capture_output=True, text=True).stdout.strip()
    db_name = urllib.parse.urlsplit(db_url).path.lstrip("/")

    work = Path(tempfile.mkdtemp(prefix="turbine-bench-db."))
    facts = machine_facts(work, db_url)
    config = {"mode": "pinned" if pinned else "shared", "pg_cpu": a.pg_cpu, "duration": a.duration,
              "warmup": a.warmup, "runs": a.runs, "connections": a.connections, "threads": a.threads,
              "pool_size": a.pool_size, "cases": {c: CASES[c] for c in a.cases}, "baseline": baseline,
              "servers_file": a.servers, "database": db_name, "target_dir": tdir}
    os.environ["BENCH_DB_POOL_SIZE"] = str(a.pool_size)  # {pool} in bench/db/servers
    env = dict(os.environ, BENCH_DATABASE_URL=db_url)
    results = {"servers": {}, "runs": [], "verifications": {}}
    log(f"{config['mode']} mode, Postgres backends on CPU {a.pg_cpu}: {a.duration}s runs x {a.runs}, "
        f"{a.warmup}s warm-up, wrk -t{a.threads} -c{a.connections}, pool {a.pool_size}; "
        f"servers: {', '.join(s['name'] for s in servers)}; cases: {', '.join(a.cases)}")
    ready = []  # servers that passed bench/verify, in list order
    for s in servers:
        name, port = s["name"], s["port"]
        status = {"line": s["line"], "port": port, "package": s["package"]}
        results["servers"][name] = status
        if R.cmd_port_free(argparse.Namespace(port=port)):
            status.update(status="failed", reason=f"port 127.0.0.1:{port} already in use (a leftover server?)")
            log(f"{name} FAILED: {status['reason']}")
            continue
        log(f"{name}: bench/verify (started behind the counting proxy)")
        vjson = work / f"{name}.verify.json"
        vcmd = [str(BENCH / "verify"), "--url", f"http://127.0.0.1:{port}", "--db-url", db_url,
                "--json", str(vjson), "--server-log", str(work / f"{name}.verify.log"), "--"] \
            + command_for(s, tdir, None)
        v = subprocess.run(vcmd, env=env, capture_output=True, text=True)
        sys.stderr.write("".join(f"  {line}\n" for line in v.stdout.splitlines()))
        results["verifications"][name] = json.loads(vjson.read_text()) if vjson.exists() else {"stdout": v.stdout}
        if v.returncode != 0:
            status.update(status="failed", reason="bench/verify failed (see verifications)")
            log(f"{name} FAILED: {status['reason']}")
            continue
        ready.append(s)

    # Interleaved: for each case and run, every server in turn, each freshly started and warmed
    # up, so a noisy minute on the machine hits all servers' run r alike rather than one server.
    for case in a.cases:
        for r in range(1, a.runs + 1):
            for s in ready:
                name, status = s["name"], results["servers"][s["name"]]
                if status.get("status") == "failed":
                    continue
                if r == 1 or case == "updates":
                    psql(db_url, "VACUUM world")  # updates leave dead rows behind
                failed = run_server_once(a, s, case, r, tdir, db_url, db_name, env, server_pin, work, results)
                if failed:
                    status.update(status="failed", reason=failed)
                    log(f"{name} FAILED: {failed}")
    for s in ready:
        st = results["servers"][s["name"]]
        st.setdefault("status", "ok")
        rss = [ev["rss_kib"] for ev in results["runs"] if ev["server"] == s["name"] and "rss_kib" in ev]
        if rss:
            st["rss_kib"] = max(rss)

    text, summary, comparisons = table.render(facts, config, results, a.cases)
    print(text)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": facts, "config": config, "servers": results["servers"],
                               "summary": summary, "comparisons": comparisons,
                               "verifications": results["verifications"], "runs": results["runs"],
                               "table_markdown": text}, indent=2, ensure_ascii=False) + "\n")
    log(f"raw runs and machine facts: {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
