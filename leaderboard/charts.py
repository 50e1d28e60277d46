"""The leaderboard's charts, inline SVG data for the templates: each metric against BLEU per task, and one
model's profile of group headlines."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from leaderboard.groups import is_count

if TYPE_CHECKING:
    from leaderboard.task_view import Entry, TaskView

#: the text-overlap metric that the clinical metrics are charted against
CHART_X_METRIC = "bleu"


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
