"""The scoring phase: metrics over parsed answers, with bootstrap 95% confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from harness.metrics.base import Metric
from harness.registry import METRICS
from harness.schema import Case, MetricValue, Prediction
from harness.task import ScoredItem, Task


@dataclass(frozen=True)
class Scores:
    metrics: tuple[MetricValue, ...]
    samples: tuple[dict[str, Any], ...]  # one per case, JSON-able
    # each metric's per-case rows (with its sufficient statistics), kept only when asked for: paired tests need them
    rows: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)


#: resamples x cases drawn at once: bounds the bootstrap's memory on 100,000 cases (1000 x 100,000 int64 is 800 MB)
BOOTSTRAP_BLOCK = 4_000_000


def load_metrics(names: Sequence[str]) -> list[Metric]:
    return [METRICS.get(n)() for n in names]


def bootstrap_cis(metric: Metric, rows: Sequence[Mapping[str, Any]], n_boot: int, seed: int,
                  alpha: float = 0.05) -> dict[str, tuple[float | None, float | None]]:
    """Percentile bootstrap over cases for every output at once: resample the cases, re-aggregate (correct for
    corpus-level metrics too, whose rows hold sufficient statistics), take the quantiles per output."""
    draws: dict[str, np.ndarray] = {o: np.empty(0) for o in metric.outputs}
    if n_boot > 0 and len(rows) >= 2:
        # drawn in blocks: the same numbers as one (n_boot, n) draw, without holding it all at once
        rng = np.random.default_rng(seed)
        block = max(1, BOOTSTRAP_BLOCK // len(rows))
        parts = [metric.bootstrap_draws(rows, rng.integers(len(rows), size=(min(block, n_boot - start), len(rows))))
                 for start in range(0, n_boot, block)]
        draws = {o: np.concatenate([p.get(o, np.empty(0)) for p in parts]) for o in metric.outputs}
    out: dict[str, tuple[float | None, float | None]] = {}
    for o, values in draws.items():
        if metric.count(rows, o) < 2 or values.size == 0:
            out[o] = (None, None)
        else:
            lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
            out[o] = (float(lo), float(hi))
    return out


def score(task: Task, cases: Sequence[Case], predictions: Mapping[str, Mapping[str, Prediction]],
          metric_names: Sequence[str], n_boot: int = 1000, seed: int = 0,
          progress: Callable[[str, int, int], None] | None = None, keep_rows: bool = False) -> Scores:
    """Every metric over every case, with bootstrap CIs; ``progress(metric, done, total)`` is called as each metric
    starts and once at the end."""
    items = [ScoredItem(case=c, answer=task.parse(c, predictions.get(c.case_id, {})),
                        predictions=predictions.get(c.case_id, {})) for c in cases]
    samples: list[dict[str, Any]] = [
        {"case_id": it.case.case_id,
         "prediction_keys": {k: p.key for k, p in it.predictions.items()},
         "answer": {"report": it.answer.report, **{k: v for k, v in it.answer.fields.items()},
                    "problems": list(it.answer.problems)},
         "scores": {}}
        for it in items]
    values: list[MetricValue] = []
    kept: dict[str, Sequence[Mapping[str, Any]]] = {}
    metrics = load_metrics(metric_names)
    for done, metric in enumerate(metrics):
        if progress:
            progress(metric.name, done, len(metrics))
        reason = metric.unavailable(task, items)
        if reason:
            values += [MetricValue(name=o, status="not_run", variant=metric.variant, reason=reason,
                                   higher_is_better=metric.better_when_higher(o))
                       for o in metric.outputs]
            continue
        rows = metric.per_case(items)
        if keep_rows:
            kept[metric.name] = rows
        for sample, row in zip(samples, rows):
            sample["scores"].update(metric.sample_view(row))
        agg = metric.aggregate(rows)
        cis = bootstrap_cis(metric, rows, n_boot, seed)
        for o in metric.outputs:
            n = metric.count(rows, o)
            if agg.get(o) is None:
                values.append(MetricValue(name=o, status="not_run", variant=metric.variant, n=n,
                                          reason="no case to which it applies",
                                          higher_is_better=metric.better_when_higher(o)))
                continue
            lo, hi = cis[o]
            values.append(MetricValue(name=o, status="ok", value=float(agg[o]), ci_low=lo, ci_high=hi, n=n,
                                      variant=metric.variant, higher_is_better=metric.better_when_higher(o)))
    if progress:
        progress("", len(metrics), len(metrics))
    return Scores(metrics=tuple(values), samples=tuple(samples), rows=kept)
