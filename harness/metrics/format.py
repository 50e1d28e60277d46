"""Answer format: is the tagged answer well formed, and does it name a key slice where one is due."""

from __future__ import annotations

from typing import Any, Sequence

from harness.metrics.base import Metric
from harness.schema import AnswerField
from harness.task import ScoredItem


class FormatMetric(Metric):
    """Share of answers in the asked-for tagged form, and of tumor cases whose answer names a valid key slice."""

    name = "format"
    outputs = ("format_ok", "key_slice_given")
    variant = ("format_ok: answer parsed with no problem; key_slice_given: over cases with a tumor, a key slice "
               "that is a number within the view")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            row: dict[str, Any] = {"format_ok": float(it.answer.well_formed), "problems": list(it.answer.problems)}
            row["key_slice_given"] = (float(it.answer.fields.get(AnswerField.KEY_SLICE) is not None)
                                      if it.case.lesions else None)
            rows.append(row)
        return rows
