"""The scoring phase: metrics over parsed answers, with bootstrap 95% confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from harness.metrics.base import Metric
from harness.registry import METRICS
from harness.schema import Case, MetricValue, Prediction
from harness.task import ScoredItem, Task


@dataclass(frozen=True)
class Scores:
    metrics: tuple[MetricValue, ...]
    samples: tuple[dict[str, Any], ...]  # one per case, JSON-able


def load_metrics(names: Sequence[str]) -> list[Metric]:
    return [METRICS.get(n)() for n in names]


def bootstrap_cis(metric: Metric, rows: Sequence[Mapping[str, Any]], n_boot: int, seed: int,
                  alpha: float = 0.05) -> dict[str, tuple[float | None, float | None]]:
    """Percentile bootstrap over cases for every output at once: resample the cases, re-aggregate (correct for
    corpus-level metrics too, whose rows hold sufficient statistics), take the quantiles per output."""
    draws: dict[str, np.ndarray] = {o: np.empty(0) for o in metric.outputs}
    if n_boot > 0 and len(rows) >= 2:
        resamples = np.random.default_rng(seed).integers(len(rows), size=(n_boot, len(rows)))
        draws = metric.bootstrap_draws(rows, resamples)
    out: dict[str, tuple[float | None, float | None]] = {}
    for o, values in draws.items():
        if metric.count(rows, o) < 2 or values.size == 0:
            out[o] = (None, None)
        else:
            lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
            out[o] = (float(lo), float(hi))
    return out


def score(task: Task, cases: Sequence[Case], predictions: Mapping[str, Mapping[str, Prediction]],
          metric_names: Sequence[str], n_boot: int = 1000, seed: int = 0) -> Scores:
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
    for metric in load_metrics(metric_names):
        reason = metric.unavailable(task, items)
        if reason:
            values += [MetricValue(name=o, status="not_run", variant=metric.variant, reason=reason,
                                   higher_is_better=metric.better_when_higher(o))
                       for o in metric.outputs]
            continue
        rows = metric.per_case(items)
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
    return Scores(metrics=tuple(values), samples=tuple(samples))
