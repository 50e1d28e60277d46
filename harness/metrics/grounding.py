"""Phrase grounding: IoU of the answered box(es) with the true box(es), Acc@IoU>=0.5 and mIoU (MS-CXR convention).

A phrase may be seen in several places (bilateral effusions), and a model may answer several boxes, so the IoU
of a case is that of the *union* of the answered boxes with the *union* of the true boxes, computed exactly on
continuous coordinates (no rasterisation). Coordinates are normalised by the image's width and height first:
IoU does not change under a per-axis scaling, so this is the IoU in pixels of the original image.

An answer with no parseable box scores IoU 0 in mIoU and Acc@0.5 and is counted in ``unparseable``; it is never
left out (a model that refuses to answer does not improve its mIoU).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from harness.metrics.base import Metric, Row
from harness.schema import AnswerField
from harness.task import ScoredItem, Task

Box = Sequence[float]


def union_area(boxes: Sequence[Box]) -> float:
    return overlap(boxes, boxes)[1]


def overlap(a: Sequence[Box], b: Sequence[Box]) -> tuple[float, float]:
    """(area of union(a) & union(b), area of union(a) | union(b)) for axis-aligned boxes (x1, y1, x2, y2)."""
    boxes = [tuple(map(float, x)) for x in list(a) + list(b)]
    if not boxes:
        return 0.0, 0.0
    xs = np.unique([c for x in boxes for c in (x[0], x[2])])
    ys = np.unique([c for x in boxes for c in (x[1], x[3])])
    if xs.size < 2 or ys.size < 2:
        return 0.0, 0.0
    cx, cy = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2
    cell = np.outer(np.diff(ys), np.diff(xs))

    def cover(group: Sequence[Box]) -> np.ndarray:
        m = np.zeros(cell.shape, dtype=bool)
        for x1, y1, x2, y2 in group:
            m |= np.outer((cy > y1) & (cy < y2), (cx > x1) & (cx < x2))
        return m

    in_a, in_b = cover(a), cover(b)
    return float(cell[in_a & in_b].sum()), float(cell[in_a | in_b].sum())


def iou(pred: Sequence[Box], truth: Sequence[Box]) -> float:
    inter, union = overlap(pred, truth)
    return inter / union if union > 0 else 0.0


def true_boxes(meta: Mapping[str, Any]) -> list[tuple[float, float, float, float]] | None:
    """A grounding case's true boxes, normalised by its image size; None when the case has none."""
    boxes, size = meta.get("boxes"), meta.get("image_size")
    if not boxes or not size or not isinstance(boxes[0], (list, tuple)) or len(boxes[0]) != 4:
        return None
    w, h = float(size[0]), float(size[1])
    return [(b[0] / w, b[1] / h, b[2] / w, b[3] / h) for b in boxes]


class GroundingMetric(Metric):
    """Box IoU with the truth: mIoU, Acc@IoU>=0.5 (MS-CXR convention) and the count of answers with no box."""

    name = "grounding"
    outputs = ("miou", "acc_iou50", "unparseable")
    variant = ("IoU of the union of answered boxes with the union of true boxes, exact on continuous "
               "coordinates; miou = mean per-case IoU; acc_iou50 = share of cases with IoU >= 0.5; "
               "unparseable answers score IoU 0 and are counted in 'unparseable' (a count, not a share)")
    threshold = 0.5

    def unavailable(self, task: Task, items: Sequence[ScoredItem]) -> str | None:
        if not any(true_boxes(it.case.meta) for it in items):
            return "no true boxes in these cases (a grounding task's cases carry them)"
        return None

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        # Row keys are the output names (the runner's bootstrap resamples rows by output); "miou" of one case
        # is its IoU.
        rows = []
        for it in items:
            truth = true_boxes(it.case.meta)
            if truth is None:
                rows.append({"miou": None, "acc_iou50": None, "unparseable": None})
                continue
            pred = it.answer.fields.get(AnswerField.BOXES) or []
            value = iou(pred, truth) if pred else 0.0
            rows.append({"miou": value, "acc_iou50": float(value >= self.threshold), "unparseable": float(not pred),
                         "box_format": it.answer.fields.get(AnswerField.BOX_FORMAT)})
        return rows

    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        scored = [r for r in rows if r.get("miou") is not None]
        if not scored:
            return {o: None for o in self.outputs}
        return {"miou": float(np.mean([r["miou"] for r in scored])),
                "acc_iou50": float(np.mean([r["acc_iou50"] for r in scored])),
                "unparseable": float(sum(r["unparseable"] for r in scored))}
