"""Metric groups of the leaderboard table: Clinical, Evidence, Robustness, Text.

The default table shows the ranking column (the grounding score) and one headline per group; each group opens to
its full columns. Groups are assigned by registered metric name, so a third-party metric lands in "Other" and is
still shown, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from leaderboard.rescore import OutputInfo


@dataclass(frozen=True)
class GroupSpec:
    key: str
    title: str
    metrics: tuple[str, ...]  # registered metric names, in column order
    headlines: tuple[str, ...]  # outputs to headline the group, the first one the task has wins
    meaning: str


GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec("clinical", "Clinical", ("finding_f1", "hallucination", "chexpert_f1", "entity_score", "radgraph_f1",
                                       "ratescore"),
              ("finding_f1", "chexpert_f1_micro_14", "entity_score"),
              "are the stated findings the true ones"),
    GroupSpec("evidence", "Evidence", ("localization", "cross_view", "multiplanar", "grounding", "format"),
              ("key_slice_hit", "miou", "local_vs_truth", "acc_iou50"),
              "is each finding shown where the model says it is"),
    GroupSpec("robustness", "Robustness", ("probes",), ("balanced_accuracy", "history_repeat_rate"),
              "does the model reject false findings it is offered"),
    GroupSpec("text", "Text", ("bleu", "rouge_l", "coco_bleu", "coco_rouge_l", "coco_cider_d", "bertscore"),
              ("rouge_l", "bleu4", "coco_cider_d", "bertscore_f1"),
              "word overlap with the reference report"),
)
OTHER = GroupSpec("other", "Other", (), (), "metrics of plug-ins the leaderboard does not group")
#: outputs that are counts of cases, not rates: shown as whole numbers, without a CI (the grounding metric's
#: "unparseable" says so in its variant; no metric declares it in code)
COUNT_OUTPUTS = frozenset({"unparseable"})


@dataclass(frozen=True)
class ColumnGroup:
    spec: GroupSpec
    headline: OutputInfo
    details: tuple[OutputInfo, ...]  # the group's other columns, shown when the group is opened

    @property
    def columns(self) -> tuple[OutputInfo, ...]:
        return (self.headline, *self.details)


def group_of(metric: str) -> GroupSpec:
    return next((g for g in GROUPS if metric in g.metrics), OTHER)


def is_count(info: OutputInfo) -> bool:
    return info.name in COUNT_OUTPUTS


def column_groups(columns: Sequence[OutputInfo], primary: str) -> list[ColumnGroup]:
    """The groups the task has (in GROUPS order, Other last), each with its headline and detail columns; the
    ranking column belongs to no group (it is always shown first)."""
    out = []
    for spec in (*GROUPS, OTHER):
        mine = [c for c in columns if c.name != primary and group_of(c.metric) is spec]
        if not mine:
            continue
        order = {m: i for i, m in enumerate(spec.metrics)}
        mine.sort(key=lambda c: order.get(c.metric, len(order)))  # stable: a metric's outputs keep their order
        headline = next((c for h in spec.headlines for c in mine if c.name == h), mine[0])
        out.append(ColumnGroup(spec, headline, tuple(c for c in mine if c is not headline)))
    return out
