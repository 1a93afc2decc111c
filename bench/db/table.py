"""Summary, comparisons and the markdown table of `bench/run --db` (bench/db/run.py)."""

from __future__ import annotations

import statistics

ORM_BAR = 0.70  # issue 3: Turbine's ORM >= 0.70 x the hand-written baseline on each DB test
SERVER_BOUND_PCT = 90.0  # server at or above this CPU share (pinned): it is the bottleneck
WRK_SATURATED_PCT = 90.0
BUSY_OTHER_PCT = 10.0
METRICS = ["rps", "p99_ms", "server_cpu_us_per_req", "pg_cpu_us_per_req", "stack_cpu_us_per_req",
           "pg_background_cpu_us_per_req", "server_cpu_pct", "pg_cpu_pct", "wrk_cpu_pct", "other_cpu_pct"]


def _median(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _f(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def summarise(results: dict, cases: list[str]) -> dict:
    summary: dict[str, dict[str, dict]] = {}
    for case in cases:
        for name, st in results["servers"].items():
            rs = [r for r in results["runs"] if r["server"] == name and r["case"] == case
                  and r["kind"] == "run" and r.get("ok")]
            e: dict = {"status": st.get("status", "failed"), "runs": len(rs)}
            if st.get("status") == "failed":
                e["reason"] = st.get("reason")
            if rs:
                e.update({m: _median([r.get(m) for r in rs]) for m in METRICS})
                e["other_cpu_pct_max"] = max((r.get("other_cpu_pct") or 0.0) for r in rs)
                e["errors_total"] = sum(r["errors_total"] for r in rs)
                e["requests_total"] = sum(r["requests"] for r in rs)
            rss = _median([r.get("rss_kib") for r in rs])
            if rss is not None:
                e["rss_mib"] = round(rss / 1024, 2)
            summary.setdefault(case, {})[name] = e
    return summary


def saturated(e: dict, config: dict) -> bool:
    """Was the server's CPU (CPU 0, shared with the Postgres backends when --pg-cpu 0) the
    bottleneck? Only then does req/s compare the servers."""
    if config["mode"] != "pinned":
        return False
    busy = (e.get("server_cpu_pct") or 0) + ((e.get("pg_cpu_pct") or 0) if config["pg_cpu"] == "0" else 0)
    return busy >= SERVER_BOUND_PCT


def compare(summary: dict, baseline: str | None, config: dict) -> dict:
    """Every server against the baseline, same case, same run."""
    out: dict[str, dict[str, dict]] = {}
    for case, row in summary.items():
        base = row.get(baseline or "", {})
        for name, e in row.items():
            if name == baseline or "rps" not in e or "rps" not in base:
                continue
            c = {
                "rps_ratio": e["rps"] / base["rps"],
                "server_cpu_efficiency": base["server_cpu_us_per_req"] / e["server_cpu_us_per_req"],
                "stack_cpu_efficiency": base["stack_cpu_us_per_req"] / e["stack_cpu_us_per_req"],
                "server_bound": saturated(e, config),
                "baseline_server_bound": saturated(base, config),
            }
            if name.startswith("turbine"):
                c["bar"] = ORM_BAR
                c["cpu_pass"] = c["server_cpu_efficiency"] >= ORM_BAR
                c["rps_pass"] = c["rps_ratio"] >= ORM_BAR
            out.setdefault(case, {})[name] = c
    return out


def render(facts: dict, config: dict, results: dict, cases: list[str]) -> tuple[str, dict, dict]:
    summary = summarise(results, cases)
    baseline = config.get("baseline")
    comparisons = compare(summary, baseline, config)
    pinned = config["mode"] == "pinned"
    where = {"0": "server and its Postgres backends on CPU 0, wrk on CPU 1",
             "1": "server on CPU 0, wrk and the Postgres backends on CPU 1",
             "any": "server on CPU 0, wrk on CPU 1, Postgres unpinned"}[config["pg_cpu"]] if pinned else "nothing pinned"
    cpu0 = "server + pg CPU" if config["pg_cpu"] == "0" else "server CPU"
    lines = [
        f"## TechEmpower database tests — {config['mode']} mode, {facts.get('date', '?')}",
        "",
        f"{facts.get('cpu_model', '?')} × {facts.get('nproc', '?')} · kernel {facts.get('kernel', '?')} · "
        f"{facts.get('rustc', '?')} · {(facts.get('postgres') or '?').split(' on ')[0]} · commit "
        f"{str(facts.get('git_commit', '?'))[:12]}" + (" (dirty)" if facts.get("git_dirty") else ""),
        f"wrk -t{config['threads']} -c{config['connections']} -d{config['duration']}s, {config['warmup']}s warm-up, "
        f"median of {config['runs']} runs · {where} · {config['pool_size']} connections per server · "
        f"baseline {baseline}",
        "",
        f"| case | server | req/s | p99 ms | server CPU µs/req | pg CPU µs/req | server+pg µs/req | server RSS MiB "
        f"| {baseline} CPU/req ÷ this | req/s ÷ {baseline} | server CPU % | pg CPU % | wrk CPU % | other CPU % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    marks = set()
    for case in cases:
        for name, e in summary.get(case, {}).items():
            label = f"{case} `{config['cases'][case]}`"
            if e["status"] == "failed" and "rps" not in e:
                lines.append(f"| {label} | {name} | FAILED | | | | | | | | | | | |")
                continue
            if "rps" not in e:
                lines.append(f"| {label} | {name} | no valid run | | | | | | | | | | | |")
                continue
            rps = f"{e['rps']:,.0f}"
            if pinned and not saturated(e, config):
                rps += " §"
                marks.add("§")
            if (e["wrk_cpu_pct"] or 0) >= WRK_SATURATED_PCT:
                rps += " †"
                marks.add("†")
            if e.get("errors_total"):
                rps += f" ({e['errors_total']} errors)"
            busy = e["other_cpu_pct_max"] > BUSY_OTHER_PCT
            if busy:
                marks.add("‡")
            c = comparisons.get(case, {}).get(name, {})
            eff = 1.0 if name == baseline else c.get("server_cpu_efficiency")
            ratio = 1.0 if name == baseline else c.get("rps_ratio")
            lines.append(
                f"| {label} | {name} | {rps} | {_f(e['p99_ms'], '.2f')} | {_f(e['server_cpu_us_per_req'], '.2f')} "
                f"| {_f(e['pg_cpu_us_per_req'], '.2f')} | {_f(e['stack_cpu_us_per_req'], '.2f')} "
                f"| {_f(e.get('rss_mib'), '.1f')} | {_f(eff, '.3f')} | {_f(ratio, '.3f')} "
                f"| {_f(e['server_cpu_pct'], '.0f')} | {_f(e['pg_cpu_pct'], '.0f')} | {_f(e['wrk_cpu_pct'], '.0f')} "
                f"| {_f(max(e['other_cpu_pct'] or 0.0, 0.0), '.0f')}{' ‡' if busy else ''} |")
    lines.append("")
    if "§" in marks:
        lines.append(f"§ {cpu0} below {SERVER_BOUND_PCT:.0f}% of CPU 0: something else (wrk, Postgres elsewhere, "
                     "latency) set req/s; compare such rows by server CPU µs/req.")
    if "†" in marks:
        lines.append(f"† wrk at ≥ {WRK_SATURATED_PCT:.0f}% CPU: load-generator bound.")
    if "‡" in marks:
        lines.append(f"‡ other processes used > {BUSY_OTHER_PCT:.0f}% of a CPU in some run: the machine was busy, "
                     "this row is suspect.")
    lines.append("pg CPU = the Postgres backends serving the benchmark database (WAL writer, checkpointer and "
                 "other background processes are in the JSON, not here). All ratios are of numbers from this "
                 "one run.")
    for name, st in results["servers"].items():
        if st.get("status") == "failed":
            lines.append(f"FAILED {name}: {st.get('reason')}")
            for chk in results["verifications"].get(name, {}).get("checks", []):
                if not chk["ok"]:
                    lines.append(f"  {chk['check']}: {chk['detail'].splitlines()[0] if chk['detail'] else ''}")
    lines.append("")
    for case in cases:
        for name, c in comparisons.get(case, {}).items():
            s, b = summary[case][name], summary[case][baseline]
            text = (f"{name} vs {baseline} ({case}): server CPU efficiency {c['server_cpu_efficiency']:.3f} "
                    f"({b['server_cpu_us_per_req']:.2f} ÷ {s['server_cpu_us_per_req']:.2f} µs/req), "
                    f"server+pg {c['stack_cpu_efficiency']:.3f}, req/s {c['rps_ratio']:.3f}"
                    + ("" if c["server_bound"] and c["baseline_server_bound"] else " (req/s: CPU 0 not saturated in both)"))
            if "bar" in c:
                text += (f" · bar ≥ {c['bar']:.2f}: CPU {'PASS' if c['cpu_pass'] else 'FAIL'}, "
                         f"req/s {'PASS' if c['rps_pass'] else 'FAIL'}")
            lines.append(text)
    return "\n".join(lines), summary, comparisons
