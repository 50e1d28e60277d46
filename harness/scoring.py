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
    rows = tuple(rows)  # one immutable sequence for every block: a metric may keep arrays made from it
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


def _sample(it: ScoredItem) -> dict[str, Any]:
    """A case's line of samples.jsonl, before its scores."""
    return {"case_id": it.case.case_id,
            "prediction_keys": {k: p.key for k, p in it.predictions.items()},
            "answer": {"report": it.answer.report, **{k: v for k, v in it.answer.fields.items()},
                       "problems": list(it.answer.problems)},
            "scores": {}}


def _items(task: Task, cases: Sequence[Case],
           predictions: Mapping[str, Mapping[str, Prediction]]) -> list[ScoredItem]:
    return [ScoredItem(case=c, answer=task.parse(c, predictions.get(c.case_id, {})),
                       predictions=predictions.get(c.case_id, {})) for c in cases]


def _not_run(metric: Metric, reason: str) -> list[MetricValue]:
    return [MetricValue(name=o, status="not_run", variant=metric.variant, reason=reason,
                        higher_is_better=metric.better_when_higher(o)) for o in metric.outputs]


def _values(metric: Metric, rows: Sequence[Mapping[str, Any]], n_boot: int, seed: int) -> list[MetricValue]:
    """A metric's numbers over its per-case rows: the aggregate and its bootstrap CI per output."""
    values: list[MetricValue] = []
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
    return values


def score(task: Task, cases: Sequence[Case], predictions: Mapping[str, Mapping[str, Prediction]],
          metric_names: Sequence[str], n_boot: int = 1000, seed: int = 0,
          progress: Callable[[str, int, int], None] | None = None, keep_rows: bool = False) -> Scores:
    """Every metric over every case, with bootstrap CIs; ``progress(metric, done, total)`` is called as each metric
    starts and once at the end."""
    items = _items(task, cases, predictions)
    samples = [_sample(it) for it in items]
    values: list[MetricValue] = []
    kept: dict[str, Sequence[Mapping[str, Any]]] = {}
    metrics = load_metrics(metric_names)
    for done, metric in enumerate(metrics):
        if progress:
            progress(metric.name, done, len(metrics))
        reason = metric.unavailable(task, items)
        if reason:
            values += _not_run(metric, reason)
            continue
        rows = metric.per_case(items)
        if keep_rows:
            kept[metric.name] = rows
        for sample, row in zip(samples, rows):
            sample["scores"].update(metric.sample_view(row))
        values += _values(metric, rows, n_boot, seed)
    if progress:
        progress("", len(metrics), len(metrics))
    return Scores(metrics=tuple(values), samples=tuple(samples), rows=kept)


#: cases scored at a time by ``score_streaming``: every metric reads a chunk's reports while the findings reader's
#: and the tokenizers' caches still hold them (each report is read once for all metrics), and a chunk's samples
#: are written before the next is scored
CHUNK_SIZE = 2000


# what a worker process of score_streaming scores: set in the parent before the workers fork
_CHUNK_WORK: tuple[Sequence[ScoredItem], Sequence[Metric]] | None = None


def release_text_caches() -> None:
    """Empty the caches keyed by a whole report's text (the findings reader's ``parse_report``, the entity score's
    entities): every metric has read a chunk's reports from them when the chunk is done, and a report of the next
    chunk is seldom the same text, so on 100,000 reports they would hold 65,536 reports' readings each for little.
    The reader's cache of sentences, which reports do share, is kept."""
    from harness.findings.extract import parse_report  # noqa: PLC0415
    from harness.metrics.entity import _text_entities  # noqa: PLC0415

    parse_report.cache_clear()
    _text_entities.cache_clear()


def _score_chunk_rows(items: Sequence[ScoredItem], metrics: Sequence[Metric]) -> dict[str, list[Mapping[str, Any]]]:
    rows = {m.name: list(m.per_case(items)) for m in metrics}
    release_text_caches()
    return rows


def _score_chunk(bounds: tuple[int, int]) -> dict[str, list[Mapping[str, Any]]]:
    items, metrics = _CHUNK_WORK
    return _score_chunk_rows(items[bounds[0]:bounds[1]], metrics)


def score_streaming(task: Task, cases: Sequence[Case], predictions: Mapping[str, Mapping[str, Prediction]],
                    metric_names: Sequence[str], write_sample: Callable[[dict[str, Any]], None],
                    n_boot: int = 1000, seed: int = 0, progress: Callable[[str, int, int], None] | None = None,
                    keep_rows: bool = False, chunk_size: int | None = None, workers: int = 1) -> Scores:
    """``score`` for large sets, with the same numbers and samples: the cases are scored a chunk at a time, every
    metric on a chunk before the next chunk, and each case's sample is handed to ``write_sample`` (in case order)
    instead of being kept, so memory holds the metrics' per-case rows but not the samples. ``chunk_size``:
    ``CHUNK_SIZE`` when not given.

    A metric whose ``per_case`` scores each case on its own (``Metric.per_case_independent``) is called chunk by
    chunk, by ``workers`` processes (forked) when more than one; any other (CIDEr-D's document frequencies come
    from every reference) on all cases at once, first, in this process. The rows, and so every number, do not
    depend on the chunks or the workers. ``progress(what, done, total)`` counts cases while scoring, then metrics
    while bootstrapping."""
    global _CHUNK_WORK
    items = _items(task, cases, predictions)
    metrics = load_metrics(metric_names)
    reasons = {}
    for metric in metrics:
        reasons[metric.name] = metric.unavailable(task, items)
    runnable = [m for m in metrics if not reasons[m.name]]
    independent = [m for m in runnable if m.per_case_independent]
    rows: dict[str, list[Mapping[str, Any]]] = {}
    for metric in runnable:
        if not metric.per_case_independent:
            if progress:
                progress(metric.name, 0, len(items))
            rows[metric.name] = list(metric.per_case(items))
        else:
            rows[metric.name] = []
    chunk_size = max(1, chunk_size or CHUNK_SIZE)
    bounds = [(start, min(start + chunk_size, len(items))) for start in range(0, len(items), chunk_size)]
    pool = None
    if workers > 1 and len(bounds) > 1 and independent:
        import multiprocessing  # noqa: PLC0415

        if "fork" in multiprocessing.get_all_start_methods():  # the workers inherit the cases and the metrics
            _CHUNK_WORK = (items, independent)
            pool = multiprocessing.get_context("fork").Pool(min(workers, len(bounds)))
    try:
        chunk_rows_iter = (pool.imap(_score_chunk, bounds) if pool is not None else
                           (_score_chunk_rows(items[a:b], independent) for a, b in bounds))
        if progress:
            progress("reports", 0, len(items))
        for (start, stop), chunk_rows in zip(bounds, chunk_rows_iter):
            samples = [_sample(it) for it in items[start:stop]]
            for metric in runnable:
                kept = rows[metric.name]
                if metric.per_case_independent:
                    these = chunk_rows[metric.name]
                    kept.extend(these)
                else:
                    these = kept[start:stop]
                for sample, row in zip(samples, these):
                    sample["scores"].update(metric.sample_view(row))
            for sample in samples:
                write_sample(sample)
            if progress:
                progress("reports", stop, len(items))
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _CHUNK_WORK = None
    values: list[MetricValue] = []
    for done, metric in enumerate(metrics):
        if reasons[metric.name]:
            values += _not_run(metric, reasons[metric.name])
            continue
        if progress:
            progress(f"bootstrap {metric.name}", done, len(metrics))
        values += _values(metric, rows[metric.name], n_boot, seed)
    if progress:
        progress("", len(metrics), len(metrics))
    return Scores(metrics=tuple(values), samples=(), rows=rows if keep_rows else {})
