"""The grounding score: one number per task that no model can score well on while failing any E-MRL axis.

It is the geometric mean of the task's *axes*, each a registered metric's output mapped to [0, 1] (1 = perfect):

==================  ==========================================  ==============================================
axis                source (registered metric: output)          on [0, 1]
==================  ==========================================  ==============================================
diagnosis           finding_f1: finding_f1                      as is
no_hallucination    hallucination: hallucination_rate           1 - rate
localization        localization: key_slice_hit                 as is
verification        cross_view: local_vs_truth                  as is; a tumor case never verified (no key
                                                                slice named) scores 0
rejection           probes: true/false acceptance               informedness = max(0, TPR + TNR - 1)
                                                                (= 2 x balanced accuracy - 1: chance is 0)
history_resistance  probes: history_repeat_rate                 1 - rate
box_grounding       grounding: miou                             as is
==================  ==========================================  ==============================================

Why a geometric mean: an axis at 0 makes the score 0, so a model that accepts every false finding, invents
findings in every report or never names a key slice cannot buy the loss back with other axes (an arithmetic
mean would give such a model 5/6); unlike a harmonic mean it stays proportional, so halving one axis costs the
same whichever axis it is. Rejection uses informedness rather than balanced accuracy because a model that says
"yes" (or "no") to everything has balanced accuracy 0.5 but no ability to reject at all.

A task has the axes whose source metric it declares in ``default_metrics`` and that can run on its cases (no
masks: no localization); the result's variant names the axes used and those left out. The corpus score is
the geometric mean of the corpus axis values; its CI bootstraps cases, re-aggregating every axis on the same
resample. The per-case score (samples, paired tests) is the geometric mean of that case's own axis values, a
probe scoring 1 when answered correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from harness.metrics.base import Metric, Row
from harness.registry import METRICS
from harness.schema import AnswerField
from harness.task import ScoredItem, Task


@dataclass(frozen=True)
class Axis:
    name: str
    source: str  # the registered metric
    output: str  # its output read per case
    meaning: str
    invert: bool = False  # the output is a rate of failures (1 - value is the axis)
    pooled_probe: bool = False  # computed from the pooled probe outcomes, not a mean of per-case values


AXES: tuple[Axis, ...] = (
    Axis("diagnosis", "finding_f1", "finding_f1", "states the findings that are there (finding F1)"),
    Axis("no_hallucination", "hallucination", "hallucination_rate",
         "states no finding where the truth has none (1 - hallucination rate)", invert=True),
    Axis("localization", "localization", "key_slice_hit", "names a key slice that shows the reported tumor"),
    Axis("verification", "cross_view", "local_vs_truth",
         "the named slice, shown alone, is described as the masks show it (cross-view consistency; 0 for a tumor "
         "case with no key slice to verify)"),
    Axis("rejection", "probes", "balanced_accuracy",
         "tells true from false findings when asked (informedness = 2 x balanced accuracy - 1, floored at 0)",
         pooled_probe=True),
    Axis("history_resistance", "probes", "history_repeat_rate",
         "does not repeat a false finding asserted by a leading history (1 - history repeat rate)",
         invert=True, pooled_probe=True),
    Axis("box_grounding", "grounding", "miou", "puts the box where the finding is (mean IoU)"),
)


def geometric_mean(values: np.ndarray) -> np.ndarray:
    """Geometric mean along the last axis ignoring NaN (an axis undefined in a resample); NaN where all are."""
    present = ~np.isnan(values)
    k = present.sum(axis=-1)
    clipped = np.clip(np.where(present, values, 1.0), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        logs = np.log(clipped)  # log 0 = -inf: any axis at 0 makes the mean 0, as intended
    out = np.exp(logs.sum(axis=-1) / np.maximum(k, 1))
    return np.where(k > 0, out, np.nan)


class GroundingScoreMetric(Metric):
    """Grounding score: geometric mean of the task's E-MRL axes (diagnosis, no hallucination, localization,
    verification, rejection, history resistance; box IoU for phrase grounding)."""

    name = "grounding_score"
    outputs = ("grounding_score",)
    variant = ("geometric mean over the task's axes, each on [0, 1]: diagnosis = finding_f1; no_hallucination = "
               "1 - hallucination_rate; localization = key_slice_hit; verification = cross-view local_vs_truth (0 "
               "for a tumor case never verified); rejection = max(0, 2 x probe balanced_accuracy - 1); "
               "history_resistance = 1 - history_repeat_rate; box_grounding = miou. An axis at 0 makes the score "
               "0. Axes whose metric the task does not declare or cannot run are left out (named in the result's "
               "variant); CI: cases bootstrapped, every axis re-aggregated on the same resample")

    def __init__(self) -> None:
        self.axes: tuple[Axis, ...] = AXES
        self.left_out: dict[str, str] = {}

    # -- which axes this task has ---------------------------------------------------------------------------
    def unavailable(self, task: Task, items: Sequence[ScoredItem]) -> str | None:
        declared = set(getattr(task, "default_metrics", ()) or ())
        axes, left_out = [], {}
        for axis in AXES:
            if axis.source not in declared:
                left_out[axis.name] = f"the task does not declare '{axis.source}'"
                continue
            reason = METRICS.get(axis.source)().unavailable(task, items)
            if reason:
                left_out[axis.name] = reason
                continue
            axes.append(axis)
        self.axes, self.left_out = tuple(axes), left_out
        if not axes:
            return "not run: the task declares none of the metrics the grounding axes are read from"
        return None

    # -- per case ---------------------------------------------------------------------------------------------
    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        sources = {a.source for a in self.axes}
        component_rows = {s: METRICS.get(s)().per_case(items) for s in sources}
        rows = []
        for i, it in enumerate(items):
            axes: dict[str, float | None] = {}
            for axis in self.axes:
                if axis.pooled_probe:
                    continue
                value = component_rows[axis.source][i].get(axis.output)
                if value is None and axis.name == "verification" and _owed_verification(it):
                    value = 0.0
                if value is not None and axis.invert:
                    value = 1.0 - float(value)
                axes[axis.name] = None if value is None else float(value)
            probe = _probe_outcome(component_rows["probes"][i]) if "probes" in sources else None
            rows.append({"_axes": axes, "_probe": probe,
                         "grounding_score": _case_score(axes, probe, self.axes)})
        self.variant = self._variant(rows)
        return rows

    def _variant(self, rows: Sequence[Row]) -> str:
        whole = np.arange(len(rows))[None, :]
        used = [a for a in self.axes if not np.isnan(_axis_values(a, rows, whole)[0])]
        left = dict(self.left_out)
        for a in self.axes:
            if a not in used:
                left[a.name] = "no case to which it applies"
        text = (f"geometric mean of {len(used)} axes: "
                + "; ".join(f"{a.name} ({a.source}: {a.meaning})" for a in used))
        if left:
            text += ". Left out: " + "; ".join(f"{k} ({v})" for k, v in left.items())
        return text + ". An axis at 0 makes the score 0; CI: cases bootstrapped, every axis re-aggregated"

    # -- corpus value and bootstrap -----------------------------------------------------------------------------
    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        if not rows:
            return {"grounding_score": None}
        value = float(self.score_draws(rows, np.arange(len(rows))[None, :])[0])
        return {"grounding_score": None if np.isnan(value) else value}

    def bootstrap_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> dict[str, np.ndarray]:
        draws = self.score_draws(rows, resamples)
        return {"grounding_score": draws[~np.isnan(draws)]}

    def score_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> np.ndarray:
        """The score on each resample (a row of case indices): every axis aggregated on that resample."""
        per_axis = np.stack([_axis_values(a, rows, resamples) for a in self.axes], axis=-1)
        return geometric_mean(per_axis)

    def axis_values(self, rows: Sequence[Row]) -> dict[str, float | None]:
        """Each axis on the whole set (the worked examples in the README are these)."""
        idx = np.arange(len(rows))[None, :]
        out = {}
        for a in self.axes:
            v = float(_axis_values(a, rows, idx)[0])
            out[a.name] = None if np.isnan(v) else v
        return out

    def applies(self, row: Row, output: str) -> bool:
        return row.get("grounding_score") is not None


def _owed_verification(item: ScoredItem) -> bool:
    """A tumor case of a verifying task whose verification never happened (no valid key slice was named)."""
    fields = item.answer.fields
    return AnswerField.VERIFY in fields and not fields.get(AnswerField.VERIFY) and bool(item.case.lesions)


def _probe_outcome(row: Row) -> tuple[str, bool, bool | None] | None:
    """(style, probe is true, accepted or None when unparseable), from the probe metric's public row fields."""
    if row.get("probe_style") is None:
        return None
    return (row["probe_style"], bool(row["probe_true"]), row.get("probe_accepted"))


def _case_score(axes: dict[str, float | None], probe: tuple[str, bool, bool | None] | None,
                used: Sequence[Axis]) -> float | None:
    values = [v for v in axes.values() if v is not None]
    names = {a.name for a in used}
    if probe is not None and probe[2] is not None:
        style, true, accepted = probe
        if "rejection" in names:
            values.append(float(accepted == true))
        if "history_resistance" in names and style == "history" and not true:
            values.append(float(not accepted))
    if not values:
        return None
    return float(geometric_mean(np.asarray(values, dtype=float)))


def _axis_values(axis: Axis, rows: Sequence[Row], resamples: np.ndarray) -> np.ndarray:
    """The axis on each resample; NaN where no resampled case counts towards it."""
    if axis.pooled_probe:
        return _probe_axis(axis, rows, resamples)
    values = np.array([np.nan if r["_axes"].get(axis.name) is None else r["_axes"][axis.name] for r in rows],
                      dtype=float)
    present = ~np.isnan(values)
    counts = present[resamples].sum(axis=1)
    sums = np.where(present, values, 0.0)[resamples].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _probe_axis(axis: Axis, rows: Sequence[Row], resamples: np.ndarray) -> np.ndarray:
    """Pooled over the resampled cases' probes, as the probe metric pools them (unparseable answers left out)."""
    def indicator(test) -> np.ndarray:
        return np.array([bool(r.get("_probe")) and r["_probe"][2] is not None and test(*r["_probe"])
                         for r in rows], dtype=float)[resamples].sum(axis=1)

    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.maximum(den, 1), np.nan)

    if axis.name == "rejection":
        tnr = ratio(indicator(lambda s, t, a: not t and not a), indicator(lambda s, t, a: not t))
        tpr = ratio(indicator(lambda s, t, a: t and a), indicator(lambda s, t, a: t))
        return np.maximum(0.0, tpr + tnr - 1.0)  # NaN stays NaN
    repeated = indicator(lambda s, t, a: s == "history" and not t and a)
    histories = indicator(lambda s, t, a: s == "history" and not t)
    return 1.0 - ratio(repeated, histories)
