"""Wall time of `harness run --model baseline:oracle --task ct_tumor --limit 50` from an empty cache
(phantoms built, written and loaded included), and of the rerun, which must do no model work (target < 60 s).

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


def timed_run(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=50)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EMRL_HARNESS_CACHE": str(Path(tmp) / "cache")}
        out = Path(tmp) / "run"
        args = ["run", "--model", "baseline:oracle", "--task", "ct_tumor", "--limit", str(ns.limit), "--out", str(out)]
        first = timed_run(args, env)
        requests = json.loads((out / "results.json").read_text())["requests"]
        second = timed_run(args, env)
        again = json.loads((out / "results.json").read_text())["requests"]
    print(f"first run (empty cache, phantoms built): {first:6.1f} s  requests={requests['requests']} "
          f"generated={requests['generated']}")
    print(f"rerun (same arguments):                  {second:6.1f} s  generated={again['generated']} "
          f"cached={again['cached']}")
    print(f"target: first run < 60 s -> {'met' if first < 60 else 'NOT met'}; "
          f"rerun does no model work -> {'met' if again['generated'] == 0 else 'NOT met'}")


if __name__ == "__main__":
    main()
