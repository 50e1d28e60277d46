"""Issue 14.12: a cached rerun and `harness score` do no model work and import no heavy library they do not need
(MONAI and torch, nltk through rouge-score, scipy.optimize for a matching with no choice, the zoo's cards), so
both take about a second of CPU on 50 cases. benchmarks/bench_run_oracle.py measures the times."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from harness.evaluate import RunSpec, evaluate
from harness.metrics.matching import max_credit_assignment

#: libraries that cost seconds to import and that neither path needs
HEAVY = ("torch", "monai", "transformers", "nltk", "rouge_score.rouge_scorer", "scipy.optimize", "scipy.stats",
         "pandas", "baselines.zoo.cards")

# the CLI, reporting at exit which of HEAVY it imported
PROBE = ("import atexit, json, sys; heavy = sys.argv.pop(1).split(','); atexit.register(lambda: print("
         "'IMPORTED ' + json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)); "
         "from harness.cli import app; sys.argv = ['harness', *sys.argv[1:]]; app()")


def _imported(args: list[str]) -> tuple[list[str], str]:
    done = subprocess.run([sys.executable, "-c", PROBE, ",".join(HEAVY), *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(l for l in done.stderr.splitlines() if l.startswith("IMPORTED "))
    return json.loads(line.removeprefix("IMPORTED ")), done.stdout


def test_cached_rerun_and_score_import_no_heavy_library(tmp_path, ct_test_set):
    run_dir = tmp_path / "run"
    evaluate(RunSpec(model="baseline:oracle", task="ct_tumor", limit=3, n_boot=20), run_dir)
    rerun, out = _imported(["run", "--model", "baseline:oracle", "--task", "ct_tumor", "--limit", "3",
                            "--bootstrap", "20", "--out", str(run_dir)])
    assert json.loads((run_dir / "results.json").read_text())["requests"]["generated"] == 0, out
    assert rerun == []
    scored, _ = _imported(["score", str(run_dir), "--bootstrap", "20"])
    assert scored == []


@pytest.mark.parametrize("seed", range(40))
def test_max_credit_assignment_matches_scipy(seed):
    """The matching without scipy (no unit with two candidates) and the fallback to it give scipy's pairs."""
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 7, size=2)
    credit = rng.choice([0.0, 0.0, 0.0, 0.5, 1.0], size=(n, m))
    if seed % 2:  # at most one positive entry per row and column: the path that skips scipy
        keep = np.zeros_like(credit, dtype=bool)
        for i, j in zip(rng.permutation(n), rng.permutation(m)):
            keep[i, j] = True
        credit = np.where(keep, credit, 0.0)
    rows, cols = max_credit_assignment(credit)
    ref_rows, ref_cols = linear_sum_assignment(credit, maximize=True)
    assert credit[rows, cols].sum() == pytest.approx(credit[ref_rows, ref_cols].sum())
    assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
    if seed % 2:
        positive = lambda r, c: sorted((int(i), int(j)) for i, j in zip(r, c) if credit[i, j] > 0)  # noqa: E731
        assert positive(rows, cols) == positive(ref_rows, ref_cols)
