#!/usr/bin/env python3
"""Server instructions per request on the TechEmpower database tests, under callgrind:
`bench/instructions --db [options]` (Python 3.11+, standard library; valgrind, wrk, psql).

CPU µs per request moves by several % between runs on this machine; user-space instruction
counts repeat to within about 1 %, so they resolve what a layer (an ORM, a template engine)
costs. For each server of bench/db/servers (verified first, like `bench/run --db`): build with
`--profile profiling` (release code with symbols), start it under `valgrind --tool=callgrind`
pinned to CPU 0 (one tokio worker), and per case: warm up (`wrk -c8 -d2s`), zero the counters
(`callgrind_control -z`), `wrk -t1 -c8 -d5s` on CPU 1, dump (`callgrind_control -d`);
instructions/request = the dump's total Ir ÷ requests completed. Postgres is not under valgrind:
only the server's instructions are counted (all its threads, user space only). The Postgres
backends are pinned to CPU 1 with wrk. Results: a table, and bench/results/db-instructions.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
import report as R  # noqa: E402
from run import CASES, LUA, Server, command_for, log, machine_facts, pg_processes, psql, read_servers  # noqa: E402


def callgrind(vgdb: Path, flag: str, pid: int) -> None:
    subprocess.run(["callgrind_control", f"--vgdb-prefix={vgdb}", flag, str(pid)], check=True,
                   capture_output=True, timeout=120)


def newest_dump(prefix: Path, before: set[Path]) -> Path:
    for _ in range(600):  # the dump is complete once its totals: line is written
        new = sorted(set(prefix.parent.glob(prefix.name + "*")) - before)
        if new and "\ntotals:" in new[-1].read_text(errors="replace"):
            return new[-1]
        time.sleep(0.1)
    raise RuntimeError("no callgrind dump appeared")


def main() -> int:
    p = argparse.ArgumentParser(prog="bench/instructions --db", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated server names (default: all in bench/db/servers)")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--pool-size", type=int, default=16)
    p.add_argument("--ready-timeout", type=float, default=180)
    p.add_argument("--servers", default=str(DB_DIR / "servers"))
    p.add_argument("--keep", help="keep the callgrind dumps in this directory")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--out", default=str(BENCH / "results" / "db-instructions.json"))
    a = p.parse_args()
    cases = [c for c in CASES if c in a.cases.split(",")]
    servers = read_servers(Path(a.servers))
    baseline = servers[0]["name"]
    if a.only:
        servers = [s for s in servers if s["name"] in a.only.split(",")]
    os.chdir(ROOT)
    for tool in ("valgrind", "callgrind_control", "wrk", "psql", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"bench/instructions --db: {tool} not found")
    if not a.no_build:
        pkgs = sorted({s["package"] for s in servers})
        log("cargo build --profile profiling " + " ".join(f"-p {x}" for x in pkgs))
        subprocess.run(["cargo", "build", "--profile", "profiling"] + [x for q in pkgs for x in ("-p", q)],
                       check=True, stdout=sys.stderr)
    meta = json.loads(subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"],
                                     capture_output=True, text=True, check=True).stdout)
    tdir = meta["target_directory"]
    log("bench/db/setup")
    db_url = subprocess.run([str(DB_DIR / "setup")], check=True, capture_output=True, text=True).stdout.strip()
    db_name = urllib.parse.urlsplit(db_url).path.lstrip("/")
    os.environ["BENCH_DB_POOL_SIZE"] = str(a.pool_size)  # {pool} in bench/db/servers
    env = dict(os.environ, BENCH_DATABASE_URL=db_url)
    work = Path(tempfile.mkdtemp(prefix="turbine-bench-dbinstr."))
    facts = machine_facts(work, db_url)
    facts["valgrind"] = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    results: dict = {"servers": {}, "runs": []}

    for s in servers:
        name, port = s["name"], s["port"]
        st = results["servers"][name] = {"line": s["line"]}
        binary = f"{tdir}/profiling/{s['package']}"
        v = subprocess.run([str(BENCH / "verify"), "--url", f"http://127.0.0.1:{port}", "--db-url", db_url, "--"]
                           + command_for(s, tdir, None, [binary]), env=env, capture_output=True, text=True)
        sys.stderr.write("".join(f"  {line}\n" for line in v.stdout.splitlines()))
        if v.returncode != 0:
            st.update(status="failed", reason="bench/verify failed")
            continue
        vgdb, out = work / f"vgdb.{name}", work / f"cg.{name}.out"
        vg = ["valgrind", "--tool=callgrind", f"--vgdb-prefix={vgdb}", f"--callgrind-out-file={out}"]
        log(f"{name}: starting under callgrind on 127.0.0.1:{port}")
        server = Server(command_for(s, tdir, db_url, vg + [binary]), ["taskset", "-c", "0"], env, work / f"{name}.log")
        try:
            if R.cmd_wait_ready(argparse.Namespace(port=port, pid=server.pid, timeout=a.ready_timeout)):
                st.update(status="failed", reason="did not start listening")
                continue
            for case in cases:
                psql(db_url, "VACUUM world")
                url = f"http://127.0.0.1:{port}{CASES[case]}"
                wrk = ["taskset", "-c", "1", "wrk", "-t1", f"-c{a.connections}"]
                subprocess.run(wrk + [f"-d{a.warmup}s", url], capture_output=True, check=True)
                for b in pg_processes(db_name)[0]:
                    try:
                        os.sched_setaffinity(b, {1})
                    except OSError:
                        pass
                before = set(work.glob(out.name + "*"))
                callgrind(vgdb, "-z", server.pid)
                w = subprocess.run(wrk + [f"-d{a.duration}s", "-s", str(LUA), url], capture_output=True, text=True)
                callgrind(vgdb, "-d", server.pid)
                dump = newest_dump(out, before)
                if a.keep:
                    Path(a.keep).mkdir(parents=True, exist_ok=True)
                    dump = Path(shutil.copy(dump, Path(a.keep) / f"callgrind.{name}.{case}.out"))
                total, _ = R.callgrind_total(str(dump))
                wj = next(json.loads(l[9:]) for l in w.stdout.splitlines() if l.startswith("WRK_JSON "))
                errors = sum(wj["errors"].values())
                ev = {"server": name, "case": case, "requests": wj["requests"], "errors_total": errors,
                      "ir_total": total, "instr_per_req": round(total / wj["requests"], 1),
                      "rps_under_valgrind": round(wj["requests"] / (wj["duration_us"] / 1e6), 1)}
                results["runs"].append(ev)
                log(f"  {name:18} {case:8} {wj['requests']:>7,} requests  {ev['instr_per_req']:>12,.0f} "
                    f"instructions/request" + (f"  ERRORS {errors}" if errors else ""))
            st["status"] = "ok"
        except (subprocess.CalledProcessError, RuntimeError, StopIteration) as e:
            st.update(status="failed", reason=str(e))
            log(f"{name} FAILED: {e}\n{server.tail()}")
        finally:
            server.proc.kill()  # callgrind has dumped; SIGKILL skips valgrind's slow exit
            server.proc.wait()

    base = {r["case"]: r["instr_per_req"] for r in results["runs"] if r["server"] == baseline}
    lines = [f"| case | server | instructions/request | {baseline} ÷ this | requests |", "|---|---|---:|---:|---:|"]
    for case in cases:
        for r in (r for r in results["runs"] if r["case"] == case):
            ratio = base[case] / r["instr_per_req"] if case in base else None
            r["baseline_over_this"] = ratio
            lines.append(f"| {case} `{CASES[case]}` | {r['server']} | {r['instr_per_req']:,.0f} "
                         f"| {'—' if ratio is None else f'{ratio:.3f}'} | {r['requests']:,}"
                         + (f" ({r['errors_total']} errors)" if r["errors_total"] else "") + " |")
    for name, st in results["servers"].items():
        if st.get("status") == "failed":
            lines.append(f"FAILED {name}: {st.get('reason')}")
    text = "\n".join(lines)
    print(text)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"machine": facts, "config": vars(a), "baseline": baseline,
                                       **results, "table_markdown": text}, indent=2) + "\n")
    log(f"results: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
