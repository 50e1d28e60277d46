"""The contract a metric implements.

A metric scores every case (``per_case``), then reduces any subset of those rows to numbers
(``aggregate``). The runner bootstraps by calling ``aggregate`` on resampled rows, so a corpus-level metric
(BLEU) bootstraps correctly by keeping sufficient statistics in its rows instead of per-case scores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from harness.task import ScoredItem, Task

Row = Mapping[str, Any]


def resampled_sums(values: np.ndarray, resamples: np.ndarray) -> np.ndarray:
    """``values[resamples].sum(axis=1)`` for a (cases, k) array of counts, without the (resamples, size, k) array
    that indexing builds (3 GB for 40 resamples of 100,000 cases with 93 columns): each resample becomes its
    cases' multiplicities, and the sums one matrix product. Exact, so the same numbers, for integer counts and for
    sums of credits such as 0.5 or 0.25 (binary fractions); not for arbitrary floats, whose sum depends on order."""
    values = np.asarray(values)
    n, b = len(values), len(resamples)
    if b == 0:
        return np.zeros((0,) + values.shape[1:], dtype=values.dtype)
    offsets = (np.arange(b, dtype=np.int64) * n)[:, None]
    weights = np.bincount((np.asarray(resamples, dtype=np.int64) + offsets).ravel(), minlength=b * n)
    sums = weights.reshape(b, n).astype(np.float64) @ values.astype(np.float64)
    return np.rint(sums).astype(values.dtype) if np.issubdtype(values.dtype, np.integer) else sums


class Metric(ABC):
    """Subclasses are registered under the ``harness.metrics`` entry-point group."""

    name: str
    #: the names of the numbers this metric reports (BLEU reports bleu1..bleu4)
    outputs: tuple[str, ...]
    #: how exactly it is computed (tokenizer, casing, micro/macro...); stored with every result
    variant: str = ""
    higher_is_better: bool = True
    #: outputs where lower is better, for metrics that report both kinds (a distance beside a hit rate)
    lower_is_better: frozenset[str] = frozenset()
    #: ``per_case`` scores each case from that case alone, so it may be called on any part of the cases (chunks of
    #: a large set) with the same rows; False for a metric whose rows depend on the other cases (CIDEr-D's
    #: document frequencies), and by default
    per_case_independent: bool = False

    @classmethod
    def better_when_higher(cls, output: str) -> bool:
        return cls.higher_is_better and output not in cls.lower_is_better

    def unavailable(self, task: Task, items: Sequence[ScoredItem]) -> str | None:
        """Why this metric cannot run here (missing extra, no masks...), or None when it can."""
        return None

    @abstractmethod
    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        """One row per item; ``None`` for an output that does not apply to that case."""

    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        """Default: the mean of each output over the cases where it applies."""
        out: dict[str, float | None] = {}
        for name in self.outputs:
            vals = [r[name] for r in rows if r.get(name) is not None]
            out[name] = float(np.mean(vals)) if vals else None
        return out

    def bootstrap_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> dict[str, np.ndarray]:
        """Each output aggregated over each resample (a row of case indices in ``resamples``).

        The default mean is computed for all resamples in one array operation; any other ``aggregate`` is called
        once per resample. Metrics that pool counts (corpus BLEU, micro F1) override this to sum their counts
        over all resamples at once."""
        if type(self).aggregate is Metric.aggregate:
            out = {}
            for o in self.outputs:
                values = self.rows_arrays(rows, f"mean {o}", lambda: np.array(
                    [np.nan if r.get(o) is None else float(r[o]) for r in rows]))
                present = ~np.isnan(values)
                counts = present[resamples].sum(axis=1)
                sums = np.where(present, values, 0.0)[resamples].sum(axis=1)
                out[o] = sums[counts > 0] / counts[counts > 0]
            return out
        collected: dict[str, list[float]] = {o: [] for o in self.outputs}
        for idx in resamples:
            agg = self.aggregate([rows[i] for i in idx])
            for o in self.outputs:
                if agg.get(o) is not None:
                    collected[o].append(agg[o])
        return {o: np.asarray(v, dtype=float) for o, v in collected.items()}

    def rows_arrays(self, rows: Sequence[Row], key: str, build: Callable[[], Any]) -> Any:
        """``build()`` (arrays a ``bootstrap_draws`` makes from the rows), made once for a tuple of rows:
        ``bootstrap_cis`` passes the same tuple for every block of resamples (25 blocks of 1000 resamples on
        100,000 cases), and a tuple cannot change between them; any other sequence is built afresh each time."""
        if not isinstance(rows, tuple):
            return build()
        cache = self.__dict__.get("_rows_arrays")
        if cache is None or cache[0] is not rows:
            cache = self.__dict__["_rows_arrays"] = (rows, {})
        if key not in cache[1]:
            cache[1][key] = build()
        return cache[1][key]

    def applies(self, row: Row, output: str) -> bool:
        """Does this case count towards ``output`` (its n, and the bootstrap's resampling pool)?"""
        return row.get(output) is not None

    def count(self, rows: Sequence[Row], output: str) -> int:
        return sum(1 for r in rows if self.applies(r, output))

    @staticmethod
    def sample_view(row: Row) -> dict[str, Any]:
        """What of a row goes to samples.jsonl (drops sufficient statistics kept only for aggregation)."""
        return {k: v for k, v in row.items() if not k.startswith("_")}
