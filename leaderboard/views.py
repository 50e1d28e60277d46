"""The leaderboard's task views, built: the submission files found per task, each re-scored submission as an
``Entry`` ranked within its task (ties share a rank, each entry tested against the next), and a task's ``TaskView``
with its charts (the types are :mod:`leaderboard.task_view`'s): what the pages of :mod:`leaderboard.site` render.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

from harness.errors import HarnessError
from harness.registry import TASKS
from leaderboard.charts import make_charts
from leaderboard.groups import column_groups
from leaderboard.rescore import Outcome, TaskContext, claimed_discrepancies, paired_randomization
from leaderboard.submit import inside, normalized_name, safe_stem
from leaderboard.task_view import Entry, Rejected, TaskView


# -- collecting submissions -----------------------------------------------------------------------------------
def find_submissions(submissions: Path, tasks: Sequence[str] | None = None) -> tuple[list[tuple[Path, str]],
                                                                                       list[Rejected]]:
    """(file, task) for every ``SUBMISSIONS/<task>/*.json``; files that are links out of the folder, or lie in a
    folder that names no task, are rejected with the reason."""
    root = Path(submissions)
    if not root.is_dir():
        raise HarnessError(f"{root}: no submissions folder")
    known = set(TASKS.names())
    jobs: list[tuple[Path, str]] = []
    rejected: list[Rejected] = []
    for task_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if tasks is not None and task_dir.name not in tasks:
            continue
        files = sorted(p for p in task_dir.glob("*.json") if not p.name.startswith("."))
        for path in files:
            rel = f"{task_dir.name}/{path.name}"
            if task_dir.name not in known:
                rejected.append(Rejected(rel, f"folder '{task_dir.name}' is not a registered task"))
            elif path.is_symlink() or not inside(path, root) or not path.is_file():
                rejected.append(Rejected(rel, "not a plain file inside the submissions folder"))
            elif safe_stem(path.stem) != path.stem:
                rejected.append(Rejected(rel, "file name must be lower-case letters, digits, '.', '_' and '-'"))
            else:
                jobs.append((path, task_dir.name))
    return jobs, rejected


# -- ranking them into a task's view ---------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rank(entries: list[Entry], primary: str, higher_is_better: bool) -> None:
    sign = -1.0 if higher_is_better else 1.0

    def key(e: Entry):
        v = e.value(primary)
        return (v is None, sign * v if v is not None else 0.0, normalized_name(e.display_name), e.sid)

    entries.sort(key=key)
    prev_value, prev_rank = object(), 0
    for i, e in enumerate(entries, 1):
        v = e.value(primary)
        v = round(v, 12) if v is not None else None
        e.rank = prev_rank if v == prev_value else i
        prev_value, prev_rank = v, e.rank


def _tell_apart(entries: list[Entry]) -> None:
    """Same-name submissions (files added by hand) are shown with their file to tell them apart."""
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        groups.setdefault(normalized_name(e.sub.model.name), []).append(e)
    for group in groups.values():
        if len(group) > 1:
            for e in group:
                e.display_name = f"{e.sub.model.name} [{e.sid}]"


def build_task_view(name: str, ctx: TaskContext, outcomes: list[Outcome], rejected: list[Rejected],
                    n_resamples: int, seed: int) -> TaskView:
    entries: list[Entry] = []
    for o in outcomes:
        rel = f"{name}/{o.path.name}"
        if o.error:
            rejected.append(Rejected(rel, o.error))
            continue
        entries.append(Entry(sid=o.path.stem, display_name=o.submission.model.name, outcome=o, file=rel,
                             sha256=_sha256(o.path),
                             discrepancies=claimed_discrepancies(o.submission, o.rescored)))
    _tell_apart(entries)
    ran = [out for out in ctx.outputs if any(e.value(out) is not None for e in entries)]
    primary = ctx.primary_output(ran) if entries else ctx.primary_output()
    info = ctx.outputs[primary]
    if ctx.primary_declared and ctx.primary_declared in (primary, info.metric):
        note = f"ranked by {primary}, the task's primary metric"
    elif ctx.primary_declared:
        note = (f"ranked by {primary}: the task's primary metric '{ctx.primary_declared}' is not among the metrics "
                "that ran")
    else:
        note = f"ranked by {primary}: the task declares no primary metric, so the first metric that ran is used"
    _rank(entries, primary, info.higher_is_better)
    for a, b in zip(entries, entries[1:]):
        a.vs_next = paired_randomization(a.outcome.rescored.per_case[primary], b.outcome.rescored.per_case[primary],
                                         primary, n_resamples=n_resamples, seed=seed)
        a.next_name = b.display_name
    # the ranking column first, then each group: its headline, then the columns it opens to
    groups = column_groups(list(ctx.outputs.values()), primary)
    columns = [info, *(c for g in groups for c in g.columns)]
    view = TaskView(name=name, ctx=ctx, entries=entries, rejected=rejected, primary=primary, primary_note=note,
                    columns=columns, groups=groups)
    view.charts, view.chart_note = make_charts(view)
    return view
