"""The static site: every submission re-scored, ranked per task, rendered with jinja2 (autoescaped) to plain files
that work from ``file://`` with no server: inline CSS, one inline script (allowed by its hash in the page's
Content-Security-Policy, so no injected script could run even if escaping failed), inline SVG charts and PNG key
slices written next to the pages.
"""

from __future__ import annotations

import base64
import hashlib
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

import harness
from harness.errors import HarnessError
from harness.registry import TASKS
from harness.schema import FINDINGS_SCHEMA_VERSION, AnswerField, Case, Presence
from leaderboard import DEFAULT_SITE, DEFAULT_SUBMISSIONS, LEADERBOARD_SPLIT
from leaderboard.groups import ColumnGroup, column_groups, is_count
from leaderboard.rescore import (OutputInfo, Outcome, PairedTest, TaskContext, claimed_discrepancies,
                                 default_workers, paired_randomization, score_all)
from leaderboard.submit import inside, normalized_name, safe_stem

SITE_MARKER = ".leaderboard-site"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: the text-overlap metric that the clinical metrics are charted against
CHART_X_METRIC = "bleu"


# -- collecting submissions -----------------------------------------------------------------------------------
@dataclass
class Rejected:
    file: str
    reason: str


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


# -- what the templates see -------------------------------------------------------------------------------------
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


# -- charts: inline SVG ------------------------------------------------------------------------------------------
def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _domain(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    pad = (hi - lo) * 0.05 or 1.0
    return lo - pad, hi + pad


def scatter(entries: list[Entry], x: str, y: str, width: int = 420, height: int = 320) -> dict[str, Any] | None:
    pts = [(e, e.metrics[x], e.metrics[y]) for e in entries if e.value(x) is not None and e.value(y) is not None]
    if not pts:
        return None
    left, right, top, bottom = 52, 16, 14, 44

    def vals(m):
        return [v for v in (m["value"], m.get("ci_low"), m.get("ci_high")) if v is not None]

    xlo, xhi = _domain([v for _, mx, _ in pts for v in vals(mx)])
    ylo, yhi = _domain([v for _, _, my in pts for v in vals(my)])
    xt, yt = nice_ticks(xlo, xhi), nice_ticks(ylo, yhi)
    xlo, xhi, ylo, yhi = min(xlo, xt[0]), max(xhi, xt[-1]), min(ylo, yt[0]), max(yhi, yt[-1])

    def sx(v: float) -> float:
        return round(left + (v - xlo) / (xhi - xlo) * (width - left - right), 2)

    def sy(v: float) -> float:
        return round(height - bottom - (v - ylo) / (yhi - ylo) * (height - top - bottom), 2)

    points = []
    for e, mx, my in pts:
        points.append({
            "cx": sx(mx["value"]), "cy": sy(my["value"]), "rank": e.rank,
            "x1": sx(mx["ci_low"]) if mx.get("ci_low") is not None else None,
            "x2": sx(mx["ci_high"]) if mx.get("ci_high") is not None else None,
            "y1": sy(my["ci_low"]) if my.get("ci_low") is not None else None,
            "y2": sy(my["ci_high"]) if my.get("ci_high") is not None else None,
            "tooltip": f"#{e.rank} {e.display_name}: {x}={mx['value']:.3f}, {y}={my['value']:.3f}"})
    return {"x": x, "y": y, "width": width, "height": height, "points": points,
            "plot": {"x0": left, "x1": width - right, "y0": top, "y1": height - bottom},
            "xticks": [{"pos": sx(t), "label": f"{t:g}"} for t in xt],
            "yticks": [{"pos": sy(t), "label": f"{t:g}"} for t in yt]}


def make_charts(view: TaskView) -> tuple[list[dict[str, Any]], str | None]:
    """Each other metric (the primary first) against BLEU, where the task has BLEU."""
    bleu_outputs = [o.name for o in view.columns if o.metric == CHART_X_METRIC]
    if not bleu_outputs:
        return [], f"no chart: task {view.name} has no {CHART_X_METRIC} metric to compare against"
    ran = [o for o in bleu_outputs if any(e.value(o) is not None for e in view.entries)]
    if not ran:
        return [], f"no chart: {CHART_X_METRIC} ran for no submission"
    x = ran[-1]  # the highest n-gram order reported
    ys = [o.name for o in view.columns if o.metric != CHART_X_METRIC]
    ys.sort(key=lambda o: o != view.primary)
    charts = [c for c in (scatter(view.entries, x, y) for y in ys) if c is not None]
    return charts, (None if charts else "no chart: no other metric ran")


def group_bars(entry: Entry, view: TaskView, width: int = 360) -> dict[str, Any]:
    """One model's profile: the grounding score and each group's headline as bars on [0, 1], longer = better (a
    lower-is-better rate is drawn as 1 - rate and labelled so). Counts and numbers outside [0, 1] get no bar."""
    bars = []
    for info, title in [(view.columns[0], "Ranking"), *((g.headline, g.spec.title) for g in view.groups)]:
        v = entry.value(info.name)
        bar: dict[str, Any] = {"group": title, "name": info.name, "value": v, "length": None}
        if v is not None and not is_count(info) and 0.0 <= v <= 1.0:
            goodness = v if info.higher_is_better else 1.0 - v
            bar["length"] = round(goodness * (width - 170), 1)
            bar["label"] = f"{v:.3f}" if info.higher_is_better else f"{v:.3f} (1 - rate drawn)"
        else:
            bar["label"] = "not run" if v is None else (f"{v:g}" if is_count(info) else f"{v:.3f} (not on 0-1)")
        bars.append(bar)
    return {"width": width, "height": 24 * len(bars) + 8, "bars": bars, "x0": 160, "full": width - 170,
            "model": entry.display_name}


# -- sample cases: key slice, mask outline, findings --------------------------------------------------------------
def choose_sample_cases(cases: Sequence[Case], k: int) -> list[Case]:
    """The same cases on every model page: up to k-1 with a lesion, then one without (when there are)."""
    if k <= 0:
        return []
    with_lesion = [c for c in cases if c.lesions]
    without = [c for c in cases if not c.lesions]
    chosen = with_lesion[:max(0, k - 1) if without else k] + without[:1]
    if len(chosen) < k:
        chosen += [c for c in cases if c not in chosen][:k - len(chosen)]
    return chosen[:k]


def _edges(mask: np.ndarray) -> np.ndarray:
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return mask & ~inner


def render_slice_png(image_plane: np.ndarray, label_plane: np.ndarray | None, lesion_labels: Sequence[int],
                     out: Path, target: int = 256) -> None:
    """A [0, 1] plane as a PNG, upscaled (nearest) to about ``target`` pixels, lesion outlines in red."""
    from PIL import Image

    scale = max(1, round(target / max(image_plane.shape)))
    gray = np.clip(image_plane * 255.0 + 0.5, 0, 255).astype(np.uint8)
    gray = np.kron(gray, np.ones((scale, scale), dtype=np.uint8))
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    if label_plane is not None and len(lesion_labels):
        mask = np.isin(label_plane, list(lesion_labels))
        mask = np.kron(mask.astype(np.uint8), np.ones((scale, scale), dtype=np.uint8)).astype(bool)
        edge = _edges(mask)
        edge = edge | np.roll(edge, 1, axis=0) | np.roll(edge, 1, axis=1)  # 2 px, visible when scaled down
        rgb[edge & mask] = (255, 48, 48)
    Image.fromarray(rgb).save(out, optimize=True)


class SliceRenderer:
    """Key slices of the sample cases, each (case, z) rendered once for all the models that named it."""

    def __init__(self, task_name: str, ctx: TaskContext, img_dir: Path):
        self.task_name, self.ctx, self.img_dir = task_name, ctx, img_dir
        self._volumes: dict[str, Any] = {}
        self._done: dict[tuple[str, int], tuple[str | None, str | None]] = {}

    def _volume(self, case: Case):
        if case.case_id not in self._volumes:
            from harness.imaging import Window, load_volume

            window = getattr(getattr(self.ctx.task, "views", None), "window", None) or Window()
            self._volumes[case.case_id] = load_volume(case.image_path, case.label_path, window)
        return self._volumes[case.case_id]

    def render(self, case: Case, z: int) -> tuple[str | None, str | None]:
        """(file name under img/, None) or (None, why not)."""
        key = (case.case_id, z)
        if key not in self._done:
            self._done[key] = self._render(case, z)
        return self._done[key]

    def _render(self, case: Case, z: int) -> tuple[str | None, str | None]:
        from harness.imaging import axial

        if not case.image_path or not case.label_path:
            return None, "this case has no image with a label map"
        try:
            vol = self._volume(case)
        except HarnessError as exc:
            return None, f"image not available: {exc}"
        if not 0 <= z < vol.image.shape[2]:
            return None, f"slice z={z} is outside the volume"
        self.img_dir.mkdir(parents=True, exist_ok=True)
        name = f"{safe_stem(case.case_id)}-z{z}.png"
        labels = axial(vol.labels, z) if vol.labels is not None else None
        render_slice_png(axial(vol.image, z), labels, [lesion.label for lesion in case.lesions], self.img_dir / name)
        return name, None


def findings_extractor() -> tuple[Callable[[str], Any] | None, str | None]:
    try:
        from harness.findings.extract import extract_findings
    except ImportError:
        return None, "finding extraction is not available (harness.findings.extract is not installed)"
    return extract_findings, None


def _presence(f: Any) -> str:
    p = getattr(f, "presence", "present")
    return p.value if isinstance(p, Presence) else str(p)


def _same_place(a: Any, b: Any) -> bool:
    if getattr(a, "anatomy", None) != getattr(b, "anatomy", None):
        return False
    la, lb = getattr(a, "laterality", None), getattr(b, "laterality", None)
    return la is None or lb is None or la == lb


def grounded(f: Any, truth: Sequence[Any]) -> bool:
    """A stated lesion is grounded when the truth has one in that organ (and side); a stated normal organ when
    the truth has none there."""
    present_there = any(_same_place(f, t) and _presence(t) == "present" for t in truth)
    return present_there if _presence(f) in ("present", "uncertain") else not present_there


def _certainty(f: Any) -> str:
    """The stated grade (findings JSON 2: "probable", "improbable") where set, else the presence class."""
    c = getattr(f, "certainty", None)
    if c is None:
        return _presence(f)
    return str(getattr(c, "value", c))


def _qualifiers(f: Any) -> list[str]:
    """Temporal change and severity (findings JSON 2), where set: "new", "moderate"."""
    return [str(v) for v in (getattr(f, "temporal", None), getattr(f, "severity", None)) if v]


def _tip(f: Any) -> str:
    position = getattr(f, "position", None)
    return f", tip: {position}" if position else ""


def describe_finding(f: Any) -> str:
    """"present new moderate pleural effusion in the left pleura", "probable mass in the liver (right lobe)
    12 mm", "present central venous catheter in the right superior vena cava, tip: cavoatrial junction"."""
    parts = [_certainty(f), *_qualifiers(f), getattr(f, "observation", "") or "finding"]
    where = " ".join(p for p in (getattr(f, "laterality", None), getattr(f, "anatomy", None)) if p)
    if where:
        parts.append(f"in the {where}")
    if getattr(f, "sub_location", None):
        parts.append(f"({f.sub_location})")
    if getattr(f, "size_mm", None):
        parts.append(f"{f.size_mm:g} mm")
    return " ".join(parts) + _tip(f)


def _clinical_matcher() -> Callable[[Case], Callable[[Any], bool]] | None:
    """Grounded = the finding-F1 metric's own matching (canonical names, sides, sizes), when it is installed."""
    try:
        from harness.metrics.clinical import match_units, reference_findings, units_match
    except ImportError:
        return None

    def for_case(case: Case) -> Callable[[Any], bool]:
        ref_units = match_units(reference_findings(case)[0])
        return lambda f: all(any(units_match(r, u) for r in ref_units) for u in match_units([f]))

    return for_case


def mark_findings(report: str, case: Case, extract: Callable[[str], Any] | None) -> tuple[list[dict], str | None]:
    if extract is None:
        return [], None
    try:
        items = [getattr(item, "finding", item) for item in extract(report)]
        matcher = _clinical_matcher()
        is_grounded = matcher(case) if matcher else (lambda f: grounded(f, case.findings))
        return [{"text": describe_finding(f), "grounded": bool(is_grounded(f))} for f in items], None
    except Exception as exc:  # a display aid: its failure is shown on the page, never breaks the build
        return [], f"finding extraction failed: {type(exc).__name__}: {exc}"


def lesion_text(lesion: Any) -> str:
    f = lesion.finding
    where = " ".join(p for p in (f.laterality, f.anatomy) if p)
    size = f", {f.size_mm:g} mm" if f.size_mm else ""
    stated = " ".join([*([f.certainty.value] if getattr(f, "certainty", None) else []), *_qualifiers(f),
                       f.observation])
    return f"{stated} in the {where}{size}{_tip(f)} (slices z={lesion.z_range[0]}..{lesion.z_range[1]})"


def sample_views(entry: Entry, view: TaskView, cases: Sequence[Case], renderer: SliceRenderer,
                 extract: Callable[[str], Any] | None, extract_note: str | None) -> list[dict[str, Any]]:
    rescored = entry.outcome.rescored
    index = {cid: i for i, cid in enumerate(rescored.case_ids)}
    out = []
    for case in cases:
        answer = rescored.answers.get(case.case_id, {})
        report = answer.get("report", "")
        z = answer.get(AnswerField.KEY_SLICE_Z)
        item: dict[str, Any] = {"case_id": case.case_id, "reference": case.reference_report, "report": report,
                                "problems": answer.get("problems", []), "key_slice": answer.get(AnswerField.KEY_SLICE),
                                "z": z, "image": None, "image_note": None, "in_slice": [], "truth": None,
                                "scores": []}
        if AnswerField.KEY_SLICE_Z in answer:
            if isinstance(z, int):
                item["image"], item["image_note"] = renderer.render(case, z)
                item["in_slice"] = [lesion_text(les) for les in case.lesions if les.z_range[0] <= z <= les.z_range[1]]
            else:
                item["image_note"] = "the model named no key slice"
        if case.lesions or case.label_path:  # voxel truth: say where the tumors are (or that there are none)
            item["truth"] = [lesion_text(les) for les in case.lesions]
        i = index.get(case.case_id)
        for col in view.columns:
            column = rescored.per_case.get(col.name) or []
            value = column[i] if i is not None and i < len(column) else None
            if value is not None:
                item["scores"].append({"name": col.name, "value": value})
        item["findings"], note = mark_findings(report, case, extract)
        item["findings_note"] = note or extract_note
        out.append(item)
    return out


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
