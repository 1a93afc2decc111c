"""Draws bench/results/peers.json as a grouped bar chart, req/s per test and framework on a log
scale: `python chart.py RESULTS.json OUT_BASE` writes OUT_BASE.png and OUT_BASE.svg. Run by
bench/peers/run.py with the peers' venv (matplotlib comes from bench/peers/requirements.txt)."""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TEST_LABEL = {"plaintext": "plaintext", "pipelined": "plaintext\n×16 pipelined", "json": "JSON",
              "db": "single query", "queries": "20 queries", "fortunes": "fortunes", "updates": "20 updates"}


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: chart.py RESULTS.json OUT_BASE", file=sys.stderr)
        return 2
    data = json.load(open(sys.argv[1], encoding="utf-8"))
    summary, entries, config = data["summary"], data["entries"], data["config"]
    tests = [t for t in config["tests"] if any(t in per for per in summary.values())]
    groups = []
    for e in entries.values():
        if e["group"] in summary and e["group"] not in groups:
            groups.append(e["group"])
    label = {e["group"]: e["label"] for e in entries.values()}
    if not tests or not groups:
        print("chart.py: nothing measured, no chart", file=sys.stderr)
        return 1
    width = 0.8 / len(groups)
    fig, ax = plt.subplots(figsize=(max(10, 1.7 * len(tests) + 3), 6.5))
    cmap = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    for i, g in enumerate(groups):
        xs, ys = [], []
        for j, t in enumerate(tests):
            s = summary[g].get(t)
            if s and s.get("rps"):
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(s["rps"])
        ax.bar(xs, ys, width, label=label[g], color="black" if g == "turbine" else cmap(i % cmap.N))
    ax.set_yscale("log")
    ax.set_xticks(range(len(tests)), [TEST_LABEL.get(t, t) for t in tests])
    ax.set_ylabel("requests/s (log scale)")
    mode = ("server pinned to 1 core, wrk on the other" if config["mode"] == "pinned" else "server on both cores")
    quick = " — quick run, not final" if config.get("quick") else ""
    ax.set_title(f"TechEmpower tests on a shared 2-core machine: {mode}{quick}\n"
                 f"median of {config['runs']} × {config['duration']} s, wrk -c{config['connections']}, "
                 f"{data['machine'].get('date', '')}", fontsize=10)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=min(len(groups), 4), loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{sys.argv[2]}.{ext}", dpi=110)
    print(f"chart: {sys.argv[2]}.png, {sys.argv[2]}.svg", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
