"""A report's findings: each with the words it was read from, and the report-level rules that make one finding of
the several statements of it (a hedge and its sign in one sentence, an impression restating a finding, a
clause denying the last finding on the other side).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

from harness.findings.lexicon import UNSPECIFIED, Lexicon
from harness.schema import Certainty, Finding, Presence


#: how a tip's vertebral level is joined to the place it is in ("superior vena cava at T6 level")
LEVEL_JOIN = " at "


def position_parts(position: str | None) -> tuple[str | None, str | None]:
    """A tip position's place and vertebral level: "superior vena cava at T6 level" -> ("superior vena cava", "T6
    level"); "T6 level" -> (None, "T6 level"); "right atrium" -> ("right atrium", None)."""
    if position is None:
        return None, None
    place, join, level = position.rpartition(LEVEL_JOIN)
    if join and level.endswith(" level") and place:
        return place, level
    if position.endswith(" level") and position[:1] in "CTLS" and position.split()[0][1:].isdecimal():
        return None, position
    return position, None


def position_within(a: str | None, b: str | None) -> bool:
    """``a`` says no more of the tip than ``b`` does: unstated, equal, or ``b``'s place (or level) with ``b``'s
    level (or place) left out."""
    if a is None or a == b:
        return True
    (pa, la), (pb, lb) = position_parts(a), position_parts(b)
    return (pa is None or pa == pb) and (la is None or la == lb)


def positions_consistent(a: str | None, b: str | None) -> bool:
    """Two statements of one tip agree: each part either states leaves unstated or states the same."""
    (pa, la), (pb, lb) = position_parts(a), position_parts(b)
    return (pa is None or pb is None or pa == pb) and (la is None or lb is None or la == lb)


def fuller_position(a: str | None, b: str | None) -> str | None:
    """Of two consistent statements of a tip, one that states its place and its level both."""
    if a is None or b is None:
        return a or b
    (pa, la), (pb, lb) = position_parts(a), position_parts(b)
    place, level = pa or pb, la or lb
    return f"{place}{LEVEL_JOIN}{level}" if place and level else place or level


@dataclass(frozen=True)
class ParsedFinding:
    """A finding with the words it was read from (the entity score embeds these)."""

    finding: Finding
    observation_text: str
    anatomy_text: str  # "" when the organ was not named (default anatomy)
    #: named as one more of its kind ("another nodule", "a second cyst", "an additional fracture"): a finding of its
    #: own, never a restatement of one stated before
    distinct: bool = False


def _less_specific(f: Finding, g: Finding, lex: Lexicon) -> bool:
    """``f`` says nothing that ``g`` does not (an impression restating a finding)."""
    if f.presence is not g.presence or not lex.observations_compatible(f.observation, g.observation, f.presence):
        return False
    # "subcarinal nodes" after "subcarinal lymphadenopathy": the node named bare says less than the enlarged node
    enlarged_of_f = lex.observations.get(f.observation, {}).get("enlarged") == g.observation
    if f.presence is not Presence.ABSENT and lex.is_generic(g.observation) and not lex.is_generic(f.observation) \
            and not enlarged_of_f:
        return False
    if f.anatomy != g.anatomy and f.anatomy != UNSPECIFIED and not (lex.is_device(f.observation)
                                                                    and lex.is_device(g.observation)):
        return False
    if f.presence is Presence.ABSENT:
        # ("a neoplasm is unlikely" weighs a diagnosis: a normal organ elsewhere does not say it)
        return f.anatomy == UNSPECIFIED and (f.certainty is not Certainty.IMPROBABLE or g.certainty is f.certainty)
    return ((f.laterality is None or f.laterality == g.laterality)
            and (f.sub_location is None or f.sub_location == g.sub_location
                 or (g.sub_location is not None and lex.sub_contains(g.anatomy, f.sub_location, g.sub_location)))
            and (f.size_mm is None or f.size_mm == g.size_mm)
            and (f.count is None or f.count == g.count)
            and (f.severity is None or f.severity == g.severity)
            and (f.temporal is None or f.temporal == g.temporal)
            and position_within(f.position, g.position)
            and (f.certainty is None or f.certainty == g.certainty)
            and (f.attributes <= g.attributes or (
                # ... and its plural states no number where the enlargement is not counted
                enlarged_of_f and not lex.is_countable(g.observation)
                and f.attributes - {"multiple", "many"} <= g.attributes)))


def _restates_group(f: Finding, others: Sequence[Finding], lex: Lexicon) -> bool:
    """``f`` states as a group what other findings state one site each ("Three liver metastases." after
    "segment II 1.8 cm, segment IVb 2.6 cm, segment VI 3.1 cm"; "Stable pulmonary nodules." after a nodule in
    each of two lobes): its count is theirs together, and it says nothing else that each does not."""
    if f.presence is Presence.ABSENT or (f.count is None and "multiple" not in f.attributes) \
            or (f.count is not None and f.count < 2):  # (a count of one restates no group: said before the rest)
        return False
    singles = [g for g in others if g is not f and g.count == 1]
    if len(singles) < 2:  # a group is never restated by fewer than two (checked first: most reports have none)
        return False
    whole = dataclasses.replace(f, count=None, attributes=f.attributes - {"multiple", "many"})
    members = [g for g in singles if _less_specific(whole, g, lex)]
    if f.count is not None:
        return len(members) == f.count > 1
    return len(members) >= (3 if "many" in f.attributes else 2)


def _fields_combine(f: Finding, g: Finding, lex: Lexicon, one_name: bool = False) -> bool:
    """Two statements of one finding that do not contradict each other ("left effusion" ... "the effusion is
    small"; "pancreatitis" ... "consistent with pancreatitis")."""
    if f.presence is not g.presence or f.observation != g.observation:
        return False
    if f.anatomy != g.anatomy and not lex.is_device(f.observation):
        return False

    def agree(a, b) -> bool:
        return a is None or b is None or a == b

    if ("multiple" in f.attributes and g.count == 1) or ("multiple" in g.attributes and f.count == 1):
        return False

    return (agree(f.laterality, g.laterality) and agree(f.size_mm, g.size_mm) and agree(f.count, g.count)
            and agree(f.severity, g.severity) and agree(f.temporal, g.temporal)
            and (positions_consistent(f.position, g.position)
                 or one_name and (_where_meant(f, g, lex) or _where_meant(g, f, lex)))
            and (agree(f.sub_location, g.sub_location) or lex.sub_contains(f.anatomy, f.sub_location, g.sub_location)
                 or lex.sub_contains(f.anatomy, g.sub_location, f.sub_location)))


def _where_meant(f: Finding, g: Finding, lex: Lexicon) -> bool:
    """"PICC appropriately positioned" (the impression) after "PICC tip at the cavoatrial junction": a device said
    to be where it is meant to be restates the device whose tip was named, not a second one."""
    return lex.is_device(f.observation) and f.position is not None \
        and f.position == lex.expected_position(f.observation) and g.position is not None


def _combined(f: Finding, g: Finding, lex: Lexicon) -> Finding:
    sub = f.sub_location
    if sub is None or (g.sub_location is not None and lex.sub_contains(f.anatomy, sub, g.sub_location)):
        sub = g.sub_location
    return dataclasses.replace(
        f, sub_location=sub, laterality=f.laterality or g.laterality, size_mm=f.size_mm or g.size_mm,
        count=f.count if f.count is not None else g.count, severity=f.severity or g.severity,
        temporal=f.temporal or g.temporal,
        position=g.position if g.position is not None and _where_meant(f, g, lex) else fuller_position(
            f.position, g.position) if positions_consistent(f.position, g.position) else f.position or g.position,
        certainty=f.certainty or g.certainty, attributes=f.attributes | g.attributes)


def _merge_restatements(items: list[ParsedFinding], lex: Lexicon) -> list[ParsedFinding]:
    """One finding stated in pieces across a report (findings then impression, a hedge then a grade) is one
    finding with every detail stated; absent findings are left as they are."""
    out: list[ParsedFinding] = []
    for it in items:
        f = it.finding
        if f.presence is not Presence.ABSENT:
            for k, kept in enumerate(out):
                # a device said to be in place restates one named by the same words ("PICC ... PICC appropriately
                # positioned"), not another of its kind ("NG tube in the stomach", "Dobhoff tip in the duodenum");
                # "another nodule" is none of the nodules before it (but "a second nodule" said again restates it)
                if (kept.distinct or not it.distinct) and _fields_combine(kept.finding, f, lex, kept.observation_text == it.observation_text):
                    text = kept.anatomy_text if len(kept.anatomy_text) >= len(it.anatomy_text) else it.anatomy_text
                    out[k] = ParsedFinding(_combined(kept.finding, f, lex), kept.observation_text, text)
                    break
            else:
                out.append(it)
        else:
            out.append(it)
    return _signs_with_their_disease(_sized_dilatation_with_its_disease(_looks_with_their_diagnosis(out, lex), lex))


#: what inflammation looks like beside the disease it belongs to ("with surrounding fat stranding")
_INFLAMMATORY_SIGNS = frozenset({"inflammation", "fat stranding"})


def _signs_with_their_disease(items: list[ParsedFinding]) -> list[ParsedFinding]:
    """"Acute appendicitis with periappendiceal fat stranding", "diverticulitis with pericolic inflammatory change":
    inflammation stated present in the organ of an inflammatory disease stated present there (an "-itis") is that
    disease's own sign, not a second finding; inflammation denied there, or stated elsewhere, stays."""
    diseased = {(it.finding.anatomy, it.finding.laterality) for it in items
                if it.finding.presence is Presence.PRESENT and it.finding.observation.endswith("itis")}
    return [it for it in items if not (
        it.finding.observation in _INFLAMMATORY_SIGNS and it.finding.presence is Presence.PRESENT
        and any(a == it.finding.anatomy and (s is None or it.finding.laterality in (None, s)) for a, s in diseased))]


def _looks_with_their_diagnosis(items: list[ParsedFinding], lex: Lexicon) -> list[ParsedFinding]:
    """"2.7 cm observation in segment VIII ... IMPRESSION: LR-5 observation in segment VIII, consistent with HCC": a
    focal lesion named by its look ("lesion", "observation", "mass", "nodule") and one diagnosis of a focal lesion at
    the same site, with no detail that tells them apart, are one lesion: the diagnosis with the look's size and count. Kept
    apart, a report's two statements of one lesion match the other report's two crosswise, and a changed size is
    never compared. Where more than one diagnosis fits, which one the look is stays open and both are kept. A diffuse
    sign and the disease of its kind at one site ("RML consolidation ... IMPRESSION: RML pneumonia") are one finding
    the same way."""
    looks = [k for k, it in enumerate(items) if it.finding.presence is not Presence.ABSENT
             and (_names_a_look(it.finding.observation, lex) or _sign(it.finding.observation, lex))]
    if not looks:
        return items
    merged: dict[int, ParsedFinding] = {}
    dropped: set[int] = set()
    for k in looks:
        look = items[k].finding
        # (the presence and organ _fields_combine asks for first are tested before the look is rebuilt for it)
        fits = [j for j, it in enumerate(items) if j != k and j not in dropped and (
            it.finding.certainty.presence if it.finding.certainty is not None else look.presence) is merged.get(
            j, it).finding.presence and (look.anatomy == it.finding.anatomy or lex.is_device(it.finding.observation))
            and (not _names_a_look(
            it.finding.observation, lex) and lex.is_focal(it.finding.observation) if lex.is_focal(look.observation)
            else lex.is_sign_of(look.observation, it.finding.observation)) and _fields_combine(
            dataclasses.replace(look, observation=it.finding.observation, certainty=it.finding.certainty),
            merged.get(j, it).finding, lex)]
        if len(fits) != 1:
            continue
        j = fits[0]
        diagnosis = merged.get(j, items[j])
        text = diagnosis.anatomy_text if len(diagnosis.anatomy_text) >= len(items[k].anatomy_text) \
            else items[k].anatomy_text
        merged[j] = ParsedFinding(_combined(diagnosis.finding, look, lex), diagnosis.observation_text, text)
        dropped.add(k)
    return [merged.get(j, it) for j, it in enumerate(items) if j not in dropped]


def _sign(observation: str, lex: Lexicon) -> bool:
    """A diffuse sign that a disease of its family may name ("consolidation": pneumonia)."""
    return bool(lex.observations.get(observation, {}).get("sign"))


def _sized_dilatation_with_its_disease(items: list[ParsedFinding], lex: Lexicon) -> list[ParsedFinding]:
    """"The appendix is dilated to 13 mm ... in keeping with appendicitis": an organ's measured dilatation and the one
    disease of that organ it is read as are one finding, the disease with the dilatation's size, as "appendicitis
    with the appendix measuring 13 mm" is read. Kept apart, the size of one report is never compared with the
    other's."""
    sized = [k for k, it in enumerate(items) if it.finding.observation == "enlargement"
             and it.finding.presence is not Presence.ABSENT and it.finding.size_mm is not None]
    if not sized:
        return items
    merged: dict[int, ParsedFinding] = {}
    dropped: set[int] = set()
    for k in sized:
        dilated = items[k].finding
        fits = [j for j, it in enumerate(items) if j != k and j not in merged
                and lex.observations.get(it.finding.observation, {}).get("type") == "DISEASE"
                and not (lex.is_focal(it.finding.observation) or lex.is_countable(it.finding.observation))
                and _fields_combine(dataclasses.replace(dilated, observation=it.finding.observation,
                                                        certainty=it.finding.certainty), it.finding, lex)]
        if len(fits) != 1:
            continue
        j = fits[0]
        merged[j] = dataclasses.replace(items[j], finding=_combined(items[j].finding, dilated, lex))
        dropped.add(k)
    return [merged.get(j, it) for j, it in enumerate(items) if j not in dropped]


def _names_a_look(observation: str, lex: Lexicon) -> bool:
    """A focal lesion named by how it looks ("lesion", "mass", "nodule"), not by what it is."""
    return lex.family(observation) == "lesion" and (
        lex.is_generic(observation) or bool(lex.observations.get(observation, {}).get("descriptive")))


_ELLIPSIS_WORDS = frozenset({"none", "nil", "no", "not", "on", "in", "at", "the", "side", "seen", "identified",
                              "is", "are", "present", "evident", "either", "other", "opposite", "contralateral",
                              "right", "left"})


def _elliptic_denial(tokens: tuple[str, ...], items: list[ParsedFinding], lex: Lexicon) -> ParsedFinding | None:
    """"Small left apical pneumothorax; none on the right": a clause that denies the last finding on another side
    is that finding, absent, on that side."""
    if not tokens or tokens[0] not in ("none", "nil", "not") or not set(tokens) <= _ELLIPSIS_WORDS:
        return None
    side = next((w for w in tokens if w in ("right", "left")), None)
    last = next((it for it in reversed(items) if it.finding.presence is not Presence.ABSENT), None)
    if side is None or last is None or not lex.is_paired(last.finding.anatomy) \
            or last.finding.laterality in (side, "bilateral"):
        return None
    f = Finding(observation=last.finding.observation, anatomy=last.finding.anatomy, laterality=side,
                presence=Presence.ABSENT, certainty=Certainty.ABSENT)
    return ParsedFinding(f, last.observation_text, side)


#: verbs after which a side standing alone is the subject of its own statement ("the left is unchanged")
_ELLIPTIC_VERBS = frozenset({"is", "are", "has", "have", "remains", "remain", "was", "appears", "measures", "now"})


#: the changes a side alone may be said to have, and the words that may come with them
_ELLIPTIC_CHANGES = frozenset({"unchanged", "stable", "increased", "decreased", "resolved", "smaller", "larger",
                               "new", "improved", "worse", "worsened", "similar", "grown", "enlarged", "reduced",
                               "bigger", "redemonstrated", "persistent", "persists", "cleared", "regressed",
                               "progressed", "unaltered", "longer"})
_ELLIPTIC_CHANGE_WORDS = _ELLIPTIC_CHANGES | frozenset({
    "slightly", "minimally", "mildly", "in", "size", "also", "now", "again", "essentially", "largely", "partially",
    "completely", "more", "less", "than", "before", "previously", "on", "the", "prior", "previous", "study", "since",
    "from", "somewhat", "much", "significantly", "not", "no", "longer", "seen", "appearance", "extent", "decreasing",
    "increasing", "improving", "worsening", "a", "little", "marginally", "compared", "with", "to", "has", "have",
    "been", "and"})


def _elliptic_side_subject(tokens: tuple[str, ...], items: list[ParsedFinding], lex: Lexicon) -> tuple[str, ...] | None:
    """"The right effusion has increased; the left has resolved", "... . The left is unchanged.": a clause whose
    subject is a side alone says its predicate of the last finding, on that side: read with the finding's noun
    after the side ("the left effusion has resolved")."""
    k = 1 if tokens[:1] == ("the",) else 0
    if len(tokens) < k + 3 or tokens[k] not in ("right", "left") or tokens[k + 1] not in _ELLIPTIC_VERBS:
        return None
    # only a change ("the left is unchanged", "has resolved"): "the left is clear" says the left lung is normal
    rest = [w for w in tokens[k + 1:] if w not in (".", ";", ",")]
    if not set(rest) <= _ELLIPTIC_CHANGE_WORDS | _ELLIPTIC_VERBS or not set(rest) & _ELLIPTIC_CHANGES:
        return None
    last = next((it for it in reversed(items) if it.finding.presence is not Presence.ABSENT), None)
    if last is None or not lex.is_paired(last.finding.anatomy) \
            or last.finding.laterality not in ("left", "right") or last.finding.laterality == tokens[k]:
        return None
    noun = tuple(w for w in last.observation_text.split() if w not in ("right", "left"))
    return (*tokens[:k + 1], *noun, *tokens[k + 1:]) if noun else None


#: findings that are air where it should not be: a lucency said with one is how the air looks
_AIR_FINDINGS = frozenset({"pneumothorax", "pneumoperitoneum", "pneumomediastinum", "subcutaneous emphysema",
                           "pneumatosis", "pneumobilia", "portal venous gas"})


def _lucency_as_air(items: Sequence[ParsedFinding]) -> list[ParsedFinding]:
    """"A subtle lucency at the right apex, consistent with a small pneumothorax", "pneumothorax seen as a subtle
    lucency": the lucency is the air the sentence names (stated or hedged), not a lesion besides it."""
    if not any(it.finding.observation in _AIR_FINDINGS and it.finding.presence is not Presence.ABSENT
               for it in items):
        return list(items)
    return [it for it in items if not (it.finding.observation == "lesion"
                                       and it.observation_text.split()[-1:] in (["lucency"], ["lucencies"]))]


def _hedged_once(items: Sequence[ParsedFinding], lex: Lexicon) -> list[ParsedFinding]:
    """A sentence that states a finding and then hedges it ("a filling defect, which may represent a small
    embolus"; the defect is how an embolus looks) states one possible finding, not a present and a possible one."""
    items = _lucency_as_air(items)
    hedged = [it.finding for it in items if it.finding.presence is Presence.UNCERTAIN]
    if not hedged:
        return list(items)
    # but an organ's measured enlargement is a fact, and the hedge names what it may mean ("main pulmonary artery
    # dilated to 34 mm, raising the question of pulmonary hypertension"): the measured finding stays, the hedge goes
    measured = [it.finding for it in items if it.finding.presence is Presence.PRESENT and it.finding.size_mm
                and it.finding.observation == lex.enlargement_of(it.finding.anatomy, it.finding.sub_location)
                and any(g.size_mm is None and _fields_combine(
                    dataclasses.replace(it.finding, presence=Presence.UNCERTAIN, certainty=None), g, lex)
                        for g in hedged)]
    if measured:
        return [it for it in items if not (it.finding.presence is Presence.UNCERTAIN and it.finding.size_mm is None
                                           and any(_fields_combine(dataclasses.replace(
                                               m, presence=Presence.UNCERTAIN, certainty=None), it.finding, lex)
                                                   for m in measured))]
    return [it for it in items if not (it.finding.presence is Presence.PRESENT and any(
        _fields_combine(dataclasses.replace(it.finding, presence=Presence.UNCERTAIN, certainty=None), g, lex)
        for g in hedged))]


def _explained_away(items: Sequence[ParsedFinding], lex: Lexicon) -> list[ParsedFinding]:
    """"Widened mediastinum. IMPRESSION: mediastinal widening, likely projectional": a finding stated plainly and
    then called improbable (explained by a mimic, or "unlikely") is the one improbable finding, not also a present
    one: the later reading explains what the first only described."""
    improbable = [it.finding for it in items if it.finding.certainty is Certainty.IMPROBABLE]
    if not improbable:
        return list(items)
    return [it for it in items if not (it.finding.presence is Presence.PRESENT and it.finding.certainty is None and any(
        _fields_combine(dataclasses.replace(it.finding, presence=g.presence, certainty=None), g, lex)
        for g in improbable))]


def _sort_key(f: Finding) -> tuple:
    return (f.anatomy, f.laterality or "", f.sub_location or "", f.observation, f.presence.value,
            f.size_mm or 0.0, f.count or 0, tuple(sorted(f.attributes)), f.severity or "", f.temporal or "",
            f.position or "", f.certainty.value if f.certainty else "")
