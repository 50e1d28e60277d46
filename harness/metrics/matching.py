"""How two sets of findings are matched: the rules of agreement (size within a tolerance, counts, severity grades,
sub-locations along the lexicon's hierarchy), the maximum-credit pairing, and TP/FP/FN with negatives, sides and
contradictions weighed. ``harness.metrics.clinical`` (finding F1), ``harness.metrics.entity`` (the entity score),
the rewards and the leaderboard's re-scoring all use these rules, so a match means the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterable, Sequence

import numpy as np

from harness.findings.extract import extract_findings
from harness.findings.lexicon import UNSPECIFIED, lexicon
from harness.findings.report import position_parts
from harness.findings.sentences import _VERTEBRA_INDEX
from harness.schema import SEVERITY_GRADES, Certainty, Finding, Presence

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


# A device tip read at a vertebral level ("ETT tip at T2" -> "T2 level"): two readers of one film place a tip
# a level apart often enough that one level is reading variation; a level and an anatomical place ("SVC") are
# two frames of reference, and neither contradicts the other.
POSITION_LEVEL_TOLERANCE = 1


def _vertebral_index(position: str) -> int | None:
    """The place of a "T6 level" position in the spine from the top (the reader's order of the vertebrae)."""
    return _VERTEBRA_INDEX.get(position[:-len(" level")].lower()) if position.endswith(" level") else None


def positions_agree(a: str | None, b: str | None) -> bool:
    """Tip positions agree when either is unstated, both are equal, both are vertebral levels at most
    POSITION_LEVEL_TOLERANCE apart ("T6 level", "T7 level"), or one is a vertebral level and the other an
    anatomical place (not compared: different frames). A tip stated at a place and a level both ("superior vena
    cava at T6 level") is compared part by part: its place with a place, its level with a level."""
    if a is None or b is None or a == b:
        return True
    (pa, la), (pb, lb) = position_parts(a), position_parts(b)
    if pa is not None and pb is not None and pa != pb:
        return False
    if la is not None and lb is not None:
        i, j = _vertebral_index(la), _vertebral_index(lb)
        return i is None or j is None or abs(i - j) <= POSITION_LEVEL_TOLERANCE
    return True


def plurality(attributes) -> int:
    """The least count a plural word states: 3 for "several", "numerous" (attribute "many"), 2 for "multiple", 0
    when no plural word is stated."""
    return 3 if "many" in attributes else 2 if "multiple" in attributes else 0


def counts_agree(a: int | None, a_least: int, b: int | None, b_least: int) -> bool:
    """Counts agree when either is unstated, both are equal, two plural words meet, or a plural word meets a count
    at least the least it states ("multiple" = two or more, "several" = three or more); ``*_least`` is
    ``plurality`` (0 when no plural word). Two stated numbers are compared even where a plural word comes with
    them ("four nodules ... metastases" / "two nodules ... metastases": the plural says no more than the numbers)."""
    if a is not None and b is not None:
        return a == b
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
                     None if absent and not _seen_but_doubted(f) else f.size_mm, None if absent else f.count,
                     0 if absent else plurality(f.attributes),
                     None if absent else f.severity, f.temporal, None if absent else f.position, share)] = None
    return tuple(out)


def _seen_but_doubted(f: Finding) -> bool:
    """A finding judged improbable ("a 12 mm nodular opacity, likely a nipple shadow") was seen: its size still
    says what was seen, as a denied finding's ("no nodule") cannot."""
    return f.certainty is Certainty.IMPROBABLE and f.size_mm is not None


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
    if not ((r.anatomy == c.anatomy or _organless_negative(r, c)) and r.presence is c.presence and obs_credit > 0
            and sizes_agree(r.size_mm, c.size_mm)
            and counts_agree(r.count, r.multiple, c.count, c.multiple)
            and severities_agree(r.severity, c.severity)
            and (r.temporal is None or c.temporal is None or r.temporal == c.temporal)
            and positions_agree(r.position, c.position)):
        return 0.0
    if r.presence is Presence.ABSENT:  # "no liver lesion" covers "no lesion in segment 7"
        if r.anatomy != c.anatomy:  # an organ-less negative: the other's denial at its site, of either side
            return 1.0
        return side_credit if (r.sub_location is None or c.sub_location is None
                               or sub_location_credit(r.anatomy, r.sub_location, c.sub_location) > 0) else 0.0
    sub_credit = sub_location_credit(r.anatomy, r.sub_location, c.sub_location)
    if sub_credit < 1.0 and None in (r.sub_location, c.sub_location) and not _located(r.observation, lex):
        sub_credit = DIFFUSE_SUB_LOCATION_CREDIT
    return obs_credit * side_credit * severity_credit(r.severity, c.severity) * sub_credit


def _organless_negative(r: Unit, c: Unit) -> bool:
    """Two negatives, one stated with no organ ("No abscess.", "no drainable collection"): it denies the finding
    anywhere, so it states the other's denial at its site ("no periappendiceal abscess")."""
    return r.presence is c.presence is Presence.ABSENT and UNSPECIFIED in (r.anatomy, c.anatomy)


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
        organless = [v for v in negatives if v.anatomy == UNSPECIFIED and v.anatomy != u.anatomy]
        if (u.sub_location is not None and general) or organless:
            cover = max((unit_credit(u, v) if reference else unit_credit(v, u)) for v in general + organless)
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
    return any(v.presence is Presence.ABSENT and denial_covers(
        (u.observation, u.anatomy, u.laterality, u.sub_location),
        (v.observation, v.anatomy, v.laterality, v.sub_location)) for v in other)


def denial_covers(stated: tuple[str, str, str | None, str | None],
                  denied: tuple[str, str, str | None, str | None]) -> bool:
    """A negative ``denied`` (observation, organ, side, sub-location) denies the stated finding ``stated``: the same
    organ (or none named), a compatible observation, no other side and no sub-location outside the denied one's.
    Finding F1 and the entity score share this rule."""
    observation, organ, laterality, sub = stated
    d_observation, d_organ, d_laterality, d_sub = denied
    return (d_organ in (organ, UNSPECIFIED)
            and (d_laterality is None or laterality is None or d_laterality == laterality)
            and lexicon().observations_compatible(observation, d_observation, Presence.ABSENT)
            and (d_sub is None or sub is None or sub_location_credit(organ, sub, d_sub) > 0))


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
