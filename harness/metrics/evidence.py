"""E-MRL evidence metrics: is the report grounded in the volume, where it says, and can it be talked into a
finding that is not there? (diagnosis -> localization -> verification, plus adversarial probes)

They read the structured answer a task's ``parse`` produces (the ``Answer.fields`` that
``harness.schema.AnswerField`` names: ``KEY_SLICE_Z``, ``VERIFY``, ``PROBE``) and the case's voxel truth (lesions
and their slices); statements are compared through the findings extractor, at the level of (organ, side) of
present or uncertain findings.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable, Sequence

import numpy as np

from harness.metrics.base import Metric, Row
from harness.schema import AnswerField, Finding, Presence
from harness.task import ScoredItem, Task

PLANES = ("axial", "coronal", "sagittal")


def _extract(text: str | None) -> tuple[Finding, ...]:
    from harness.findings.extract import extract_findings

    return extract_findings(text or "")


def stated_sites(findings: Iterable[Finding]) -> set[tuple[str, str | None]]:
    """(organ, side) of every finding stated present or uncertain."""
    return {(f.anatomy, f.laterality) for f in findings if f.presence is not Presence.ABSENT}


def site(f: Finding) -> tuple[str, str | None]:
    return (f.anatomy, f.laterality)


def set_f1(stated: set, truth: set, *, empty_agrees: bool) -> float:
    """F1 of two sets. Two empty sets score ``empty_agrees``: every caller must say whether "nothing here, and
    nothing said" is a right answer (a tumor-free case) or no evidence at all (a case with a tumor, where the
    model looked at a view that shows none of it)."""
    if not stated and not truth:
        return float(empty_agrees)
    return 2 * len(stated & truth) / (len(stated) + len(truth))


def tumor_free(case: Any) -> bool:
    """The case truly has no tumor: none in the masks and none stated in the gold report."""
    return not case.lesions and not stated_sites(case.findings)


def _mask_reason(task: Task, items: Sequence[ScoredItem]) -> str | None:
    if not any(it.case.label_path for it in items):
        return "not run: no masks (the data set has no segmentations)"
    return None


class LocalizationMetric(Metric):
    """Key-slice localization against the tumor masks: hit, distance (mm) and missing/malformed rate."""

    name = "localization"
    outputs = ("key_slice_hit", "key_slice_distance_mm", "key_slice_missing")
    lower_is_better = frozenset({"key_slice_distance_mm", "key_slice_missing"})
    variant = ("over cases with a tumor in the masks: hit = the named slice cuts a tumor whose organ and side the "
               "report states; distance = mm along z from the named slice to the nearest slice of such a tumor "
               "(of any tumor if the report states none), lower is better; missing = no valid key slice named")

    def unavailable(self, task, items):
        return _mask_reason(task, items)

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            lesions = it.case.lesions
            if not lesions or not it.case.label_path:
                rows.append({"key_slice_hit": None, "key_slice_distance_mm": None, "key_slice_missing": None})
                continue
            z = it.answer.fields.get(AnswerField.KEY_SLICE_Z)
            if z is None:
                rows.append({"key_slice_hit": 0.0, "key_slice_distance_mm": None, "key_slice_missing": 1.0})
                continue
            stated = stated_sites(_extract(it.answer.report))
            targets = [l for l in lesions if site(l.finding) in stated]
            cut = [l for l in targets if _cuts(l, z)]
            pool = targets or list(lesions)
            gap = min(max(l.z_range[0] - z, 0, z - l.z_range[1]) for l in pool)
            spacing_z = float(it.case.meta.get("spacing_mm", [1, 1, 1])[2])
            rows.append({"key_slice_hit": float(bool(cut)), "key_slice_distance_mm": gap * spacing_z,
                         "key_slice_missing": 0.0, "key_slice_lesions_cut": [l.label for l in cut]})
        return rows


def _cuts(lesion, z: int) -> bool:
    return lesion.z_range[0] <= z <= lesion.z_range[1]


class CrossViewMetric(Metric):
    """E-MRL cross-view consistency: the model is shown the slice it named, alone, and says what it shows; that
    local answer is compared with the truth in the slice (masks) and with the gold report.

    A local answer cannot earn credit for an empty slice on a case with a tumor: naming a slice that shows none
    of the report's tumors is the failure E-MRL's verification step exists to catch, however truthfully the
    model then says "no tumor" about it."""

    name = "cross_view"
    outputs = ("local_vs_truth", "local_vs_gold", "local_supports_report")
    variant = ("over cases with a verification answer (a valid key slice named); local = the (organ, side) of the "
               "tumors the model states when shown the named axial slice alone. Both local_vs_truth and "
               "local_vs_gold are 0 when the model's report states a tumor and the masks show none of the report's "
               "(organ, side) in that slice. Otherwise local_vs_truth = F1 between local and the tumors the masks "
               "show in the slice, an empty slice said to be empty scoring 1 only on a case without tumor (none in "
               "the masks or the gold report), else 0 (needs masks); local_vs_gold = share of local that the gold "
               "report states, stating none scoring 1 only on a case without tumor, else 0. "
               "local_supports_report = share of local that the model's own report states, 0 when local is empty "
               "(cases whose report states a tumor; no masks needed)")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            v = it.answer.fields.get(AnswerField.VERIFY)
            if not v:
                rows.append({o: None for o in self.outputs})
                continue
            local = stated_sites(_extract(v["planes"]["axial"]))
            report = stated_sites(_extract(it.answer.report))
            empty_ok = tumor_free(it.case)
            row: dict[str, Any] = {"local_stated": sorted(map(str, local))}
            in_slice = ({site(f) for f in _findings_by_label(it, v["visible"]["axial"])}
                        if v.get("visible") is not None else None)
            # a key slice that shows none of the tumors the report states is no evidence for the report: nothing
            # said about it can earn credit (known only with masks)
            off_report = in_slice is not None and bool(report) and not (report & in_slice)
            if in_slice is None:
                row["local_vs_truth"] = None
            else:
                row["local_vs_truth"] = 0.0 if off_report else set_f1(local, in_slice, empty_agrees=empty_ok)
            gold = stated_sites(it.case.findings)
            precision = len(local & gold) / len(local) if local else float(empty_ok)
            row["local_vs_gold"] = 0.0 if off_report else precision
            if not report:
                row["local_supports_report"] = None
            else:
                row["local_supports_report"] = len(local & report) / len(local) if local else 0.0
            rows.append(row)
        return rows

    def unavailable(self, task, items):
        if "verify" not in getattr(task, "stages", ()):
            return "not run: the task's verification step is switched off"
        return None


def _findings_by_label(item: ScoredItem, labels: Sequence[int]) -> list[Finding]:
    by_label = {l.label: l.finding for l in item.case.lesions}
    return [by_label[k] for k in labels if k in by_label]


class MultiPlanarMetric(Metric):
    """Multi-planar consistency: the axial, coronal and sagittal planes through the key point, each answered
    alone, against the masks and against each other."""

    name = "multiplanar"
    outputs = ("plane_vs_truth", "plane_agreement")
    variant = ("over cases with a verification answer and masks: plane_vs_truth = mean over the 3 planes of the F1 "
               "between stated and mask-visible (organ, side) tumor sites, a plane said and shown to be empty "
               "scoring 1 only on a case without tumor, else 0; plane_agreement = share of the 3 planes agreeing "
               "with their majority on whether the key tumor's organ has a tumor (key tumor = the one whose "
               "centroid the planes pass through); a missing plane tag counts as stating nothing")

    def unavailable(self, task, items):
        if "verify" not in getattr(task, "stages", ()):
            return "not run: the task's verification step is switched off"
        return _mask_reason(task, items)

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            v = it.answer.fields.get(AnswerField.VERIFY)
            if not v or v.get("visible") is None:
                rows.append({"plane_vs_truth": None, "plane_agreement": None})
                continue
            stated = {p: stated_sites(_extract(v["planes"].get(p))) for p in PLANES}
            empty_ok = tumor_free(it.case)
            f1s = [set_f1(stated[p], {site(f) for f in _findings_by_label(it, v["visible"][p])},
                          empty_agrees=empty_ok) for p in PLANES]
            row: dict[str, Any] = {"plane_vs_truth": float(np.mean(f1s)),
                                   "planes_missing": [p for p in PLANES if v["planes"].get(p) is None]}
            key = _findings_by_label(it, [v["key_lesion"]]) if v.get("key_lesion") is not None else []
            if key:
                votes = [site(key[0]) in stated[p] for p in PLANES]
                majority = Counter(votes).most_common(1)[0][1]
                row["plane_agreement"] = majority / len(PLANES)
            else:
                row["plane_agreement"] = None
            rows.append(row)
        return rows


class ProbeMetric(Metric):
    """Adversarial false-finding rejection: yes/no questions, leading clinical histories and drafts to correct."""

    name = "probes"
    outputs = ("false_rejection", "true_acceptance", "balanced_accuracy", "history_repeat_rate",
               "ba_yesno", "ba_history", "ba_draft", "probe_unparseable")
    lower_is_better = frozenset({"history_repeat_rate", "probe_unparseable"})
    variant = ("one probe per case, style rotating; accepted = 'yes' (yes/no), or the returned report states the "
               "probed (organ, side) [and count] (history, draft); false_rejection = share of false probes not "
               "accepted, true_acceptance = share of true probes accepted, balanced_accuracy = their mean (pooled "
               "over cases); history_repeat_rate = share of false leading histories repeated in the report; "
               "unparseable yes/no answers are excluded from the rates and counted")

    def unavailable(self, task, items):
        if "probe" not in getattr(task, "stages", ()):
            return "not run: the task's probes are switched off"
        return None

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            p = it.answer.fields.get(AnswerField.PROBE)
            if not p:
                rows.append({o: None for o in self.outputs})
                continue
            accepted = probe_accepted(p)
            row: dict[str, Any] = {"_probe": (p["style"], p["true"], accepted),
                                   "probe_style": p["style"], "probe_true": p["true"], "probe_kind": p["kind"],
                                   "probe_accepted": accepted}
            row.update(_probe_rates(_probe_counts([row["_probe"]])))
            rows.append(row)
        return rows

    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        return _probe_rates(_probe_counts([r["_probe"] for r in rows if r.get("_probe")]))

    def bootstrap_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> dict[str, np.ndarray]:
        """Outcome counts summed over all resamples at once (rows without a probe count nothing)."""
        cells = np.stack([_probe_counts([r["_probe"]]) if r.get("_probe") else np.zeros(PROBE_CELLS)
                          for r in rows])
        rates = _probe_rates(cells[resamples].sum(axis=1), vectorised=True)
        return {o: v[~np.isnan(v)] for o, v in rates.items()}

    def applies(self, row: Row, output: str) -> bool:
        return bool(row.get("_probe"))


def states(findings: Iterable[Finding], target: Finding) -> bool:
    """Do the findings assert ``target``: present or uncertain, same organ and side, at least its count?"""
    hits = [f for f in findings if f.presence is not Presence.ABSENT and f.anatomy == target.anatomy
            and (target.laterality is None or f.laterality == target.laterality)]
    if target.count and target.count > 1:
        return sum(max(f.count or 1, 1) for f in hits) >= target.count
    return bool(hits)


def yes_no(text: str) -> bool | None:
    """The answer to a yes/no question; None when it says neither or both."""
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return None
    if words[0] in ("yes", "no"):
        return words[0] == "yes"
    has_yes, has_no = "yes" in words, "no" in words
    return None if has_yes == has_no else has_yes


def probe_accepted(probe: dict[str, Any]) -> bool | None:
    target = Finding.from_dict(probe["finding"])
    text = probe["answer"]
    if probe["style"] == "yesno":
        return yes_no(text)
    m = re.search(r"<report>(.*?)</report>", text, re.S | re.I)
    return states(_extract(m.group(1) if m else text), target)


STYLES = ("yesno", "history", "draft")
PROBE_CELLS = (len(STYLES), 2, 3)  # style x (false, true) x (rejected, accepted, unparseable)


def _probe_counts(entries: Sequence[tuple[str, bool, bool | None]]) -> np.ndarray:
    counts = np.zeros(PROBE_CELLS)
    for style, true, accepted in entries:
        counts[STYLES.index(style), int(true), 2 if accepted is None else int(accepted)] += 1
    return counts


def _probe_rates(counts: np.ndarray, vectorised: bool = False) -> dict[str, Any]:
    """Every probe rate from outcome counts (``[..., style, truth, outcome]``); NaN / None where undefined."""
    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.maximum(den, 1), np.nan)

    by_truth = counts.sum(axis=-3)  # [..., truth, outcome]
    tnr = ratio(by_truth[..., 0, 0], by_truth[..., 0, :2].sum(-1))
    tpr = ratio(by_truth[..., 1, 1], by_truth[..., 1, :2].sum(-1))
    out = {"false_rejection": tnr, "true_acceptance": tpr, "balanced_accuracy": (tnr + tpr) / 2,
           "history_repeat_rate": ratio(counts[..., 1, 0, 1], counts[..., 1, 0, :2].sum(-1)),
           "probe_unparseable": ratio(by_truth[..., 2].sum(-1), by_truth.sum((-1, -2)))}
    for i, style in enumerate(STYLES):
        s_tnr = ratio(counts[..., i, 0, 0], counts[..., i, 0, :2].sum(-1))
        s_tpr = ratio(counts[..., i, 1, 1], counts[..., i, 1, :2].sum(-1))
        out[f"ba_{style}"] = (s_tnr + s_tpr) / 2
    if vectorised:
        return out
    return {k: None if np.isnan(v) else float(v) for k, v in out.items()}
