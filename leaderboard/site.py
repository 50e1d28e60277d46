"""The static site: every submission re-scored, ranked per task, rendered with jinja2 (autoescaped) to plain files
that work from ``file://`` with no server: inline CSS, one inline script (allowed by its hash in the page's
Content-Security-Policy, so no injected script could run even if escaping failed), inline SVG charts and PNG key
slices written next to the pages.

This module builds and renders; what it renders comes from :mod:`leaderboard.views` (the submissions found, ranked
entries, a task's view, of the types in :mod:`leaderboard.task_view`), :mod:`leaderboard.charts` (SVG charts) and
:mod:`leaderboard.samples` (the model pages' sample cases); the scores from :mod:`leaderboard.rescore`.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

import harness
from harness.errors import HarnessError
from harness.registry import TASKS
from harness.schema import FINDINGS_SCHEMA_VERSION
from leaderboard import DEFAULT_SITE, DEFAULT_SUBMISSIONS, LEADERBOARD_SPLIT
from leaderboard.charts import group_bars
from leaderboard.groups import is_count
from leaderboard.rescore import TaskContext, default_workers, score_all
from leaderboard.samples import SliceRenderer, choose_sample_cases, findings_extractor, sample_views
from leaderboard.submit import inside
from leaderboard.task_view import Rejected, TaskView
from leaderboard.views import build_task_view, find_submissions

SITE_MARKER = ".leaderboard-site"
TEMPLATES = Path(__file__).resolve().parent / "templates"


# -- rendering -------------------------------------------------------------------------------------------------
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v, d=3: "" if v is None else f"{v:.{d}f}"
    env.filters["pval"] = lambda p: "" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}")
    return env


def _script() -> tuple[Markup, str]:
    """The one inline script and its CSP hash source."""
    text = (TEMPLATES / "sortable.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return Markup(text), f"'sha256-{digest}'"


def csp(script_hash: str) -> str:
    return ("default-src 'none'; img-src 'self' data: file:; style-src 'unsafe-inline'; "
            f"script-src {script_hash}; base-uri 'none'; form-action 'none'")


def link_url(url: str | None) -> str | None:
    """Only http(s) addresses become links (the schema checks too; this guards the template)."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def table_columns(view: TaskView) -> list[dict[str, Any]]:
    """Every column with its place: the ranking column, then per group a headline and its detail columns."""
    cols = [{"info": view.columns[0], "group": None, "group_title": "", "detail": False,
             "count": is_count(view.columns[0])}]
    for g in view.groups:
        cols += [{"info": c, "group": g.spec.key, "group_title": g.spec.title, "detail": c is not g.headline,
                  "count": is_count(c)} for c in g.columns]
    return cols


def table_groups(view: TaskView) -> list[dict[str, Any]]:
    return [{"key": g.spec.key, "title": g.spec.title, "meaning": g.spec.meaning, "headline": g.headline.name,
             "n_details": len(g.details)} for g in view.groups]


def _table_rows(view: TaskView, root: str) -> list[dict[str, Any]]:
    rows = []
    for e in view.entries:
        cells = []
        for col in table_columns(view):
            m = e.metrics.get(col["info"].name) or {"status": "not_run", "reason": "not reported"}
            cells.append({"name": col["info"].name, "ok": m.get("status") == "ok", "value": m.get("value"),
                          "lo": m.get("ci_low"), "hi": m.get("ci_high"), "n": m.get("n"),
                          "reason": m.get("reason"), "group": col["group"], "detail": col["detail"],
                          "count": col["count"]})
        rows.append({"rank": e.rank, "name": e.display_name, "sid": e.sid,
                     "href": f"{root}{view.name}/models/{e.sid}.html", "organisation": e.sub.model.organisation,
                     "url": link_url(e.sub.model.url), "cells": cells, "test": e.vs_next, "next": e.next_name,
                     "tampered": bool(e.discrepancies)})
    return rows


@dataclass
class BuildReport:
    site: Path
    ranked: dict[str, int]
    rejected: list[Rejected]
    seconds: dict[str, float]
    scored: int = 0  # submissions re-scored in this build (the others came from the score cache)


def build_site(submissions: Path = DEFAULT_SUBMISSIONS, out: Path = DEFAULT_SITE, n_boot: int = 1000,
               seed: int = 0, workers: int | None = None, samples_per_model: int = 4, n_resamples: int = 10_000,
               tasks: Sequence[str] | None = None, cache_dir: Path | None = None, score_cache: Path | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> BuildReport:
    """Re-score every submission and write the site into ``out`` (replaced whole).

    ``cache_dir``: where the tasks' synthetic sets are cached [the harness default]. ``score_cache``: a folder of
    scores this builder computed before, keyed by file content and scoring code (None: re-score everything).
    """
    t_start = time.perf_counter()
    submissions, out = Path(submissions), Path(out)
    if out.exists() and any(out.iterdir()) and not (out / SITE_MARKER).exists():
        raise HarnessError(f"{out}: exists and is not a leaderboard site; choose an empty or new --out folder")
    if inside(out, submissions):
        raise HarnessError(f"{out}: the site cannot be written inside the submissions folder")
    jobs, rejected_files = find_submissions(submissions, tasks)
    contexts: dict[str, TaskContext] = {}
    for t in sorted({t for _, t in jobs}):
        try:
            contexts[t] = TaskContext.load(t, cache_dir)
        except HarnessError as exc:  # one broken task plug-in does not take the whole site down
            rejected_files += [Rejected(f"{t}/{p.name}", f"task '{t}' could not be loaded: {exc}")
                               for p, task in jobs if task == t]
    jobs = [(p, t) for p, t in jobs if t in contexts]
    task_names = sorted(contexts)
    t_loaded = time.perf_counter()
    workers = default_workers(len(jobs)) if workers is None else workers
    outcomes = score_all(jobs, contexts, n_boot, seed, workers=workers, cache_dir=cache_dir, score_cache=score_cache,
                         progress=(lambda d, n: progress("scoring", d, n)) if progress else None)
    t_scored = time.perf_counter()

    views: list[TaskView] = []
    for name in task_names:
        rejected = [r for r in rejected_files if r.file.startswith(f"{name}/")]
        views.append(build_task_view(name, contexts[name], [o for o in outcomes if o.task == name], rejected,
                                     n_resamples, seed))
    other_rejected = [r for r in rejected_files if r.file.split("/", 1)[0] not in task_names]
    empty_tasks = [t for t in TASKS.names() if t not in task_names and (tasks is None or t in tasks)]
    t_ranked = time.perf_counter()

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".site-", dir=out.parent))
    try:
        (tmp / SITE_MARKER).write_text("written by `harness leaderboard build`; rebuilt from scratch each time\n")
        _render_all(tmp, views, other_rejected, empty_tasks, n_boot, n_resamples, samples_per_model, progress)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    t_end = time.perf_counter()
    return BuildReport(site=out, ranked={v.name: len(v.entries) for v in views},
                       rejected=[r for v in views for r in v.rejected] + other_rejected,
                       scored=sum(1 for o in outcomes if not o.cached and o.rescored is not None),
                       seconds={"load_tasks": round(t_loaded - t_start, 3), "rescore": round(t_scored - t_loaded, 3),
                                "rank_and_test": round(t_ranked - t_scored, 3),
                                "render": round(t_end - t_ranked, 3), "total": round(t_end - t_start, 3)})


def _render_all(site: Path, views: list[TaskView], other_rejected: list[Rejected], empty_tasks: list[str],
                n_boot: int, n_resamples: int, samples_per_model: int,
                progress: Callable[[str, int, int], None] | None) -> None:
    env = _env()
    script, script_hash = _script()
    common = {"script": script, "csp": csp(script_hash), "harness_version": harness.__version__,
              "findings_schema": FINDINGS_SCHEMA_VERSION,
              "built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "n_boot": n_boot,
              "n_resamples": n_resamples, "split": LEADERBOARD_SPLIT}
    extract, extract_note = findings_extractor()
    tasks_ctx = []
    for view in views:
        tasks_ctx.append({"name": view.name, "version": view.ctx.version, "n_cases": len(view.ctx.dataset.cases),
                          "primary": view.primary, "primary_note": view.primary_note, "columns": view.columns,
                          "primary_info": view.ctx.outputs[view.primary], "rejected": view.rejected,
                          "table_columns": table_columns(view), "groups": table_groups(view),
                          "profiles": [group_bars(e, view) for e in view.entries],
                          "charts": view.charts, "chart_note": view.chart_note,
                          "data_hash": view.ctx.dataset.data_hash})
    (site / "index.html").write_text(env.get_template("index.jinja").render(
        **common, root="", tasks=[{**t, "rows": _table_rows(v, "")} for t, v in zip(tasks_ctx, views)],
        other_rejected=other_rejected, empty_tasks=empty_tasks), encoding="utf-8")
    total = sum(len(v.entries) for v in views)
    done = 0
    for t, view in zip(tasks_ctx, views):
        task_dir = site / view.name
        (task_dir / "models").mkdir(parents=True, exist_ok=True)
        (task_dir / "index.html").write_text(env.get_template("task.jinja").render(
            **common, root="../", task={**t, "rows": _table_rows(view, "../")}), encoding="utf-8")
        cases = choose_sample_cases(view.ctx.dataset.cases, samples_per_model)
        renderer = SliceRenderer(view.name, view.ctx, task_dir / "img")
        model_tpl = env.get_template("model.jinja")
        for e in view.entries:
            samples = sample_views(e, view, cases, renderer, extract, extract_note)
            page = model_tpl.render(
                **common, profile=group_bars(e, view), root="../../", task=t, entry=e, model=e.sub.model, url=link_url(e.sub.model.url),
                sampling=e.sub.sampling.to_dict(),
                metrics=[{"info": col, "m": e.metrics.get(col.name) or {"status": "not_run"},
                          "claimed": e.discrepancies.get(col.name), "count": is_count(col)} for col in view.columns],
                samples=samples)
            (task_dir / "models" / f"{e.sid}.html").write_text(page, encoding="utf-8")
            done += 1
            if progress:
                progress("rendering", done, total)
