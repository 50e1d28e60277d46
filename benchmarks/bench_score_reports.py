"""Benchmark: `harness score-reports` on 100,000 report pairs, every default metric, 1000 bootstrap resamples.

Target: under 5 minutes and under 2 GB of memory on the project machine (2 cores). Runs the command as a user
does (a subprocess, with its progress bar) and reads its wall time, CPU time and peak memory: the maximum resident
set size of any one process, and, since the command scores with worker processes on a large set, the peak of the
whole process tree's memory (proportional set size summed over the command and its workers, sampled every 0.2 s:
pages the forked workers share with the command count once).

    python benchmarks/bench_score_reports.py [--pairs 100000] [--seed 0] [--keep DIR]

Pairs: CT reports written by the report writer from random findings (bench_clinical_metrics.py's generator), the
candidate the same findings in other words or with one finding changed, removed or invented; written as R2Gen-style
``test_result.json`` / ``test_refs.json`` ({id: [text]}).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_clinical_metrics import make_pairs  # noqa: E402

TARGET_S = 300
TARGET_MB = 2048


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _tree_pss_mb(pid: int) -> float:
    total_kb = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                total_kb += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return total_kb / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the input files and results here")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-score-reports-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    refs, cands = make_pairs(args.pairs, args.seed)
    (work / "test_refs.json").write_text(json.dumps({f"study_{i}": [r] for i, r in enumerate(refs)}))
    (work / "test_result.json").write_text(json.dumps({f"study_{i}": [c] for i, c in enumerate(cands)}))
    print(f"generated {args.pairs} pairs in {time.perf_counter() - t:.1f} s "
          f"({len(set(refs))} distinct references, {len(set(cands))} distinct candidates)")

    harness = Path(sys.executable).with_name("harness")
    cmd = [str(harness), "score-reports", str(work / "test_result.json"), str(work / "test_refs.json"),
           "--out", str(work / "scored")]
    t = time.perf_counter()
    tree_mb = 0.0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        while proc.poll() is None:
            tree_mb = max(tree_mb, _tree_pss_mb(proc.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024  # kB on Linux
    cpu = usage.ru_utime + usage.ru_stime  # what the command itself used, whatever else shares the cores
    if proc.returncode != 0:
        print(stdout[-3000:], stderr[-3000:])
        raise SystemExit(f"harness score-reports failed with exit code {proc.returncode}")
    results = json.loads((work / "scored" / "results.json").read_text())
    print(f"command: {' '.join(cmd[1:2])} ... --out DIR  (default metrics, --bootstrap 1000)")
    for name, m in results["metrics"].items():
        value = f"{m['value']:.4f} [{m['ci_low']:.4f}, {m['ci_high']:.4f}]" if m["status"] == "ok" else "not run"
        print(f"  {name:>22}: {value}")
    print(f"timings in the command: {results['timings']}")
    ok_time, ok_mem = wall < TARGET_S, max(peak_mb, tree_mb) < TARGET_MB
    print(f"wall {wall:.1f} s (CPU {cpu:.1f} s) for {args.pairs} pairs [target < {TARGET_S} s: "
          f"{'PASS' if ok_time else 'FAIL'}]; "
          f"peak memory {peak_mb:.0f} MB in one process, {tree_mb:.0f} MB for the command and its workers "
          f"[target < {TARGET_MB} MB: {'PASS' if ok_mem else 'FAIL'}]")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
