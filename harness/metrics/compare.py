"""Paired significance tests between two systems scored on the same cases, for every metric output.

Both tests re-aggregate the metric itself, so a corpus-level score (BLEU from pooled n-gram counts, micro F1 from
pooled TP/FP/FN) is tested as it is reported, not as a mean of per-case scores. They reuse the metric's
``bootstrap_draws``, which aggregates any set of index rows over its per-case rows:

- approximate randomization (as RadEval's ``compare_systems``): each case's two outputs are swapped with
  probability 1/2; p = (1 + #|swapped difference| >= |observed difference|) / (1 + resamples). Index rows over the
  two systems' rows laid end to end pick, per case, system A's row or system B's.
- paired bootstrap: cases resampled with replacement, the same resample for both systems;
  p = min(1, 2 min(#(d* <= 0) + 1, #(d* >= 0) + 1) / (resamples + 1)), two-sided.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from harness.metrics.base import Metric
from harness.scoring import Scores

BLOCK = 2_000_000  # resamples x cases per block: bounds memory on large sets
METHODS = {"randomization": "two-sided paired approximate randomization, re-aggregating the metric",
           "bootstrap": "two-sided paired bootstrap, re-aggregating the metric"}


def _draw_pairs(metric: Metric, rows_a: Sequence[Mapping], rows_b: Sequence[Mapping], method: str, resamples: int,
                seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = len(rows_a)
    rng = np.random.default_rng(seed)
    block = max(1, BLOCK // max(n, 1))
    out_a: dict[str, list[np.ndarray]] = {}
    out_b: dict[str, list[np.ndarray]] = {}
    both = list(rows_a) + list(rows_b)
    for start in range(0, resamples, block):
        m = min(block, resamples - start)
        if method == "randomization":
            swap = rng.integers(0, 2, size=(m, n))
            idx_a, idx_b = np.arange(n) + n * swap, np.arange(n) + n * (1 - swap)
            da, db = metric.bootstrap_draws(both, idx_a), metric.bootstrap_draws(both, idx_b)
        else:
            idx = rng.integers(n, size=(m, n))
            da, db = metric.bootstrap_draws(rows_a, idx), metric.bootstrap_draws(rows_b, idx)
        for o in metric.outputs:
            out_a.setdefault(o, []).append(da.get(o, np.empty(0)))
            out_b.setdefault(o, []).append(db.get(o, np.empty(0)))
    return ({o: np.concatenate(v) for o, v in out_a.items()}, {o: np.concatenate(v) for o, v in out_b.items()})


def paired_test(metric: Metric, rows_a: Sequence[Mapping], rows_b: Sequence[Mapping], output: str, method: str,
                resamples: int, seed: int) -> dict[str, Any]:
    """The test of one output over the cases where it applies to both systems."""
    keep = [i for i, (a, b) in enumerate(zip(rows_a, rows_b)) if metric.applies(a, output)
            and metric.applies(b, output)]
    if len(keep) < 2:
        return {"status": "not_run", "reason": f"{len(keep)} case(s) where it applies to both systems", "n": len(keep)}
    ra, rb = [rows_a[i] for i in keep], [rows_b[i] for i in keep]
    value_a, value_b = metric.aggregate(ra).get(output), metric.aggregate(rb).get(output)
    if value_a is None or value_b is None:
        return {"status": "not_run", "reason": "no value to compare", "n": len(keep)}
    observed = value_a - value_b
    draws_a, draws_b = _draw_pairs(metric, ra, rb, method, resamples, seed)
    a, b = draws_a.get(output, np.empty(0)), draws_b.get(output, np.empty(0))
    if a.size != resamples or b.size != resamples:  # a resample without a value: cannot pair them up
        return {"status": "not_run", "reason": "some resamples had no value", "n": len(keep)}
    d = a - b
    if method == "randomization":
        hits = int((np.abs(d) >= abs(observed) - 1e-12).sum())
        p = (hits + 1) / (resamples + 1)
    else:
        low, high = int((d <= 1e-12).sum()), int((d >= -1e-12).sum())
        p = min(1.0, 2 * min(low + 1, high + 1) / (resamples + 1))
    return {"status": "ok", "value": value_a, "other_value": value_b, "difference": observed, "p_value": p,
            "n": len(keep)}


def compare_systems(metrics: Sequence[Metric], a: Scores, b: Scores, method: str = "randomization",
                    resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Per metric output: both values, their difference (a - b) and the p-value; metrics kept as not run."""
    if method not in METHODS:
        raise ValueError(f"unknown test '{method}' (one of {', '.join(METHODS)})")
    not_run = {m.name: m for m in a.metrics if m.status != "ok"} | {m.name: m for m in b.metrics if m.status != "ok"}
    tests: dict[str, Any] = {}
    for metric in metrics:
        rows_a, rows_b = a.rows.get(metric.name), b.rows.get(metric.name)
        for o in metric.outputs:
            if o in not_run or rows_a is None or rows_b is None:
                reason = not_run[o].reason if o in not_run else "not computed"
                tests[o] = {"status": "not_run", "reason": reason or "no case to which it applies"}
                continue
            tests[o] = paired_test(metric, rows_a, rows_b, o, method, resamples, seed)
    return {"method": METHODS[method], "test": method, "resamples": resamples, "seed": seed, "metrics": tests}
