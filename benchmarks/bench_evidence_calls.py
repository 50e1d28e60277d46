"""How many model calls each E-MRL step costs, against the plain report task (target: < 2x extra).

    python benchmarks/bench_evidence_calls.py [--cases 100] [--model baseline:oracle]

Runs the same cases twice, with the evidence steps off (the plain report task) and on, and prints calls per
stage, the ratio of added calls to plain calls, and wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.evaluate import RunSpec, evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--models", nargs="+", default=["baseline:oracle", "baseline:hallucinator",
                                                    "baseline:template"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'model':24s} {'plain calls':>11s} {'verify':>7s} {'probe':>6s} {'added/plain':>11s} "
              f"{'plain s':>8s} {'evidence s':>10s}")
        for model in args.models:
            t0 = time.perf_counter()
            plain = evaluate(RunSpec(model=model, task="ct_tumor", limit=args.cases, n_boot=0,
                                     task_options={"evidence": {"verify": False, "probes": False}}),
                             Path(tmp) / f"{model}-plain")
            t1 = time.perf_counter()
            full = evaluate(RunSpec(model=model, task="ct_tumor", limit=args.cases, n_boot=0), Path(tmp) / model)
            t2 = time.perf_counter()
            base = plain.results["requests"]["by_stage"]["report"]
            stages = full.results["requests"]["by_stage"]
            added = stages.get("verify", 0) + stages.get("probe", 0)
            print(f"{model:24s} {base:11d} {stages.get('verify', 0):7d} {stages.get('probe', 0):6d} "
                  f"{added / base:11.2f} {t1 - t0:8.1f} {t2 - t1:10.1f}")
        print("upper bound: 1 verification (only when a key slice is named) + 1 probe per case = 2.00x")


if __name__ == "__main__":
    main()
