"""Clinical metrics on the shared findings model: finding F1 and a CheXpert-style 14-label F1.

Both read the candidate report with ``harness.findings.extract_findings``. The reference side is the case's
truth findings when it has them (synthetic sets: exact, and equal to what the reference report says, which a
round-trip test holds) and the findings extracted from the reference report otherwise (real datasets).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from harness.findings.extract import extract_findings
from harness.findings.lexicon import lexicon
from harness.metrics.base import Metric, Row, resampled_sums
from harness.schema import SEVERITY_GRADES, Case, Finding, Presence
from harness.task import ScoredItem, Task

# Two sizes are the same measurement within max(2 mm, 10%): about the inter-reader variability of a CT diameter,
# and below the smallest change that matters clinically (Fleischner: 2 mm nodule growth; RECIST: 20% is
# progression), so "5.4 cm" and "6.6 cm" are different aneurysms, "11 mm" and "1.2 cm" the same node.
SIZE_TOLERANCE_MM = 2.0
SIZE_TOLERANCE_REL = 0.10


def sizes_agree(a: float | None, b: float | None) -> bool:
    """Sizes agree when either is unstated or they differ by at most max(2 mm, 10% of the larger)."""
    if a is None or b is None:
        return True
    return abs(a - b) <= max(SIZE_TOLERANCE_MM, SIZE_TOLERANCE_REL * max(a, b))


def plurality(attributes) -> int:
    """The least count a plural word states: 3 for "several", "numerous" (attribute "many"), 2 for "multiple", 0
    when no plural word is stated."""
    return 3 if "many" in attributes else 2 if "multiple" in attributes else 0


def counts_agree(a: int | None, a_least: int, b: int | None, b_least: int) -> bool:
    """Counts agree when either is unstated, both are equal, two plural words meet, or a plural word meets a count
    at least the least it states ("multiple" = two or more, "several" = three or more); ``*_least`` is
    ``plurality`` (0 when no plural word)."""
    if a_least and b_least:
        return True
    if a_least:
        return b is None or b >= a_least
    if b_least:
        return a is None or a >= b_least
    return a is None or b is None or a == b


# A less specific statement of the same finding ("liver lesion" for "segment 7 lesion", an effusion with no side
# for a left one) is not wrong, only less precise: it keeps three quarters (it was a half, which ranked a
# paraphrase that names the lobe but not the segment below a one-error report: dev 0.917 -> 0.924, dev_b
# 0.817 -> 0.837 with both at 0.75). A different sub-location or side still gets nothing.
SUB_LOCATION_PARTIAL_CREDIT = 0.75
# ... but where a diffuse process (emphysema, fibrosis, oedema, bronchiectasis) has its distribution stated in one
# report only ("basal-predominant fibrosis" / "fibrosis"), the place is a description, not part of what the finding
# is: it keeps nine tenths (dev splits: 5 triplets ranked right that were not, none lost; 1.0 lost three wrong
# sub-location corruptions whose new sub-location the reader missed)
DIFFUSE_SUB_LOCATION_CREDIT = 0.9
# A stated negative weighs half a stated finding: leaving out "no pneumothorax" says less that is wrong than
# leaving out a pneumothorax (CheXbert-style label F1 gives negatives no weight, RadGraph F1 full weight), and
# a normal organ can be said in many ways that each name different negatives.
ABSENT_FINDING_WEIGHT = 0.5
SIDE_PARTIAL_CREDIT = 0.75
# A focal finding named by its look in one report and by its diagnosis in the other ("4 cm right renal mass" /
# "4 cm right RCC") is the same finding named at two levels: half a match (a paraphrase often names it one way
# and the reference the other; a finding of another kind is still no match)
DESCRIPTIVE_PARTIAL_CREDIT = 0.5
# A finding one report states and the other denies ("small left effusion" / "no pleural effusion") is worse than
# one the other report leaves out: the reader of the second report is told the opposite. Its miss weighs this much
# more (both reports' own statements already count one miss each). Measured on the tuning splits (share of
# triplets ranked): dev 0.940 -> 0.942, dev_b 0.881 -> 0.901. A finding stated on one side where the other report
# states it only on the other side is a contradiction too (dev_b 0.901 -> 0.909, dev_c 0.779 -> 0.784).
CONTRADICTION_WEIGHT = 1.0


# Severity is read off adjectives whose boundaries readers draw differently ("small" / "moderate" effusion, "mild"
# / "moderate" cardiomegaly), so one grade apart is not wrong, but it is not the same statement either: it keeps
# three quarters of the credit, as a less specific sub-location does; two grades apart ("small" / "large") is
# another finding. Measured on the tuning splits (share of triplets ranked, finding F1): see the closing note
# of issue 12 and benchmarks/results/reader_eval.json.
ADJACENT_SEVERITY_CREDIT = 0.75


def severity_credit(a: str | None, b: str | None) -> float:
    """1.0 when either severity is unstated or both are the same grade, ``ADJACENT_SEVERITY_CREDIT`` one grade
    apart on ``SEVERITY_GRADES``, 0.0 two or more grades apart."""
    if a is None or b is None or a == b:
        return 1.0
    return ADJACENT_SEVERITY_CREDIT if abs(SEVERITY_GRADES.index(a) - SEVERITY_GRADES.index(b)) == 1 else 0.0


def severities_agree(a: str | None, b: str | None) -> bool:
    """Severities agree (fully or in part) when either is unstated or they are at most one grade apart."""
    return severity_credit(a, b) > 0


def sub_location_credit(organ: str, a: str | None, b: str | None) -> float:
    """1.0 for the same sub-location (or both unstated), ``SUB_LOCATION_PARTIAL_CREDIT`` when one contains the
    other along the lexicon's hierarchy (segment within lobe within organ: an unstated sub-location is the whole
    organ), 0.0 for two sub-locations neither of which contains the other."""
    if a == b:
        return 1.0
    lex = lexicon()
    if a is None or b is None or lex.sub_contains(organ, a, b) or lex.sub_contains(organ, b, a):
        return SUB_LOCATION_PARTIAL_CREDIT
    return 0.0


@dataclass(frozen=True)
class Unit:
    """One finding as matched: absent focal lesions of any kind read as "no focal lesion", one side each."""

    observation: str
    anatomy: str
    laterality: str | None
    presence: Presence
    sub_location: str | None
    size_mm: float | None
    count: int | None
    multiple: int  # the least count a plural word states (``plurality``), 0 when none
    severity: str | None = None
    temporal: str | None = None
    position: str | None = None
    # the share of one statement this unit is: "no pleural effusion" is one negative matched once per side
    share: float = field(default=1.0, compare=False)


def match_units(findings: Iterable[Finding]) -> list[Unit]:
    """Canonical names; "bilateral" and an absent finding of a paired organ with no side ("no pleural
    effusion") count once per side; duplicates collapse."""
    return list(_match_units(tuple(findings)))


@lru_cache(maxsize=65536)
def _match_units(findings: tuple[Finding, ...]) -> tuple[Unit, ...]:
    lex = lexicon()
    out: dict[Unit, None] = {}
    for f in findings:
        obs = lex.match_observation(lex.canonical_observation(f.observation), f.presence)
        organ = lex.canonical_anatomy(f.anatomy)
        sides: tuple[str | None, ...] = (f.laterality,)
        sub = f.sub_location
        if lex.is_device(obs):  # a device is matched by type, tip position and access side, not by its organ
            organ, sub = "device", None
            sides = (f.laterality if lex.observations.get(obs, {}).get("keeps_side") else None,)
        share = 1.0
        if lex.is_paired(organ) and (f.laterality == "bilateral"
                                     or (f.laterality is None and f.presence is Presence.ABSENT)):
            sides = ("left", "right")
            share = 1.0 if f.laterality == "bilateral" else 0.5  # bilateral: a finding on each side
        absent = f.presence is Presence.ABSENT
        for side in sides:
            out[Unit(obs, organ, side, f.presence, sub,
                     None if absent else f.size_mm, None if absent else f.count,
                     0 if absent else plurality(f.attributes),
                     None if absent else f.severity, f.temporal, None if absent else f.position, share)] = None
    return tuple(out)


def unit_credit(r: Unit, c: Unit) -> float:
    """How much of a match two units are: 0 (no match), partial (less specific sub-location) or 1."""
    side_credit = 1.0
    if r.laterality != c.laterality:
        if r.laterality is not None and c.laterality is not None:
            return 0.0
        side_credit = SIDE_PARTIAL_CREDIT  # a paired organ's side stated on one side only: less specific
    lex = lexicon()
    obs_credit = 1.0
    if not lex.observations_compatible(r.observation, c.observation, r.presence) and not (
            r.presence is Presence.ABSENT and lex.normal_finding(r.anatomy) == "lesion"
            and "lesion" in (r.observation, c.observation)):
        obs_credit = DESCRIPTIVE_PARTIAL_CREDIT if _named_at_two_levels(r.observation, c.observation, lex) else 0.0
    if not (r.anatomy == c.anatomy and r.presence is c.presence and obs_credit > 0
            and sizes_agree(r.size_mm, c.size_mm)
            and counts_agree(r.count, r.multiple, c.count, c.multiple)
            and severities_agree(r.severity, c.severity)
            and (r.temporal is None or c.temporal is None or r.temporal == c.temporal)
            and (r.position is None or c.position is None or r.position == c.position)):
        return 0.0
    if r.presence is Presence.ABSENT:  # "no liver lesion" covers "no lesion in segment 7"
        return side_credit if (r.sub_location is None or c.sub_location is None
                               or sub_location_credit(r.anatomy, r.sub_location, c.sub_location) > 0) else 0.0
    sub_credit = sub_location_credit(r.anatomy, r.sub_location, c.sub_location)
    if sub_credit < 1.0 and None in (r.sub_location, c.sub_location) and not _located(r.observation, lex):
        sub_credit = DIFFUSE_SUB_LOCATION_CREDIT
    return obs_credit * side_credit * severity_credit(r.severity, c.severity) * sub_credit


def _located(obs: str, lex) -> bool:
    """A finding whose place is part of what it is (a nodule, a stone, a node, a device), not the distribution of a
    diffuse process (emphysema, fibrosis, oedema)."""
    return lex.is_focal(obs) or lex.is_countable(obs)


def _named_at_two_levels(a: str, b: str, lex) -> bool:
    """One focal finding named by its look ("mass", "nodule") and by its diagnosis ("carcinoma", "cyst")."""
    return a != b and lex.family(a) == lex.family(b) and bool(
        lex.observations.get(a, {}).get("descriptive") or lex.observations.get(b, {}).get("descriptive"))


def units_match(r: Unit, c: Unit) -> bool:
    return unit_credit(r, c) > 0


def max_matching(ref: Sequence[Unit], cand: Sequence[Unit]) -> list[tuple[int, int, float]]:
    """Maximum-credit bipartite matching (scipy's Hungarian solver): symmetric in ref/cand, independent of
    order. Returns (ref index, candidate index, credit) for pairs with credit > 0."""
    if not ref or not cand:
        return []
    credit = np.array([[unit_credit(r, c) for c in cand] for r in ref])
    if not credit.any():
        return []
    rows, cols = max_credit_assignment(credit)
    return sorted((int(i), int(j), float(credit[i, j])) for i, j in zip(rows, cols) if credit[i, j] > 0)


def max_credit_assignment(credit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy's ``linear_sum_assignment(credit, maximize=True)`` on a non-negative matrix, the same pairs of positive
    credit. When no row or column has two positive entries (the usual case, and the whole of ct_tumor) every
    maximum matching takes exactly the positive pairs, so scipy.optimize (about 0.5 s to import) is not needed."""
    positive = credit > 0
    if (positive.sum(axis=0) <= 1).all() and (positive.sum(axis=1) <= 1).all():
        return np.nonzero(positive)
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    return linear_sum_assignment(credit, maximize=True)


def f1(tp: float, fp: float, fn: float) -> float:
    """F1 = 2TP / (2TP + FP + FN); 1.0 when neither side states anything (they agree)."""
    denom = 2 * tp + fp + fn
    return 1.0 if denom == 0 else 2 * tp / denom


def unit_weight(u: Unit) -> float:
    """What a finding weighs in TP/FP/FN: a stated negative ("no pneumothorax") ``ABSENT_FINDING_WEIGHT``, any
    other finding 1; a side-less negative of a paired organ, matched once per side, half of that per side."""
    return (ABSENT_FINDING_WEIGHT if u.presence is Presence.ABSENT else 1.0) * u.share


def _cover_negatives(units: Sequence[Unit], other: Sequence[Unit], got: dict[int, float], reference: bool) -> None:
    """A negative stated without a sub-location covers every negative of its kind within it: "no
    lymphadenopathy" states "no mediastinal or hilar lymphadenopathy" (both, although matching pairs it with one);
    a region called normal ("normal chest", "no acute abdominal abnormality") covers every negative of an organ in
    it, and is covered by them."""
    lex = lexicon()
    negatives = [v for v in other if v.presence is Presence.ABSENT]
    general = [v for v in negatives if v.sub_location is None]
    regions = [v.anatomy for v in negatives if v.observation == "lesion" and lex.is_region(v.anatomy)]
    for i, u in enumerate(units):
        if u.presence is not Presence.ABSENT or got.get(i, 0.0) >= 1.0:
            continue
        if u.sub_location is not None and general:
            cover = max((unit_credit(u, v) if reference else unit_credit(v, u)) for v in general)
            if cover > got.get(i, 0.0):
                got[i] = cover
        # "the lungs are clear" states "no consolidation" and "no nodule" at once; and when the other report
        # states nothing present in that organ, its negatives of the organ say the organ is normal
        if _organ_normal(u, lex) and any(
                v.anatomy == u.anatomy and _sides_meet(u, v) for v in negatives) and not any(
                v.anatomy == u.anatomy and _sides_meet(u, v) and v.presence is not Presence.ABSENT for v in other):
            got[i] = 1.0
            continue
        if not _organ_normal(u, lex) and any(
                _organ_normal(v, lex) and v.anatomy == u.anatomy and _sides_meet(u, v) for v in negatives):
            got[i] = 1.0
            continue
        # "normal chest radiograph" states "no effusion", "no pneumothorax"...; and those state it in turn
        if any(lex.in_region(r, u.anatomy) for r in regions) or (
                u.observation == "lesion" and lex.is_region(u.anatomy)
                and any(lex.in_region(u.anatomy, v.anatomy) for v in negatives)):
            got[i] = 1.0


def _organ_normal(u: Unit, lex) -> bool:
    """An organ called normal: "no focal lesion" of an organ whose normal statement denies a focal lesion."""
    return u.presence is Presence.ABSENT and u.observation == "lesion" and lex.normal_finding(u.anatomy) == "lesion" \
        and u.sub_location is None


def _sides_meet(u: Unit, v: Unit) -> bool:
    return u.laterality is None or v.laterality is None or u.laterality == v.laterality


def _sides_from_other(units: Sequence[Unit], other: Sequence[Unit]) -> list[Unit]:
    """A finding of a paired organ stated with no side ("mild pulmonary edema") where the other report states it
    on both sides ("bilateral pulmonary edema") is that finding on each side, half a statement each."""
    lex = lexicon()
    out: list[Unit] = []
    for u in units:
        if u.laterality is None and u.presence is not Presence.ABSENT and lex.is_paired(u.anatomy):
            sides = {v.laterality for v in other if v.anatomy == u.anatomy and v.presence is u.presence
                     and v.laterality in ("left", "right")
                     and lex.observations_compatible(u.observation, v.observation, u.presence)}
            if sides == {"left", "right"}:
                out.extend(replace(u, laterality=side, share=u.share / 2) for side in ("left", "right"))
                continue
        out.append(u)
    return out


def _denied(u: Unit, other: Sequence[Unit]) -> bool:
    """The other report states ``u`` (a present or possible finding) absent: the same organ, a compatible
    observation, no other side and no sub-location outside the denied one's."""
    if u.presence is Presence.ABSENT:
        return False
    lex = lexicon()
    return any(v.presence is Presence.ABSENT and v.anatomy == u.anatomy
               and (v.laterality is None or u.laterality is None or v.laterality == u.laterality)
               and lex.observations_compatible(u.observation, v.observation, Presence.ABSENT)
               and (v.sub_location is None or u.sub_location is None
                    or sub_location_credit(u.anatomy, u.sub_location, v.sub_location) > 0)
               for v in other)


def _on_the_other_side(u: Unit, other: Sequence[Unit]) -> bool:
    """The other report states ``u`` on the opposite side of a paired organ, and not on ``u``'s side: a finding on
    the wrong side tells the reader the opposite of where it is."""
    if u.presence is Presence.ABSENT or u.laterality not in ("left", "right"):
        return False
    lex = lexicon()
    opposite = "right" if u.laterality == "left" else "left"

    def same(v: Unit, side: str) -> bool:
        return v.presence is u.presence and v.anatomy == u.anatomy and v.laterality == side \
            and lex.observations_compatible(u.observation, v.observation, u.presence)

    return any(same(v, opposite) for v in other) and not any(same(v, u.laterality) for v in other)


def _contradicted(u: Unit, other: Sequence[Unit]) -> bool:
    return _denied(u, other) or _on_the_other_side(u, other)


def compare_findings(ref: Iterable[Finding], cand: Iterable[Finding]) -> dict[str, Any]:
    """TP/FP/FN overall and per observation class between two sets of findings (each finding weighted by
    ``unit_weight``; the unmatched part of a finding the other report denies, or states only on the other side,
    weighs ``CONTRADICTION_WEIGHT`` more)."""
    r_units, c_units = match_units(ref), match_units(cand)
    r_units, c_units = _sides_from_other(r_units, c_units), _sides_from_other(c_units, r_units)
    pairs = max_matching(r_units, c_units)
    got_r = {i: w for i, _, w in pairs}
    got_c = {j: w for _, j, w in pairs}
    _cover_negatives(r_units, c_units, got_r, reference=True)
    _cover_negatives(c_units, r_units, got_c, reference=False)
    # a partial match (credit w) is w of a true positive and 1 - w of a miss on each side
    classes: dict[str, list[float]] = {}
    tp = fp = fn = 0.0
    for i, u in enumerate(r_units):
        acc = classes.setdefault(u.observation, [0, 0, 0])
        w, weight = got_r.get(i, 0.0), unit_weight(u)
        miss = (1 - w) * (weight + (CONTRADICTION_WEIGHT * u.share if w < 1 and _contradicted(u, c_units) else 0.0))
        acc[0] += w * weight
        acc[2] += miss
        tp += w * weight
        fn += miss
    for j, u in enumerate(c_units):
        w, weight = got_c.get(j, 0.0), unit_weight(u)
        miss = (1 - w) * (weight + (CONTRADICTION_WEIGHT * u.share if w < 1 and _contradicted(u, r_units) else 0.0))
        classes.setdefault(u.observation, [0, 0, 0])[1] += miss
        fp += miss
    return {"tp": tp, "fp": fp, "fn": fn, "classes": classes}


def finding_f1(ref: Iterable[Finding], cand: Iterable[Finding]) -> float:
    c = compare_findings(ref, cand)
    return f1(c["tp"], c["fp"], c["fn"])


def text_finding_f1(reference: str, candidate: str) -> float:
    """Finding F1 between two report texts (both sides extracted)."""
    return finding_f1(extract_findings(reference), extract_findings(candidate))


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
        "a negative with no sub-location covers every negative of its kind within it; a region called normal, "
        "e.g. 'normal chest', and the negatives of organs in it cover each other), organ and certainty class (present incl. probable / possible / absent incl. improbable) agree, "
        f"size within max({SIZE_TOLERANCE_MM:g} mm, {SIZE_TOLERANCE_REL:.0%} of the larger), severity within one grade (minimal<mild<moderate<severe<massive; a focal lesion's 'small'/'large' is its size, not a severity), "
        "and count (a plural word meets a count of at least the least it states: 'multiple' 2, 'several'/'numerous' "
        "3), temporal change and device tip position are equal where both state one; then 1.0, times "
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
        label = lex.chexpert_label(lex.canonical_observation(f.observation), lex.canonical_anatomy(f.anatomy))
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
