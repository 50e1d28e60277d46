"""Clinical metrics on the shared findings model: finding F1 and a CheXpert-style 14-label F1.

Both read the candidate report with ``harness.findings.extract_findings``. The reference side is the case's
truth findings when it has them (synthetic sets: exact, and equal to what the reference report says, which a
round-trip test holds) and the findings extracted from the reference report otherwise (real datasets). How two
sets of findings are matched is ``harness.metrics.matching``.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from harness.findings.extract import extract_findings
from harness.findings.lexicon import lexicon
from harness.metrics.base import Metric, Row, resampled_sums
from harness.metrics.matching import (ABSENT_FINDING_WEIGHT, ADJACENT_SEVERITY_CREDIT, CONTRADICTION_WEIGHT,
                                      DESCRIPTIVE_PARTIAL_CREDIT, DIFFUSE_SUB_LOCATION_CREDIT,
                                      POSITION_LEVEL_TOLERANCE, SIDE_PARTIAL_CREDIT, SIZE_TOLERANCE_MM, SIZE_TOLERANCE_REL, SUB_LOCATION_PARTIAL_CREDIT,
                                      compare_findings, f1)
from harness.schema import Case, Finding, Presence
from harness.task import ScoredItem, Task


def reference_findings(case: Case) -> tuple[tuple[Finding, ...], str]:
    """The truth findings of a case, else those of its reference report; and which one it was."""
    if case.findings:
        return tuple(case.findings), "truth"
    return extract_findings(case.reference_report or ""), "reference_text"


def _macro(classes: Mapping[str, Sequence[int]]) -> float:
    vals = [f1(tp, fp, fn) for tp, fp, fn in classes.values() if tp + fp + fn > 0]
    return float(np.mean(vals)) if vals else 1.0


class FindingF1Metric(Metric):
    """Finding F1: structured findings of the candidate vs the reference (observation, organ, side, presence,
    size)."""

    name = "finding_f1"
    per_case_independent = True
    outputs = ("finding_f1", "finding_f1_micro", "finding_f1_macro")
    variant = (
        "findings (schema v2) extracted by harness.findings (lexicon + ConText-style scopes for negation, graded "
        "certainty and hypothetical statements); reference = case truth findings when present, else extracted from "
        "the reference report. Credit of a candidate/reference pair: 0 unless observation class (absent focal "
        "lesions of any kind = 'no focal lesion'; a family's generic, e.g. 'lesion' or 'support device', = any "
        "member; an organ called normal (no focal lesion) = any absent finding of that organ, and covers every one "
        "the other report states (and is covered by them where that report states nothing present in the organ); "
        "a negative with no sub-location covers every negative of its kind within it, and one with no organ, e.g. "
        "'No abscess.', every negative of its kind at any site, of either side; a region called normal, "
        "e.g. 'normal chest', and the negatives of organs in it cover each other), organ and certainty class (present incl. probable / possible / absent incl. improbable; "
        "hedges are graded on the radiology certainty scale: 'consistent with' > 'suspicious/concerning for', "
        "'suspected', 'likely' = probable > 'possible', 'may represent', 'cannot exclude' > 'unlikely') agree, "
        f"size within max({SIZE_TOLERANCE_MM:g} mm, {SIZE_TOLERANCE_REL:.0%} of the larger), severity within one grade (minimal<mild<moderate<severe<massive; a focal lesion's 'small'/'large' is its size, not a severity), "
        "and count (a plural word meets a count of at least the least it states: 'multiple' 2, 'several'/'numerous' "
        "3), temporal change and device tip position are equal where both state one (tip positions read at a "
        f"vertebral level, e.g. 'T6 level', agree within {POSITION_LEVEL_TOLERANCE} level, and a vertebral level "
        "is not compared with an anatomical place such as 'superior vena cava': different frames); then 1.0, times "
        f"{SIDE_PARTIAL_CREDIT:g} when a paired organ's side is stated on one side only, times "
        f"{ADJACENT_SEVERITY_CREDIT:g} when the severities are one grade apart, times "
        f"{SUB_LOCATION_PARTIAL_CREDIT:g} ({DIFFUSE_SUB_LOCATION_CREDIT:g} for a diffuse, not focal or countable, "
        "finding) when a sub-location is stated on one side "
        "only or contains the other along the lexicon's hierarchy (segment within section within lobe; station "
        "within region), 0 for two sub-locations neither of which contains the other, times "
        f"{DESCRIPTIVE_PARTIAL_CREDIT:g} when one names a focal finding by its look (mass, nodule, lesion) and the other "
        "by its diagnosis (absent findings: any "
        "compatible sub-location gives full credit); bilateral findings and side-less absent findings of paired "
        "organs count once per side, a side-less finding against the other report's same finding on both sides "
        "is half of it on each side; devices match by type, access side and tip. Maximum-credit bipartite "
        f"matching (Hungarian); TP = sum of credits, FP/FN = the rest of each side, an absent finding weighing "
        f"{ABSENT_FINDING_WEIGHT:g} (split between the sides when it states none) and any other 1, and the unmatched "
        f"part of a present or possible finding the other report states absent, or only on the other side, "
        f"{CONTRADICTION_WEIGHT:g} more "
        "(a contradiction is worse than an omission). finding_f1 = mean over reports "
        "of per-report F1 (1.0 when both state nothing); finding_f1_micro = F1 of TP/FP/FN pooled over all "
        "reports; finding_f1_macro = mean over observation classes of pooled per-class F1 (classes with no "
        "reference or candidate finding left out)")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            ref, source = reference_findings(it.case)
            c = compare_findings(ref, extract_findings(it.answer.report or ""))
            score = f1(c["tp"], c["fp"], c["fn"])
            rows.append({"finding_f1": score, "finding_f1_micro": score, "finding_f1_macro": _macro(c["classes"]),
                         "finding_precision": c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None,
                         "finding_recall": c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None,
                         "reference_source": source,
                         "_tp": c["tp"], "_fp": c["fp"], "_fn": c["fn"], "_classes": c["classes"]})
        return rows

    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        if not rows:
            return {o: None for o in self.outputs}
        tp, fp, fn = (sum(r[k] for r in rows) for k in ("_tp", "_fp", "_fn"))
        classes: dict[str, list[int]] = {}
        for r in rows:
            for cls, counts in r["_classes"].items():
                acc = classes.setdefault(cls, [0, 0, 0])
                for k in range(3):
                    acc[k] += counts[k]
        return {"finding_f1": float(np.mean([r["finding_f1"] for r in rows])),
                "finding_f1_micro": f1(tp, fp, fn), "finding_f1_macro": _macro(classes)}

    def bootstrap_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> dict[str, np.ndarray]:
        """Pooled counts summed over all resamples at once (the same numbers as ``aggregate`` per resample)."""
        def arrays() -> tuple[np.ndarray, np.ndarray]:
            names = sorted({cls for r in rows for cls in r["_classes"]})
            counts = np.array([[r["_tp"], r["_fp"], r["_fn"]] + [r["_classes"].get(c, (0, 0, 0))[k] for c in names
                                                                    for k in range(3)] for r in rows], dtype=float)
            return counts, np.array([r["finding_f1"] for r in rows])

        counts, scores = self.rows_arrays(rows, "finding_f1", arrays)  # made once for all blocks of resamples
        sums = resampled_sums(counts, resamples)  # (n_boot, 3 + 3 * classes); counts are sums of credits: exact
        per_report = scores[resamples].mean(axis=1)
        macro = []
        for s in sums:
            per_class = s[3:].reshape(-1, 3)
            vals = [f1(*c) for c in per_class if c.sum() > 0]
            macro.append(float(np.mean(vals)) if vals else 1.0)
        return {"finding_f1": per_report, "finding_f1_micro": np.array([f1(*s[:3]) for s in sums]),
                "finding_f1_macro": np.array(macro)}


CHEXPERT_LABELS = ("Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
                   "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
                   "Pleural Other", "Fracture", "Support Devices", "No Finding")
CHEXPERT_TOP5 = ("Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion")
_TOP5_IDX = tuple(CHEXPERT_LABELS.index(l) for l in CHEXPERT_TOP5)


def chexpert_vector(findings: Iterable[Finding]) -> list[int]:
    """14 binary labels, positive-or-uncertain = 1 ("rrg" convention); No Finding = no pathology label set
    (Support Devices does not count as pathology)."""
    lex = lexicon()
    vec = [0] * len(CHEXPERT_LABELS)
    for f in findings:
        if f.presence is Presence.ABSENT:
            continue
        label = lex.chexpert_label(lex.canonical_observation(f.observation), lex.canonical_anatomy(f.anatomy),
                                   f.attributes)
        if label is not None:
            vec[CHEXPERT_LABELS.index(label)] = 1
    pathology = [i for i, l in enumerate(CHEXPERT_LABELS) if l not in ("No Finding", "Support Devices")]
    vec[-1] = int(not any(vec[i] for i in pathology))
    return vec


def _label_f1s(ref: np.ndarray, cand: np.ndarray, idx: Sequence[int]) -> tuple[float, float]:
    r, c = ref[:, idx], cand[:, idx]
    tp = (r & c).sum(axis=0)
    fp = ((1 - r) & c).sum(axis=0)
    fn = (r & (1 - c)).sum(axis=0)
    micro = f1(tp.sum(), fp.sum(), fn.sum())
    per = [f1(a, b, d) for a, b, d in zip(tp, fp, fn) if a + b + d > 0]
    return micro, (float(np.mean(per)) if per else 1.0)


def _is_cxr(task: Task) -> bool:
    """A chest X-ray task declares it (``Task.modality``); the core knows no task by name."""
    return str(getattr(task, "modality", "") or "").lower() == "cxr"


class CheXpertF1Metric(Metric):
    """CheXpert-style 14-label F1 for chest X-ray reports (labels from the findings lexicon, not CheXbert)."""

    name = "chexpert_f1"
    per_case_independent = True
    outputs = ("chexpert_f1_micro_14", "chexpert_f1_macro_14", "chexpert_f1_micro_5", "chexpert_f1_macro_5")
    variant = (
        "14 CheXpert labels read from harness.findings (a lexicon labeler, not CheXbert/CheXpert-labeler); "
        "positive or uncertain = 1, negative or unmentioned = 0 ('rrg' convention); No Finding = 1 when no "
        "pathology label is set; micro = F1 of TP/FP/FN pooled over labels and reports; macro = mean over labels "
        "of per-label F1 pooled over reports, labels positive in neither reference nor candidate left out; "
        "a heart or mediastinum called unchanged but not normal reads as possible enlargement and a size at the "
        "upper limit of normal as possible cardiomegaly (the CheXpert labeler's conventions); "
        "'_5' = cardiomegaly, edema, consolidation, atelectasis, pleural effusion; reference = case truth "
        "findings when present, else the reference report")

    def unavailable(self, task: Task, items: Sequence[ScoredItem]) -> str | None:
        if not _is_cxr(task):
            return (f"not run: CheXpert labels are defined for chest X-ray reports and task "
                    f"'{getattr(task, 'name', task)}' is not a chest X-ray task")
        return None

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            ref, _ = reference_findings(it.case)
            row: dict[str, Any] = {"_ref": chexpert_vector(ref),
                                   "_cand": chexpert_vector(extract_findings(it.answer.report or ""))}
            row.update(self.aggregate([row]))
            rows.append(row)
        return rows

    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        if not rows:
            return {o: None for o in self.outputs}
        ref = np.asarray([r["_ref"] for r in rows], dtype=np.int64)
        cand = np.asarray([r["_cand"] for r in rows], dtype=np.int64)
        mi14, ma14 = _label_f1s(ref, cand, range(len(CHEXPERT_LABELS)))
        mi5, ma5 = _label_f1s(ref, cand, _TOP5_IDX)
        return {"chexpert_f1_micro_14": mi14, "chexpert_f1_macro_14": ma14,
                "chexpert_f1_micro_5": mi5, "chexpert_f1_macro_5": ma5}

    def bootstrap_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> dict[str, np.ndarray]:
        """Per-label TP/FP/FN summed over all resamples at once (the same numbers as ``aggregate`` per resample)."""
        ref = np.asarray([r["_ref"] for r in rows], dtype=np.int64)
        cand = np.asarray([r["_cand"] for r in rows], dtype=np.int64)
        tp, fp, fn = (resampled_sums(x, resamples) for x in (ref & cand, (1 - ref) & cand, ref & (1 - cand)))
        out = {}
        for suffix, idx in (("14", list(range(len(CHEXPERT_LABELS)))), ("5", list(_TOP5_IDX))):
            t, p_, n_ = tp[:, idx], fp[:, idx], fn[:, idx]
            denom = 2 * t.sum(1) + p_.sum(1) + n_.sum(1)
            out[f"chexpert_f1_micro_{suffix}"] = np.where(denom == 0, 1.0, 2 * t.sum(1) / np.maximum(denom, 1))
            per = 2 * t + p_ + n_
            used = per > 0  # labels positive in neither reference nor candidate are left out, as in aggregate
            label_f1 = np.where(used, 2 * t / np.maximum(per, 1), 0.0)
            n_used = used.sum(1)
            out[f"chexpert_f1_macro_{suffix}"] = np.where(n_used > 0, label_f1.sum(1) / np.maximum(n_used, 1), 1.0)
        return out


class HallucinationRateMetric(Metric):
    """Share of reports that state a finding where the truth has none (the harm the E-MRL rewards target)."""

    name = "hallucination"
    per_case_independent = True
    outputs = ("hallucination_rate",)
    higher_is_better = False
    variant = ("per report: 1 when it states a finding present or uncertain at an (organ, side) where the case's "
               "structured truth has no present finding, else 0 (findings read by harness.findings); mean over "
               "reports; cases without structured truth do not count")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        rows = []
        for it in items:
            if not it.case.findings:
                rows.append({"hallucination_rate": None})
                continue
            truth = {(f.anatomy, f.laterality) for f in it.case.findings if f.presence is Presence.PRESENT}
            stated = {(f.anatomy, f.laterality) for f in extract_findings(it.answer.report or "")
                      if f.presence is not Presence.ABSENT}
            invented = stated - truth
            rows.append({"hallucination_rate": float(bool(invented)), "invented_sites": sorted(map(str, invented))})
        return rows
