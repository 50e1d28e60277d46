"""Wall time of `harness run --model baseline:oracle --task ct_tumor --limit 50` from an empty cache
(phantoms built, written and loaded included), of the cached rerun, which must do no model work, and of
`harness score` on the run; each as a ratio to the first run, and whether MONAI (and with it torch) was imported.
Targets: first run < 60 s, cached rerun < 3 s, score < 2 s.

    python benchmarks/bench_run_oracle.py [--limit 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the CLI, reporting at exit whether MONAI was imported: the cached paths should never need it
PROBE = ("import atexit, sys; atexit.register(lambda: print('monai imported:', 'monai' in sys.modules, "
         "file=sys.stderr)); from harness.cli import app; sys.argv = ['harness', *sys.argv[1:]]; app()")


def timed_run(args: list[str], env: dict[str, str]) -> tuple[float, bool]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, "monai imported: True" in done.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=50)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EMRL_HARNESS_CACHE": str(Path(tmp) / "cache")}
        out = Path(tmp) / "run"
        args = ["run", "--model", "baseline:oracle", "--task", "ct_tumor", "--limit", str(ns.limit), "--out", str(out)]
        first, monai_first = timed_run(args, env)
        requests = json.loads((out / "results.json").read_text())["requests"]
        second, monai_second = timed_run(args, env)
        again = json.loads((out / "results.json").read_text())["requests"]
        scored, monai_score = timed_run(["score", str(out)], env)
    print(f"first run (empty cache, phantoms built): {first:6.1f} s  requests={requests['requests']} "
          f"generated={requests['generated']}  monai imported: {monai_first}")
    print(f"rerun (same arguments):                  {second:6.1f} s  ({second / first:.2f}x the first run)  "
          f"generated={again['generated']} cached={again['cached']}  monai imported: {monai_second}")
    print(f"harness score RUN_DIR:                   {scored:6.1f} s  ({scored / first:.2f}x the first run)  "
          f"monai imported: {monai_score}")
    print(f"targets: first run < 60 s -> {'met' if first < 60 else 'NOT met'}; rerun < 3 s and no model work -> "
          f"{'met' if second < 3 and again['generated'] == 0 else 'NOT met'}; score < 2 s -> "
          f"{'met' if scored < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
