#!/usr/bin/env python3
"""Report for bench/auth: bearer-token overhead on a trivial JSON endpoint, and login cost.

Reads the events bench/auth (through report.py) appended, prints a markdown summary and writes
every raw run plus machine facts to --out. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

BAR = 0.15  # token authentication may add at most 15 % to a trivial endpoint
WRK_BOUND_PCT = 90.0
BUSY_OTHER_PCT = 10.0


def median(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--events", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    events = [json.loads(l) for l in Path(args.events).read_text().splitlines() if l.strip()]
    facts = next((e for e in events if e["event"] == "facts"), {})
    config = next((e for e in events if e["event"] == "config"), {})
    verify = next((e for e in events if e["event"] == "argon2_verify"), {}).get("result")
    jwt = next((e for e in events if e["event"] == "jwt_verify"), {}).get("result")
    rss_before = next((e["rss_kib"] for e in events if e["event"] == "rss" and e["server"] == "turbine-auth-before-logins"), None)
    rss = next((e["rss_kib"] for e in events if e["event"] == "rss" and e["server"] == "turbine-auth"), None)
    runs = [e for e in events if e["event"] == "run"]

    summary: dict[str, dict] = {}
    for case in ("json", "me-json", "json+hdr", "login"):
        rs = [r for r in runs if r["case"] == case and r["kind"] == "run" and r.get("ok")]
        if not rs:
            continue
        summary[case] = {
            "runs": len(rs),
            "rps": median([r["rps"] for r in rs]),
            "p50_ms": median([r["latency_us"]["p50"] / 1000 for r in rs]),
            "p99_ms": median([r["p99_ms"] for r in rs]),
            "server_cpu_us_per_req": median([r["server_cpu_us_per_req"] for r in rs]),
            "server_cpu_pct": median([r["server_cpu_pct"] for r in rs]),
            "rps_runs": [r["rps"] for r in rs],
            "cpu_us_per_req_runs": [r["server_cpu_us_per_req"] for r in rs],
            "wrk_cpu_pct": median([r["wrk_cpu_pct"] for r in rs]),
            "other_cpu_pct": median([r.get("other_cpu_pct") for r in rs]),
            "other_cpu_pct_max": max((r.get("other_cpu_pct") or 0.0) for r in rs),
            "errors_total": sum(r["errors_total"] for r in rs),
            "requests_total": sum(r["requests"] for r in rs),
        }

    verdict: dict = {}
    a, b = summary.get("json"), summary.get("me-json")
    if a and b:
        cpu_ratio = b["server_cpu_us_per_req"] / a["server_cpu_us_per_req"]
        rps_ratio = b["rps"] / a["rps"]
        # Run r of /json and run r of /me-json ran back to back: their ratios, run by run.
        pairs = []
        for r in sorted({x["run"] for x in runs if x["kind"] == "run" and x["case"] == "json"}):
            ja = next((x for x in runs if x["kind"] == "run" and x["case"] == "json" and x["run"] == r and x.get("ok")), None)
            jb = next((x for x in runs if x["kind"] == "run" and x["case"] == "me-json" and x["run"] == r and x.get("ok")), None)
            if ja and jb:
                pairs.append({"run": r,
                              "cpu_ratio": jb["server_cpu_us_per_req"] / ja["server_cpu_us_per_req"],
                              "rps_ratio": jb["rps"] / ja["rps"]})
        wrk_bound = max(a["wrk_cpu_pct"], b["wrk_cpu_pct"]) >= WRK_BOUND_PCT
        verdict = {
            "bar_overhead": BAR,
            "cpu_per_req_ratio": round(cpu_ratio, 4),
            "cpu_overhead_pct": round(100 * (cpu_ratio - 1), 1),
            "cpu_delta_us_per_req": round(b["server_cpu_us_per_req"] - a["server_cpu_us_per_req"], 3),
            "rps_ratio": round(rps_ratio, 4),
            "time_per_req_overhead_pct": round(100 * (1 / rps_ratio - 1), 1),
            "pairwise": pairs,
            "cpu_pass": cpu_ratio <= 1 + BAR,
            "rps_pass": 1 / rps_ratio - 1 <= BAR,
            "load_generator_bound": wrk_bound,
        }

    login = summary.get("login")
    if login:
        login["server_cpu_ms_per_login"] = login["server_cpu_us_per_req"] / 1000
        login["wall_ms_per_login"] = (1000 / login["rps"]) if login["rps"] else None

    out = {"machine": facts, "config": config, "argon2_verify": verify, "summary": summary,
           "bearer_vs_plain": verdict, "jwt_verify": jwt,
           "rss_kib_before_logins": rss_before, "rss_kib": rss, "runs": runs}
    lines = []
    d = config.get("duration")
    lines.append(f"bench/auth: {facts.get('date')}, {config.get('mode')}, {config.get('runs')} x {d} s runs, "
                 f"wrk -t1 -c{config.get('connections')}; commit {str(facts.get('git_commit'))[:10]}"
                 f"{' (dirty)' if facts.get('git_dirty') else ''}; server RSS {fmt(rss_before and rss_before / 1024, '.1f')} MiB "
                 f"before the logins, {fmt(rss and rss / 1024, '.1f')} MiB after")
    lines.append("")
    lines.append("| case | req/s | p99 ms | server CPU µs/req | server CPU % | wrk CPU % | other CPU % | non-2xx/errors |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    labels = {"json": "`GET /json` (no auth)", "me-json": "`GET /me-json` (bearer JWT, `CurrentUser`)",
              "json+hdr": "`GET /json` + the same `Authorization` header, unread (control)",
              "login": f"`POST /auth/login` (argon2id, -c{config.get('login_connections')})"}
    for case, s in summary.items():
        rps = fmt(s["rps"], ",.0f") + (" †" if s["wrk_cpu_pct"] >= WRK_BOUND_PCT else "")
        other = fmt(s["other_cpu_pct"], ".1f") + (" ‡" if s["other_cpu_pct_max"] > BUSY_OTHER_PCT else "")
        lines.append(f"| {labels[case]} | {rps} | {fmt(s['p99_ms'], '.2f')} | {fmt(s['server_cpu_us_per_req'], ',.1f')} | "
                     f"{fmt(s['server_cpu_pct'], '.0f')} | {fmt(s['wrk_cpu_pct'], '.0f')} | {other} | {s['errors_total']} |")
    lines.append("")
    if verdict:
        v = verdict
        lines.append(f"bearer/plain server CPU per request: {v['cpu_per_req_ratio']:.3f} "
                     f"(+{v['cpu_delta_us_per_req']:.2f} µs, {v['cpu_overhead_pct']:+.1f} %; bar ≤ +{BAR:.0%}) ... "
                     f"{'PASS' if v['cpu_pass'] else 'FAIL'}")
        rps_note = " (not conclusive: load generator bound)" if v["load_generator_bound"] else ""
        lines.append(f"bearer/plain req/s: {v['rps_ratio']:.3f} (time per request {v['time_per_req_overhead_pct']:+.1f} %; "
                     f"bar ≤ +{BAR:.0%}) ... {'PASS' if v['rps_pass'] else 'FAIL'}{rps_note}")
        lines.append("  run by run (CPU ratio / req/s ratio): " + ", ".join(
            f"{p['cpu_ratio']:.3f} / {p['rps_ratio']:.3f}" for p in v["pairwise"]))
    h = summary.get("json+hdr")
    if a and h and b:
        dh = h["server_cpu_us_per_req"] - a["server_cpu_us_per_req"]
        dv = b["server_cpu_us_per_req"] - h["server_cpu_us_per_req"]
        verdict["header_only_delta_us_per_req"] = round(dh, 3)
        verdict["extractor_delta_us_per_req"] = round(dv, 3)
        lines.append(f"split of the +{verdict['cpu_delta_us_per_req']:.2f} µs: carrying/parsing the header (json+hdr − json) "
                     f"{dh:+.2f} µs, resolving it in CurrentUser (me-json − json+hdr) {dv:+.2f} µs")
    if jwt:
        lines.append(f"JWT HS256 verify alone (AccessTokens::verify, {jwt['token_bytes']}-byte token): "
                     f"{jwt['best_us_per_verify']:.2f} µs (best of 5 x {jwt['n']:,})")
    if login:
        lines.append(f"login: {login['rps']:.1f} logins/s, {login['wall_ms_per_login']:.1f} ms wall per login, "
                     f"server CPU {login['server_cpu_ms_per_login']:.1f} ms per login, p50 {login['p50_ms']:.1f} ms, "
                     f"p99 {login['p99_ms']:.1f} ms")
    if verify:
        lines.append(f"argon2id verify alone (PasswordHasher::owasp(), m=19456 KiB t=2 p=1, n={verify['n']}): "
                     f"median {verify['median_ms']:.2f} ms (min {verify['min_ms']:.2f}, max {verify['max_ms']:.2f})")
    text = "\n".join(lines)
    out["table_markdown"] = text
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
