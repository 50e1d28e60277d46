"""Wall time of `harness run --model baseline:oracle --task ct_tumor --limit 50` from an empty cache
(phantoms built, written and loaded included), of the cached rerun, which must do no model work, and of
`harness score` on the run; each as a ratio to the first run, and whether a heavy library (MONAI, torch, nltk,
scipy.optimize, ...) was imported. Targets (issue 14.12): cached rerun < 3 s, score < 2 s.

The rerun and the score are repeated (--repeat) and the median is shown, with the CPU time (user + sys) of the
command beside the wall time: on a shared machine the wall time also counts the time other processes held the
cores, the CPU time does not. The load average before each figure says how busy the machine was.

    python benchmarks/bench_run_oracle.py [--limit 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("monai", "torch", "transformers", "nltk", "scipy.optimize", "scipy.stats", "pandas")

# the CLI, reporting at exit which heavy libraries it imported: the cached paths should need none
PROBE = ("import atexit, sys; heavy = sys.argv.pop(1).split(','); atexit.register(lambda: print('IMPORTED', "
         "','.join(m for m in heavy if m in sys.modules) or '-', file=sys.stderr)); from harness.cli import app; "
         "sys.argv = ['harness', *sys.argv[1:]]; app()")


def timed_run(args: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """(wall s, CPU s of the command, heavy modules it imported, 1-minute load average before it)."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, ",".join(HEAVY), *args], env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"harness {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    imported = next((l.split(" ", 1)[1] for l in done.stderr.splitlines() if l.startswith("IMPORTED ")), "?")
    return wall, cpu, imported, load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3, help="reruns and scores timed; the median is shown")
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EMRL_HARNESS_CACHE": str(Path(tmp) / "cache")}
        out = Path(tmp) / "run"
        args = ["run", "--model", "baseline:oracle", "--task", "ct_tumor", "--limit", str(ns.limit), "--out", str(out)]
        first = timed_run(args, env)
        requests = json.loads((out / "results.json").read_text())["requests"]
        reruns = [timed_run(args, env) for _ in range(ns.repeat)]
        again = json.loads((out / "results.json").read_text())["requests"]
        scores = [timed_run(["score", str(out)], env) for _ in range(ns.repeat)]

    def median(runs: list[tuple[float, float, str, float]]) -> tuple[float, float, str, float]:
        return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                ",".join(sorted({m for r in runs for m in r[2].split(",") if m != "-"})) or "-",
                max(r[3] for r in runs))

    rerun, score = median(reruns), median(scores)
    print(f"{ns.limit} cases, {os.cpu_count()} cores; wall s (CPU s); 1-min load average before the command")
    print(f"first run (empty cache, phantoms built): {first[0]:6.2f} s ({first[1]:5.2f} s CPU)  load {first[3]:.1f}  "
          f"requests={requests['requests']} generated={requests['generated']}  heavy imports: {first[2]}")
    print(f"cached rerun, median of {ns.repeat}:          {rerun[0]:6.2f} s ({rerun[1]:5.2f} s CPU)  load "
          f"{rerun[3]:.1f}  {rerun[0] / first[0]:.3f}x the first run  generated={again['generated']} "
          f"cached={again['cached']}  heavy imports: {rerun[2]}")
    print(f"harness score RUN_DIR, median of {ns.repeat}:  {score[0]:6.2f} s ({score[1]:5.2f} s CPU)  load "
          f"{score[3]:.1f}  {score[0] / first[0]:.3f}x the first run  heavy imports: {score[2]}")
    print(f"targets: cached rerun < 3 s and no model work -> "
          f"{'met' if rerun[0] < 3 and again['generated'] == 0 else 'NOT met'}; score < 2 s -> "
          f"{'met' if score[0] < 2 else 'NOT met'}"
          + ("" if max(rerun[3], score[3]) < os.cpu_count() else
             " (the machine was busy: the CPU times are the figures to compare)"))


if __name__ == "__main__":
    main()
