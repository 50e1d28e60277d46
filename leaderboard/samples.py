"""The sample cases of a model's page: the same few cases for every model, each with the key slice the model
named (rendered once per slice, lesion outlines in red), the lesions that slice cuts, and the findings its report
states, each marked grounded or not by the finding-F1 metric's own matching."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from harness.errors import HarnessError
from harness.schema import AnswerField, Case, Presence
from leaderboard.rescore import TaskContext
from leaderboard.submit import safe_stem

if TYPE_CHECKING:
    from leaderboard.task_view import Entry, TaskView


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


def grounded_in(case: Case) -> Callable[[Any], bool]:
    """Whether a stated finding is grounded in ``case``: the finding-F1 metric's own matching (canonical names,
    sides, sizes), not a copy of it."""
    from harness.metrics.clinical import reference_findings  # noqa: PLC0415
    from harness.metrics.matching import match_units, units_match  # noqa: PLC0415

    ref_units = match_units(reference_findings(case)[0])
    return lambda f: all(any(units_match(r, u) for r in ref_units) for u in match_units([f]))


def mark_findings(report: str, case: Case, extract: Callable[[str], Any] | None) -> tuple[list[dict], str | None]:
    if extract is None:
        return [], None
    try:
        items = [getattr(item, "finding", item) for item in extract(report)]
        is_grounded = grounded_in(case)
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
