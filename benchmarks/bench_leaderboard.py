"""Seconds to build the leaderboard site for 50 submissions x 3 tasks x 200 cases (target: under 60 s).

    python benchmarks/bench_leaderboard.py                       # 50 x 3 x 200, report stage, n_boot 1000
    python benchmarks/bench_leaderboard.py --full-protocol       # with the E-MRL verify and probe stages
    python benchmarks/bench_leaderboard.py --subs 10 --cases 50 --json out.json

What it measures: ``leaderboard.site.build_site`` end to end (find and validate every file, map its predictions
onto the task's requests, re-score with ``harness.scoring.score`` and the task's default metrics and 95%
bootstrap CIs, rank, paired randomization tests, SVG charts, render every page and the key-slice PNGs), twice:

- **cold**: an empty score cache, every submission re-scored (in ``--workers`` spawned processes);
- **warm**: the same files again with the score cache the cold build filled: what a rebuild costs when a few
  submissions arrive (each new or edited file is re-scored, the rest is validated and re-rendered).

The three tasks are ct_tumor registered three times under other names with a 200-case test split (the CXR
tasks answer other requests); the E-MRL verify and probe stages are off unless ``--full-protocol``, so the
scoring cost is the report's metrics. Each of the 50 submissions per task is a per-case mixture of the built-in
baselines' answers (oracle, template, hallucinator...), with its own mixture weights, so scores and ranks differ.
Building the synthetic set and writing the submission files are set-up, timed apart and not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tasks.ct_tumor.task import CTTumorTask

N_CASES = 200
FULL = os.environ.get("BENCH_LB_FULL_PROTOCOL") == "1"  # read by the worker processes too


def _overrides(n_cases: int) -> dict:
    ev = {} if FULL else {"evidence": {"verify": False, "probes": False}}
    return {"splits": {"test": {"n_cases": n_cases, "seed": 1000}}, **ev}


class _BenchTask(CTTumorTask):
    def __init__(self, overrides=None):
        super().__init__({**_overrides(int(os.environ.get("BENCH_LB_CASES", N_CASES))), **(overrides or {})})


class BenchTaskA(_BenchTask):
    """ct_tumor copy A."""

    name = "bench_ct_a"


class BenchTaskB(_BenchTask):
    """ct_tumor copy B."""

    name = "bench_ct_b"


class BenchTaskC(_BenchTask):
    """ct_tumor copy C."""

    name = "bench_ct_c"


BENCH_TASKS = (BenchTaskA, BenchTaskB, BenchTaskC)


def make_submissions(subs: Path, n_subs: int, seed: int) -> dict[str, float]:
    """Per task: answers of each baseline to every request, mixed per case into ``n_subs`` submissions."""
    import harness
    from harness.errors import HarnessError
    from harness.registry import BASELINES
    from harness.schema import Prediction
    from leaderboard.schema import FORMAT, parse_submission
    from leaderboard.submit import write_submission

    timings = {}
    baselines = {name: BASELINES.get(name)() for name in BASELINES.names()}
    for cls in BENCH_TASKS:
        t0 = time.perf_counter()
        task = cls()
        ds = task.load("test")
        timings[f"data_{cls.name}_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        # answers[baseline][case_id] = [(kind, text)...], stage by stage (later stages may depend on earlier)
        answers: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for bname, b in baselines.items():
            try:  # some baselines answer other tasks only (grounding boxes)
                b.answer(task, task.requests(ds.cases[0], task.stages[0], {})[0])
            except HarnessError:
                continue
            per_case: dict[str, list[tuple[str, str]]] = {}
            for case in ds.cases:
                previous: dict[str, Prediction] = {}
                out = []
                for stage in task.stages:
                    for req in task.requests(case, stage, previous):
                        text = b.answer(task, req)
                        previous[req.kind] = Prediction(key="", case_id=case.case_id, kind=req.kind, model_id="b",
                                                        text=text, latency_s=0.0)
                        out.append((req.kind, text))
                per_case[case.case_id] = out
            answers[bname] = per_case
        rng = np.random.default_rng(seed)
        names = sorted(answers)
        for i in range(n_subs):
            weights = rng.dirichlet(np.ones(len(names)) * 0.6)
            preds = []
            for case in ds.cases:
                pick = names[int(rng.choice(len(names), p=weights))]
                preds += [{"case_id": case.case_id, "kind": k, "text": t} for k, t in answers[pick][case.case_id]]
            obj = {"format": FORMAT, "task": cls.name, "task_version": task.version, "split": "test",
                   "data_hash": ds.data_hash, "n_cases": len(ds.cases),
                   "model": {"name": f"bench model {i:03d}", "model_id": f"bench:{i:03d}", "backend": "synthetic"},
                   "sampling": {"max_new_tokens": 256, "temperature": 0.0, "top_p": 1.0, "seed": 0},
                   "submitted": "2026-01-01T00:00:00+00:00", "harness_version": harness.__version__,
                   "predictions": preds}
            write_submission(parse_submission(obj, f"bench {i}"), subs, replace=True)
        timings[f"submissions_{cls.name}_s"] = round(time.perf_counter() - t0, 2)
    return timings


def main(argv: list[str] | None = None) -> int:
    global FULL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subs", type=int, default=50, help="submissions per task")
    parser.add_argument("--cases", type=int, default=N_CASES, help="cases per task")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs")
    parser.add_argument("--workers", type=int, default=None, help="scoring processes [all cores]")
    parser.add_argument("--full-protocol", action="store_true", help="keep the verify and probe stages")
    parser.add_argument("--work", type=Path, default=None, help="working folder [a temporary one]")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    os.environ["BENCH_LB_CASES"] = str(args.cases)
    if args.full_protocol:
        os.environ["BENCH_LB_FULL_PROTOCOL"] = "1"
        FULL = True

    from harness.registry import TASKS
    from leaderboard.site import build_site

    for cls in BENCH_TASKS:
        TASKS.register(cls.name, cls)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-leaderboard-"))
    subs, cache = work / "submissions", work / "score-cache"
    t0 = time.perf_counter()
    setup = make_submissions(subs, args.subs, seed=0)
    setup["setup_total_s"] = round(time.perf_counter() - t0, 2)
    n_files = len(list(subs.glob("*/*.json")))
    size_mb = sum(p.stat().st_size for p in subs.glob("*/*.json")) / 1e6
    print(f"set-up: {n_files} submissions ({size_mb:.1f} MB) for {len(BENCH_TASKS)} tasks x {args.cases} cases "
          f"in {setup['setup_total_s']:.1f} s", flush=True)
    names = [c.name for c in BENCH_TASKS]
    results: dict = {"submissions": n_files, "tasks": len(names), "cases": args.cases, "n_boot": args.bootstrap,
                     "full_protocol": FULL, "cpus": os.cpu_count(), "setup": setup}
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        report = build_site(subs, work / f"site-{label}", n_boot=args.bootstrap, workers=args.workers, tasks=names,
                            score_cache=cache)
        wall = time.perf_counter() - t0
        assert sum(report.ranked.values()) == n_files and not report.rejected, report.rejected
        results[label] = {"seconds": round(wall, 2), "re_scored": report.scored, **report.seconds}
        per = report.seconds["rescore"] / report.scored if report.scored else 0.0
        print(f"{label}: {wall:.1f} s for {n_files} submissions ({report.scored} re-scored"
              + (f", {per:.2f} s each over all workers" if report.scored else "") + f"); stages {report.seconds}",
              flush=True)
    print(f"target < 60 s: cold {'met' if results['cold']['seconds'] < 60 else 'NOT met'}, "
          f"warm {'met' if results['warm']['seconds'] < 60 else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
