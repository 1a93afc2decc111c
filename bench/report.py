#!/usr/bin/env python3
"""Measurement and reporting helper for bench/run (Python 3.11+, standard library only).

bench/run drives the servers; this script does the parts that want precision or structure.
Every subcommand that measures appends one JSON object per line to an events file (--events);
`report` turns that file into the markdown table on stdout and bench/results/latest.json.

Subcommands:
  facts       machine facts (nproc, CPU model, kernel, date, rustc, git commit, wrk) -> event
  port-free   exit 1 if something already listens on 127.0.0.1:PORT
  wait-ready  wait until PID accepts TCP connections on 127.0.0.1:PORT (exit 1 on death/timeout)
  verify      check one endpoint's status, body, Content-Type, Server, Date, length -> event
  measure     run one wrk command, with the server tree's CPU ticks and wrk's own rusage -> event
  rss         server tree's VmRSS -> event
  tree        print PID and its descendants, one per line
  secret      print 64 random alphanumeric characters
  report      read events, print the markdown table, write the JSON results
  instr-record   (bench/instructions) one callgrind dump + the wrk run it covers -> event
  instr-report   (bench/instructions) read events, print the instructions table, write JSON
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

HOST = "127.0.0.1"  # the only address this benchmark ever targets
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_ORDER = ["turbine", "axum", "hyper"]
CASE_ORDER = ["plaintext", "json"]
BAR = 0.90  # Turbine >= 0.90 x bare axum
WRK_SATURATED_PCT = 90.0  # wrk at or above this CPU share is (close to) the bottleneck
BUSY_OTHER_PCT = 10.0  # other processes using more than this much of a CPU during a run: noisy
EXPECTED = {
    "plaintext": {"body": b"Hello, World!", "content_type": "text/plain"},
    "json": {"json": {"message": "Hello, World!"}, "content_type": "application/json"},
}


# --------------------------------------------------------------------------------------- /proc


def _ppid_map() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    return parents


def process_tree(pid: int) -> list[int]:
    """PID and all its live descendants."""
    parents = _ppid_map()
    tree, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        tree.extend(kids)
        frontier.extend(kids)
    return tree


def cpu_ticks(pid: int) -> int:
    """utime + stime (+ cutime + cstime of reaped children) of one process, all its threads."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14..17.
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def tree_cpu_ticks(pid: int) -> int:
    total = 0
    for p in process_tree(pid):
        try:
            total += cpu_ticks(p)
        except OSError:
            pass  # exited between listing and reading
    return total


def tree_rss_kib(pid: int) -> int:
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_times() -> dict[str, list[int]]:
    """/proc/stat jiffies per CPU ("cpu" is the total): busy = all but idle and iowait."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu"):
            name, *vals = line.split()
            times[name] = [int(v) for v in vals]
    return times


def cpu_usage(before: dict[str, list[int]], after: dict[str, list[int]], wall: float) -> dict:
    """Busy and steal share per CPU over an interval, in % of one CPU."""
    usage = {}
    for name, b in before.items():
        a = after.get(name)
        if a is None or not wall:
            continue
        d = [x - y for x, y in zip(a, b)]
        # user nice system idle iowait irq softirq steal guest guest_nice
        busy = sum(d[:8]) - d[3] - d[4]
        usage[name] = {"busy_pct": round(100 * busy / CLK_TCK / wall, 1),
                       "steal_pct": round(100 * d[7] / CLK_TCK / wall, 1)}
    return usage


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def append_event(path: str, event: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(event, sort_keys=True) + "\n")


# ------------------------------------------------------------------------------------ commands


def cmd_facts(args: argparse.Namespace) -> int:
    def run(*cmd: str, cwd: str | None = None) -> str | None:
        try:
            out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    model = None
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = None
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    root = args.root
    commit = run("git", "rev-parse", "HEAD", cwd=root)
    dirty = run("git", "status", "--porcelain", cwd=root)
    wrk_version = None
    try:  # wrk prints its version on stdout and exits 1
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        wrk_version = (out.stdout or out.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        pass
    append_event(
        args.events,
        {
            "event": "facts",
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "nproc": len(os.sched_getaffinity(0)),
            "cpu_count_total": os.cpu_count(),
            "cpu_model": model,
            "mem_total_mib": round(mem_kib / 1024) if mem_kib else None,
            "kernel": platform.release(),
            "os": run("sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
            "rustc": run("rustc", "--version"),
            "cargo": run("cargo", "--version"),
            "wrk": wrk_version,
            "git_commit": commit or "none (no commits yet)",
            "git_dirty": bool(dirty) if dirty is not None else None,
            "clk_tck": CLK_TCK,
        },
    )
    return 0


def cmd_port_free(args: argparse.Namespace) -> int:
    with socket.socket() as s:
        s.settimeout(0.5)
        busy = s.connect_ex((HOST, args.port)) == 0
    return 1 if busy else 0


def cmd_wait_ready(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if not alive(args.pid):
            print(f"process {args.pid} exited before listening on {HOST}:{args.port}", file=sys.stderr)
            return 1
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((HOST, args.port)) == 0:
                return 0
        time.sleep(0.05)
    print(f"nothing listening on {HOST}:{args.port} after {args.timeout}s", file=sys.stderr)
    return 1


def verify(port: int, case: str) -> tuple[list[str], dict]:
    """TechEmpower-style checks of one endpoint. Returns (errors, observed)."""
    exp = EXPECTED[case]
    errors: list[str] = []
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", f"/{case}", headers={"Accept": "*/*"})
        res = conn.getresponse()
        body = res.read()
    except OSError as e:
        return [f"request failed: {e}"], {}
    finally:
        conn.close()
    headers = {k.lower(): v for k, v in res.getheaders()}
    observed = {"status": res.status, "headers": headers, "body": body.decode("utf-8", "replace")}
    if res.status != 200:
        errors.append(f"status {res.status}, expected 200")
    if "json" in exp:
        try:
            if json.loads(body) != exp["json"]:
                errors.append(f"body {body!r}, expected {json.dumps(exp['json'])}")
        except ValueError:
            errors.append(f"body {body!r} is not JSON")
    elif body != exp["body"]:
        errors.append(f"body {body!r}, expected {exp['body']!r}")
    ctype = headers.get("content-type", "")
    if not ctype.lower().startswith(exp["content_type"]):
        errors.append(f"Content-Type {ctype!r}, expected {exp['content_type']}")
    if not headers.get("server"):
        errors.append("no Server header")
    date = headers.get("date")
    if not date:
        errors.append("no Date header")
    else:
        try:
            skew = abs((parsedate_to_datetime(date) - dt.datetime.now(dt.timezone.utc)).total_seconds())
            if skew > 3:
                errors.append(f"Date {date!r} is {skew:.0f}s off")
        except (TypeError, ValueError):
            errors.append(f"Date {date!r} is not an HTTP date")
    if "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", ""):
        errors.append("neither Content-Length nor chunked Transfer-Encoding")
    return errors, observed


def cmd_verify(args: argparse.Namespace) -> int:
    errors, observed = verify(args.port, args.case)
    append_event(
        args.events,
        {"event": "verify", "server": args.server, "case": args.case, "ok": not errors,
         "errors": errors, "observed": observed},
    )
    for e in errors:
        print(f"  {args.server} /{args.case}: {e}", file=sys.stderr)
    return 1 if errors else 0


def wait_quiet(limit_s: float) -> tuple[float, float | None]:
    """Wait (up to limit_s) for a 1 s window in which the whole machine is nearly idle.
    Returns (seconds waited, busy % of the last window)."""
    t0 = time.monotonic()
    busy = None
    while True:
        before = cpu_times()
        time.sleep(1)
        busy = cpu_usage(before, cpu_times(), 1.0).get("cpu", {}).get("busy_pct")
        if busy is None or busy <= BUSY_OTHER_PCT or time.monotonic() - t0 >= limit_s:
            return round(time.monotonic() - t0, 1), busy


def cmd_measure(args: argparse.Namespace) -> int:
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    waited = busy_before = None
    if args.wait_quiet > 0:
        waited, busy_before = wait_quiet(args.wait_quiet)
        if busy_before is not None and busy_before > BUSY_OTHER_PCT:
            print(f"  machine still busy ({busy_before:.0f}% of a CPU) after {waited:.0f}s: measuring anyway",
                  file=sys.stderr)
    with tempfile.TemporaryFile() as err:
        ticks_before = tree_cpu_ticks(args.pid)
        sys_before = cpu_times()
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        sys_after = cpu_times()
        ticks_after = tree_cpu_ticks(args.pid)
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    text = out.decode("utf-8", "replace")
    server_alive = alive(args.pid)
    wrk = None
    for line in text.splitlines():
        if line.startswith("WRK_JSON "):
            wrk = json.loads(line[len("WRK_JSON ") :])
    event = {
        "event": "run", "kind": args.kind, "server": args.server, "case": args.case,
        "run": args.run, "mode": args.mode, "cmd": cmd, "exit_code": proc.returncode,
        "wall_s": round(wall, 3), "server_alive_after": server_alive,
        "quiet_wait_s": waited, "busy_pct_before": busy_before, "wrk_stdout": text,
        "wrk_stderr": stderr,
    }
    if wrk is None or proc.returncode != 0:
        event["ok"] = False
        append_event(args.events, event)
        print(f"  wrk failed (exit {proc.returncode}): {stderr.strip() or text.strip()}", file=sys.stderr)
        return 1
    duration_s = wrk["duration_us"] / 1e6
    requests = wrk["requests"]
    server_ticks = ticks_after - ticks_before
    server_cpu_s = server_ticks / CLK_TCK
    wrk_cpu_s = rusage.ru_utime + rusage.ru_stime
    errors = sum(wrk["errors"].values())
    event.update(
        ok=server_alive and requests > 0,
        requests=requests,
        duration_s=round(duration_s, 4),
        rps=round(requests / duration_s, 1) if duration_s else None,
        errors=wrk["errors"],
        errors_total=errors,
        latency_us=wrk["latency_us"],
        p99_ms=round(wrk["latency_us"]["p99"] / 1000, 3),
        server_cpu_ticks=server_ticks,
        clk_tck=CLK_TCK,
        server_cpu_s=round(server_cpu_s, 3),
        server_cpu_us_per_req=round(server_cpu_s * 1e6 / requests, 3) if requests else None,
        server_cpu_pct=round(100 * server_cpu_s / wall, 1) if wall else None,
        wrk_cpu_s=round(wrk_cpu_s, 3),
        wrk_cpu_pct=round(100 * wrk_cpu_s / wall, 1) if wall else None,
        cpus=cpu_usage(sys_before, sys_after, wall),
    )
    # CPU used by anything but the server and wrk (other processes, kernel threads, interrupts
    # not charged to either), in % of one CPU: a noisy neighbour shows here.
    total_busy = event["cpus"].get("cpu", {}).get("busy_pct")
    if total_busy is not None and wall:
        event["other_cpu_pct"] = round(total_busy - 100 * (server_cpu_s + wrk_cpu_s) / wall, 1)
    append_event(args.events, event)
    label = "warm-up" if args.kind == "warmup" else f"run {args.run}"
    print(
        f"  {args.server:8} {args.case:9} {label:8} {event['rps']:>12,.0f} req/s  "
        f"p99 {event['p99_ms']:7.2f} ms  server {event['server_cpu_us_per_req']:6.2f} µs/req "
        f"({event['server_cpu_pct']:5.1f}% CPU)  wrk {event['wrk_cpu_pct']:5.1f}% CPU  "
        f"other {event.get('other_cpu_pct', float('nan')):5.1f}%  "
        f"steal {event['cpus'].get('cpu', {}).get('steal_pct', float('nan')):4.1f}%"
        + (f"  ERRORS {errors}" if errors else ""),
        file=sys.stderr,
    )
    return 0 if event["ok"] else 1


def cmd_rss(args: argparse.Namespace) -> int:
    append_event(args.events, {"event": "rss", "server": args.server,
                               "pids": process_tree(args.pid), "rss_kib": tree_rss_kib(args.pid)})
    return 0


def cmd_tree(args: argparse.Namespace) -> int:
    for p in process_tree(args.pid):
        print(p)
    return 0


def cmd_secret(_: argparse.Namespace) -> int:
    alphabet = string.ascii_letters + string.digits
    print("".join(secrets.choice(alphabet) for _ in range(64)))
    return 0


# -------------------------------------------------------------------------------------- report


def _fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def _short_commit(commit: str | None) -> str:
    if commit and len(commit) == 40 and all(c in "0123456789abcdef" for c in commit):
        return commit[:12]
    return str(commit)


def _median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _with_variants(bases: list[str], variants: dict[str, dict]) -> list[str]:
    """Row order: each server followed by its variants (in the order they were measured)."""
    out = []
    for b in bases:
        out.append(b)
        out += [v for v, e in variants.items() if e["variant_of"] == b]
    return out + [v for v, e in variants.items() if e["variant_of"] not in bases]


def _variant_fields(status_event: dict) -> dict:
    return {"variant": True, "variant_of": status_event.get("variant_of"),
            "variant_env": status_event.get("variant_env"),
            "variant_desc": status_event.get("variant_desc")}


def _label(server: str, variants: dict) -> str:
    return f"{server} (variant)" if server in variants else server


def _settings(env: dict | None) -> str:
    """TURBINE_HTTP__REQUEST_TIMEOUT=0s -> http.request_timeout=0s"""
    if not env:
        return "—"
    parts = []
    for k, v in env.items():
        key = k.removeprefix("TURBINE_").lower().replace("__", ".")
        parts.append(f"`{key}={v}`")
    return " ".join(parts)


def _ablation_lines(summary: dict, servers: list[str], variants: dict) -> list[str]:
    """The variants table: each variant against the server it varies (turbine), same run."""
    lines = [
        "### Turbine variants (ablation): what each piece of the default stack costs",
        "",
        "Same run, same method. Δ = variant − turbine as shipped: negative = the piece switched "
        "off costs that much per request; positive = the piece switched on costs that much. "
        "At --quick durations a few % is within noise; `bench/instructions` resolves small "
        "differences better.",
        "",
        "| case | server / variant | settings changed | server CPU µs/req | Δ µs/req vs turbine "
        "| CPU/req ÷ turbine | CPU/req ÷ axum | req/s | req/s ÷ turbine |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    bases = sorted({e["variant_of"] for e in variants.values()})
    for case in CASE_ORDER:
        for server in servers:
            if server not in variants and server not in bases:
                continue
            e = summary.get(case, {}).get(server)
            if e is None:
                continue
            label = _label(server, variants)
            settings = _settings(e.get("variant_env")) if server in variants else "as shipped"
            if "rps" not in e:
                why = "FAILED" if e["status"] == "failed" else "no valid run"
                lines.append(f"| {case} | {label} | {settings} | {why} | | | | | |")
                continue
            lines.append(
                f"| {case} | {label} | {settings} | {_fmt(e['server_cpu_us_per_req'], '.2f')} "
                f"| {_fmt(e.get('cpu_us_per_req_delta_vs_base'), '+.2f')} "
                f"| {_fmt(e.get('cpu_per_req_vs_base'), '.3f')} "
                f"| {_fmt(e.get('cpu_per_req_vs_axum'), '.3f')} | {e['rps']:,.0f} "
                f"| {_fmt(e.get('rps_vs_base'), '.3f')} |"
            )
    return lines


def cmd_report(args: argparse.Namespace) -> int:
    events = [json.loads(line) for line in Path(args.events).read_text().splitlines() if line.strip()]
    facts = next((e for e in events if e["event"] == "facts"), {})
    config = next((e for e in events if e["event"] == "config"), {})
    status = {e["server"]: e for e in events if e["event"] == "server"}
    verifies = [e for e in events if e["event"] == "verify"]
    rss = {e["server"]: e["rss_kib"] for e in events if e["event"] == "rss"}
    runs = [e for e in events if e["event"] == "run"]

    ablation = next((e for e in events if e["event"] == "ablation"), None)
    variants = {s: e for s, e in status.items() if e.get("variant_of")}  # --ablation rows
    servers = _with_variants(
        [s for s in SERVER_ORDER if s in status and s not in variants]
        + sorted(set(status) - set(SERVER_ORDER) - set(variants)),
        variants,
    )
    summary: dict[str, dict[str, dict]] = {}
    for case in CASE_ORDER:
        for server in servers:
            rs = [r for r in runs if r["server"] == server and r["case"] == case
                  and r["kind"] == "run" and r.get("ok")]
            st = status[server]
            entry: dict = {"status": st["status"], "runs": len(rs)}
            if st["status"] == "failed":
                entry["reason"] = st.get("reason")
            if rs:
                entry.update(
                    rps=_median([r["rps"] for r in rs]),
                    p99_ms=_median([r["p99_ms"] for r in rs]),
                    server_cpu_us_per_req=_median([r["server_cpu_us_per_req"] for r in rs]),
                    server_cpu_pct=_median([r["server_cpu_pct"] for r in rs]),
                    wrk_cpu_pct=_median([r["wrk_cpu_pct"] for r in rs]),
                    other_cpu_pct=_median([r.get("other_cpu_pct") for r in rs]),
                    other_cpu_pct_max=max((r.get("other_cpu_pct") or 0.0) for r in rs),
                    errors_total=sum(r["errors_total"] for r in rs),
                    requests_total=sum(r["requests"] for r in rs),
                )
            if server in rss:
                entry["rss_mib"] = round(rss[server] / 1024, 2)
            if server in variants:
                entry.update(_variant_fields(variants[server]))
            summary.setdefault(case, {})[server] = entry
        base = summary.get(case, {}).get("axum", {})
        for server, entry in summary.get(case, {}).items():
            if "rps" in entry and "rps" in base:
                entry["cpu_per_req_vs_axum"] = (
                    entry["server_cpu_us_per_req"] / base["server_cpu_us_per_req"]
                    if base["server_cpu_us_per_req"] else None)
                entry["rps_vs_axum"] = entry["rps"] / base["rps"] if base["rps"] else None
        for server, entry in summary.get(case, {}).items():
            ref = summary[case].get(entry.get("variant_of") or "", {})
            if server in variants and "rps" in entry and "rps" in ref:
                ref_us = ref["server_cpu_us_per_req"]
                entry["cpu_us_per_req_delta_vs_base"] = entry["server_cpu_us_per_req"] - ref_us
                entry["cpu_per_req_vs_base"] = entry["server_cpu_us_per_req"] / ref_us if ref_us else None
                entry["rps_vs_base"] = entry["rps"] / ref["rps"] if ref["rps"] else None

    mode = config.get("mode", "?")
    lines = [
        f"## Turbine benchmark — {mode} mode, {facts.get('date', '?')}",
        "",
        f"{facts.get('cpu_model', '?')} × {facts.get('nproc', '?')} · kernel {facts.get('kernel', '?')}"
        f" · {facts.get('rustc', '?')} · commit {_short_commit(facts.get('git_commit'))}"
        + (" (dirty)" if facts.get("git_dirty") else ""),
        f"wrk -t{config.get('threads', '?')} -c{config.get('connections', '?')} "
        f"-d{config.get('duration', '?')}s, {config.get('warmup', '?')}s warm-up, "
        f"median of {config.get('runs', '?')} runs · "
        + ("server on CPU 0, wrk on CPU 1" if mode == "pinned" else "server and wrk unpinned"),
        "",
        "| case | server | req/s | p99 ms | server CPU µs/req | server RSS MiB "
        "| CPU/req ÷ axum | req/s ÷ axum | server CPU % | wrk CPU % | other CPU % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    saturated_any = busy_any = False
    for case in CASE_ORDER:
        for server in servers:
            e = summary.get(case, {}).get(server)
            if e is None:
                continue
            label = _label(server, variants)
            if e["status"] == "failed":
                lines.append(f"| {case} | {label} | FAILED | | | | | | | | |")
                continue
            if "rps" not in e:
                lines.append(f"| {case} | {label} | no valid run | | | | | | | | |")
                continue
            sat = e["wrk_cpu_pct"] is not None and e["wrk_cpu_pct"] >= WRK_SATURATED_PCT
            saturated_any |= sat
            busy = e["other_cpu_pct_max"] > BUSY_OTHER_PCT
            busy_any |= busy
            rps = f"{e['rps']:,.0f}" + (" †" if sat else "")
            if e.get("errors_total"):
                rps += f" ({e['errors_total']} errors)"
            lines.append(
                f"| {case} | {label} | {rps} | {_fmt(e['p99_ms'], '.2f')} "
                f"| {_fmt(e['server_cpu_us_per_req'], '.2f')} | {_fmt(e.get('rss_mib'), '.1f')} "
                f"| {_fmt(e.get('cpu_per_req_vs_axum'), '.3f')} | {_fmt(e.get('rps_vs_axum'), '.3f')} "
                f"| {_fmt(e['server_cpu_pct'], '.0f')} | {_fmt(e['wrk_cpu_pct'], '.0f')} "
                f"| {_fmt(max(e['other_cpu_pct'], 0.0), '.0f')}{' ‡' if busy else ''} |"
            )
    lines.append("")
    if saturated_any:
        lines.append(f"† wrk at ≥ {WRK_SATURATED_PCT:.0f}% CPU: load-generator bound, compare by CPU µs/req.")
    if busy_any:
        lines.append(
            f"‡ in at least one run, other processes used > {BUSY_OTHER_PCT:.0f}% of a CPU: the machine "
            "was busy, so this row's figures are suspect (µs/req less so than req/s). Rerun when quiet."
        )
    if variants:
        lines.append(
            "(variant) = Turbine variant for the ablation (--ablation): the same binary with some "
            "settings changed, NOT Turbine as shipped; see the variants table below."
        )
    failed = [s for s in servers if status[s]["status"] == "failed"]
    for s in failed:
        lines.append(f"FAILED {s}: {status[s].get('reason', '?')}")
        for v in verifies:
            if v["server"] == s and not v["ok"]:
                lines.append(f"  /{v['case']}: " + "; ".join(v["errors"]))
    lines.append("")

    verdicts = {}
    for case in CASE_ORDER:
        t = summary.get(case, {}).get("turbine", {})
        a = summary.get(case, {}).get("axum", {})
        if "rps" not in t or "rps" not in a:
            why = "turbine not measured" if "rps" not in t else "axum not measured"
            lines.append(f"turbine/axum CPU-per-request ratio ({case}): n/a ({why})")
            continue
        ratio = t.get("cpu_per_req_vs_axum")
        cpu_ok = ratio is not None and ratio <= 1 / BAR
        lines.append(
            f"turbine/axum CPU-per-request ratio ({case}): {ratio:.3f} "
            f"(turbine {t['server_cpu_us_per_req']:.2f} µs vs axum {a['server_cpu_us_per_req']:.2f} µs; "
            f"efficiency {1 / ratio:.3f} × axum; bar ratio ≤ {1 / BAR:.3f}) "
            f"{'PASS' if cpu_ok else 'FAIL'}"
        )
        rps_ratio = t["rps_vs_axum"]
        a_sat = a["wrk_cpu_pct"] is not None and a["wrk_cpu_pct"] >= WRK_SATURATED_PCT
        if rps_ratio < BAR:
            rps_verdict = "FAIL"
        elif a_sat:
            rps_verdict = "not conclusive (axum run was load-generator bound)"
        else:
            rps_verdict = "PASS"
        lines.append(f"turbine/axum req/s ratio ({case}): {rps_ratio:.3f} (bar ≥ {BAR:.2f}) {rps_verdict}")
        verdicts[case] = {"cpu_per_req_ratio": ratio, "cpu_pass": cpu_ok,
                          "rps_ratio": rps_ratio, "rps_verdict": rps_verdict}

    if variants:
        lines += [""] + _ablation_lines(summary, servers, variants)

    table = "\n".join(lines)
    print(table)
    result = {
        "machine": {k: v for k, v in facts.items() if k != "event"},
        "config": {k: v for k, v in config.items() if k != "event"},
        "bar": {"turbine_vs_axum": BAR, "wrk_saturated_pct": WRK_SATURATED_PCT},
        "servers": {s: {k: v for k, v in status[s].items() if k != "event"} for s in servers},
        "summary": summary,
        "turbine_vs_axum": verdicts,
        "verifications": verifies,
        "rss": {s: {"rss_kib": v} for s, v in rss.items()},
        "runs": runs,
        "table_markdown": table,
    }
    if variants:
        result["ablation"] = {
            "note": "rows whose variant_of is set are Turbine variants (same binary, the env below "
                    "added), not Turbine as shipped; *_vs_base compares them to that base row",
            "variants": {s: _variant_fields(e) for s, e in variants.items()},
            "entries": (ablation or {}).get("entries"),
        }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


# --------------------------------------------------------------------- bench/instructions


def callgrind_total(path: str) -> tuple[int, int | None]:
    """Total Ir of a callgrind dump: `callgrind_annotate FILE`'s PROGRAM TOTALS line, and the
    file's own `summary:` line as a cross-check."""
    out = subprocess.run(["callgrind_annotate", path], capture_output=True, text=True, check=True).stdout
    total = None
    for line in out.splitlines():
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
            break
    if total is None:
        raise ValueError(f"no PROGRAM TOTALS in callgrind_annotate {path}")
    summary = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("summary:"):
                summary = int(line.split()[1])
                break
    return total, summary


def cmd_instr_record(args: argparse.Namespace) -> int:
    text = Path(args.wrk_out).read_text(encoding="utf-8", errors="replace")
    wrk = None
    for line in text.splitlines():
        if line.startswith("WRK_JSON "):
            wrk = json.loads(line[len("WRK_JSON ") :])
    event = {"event": "instr", "server": args.server, "case": args.case, "callgrind_file": args.callgrind,
             "wrk_exit_code": args.wrk_exit, "wrk_stdout": text}
    if args.variant_of:
        event.update(variant_of=args.variant_of)
    if wrk is None or args.wrk_exit != 0 or not wrk["requests"]:
        event["ok"] = False
        append_event(args.events, event)
        print(f"  {args.server} /{args.case}: wrk failed (exit {args.wrk_exit})", file=sys.stderr)
        return 1
    try:
        total, summary = callgrind_total(args.callgrind)
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        event.update(ok=False, error=f"reading the callgrind dump: {e}")
        append_event(args.events, event)
        print(f"  {args.server} /{args.case}: {event['error']}", file=sys.stderr)
        return 1
    requests = wrk["requests"]
    errors = sum(wrk["errors"].values())
    event.update(
        ok=True, requests=requests, duration_s=round(wrk["duration_us"] / 1e6, 4),
        rps_under_valgrind=round(requests / (wrk["duration_us"] / 1e6), 1),
        errors=wrk["errors"], errors_total=errors,
        ir_total=total, ir_summary_line=summary, instr_per_req=round(total / requests, 1),
    )
    append_event(args.events, event)
    print(f"  {args.server:24} {args.case:9} {requests:>8,} requests  {total:>16,} Ir  "
          f"{event['instr_per_req']:>10,.0f} instructions/request"
          + (f"  ERRORS {errors}" if errors else ""), file=sys.stderr)
    return 0


def cmd_instr_report(args: argparse.Namespace) -> int:
    events = [json.loads(line) for line in Path(args.events).read_text().splitlines() if line.strip()]
    facts = next((e for e in events if e["event"] == "facts"), {})
    config = next((e for e in events if e["event"] == "config"), {})
    status = {e["server"]: e for e in events if e["event"] == "server"}
    verifies = [e for e in events if e["event"] == "verify"]
    runs = [e for e in events if e["event"] == "instr"]
    variants = {s: e for s, e in status.items() if e.get("variant_of")}
    servers = _with_variants(
        [s for s in SERVER_ORDER if s in status and s not in variants]
        + sorted(set(status) - set(SERVER_ORDER) - set(variants)),
        variants,
    )

    summary: dict[str, dict[str, dict]] = {}
    for case in CASE_ORDER:
        for server in servers:
            st = status[server]
            entry: dict = {"status": st["status"]}
            if st["status"] == "failed":
                entry["reason"] = st.get("reason")
            r = next((r for r in runs if r["server"] == server and r["case"] == case and r.get("ok")), None)
            if r:
                entry.update({k: r[k] for k in ("instr_per_req", "ir_total", "requests", "duration_s",
                                                "errors_total", "rps_under_valgrind")})
            if server in variants:
                entry.update(_variant_fields(variants[server]))
            summary.setdefault(case, {})[server] = entry
        row = summary.get(case, {})
        axum = row.get("axum", {}).get("instr_per_req")
        for server, entry in row.items():
            ipr = entry.get("instr_per_req")
            if ipr is None:
                continue
            entry["axum_over_this"] = axum / ipr if axum else None
            ref = row.get(entry.get("variant_of") or "", {}).get("instr_per_req")
            if server in variants and ref:
                entry["delta_vs_base"] = ipr - ref
                entry["ratio_vs_base"] = ipr / ref

    pin = config.get("mode") == "pinned"
    lines = [
        f"## Instructions per request (callgrind) — {facts.get('date', '?')}",
        "",
        f"{facts.get('cpu_model', '?')} × {facts.get('nproc', '?')} · kernel {facts.get('kernel', '?')}"
        f" · {facts.get('rustc', '?')} · {config.get('valgrind', '?')} · commit "
        f"{_short_commit(facts.get('git_commit'))}" + (" (dirty)" if facts.get("git_dirty") else ""),
        f"`valgrind --tool=callgrind`, profiling build; counters zeroed after a {config.get('warmup', '?')} s "
        f"warm-up, then `wrk -t{config.get('threads', '?')} -c{config.get('connections', '?')} "
        f"-d{config.get('duration', '?')}s`; total Ir ÷ requests completed; one run per entry · "
        + ("server on CPU 0 (one tokio worker), wrk on CPU 1" if pin else "server and wrk unpinned")
        + " · user-space instructions only (the kernel's are not counted)",
        "",
        "| case | server / variant | instructions/request | ratio to axum (axum ÷ this) "
        "| Δ vs turbine | requests |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for case in CASE_ORDER:
        for server in servers:
            e = summary.get(case, {}).get(server)
            if e is None:
                continue
            label = _label(server, variants)
            if "instr_per_req" not in e:
                why = "FAILED" if e["status"] == "failed" else "no valid run"
                lines.append(f"| {case} | {label} | {why} | | | |")
                continue
            delta = e.get("delta_vs_base")
            lines.append(
                f"| {case} | {label} | {e['instr_per_req']:,.0f} | {_fmt(e.get('axum_over_this'), '.3f')} "
                f"| {'' if delta is None else format(delta, '+,.0f')} | {e['requests']:,}"
                + (f" ({e['errors_total']} errors)" if e.get("errors_total") else "") + " |"
            )
    lines.append("")
    lines.append(f"Ratio to axum ≥ {BAR:.2f} meets Turbine's bar (instructions/request ≤ axum's ÷ {BAR:.2f}).")
    if variants:
        lines.append(
            "(variant) = Turbine with some settings changed, NOT Turbine as shipped; Δ = its "
            "instructions/request − turbine's (negative: what the piece switched off costs)."
        )
        for s in variants:
            lines.append(f"  {s}: {_settings(variants[s].get('variant_env'))}")
    for s in servers:
        if status[s]["status"] == "failed":
            lines.append(f"FAILED {s}: {status[s].get('reason', '?')}")
            for v in verifies:
                if v["server"] == s and not v["ok"]:
                    lines.append(f"  /{v['case']}: " + "; ".join(v["errors"]))

    table = "\n".join(lines)
    print(table)
    result = {
        "machine": {k: v for k, v in facts.items() if k != "event"},
        "config": {k: v for k, v in config.items() if k != "event"},
        "servers": {s: {k: v for k, v in status[s].items() if k != "event"} for s in servers},
        "summary": summary,
        "verifications": verifies,
        "runs": runs,
        "table_markdown": table,
    }
    if variants:
        result["ablation"] = {
            "note": "rows whose variant_of is set are Turbine variants (same binary, the env below "
                    "added), not Turbine as shipped; delta_vs_base / ratio_vs_base compare them to turbine",
            "variants": {s: _variant_fields(e) for s, e in variants.items()},
        }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def cmd_event(args: argparse.Namespace) -> int:
    """Append a free-form event given as KEY=VALUE pairs (VALUE parsed as JSON when it parses)."""
    event = {"event": args.name}
    for pair in args.fields:
        key, _, value = pair.partition("=")
        try:
            event[key] = json.loads(value)
        except ValueError:
            event[key] = value
    append_event(args.events, event)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("facts"); s.add_argument("--events", required=True); s.add_argument("--root", default=".")
    s.set_defaults(func=cmd_facts)
    s = sub.add_parser("port-free"); s.add_argument("--port", type=int, required=True)
    s.set_defaults(func=cmd_port_free)
    s = sub.add_parser("wait-ready")
    s.add_argument("--port", type=int, required=True); s.add_argument("--pid", type=int, required=True)
    s.add_argument("--timeout", type=float, default=30)
    s.set_defaults(func=cmd_wait_ready)
    s = sub.add_parser("verify")
    s.add_argument("--events", required=True); s.add_argument("--server", required=True)
    s.add_argument("--port", type=int, required=True); s.add_argument("--case", choices=CASE_ORDER, required=True)
    s.set_defaults(func=cmd_verify)
    s = sub.add_parser("measure")
    s.add_argument("--events", required=True); s.add_argument("--server", required=True)
    s.add_argument("--case", required=True); s.add_argument("--pid", type=int, required=True)
    s.add_argument("--kind", choices=["warmup", "run"], required=True)
    s.add_argument("--run", type=int, default=0); s.add_argument("--mode", default="pinned")
    s.add_argument("--wait-quiet", type=float, default=0)
    s.add_argument("cmd", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_measure)
    s = sub.add_parser("rss")
    s.add_argument("--events", required=True); s.add_argument("--server", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.set_defaults(func=cmd_rss)
    s = sub.add_parser("tree"); s.add_argument("--pid", type=int, required=True)
    s.set_defaults(func=cmd_tree)
    s = sub.add_parser("secret"); s.set_defaults(func=cmd_secret)
    s = sub.add_parser("event")
    s.add_argument("--events", required=True); s.add_argument("name"); s.add_argument("fields", nargs="*")
    s.set_defaults(func=cmd_event)
    s = sub.add_parser("report"); s.add_argument("--events", required=True); s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_report)
    s = sub.add_parser("instr-record")
    s.add_argument("--events", required=True); s.add_argument("--server", required=True)
    s.add_argument("--case", required=True); s.add_argument("--wrk-out", required=True)
    s.add_argument("--wrk-exit", type=int, required=True); s.add_argument("--callgrind", required=True)
    s.add_argument("--variant-of", default="")
    s.set_defaults(func=cmd_instr_record)
    s = sub.add_parser("instr-report")
    s.add_argument("--events", required=True); s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_instr_report)

    args = p.parse_args()
    return args.func(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
