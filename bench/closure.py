#!/usr/bin/env python3
"""The fast OWL RL engine's closure alone: this checkout against a baseline, in one run.

    python bench/closure.py [--sizes 100k,1M] [--rounds 3] --baseline DIR
                            [--workdir DIR] [--json FILE]

For each size, bench/generate.py writes the synthetic project (seed 1, as
bench/scale.py does). Each round then runs the closure twice, one after the
other, each in a fresh process with PYTHONPATH on its checkout: once with the
baseline's code, once with this checkout's; which goes first alternates from
round to round. The child (bench/scale.py's `closure_child`) parses the
project, then times `server.reasoning.infer.infer_oxigraph(parsed,
engine="fast")`: closure seconds (the engine's `seconds` + `filter_seconds`),
wall and CPU seconds of the call, entailed triples, peak RSS of the process.

Per size it prints each round (with the 1-minute load average before it),
the medians, the ratio new ÷ baseline of each round and its median, the
entailed counts, and whether the median ratio (of closure seconds) is
within 10%. The machine may be shared: a ratio taken within one round
compares like with like, and the CPU-time ratio is less sensitive to load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import scale  # bench/scale.py, next to this file (puts this checkout on sys.path)

ALLOWED_SLOWDOWN = 1.10


def run_closure_in_child(project: Path, checkout: Path) -> dict:
    """The closure of `project` with the code of `checkout`, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(checkout), PYTHONUNBUFFERED="1",
               PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, __file__, "--child", str(checkout), str(project)]
    _wall, _pss, completed = scale.run_measured(command, env, cwd=checkout)
    figures: dict = {}
    for line in completed.stdout.splitlines():
        if line.startswith("{"):
            figures.update(json.loads(line))
    if figures["engine"] != "fast":
        sys.exit(f"{checkout}: the fast engine fell back to {figures['engine']}")
    figures["closure_seconds"] = figures["seconds"] + figures["filter_seconds"]
    return figures


def child(checkout: Path, project: str) -> None:
    """In the child: import `server` from `checkout` (not from the checkout this
    script is in, which bench/scale.py put first on sys.path), then time the closure."""
    sys.path[:] = [p for p in sys.path if Path(p).resolve() != scale.REPO]
    sys.path.insert(0, str(checkout))
    import server

    server_dir = Path(server.__file__).resolve().parent
    if server_dir != checkout.resolve() / "server":
        sys.exit(f"imported server from {server_dir}, not from {checkout}")
    print(json.dumps({"server": str(server_dir)}), flush=True)
    scale.closure_child(project, "fast")


def median_ratio_verdict(median_ratio: float) -> str:
    if median_ratio <= ALLOWED_SLOWDOWN:
        return f"within {ALLOWED_SLOWDOWN - 1:.0%}"
    return f"NOT within {ALLOWED_SLOWDOWN - 1:.0%} ({median_ratio - 1:+.0%})"


def measure_size(size: int, rounds: int, workdir: Path, baseline: Path, seed: int) -> dict:
    import generate

    project = workdir / f"synthetic-{scale.label(size)}"
    started = time.perf_counter()
    graph_triples = generate.generate(project, size, seed=seed)
    print(f"\n== {scale.label(size)}: {graph_triples:,} graph triples "
          f"(generated in {time.perf_counter() - started:.1f} s)", flush=True)
    checkouts = {"baseline": baseline, "new": scale.REPO}
    round_rows = []
    for round_index in range(rounds):
        order = ["baseline", "new"] if round_index % 2 == 0 else ["new", "baseline"]
        load_before = os.getloadavg()[0]
        print(f"   round {round_index + 1}/{rounds}: load average {load_before:.2f}, "
              f"{order[0]} first", flush=True)
        row: dict = {"round": round_index + 1, "load_before": load_before, "first": order[0]}
        for name in order:
            figures = run_closure_in_child(project, checkouts[name])
            row[name] = figures
            print(f"      {name:8}: closure {figures['closure_seconds']:7.2f} s "
                  f"(engine {figures['seconds']:.2f} + filter {figures['filter_seconds']:.2f}), "
                  f"wall {figures['wall']:7.2f} s, CPU {figures['cpu']:7.2f} s, "
                  f"{figures['entailed']:,} entailed, "
                  f"peak RSS {figures['maxrss'] / 2**30:.2f} GiB", flush=True)
        row["ratio"] = row["new"]["closure_seconds"] / row["baseline"]["closure_seconds"]
        row["wall_ratio"] = row["new"]["wall"] / row["baseline"]["wall"]
        row["cpu_ratio"] = row["new"]["cpu"] / row["baseline"]["cpu"]
        round_rows.append(row)
    return summarise(size, graph_triples, round_rows)


def summarise(size: int, graph_triples: int, round_rows: list[dict]) -> dict:
    def median_of(name: str, key: str) -> float:
        return statistics.median(row[name][key] for row in round_rows)

    ratios = [row["ratio"] for row in round_rows]
    summary = {
        "size": size, "graph_triples": graph_triples, "rounds": round_rows,
        "baseline_median_seconds": median_of("baseline", "closure_seconds"),
        "new_median_seconds": median_of("new", "closure_seconds"),
        "baseline_median_wall": median_of("baseline", "wall"),
        "new_median_wall": median_of("new", "wall"),
        "baseline_peak_rss": max(row["baseline"]["maxrss"] for row in round_rows),
        "new_peak_rss": max(row["new"]["maxrss"] for row in round_rows),
        "ratios": ratios, "median_ratio": statistics.median(ratios),
        "median_wall_ratio": statistics.median(row["wall_ratio"] for row in round_rows),
        "median_cpu_ratio": statistics.median(row["cpu_ratio"] for row in round_rows),
        "baseline_entailed": sorted({row["baseline"]["entailed"] for row in round_rows}),
        "new_entailed": sorted({row["new"]["entailed"] for row in round_rows}),
        "load_averages": [row["load_before"] for row in round_rows],
    }
    summary["verdict"] = median_ratio_verdict(summary["median_ratio"])
    return summary


def print_table(summary: dict) -> None:
    print(f"\n   {scale.label(summary['size'])} ({summary['graph_triples']:,} graph triples), "
          f"{len(summary['rounds'])} rounds")
    print("   | round | load | baseline s | new s | new ÷ baseline | wall ratio | CPU ratio |")
    print("   |---|---|---|---|---|---|---|")
    for row in summary["rounds"]:
        print(f"   | {row['round']} ({row['first']} first) | {row['load_before']:.2f} | "
              f"{row['baseline']['closure_seconds']:.2f} | {row['new']['closure_seconds']:.2f} | "
              f"{row['ratio']:.3f} | {row['wall_ratio']:.3f} | {row['cpu_ratio']:.3f} |")
    print(f"   | median | | {summary['baseline_median_seconds']:.2f} | "
          f"{summary['new_median_seconds']:.2f} | **{summary['median_ratio']:.3f}** | "
          f"{summary['median_wall_ratio']:.3f} | {summary['median_cpu_ratio']:.3f} |")
    print(f"   ratio range {min(summary['ratios']):.3f}–{max(summary['ratios']):.3f}; "
          f"peak RSS baseline {summary['baseline_peak_rss'] / 2**30:.2f} GiB, "
          f"new {summary['new_peak_rss'] / 2**30:.2f} GiB")
    baseline_entailed, new_entailed = summary["baseline_entailed"], summary["new_entailed"]
    same = baseline_entailed == new_entailed and len(new_entailed) == 1
    print(f"   entailed: baseline {', '.join(f'{n:,}' for n in baseline_entailed)}, new "
          f"{', '.join(f'{n:,}' for n in new_entailed)}"
          + ("" if same else "  — DIFFERENT: the two do not compute the same closure"))
    print(f"   verdict: the new code is {summary['verdict']} of the baseline "
          f"(median ratio {summary['median_ratio']:.3f})", flush=True)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M",
                        help="comma-separated graph sizes (default 100k,1M)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (default 3)")
    parser.add_argument("--baseline", type=Path, required=True, metavar="DIR",
                        help="the checkout of Köprü to compare against")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the synthetic projects go (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    baseline = args.baseline.resolve()
    if not (baseline / "server" / "reasoning" / "infer.py").is_file():
        parser.error(f"{baseline} is not a checkout of Köprü")
    sizes = [scale.parse_size(text) for text in args.sizes.split(",")]
    print(f"closure bench — {os.cpu_count()} cores, sizes "
          f"{', '.join(scale.label(s) for s in sizes)}, {args.rounds} rounds; new "
          f"{scale.REPO}, baseline {baseline}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kopru-closure-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        summaries = []
        for size in sizes:
            summaries.append(measure_size(size, args.rounds, workdir, baseline, args.seed))
            print_table(summaries[-1])
            if args.json:
                args.json.write_text(json.dumps(summaries, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
