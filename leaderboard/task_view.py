"""What the leaderboard's pages and charts see of a task: its ``TaskView`` (the ranked ``Entry`` of each
re-scored submission, the ``Rejected`` files with their reasons, the columns and groups); :mod:`leaderboard.views`
builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leaderboard.groups import ColumnGroup
from leaderboard.rescore import OutputInfo, Outcome, PairedTest, TaskContext


@dataclass
class Rejected:
    file: str
    reason: str


@dataclass
class Entry:
    sid: str
    display_name: str
    outcome: Outcome
    file: str
    sha256: str
    rank: int = 0
    vs_next: PairedTest | None = None
    next_name: str | None = None
    discrepancies: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    @property
    def sub(self):
        return self.outcome.submission

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.outcome.rescored.metrics

    def value(self, output: str) -> float | None:
        m = self.metrics.get(output) or {}
        return m.get("value") if m.get("status") == "ok" else None


@dataclass
class TaskView:
    name: str
    ctx: TaskContext
    entries: list[Entry]
    rejected: list[Rejected]
    primary: str
    primary_note: str
    columns: list[OutputInfo]
    groups: list[ColumnGroup] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    chart_note: str | None = None
