"""A sentence's read-out -> its ``ParsedFinding`` records: the findings each target states once every word is
attached and shared, and the organs a sentence measures or says were removed (the end of stage 3, see ``extract``).

``extract`` runs the steps in order and calls this module last for each sentence: ``_measured_organs`` and
``_removed_organs`` (an organ measured with no finding named, "Spleen 15 cm."; an organ surgically absent) before
attachment, ``_stated_findings`` after ``attach`` and ``sharing``. There, a target's certainty comes from its context
scope; an organ called normal (or normal in size) denies the finding its abnormality gives; a borderline or
unchanged size leaves an enlargement possible; and a finding becomes one ``Finding`` per site it is in: a device at
its fixed organ, any other finding at each of its locations resolved against where it lives (its own organ, a
region that only frames it, a side named apart, one organ named twice), with its word read as meant in that organ,
and its count, side and part. Nothing here imports ``extract``."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from harness.findings.attach import _obs_name, _plural, _Target, _target_obs
from harness.findings.lexicon import PLURAL_COUNTS, UNSPECIFIED, Lexicon, tokenize
from harness.findings.measures import MAX_SIZE_REACH
from harness.findings.prepass import _may_measure_organ
from harness.findings.report import ParsedFinding
from harness.findings.scan import Span
from harness.findings.sites import Location
from harness.schema import Certainty, Finding, Presence

#: a finding named by a mass noun ("metastatic disease", "nodal involvement", "calculous") states no count
UNCOUNTABLE_HEADS = frozenset({"disease", "involvement", "spread", "infiltration", "change", "changes", "burden",
                               "process", "tissue", "deposition", "calculous", "nodularity"})


def _uncountable(word: str) -> bool:
    """"metastatic disease", "cholelithiasis" (stones, one or many): the word states no count."""
    return word in UNCOUNTABLE_HEADS or word.endswith("lithiasis")


def _stated_findings(spans: list[Span], targets: list[_Target], scope: dict[int, str], resolved: set[int],
                     lex: Lexicon) -> list[ParsedFinding]:
    out: list[ParsedFinding] = []
    for t in targets:
        if t.count is None and t.pos + 1 < len(spans) and spans[t.pos + 1].text in UNCOUNTABLE_HEADS:
            t.count = "unstated"  # "metastatic involvement", "metastatic spread": an adjective before a mass noun
        context = scope.get(t.pos)
        if t.kind in ("BORDERLINE_SIZE", "STABLE_SIZE"):
            out.extend(_possible_enlargements(t, context, lex))
        elif t.kind in ("NORMAL", "NORMAL_SIZE"):
            out.extend(_normal_statement_findings(spans, t, context, lex))
        elif context != "hyp" and not t.refined:
            if t.pos in resolved and context == "neg":
                t.temporal = "resolved"
            out.extend(_findings_of_target(t, _certainty(t, context), lex))
    return out


_CERTAINTY_OF_SCOPE = {"possible": Certainty.POSSIBLE, "improbable": Certainty.IMPROBABLE, "neg": Certainty.ABSENT,
                       "probable": Certainty.PROBABLE, None: Certainty.PRESENT}


def _certainty(t: _Target, context: str | None) -> Certainty:
    certainty = _CERTAINTY_OF_SCOPE[context]
    if t.temporal == "resolved" and certainty is Certainty.PRESENT:
        certainty = Certainty.ABSENT  # "the effusion has resolved" (a resolved-change word outside a scope)
    return certainty


def _possible_enlargements(t: _Target, context: str | None, lex: Lexicon) -> list[ParsedFinding]:
    """A borderline or an unchanged size: the organ's enlargement is possible, not stated."""
    out = []
    for loc in t.locations:
        # ("stable cardiomediastinal silhouette": the heart's size too, as a normal silhouette is a normal heart)
        also = lex.anatomy.get(loc.organ or "", {}).get("normal_also") or {}
        organs = [loc.organ or ""] + sorted({o for w, o in also.items() if "/" not in o and w in loc.text.split()})
        for organ in organs:
            obs = lex.enlargement.get(organ)
            if obs is not None and context in (None, "probable", "possible"):
                f = Finding(observation=obs, anatomy=organ, certainty=Certainty.POSSIBLE,
                            temporal="stable" if t.kind == "STABLE_SIZE" else None)
                out.append(ParsedFinding(f, t.span.text, loc.text))
    return out


def _normal_statement_findings(spans: list[Span], t: _Target, context: str | None,
                               lex: Lexicon) -> list[ParsedFinding]:
    """An organ called normal (or normal in size) denies the finding the lexicon gives its abnormality, for the
    organ and for the parts its name also covers."""
    if context == "neg" and _after_list_break(spans, t):
        context = None  # "liver without focal lesion, adrenals normal": a new subject, not a negated one
    if context not in (None, "probable"):
        return []
    out = []
    for loc in t.locations:
        # "the collecting systems are not dilated": a part whose dilatation has its own name (hydronephrosis)
        # (and a part called normal where the organ's abnormality is its enlargement: "normal RV size" denies the
        # right ventricle's dilatation, as "RV not dilated" does, not an enlarged heart)
        by_sub = lex.enlargement_by_sub.get(loc.sub or "") if t.kind != "NORMAL" or (
            lex.normal_finding(loc.organ) == lex.enlargement.get(loc.organ or "")) else None
        if t.span.text == "intact":  # "the pelvis is intact": only bones are called intact
            loc = _skeleton(loc, lex)
        obs = by_sub or (lex.normal_finding(loc.organ) if t.kind == "NORMAL" else lex.enlargement.get(loc.organ))
        limits = lex.upper_normal_mm.get(loc.organ or "")
        if obs is None and t.kind != "NORMAL" and isinstance(limits, dict) and loc.sub in limits:
            # "the main pancreatic duct is not dilated": the measured part of an organ graded by its size alone
            # (the pancreatic duct, not the gland) is free of its enlargement, as "no pancreatic duct dilatation"
            obs = "enlargement"
        if obs is None:
            continue
        home = lex.observations.get(obs, {}).get("default_anatomy")
        absorbed = home and loc.organ in lex.anatomy.get(home, {}).get("absorbs", [])
        # "normal pulmonary vascularity" is no oedema of the lungs
        f = Finding(observation=obs, anatomy=home if absorbed else loc.organ,
                    sub_location=None if absorbed or by_sub else loc.sub,
                    laterality=loc.laterality, presence=Presence.ABSENT)
        padded = f" {loc.text} "
        spec = lex.anatomy.get(loc.organ or "", {})
        if t.kind == "NORMAL":  # "vertebral body heights are maintained": no height loss, not a normal spine
            f = next((dataclasses.replace(f, observation=other, sub_location=None)
                      for other, words in (spec.get("normal_denies_instead") or {}).items()
                      if any(f" {w} " in padded for w in words)), f)
        # "normal hila", "the hila are not enlarged": the hilar nodes' normal statement alone (``normal_also``),
        # not the cardiomediastinal silhouette's, as "no hilar enlargement" reads
        only_also = set(spec.get("normal_only_as_also") or ())
        if not (only_also and set(loc.text.split()) & only_also
                and not set(loc.text.split()) & set(spec.get("normal_proper_words") or ())):
            out.append(ParsedFinding(f, t.span.text, loc.text))
        if t.kind == "NORMAL":  # "the pleural spaces are clear": no effusion, and no pneumothorax either
            for other, words in (lex.anatomy.get(loc.organ or "", {}).get("normal_denies_also") or {}).items():
                if any(f" {w} " in padded for w in words):
                    out.append(ParsedFinding(dataclasses.replace(f, observation=other, sub_location=None),
                                             t.span.text, loc.text))
        also = lex.anatomy.get(loc.organ or "", {}).get("normal_also") or {}
        for organ, _, sub in sorted({o.partition("/") for w, o in also.items() if w in loc.text.split()}):
            obs = lex.normal_finding(organ) if t.kind == "NORMAL" else lex.enlargement.get(organ)
            if obs is not None:
                # "the left axilla is clear": the nodes of that side
                side = loc.laterality if lex.is_paired(organ) else None
                out.append(ParsedFinding(Finding(observation=obs, anatomy=organ, sub_location=sub or None,
                                                 laterality=side, presence=Presence.ABSENT), t.span.text, loc.text))
    return out


def _after_list_break(spans: list[Span], t: _Target) -> bool:
    """A normal statement with its own subject after a comma that follows a negation ("without focal lesion,
    adrenals normal"), i.e. the negation's list has ended."""
    trig = max((q for q in range(t.pos) if spans[q].cat == "CTX:negation_forward"), default=None)
    if trig is None:
        return False
    commas = [q for q in range(trig + 1, t.pos) if spans[q].text == ","]
    return bool(commas) and any(l.start > commas[-1] for l in t.locations)


# --- findings no target names: an organ measured or surgically removed --------------------------------------------


_REMOVED_RE = re.compile(r"\b(?:surgically (?:absent|removed|resected)|absent surgically|(?:has|have) been "
                         r"(?:removed|resected|excised)|resected|removed|excised|resection|excision|(?:is|are) absent)\b")
_REMOVED_WORDS = frozenset({"absent", "removed", "resected", "excised", "resection", "excision"})


def _removed_organs(spans: list[Span], locs: list[Location], targets: list[_Target],
                    lex: Lexicon) -> list[ParsedFinding]:
    """An organ said to be surgically absent ("GALLBLADDER: Surgically absent.", "the spleen has been removed")
    is the operation's post-surgical state, as "s/p cholecystectomy" states it; a device removed is not. The
    organ is the one named last before the words (or the field label)."""
    if not any(s.text.split()[-1] in _REMOVED_WORDS for s in spans):
        return []  # the common case, without building the sentence's text
    if not _REMOVED_RE.search(" ".join(s.text for s in spans)) or any(
            t.kind == "OBS" and lex.is_device(_obs_name(t.span) or "") for t in targets):
        return []
    at = next((p for p, s in enumerate(spans) if s.text.split()[-1] in _REMOVED_WORDS
               and s.cat != "OBS"), None)  # "gallbladder has been removed" is itself a cholecystectomy
    before = [l for l in locs if at is not None and l.end < at and lex.removal_of(l.organ or "")]
    if at is not None and spans[at].text in ("is absent", "are absent"):
        # "the left kidney is absent" without "surgically": only the organ the words are said of, in a
        # sentence naming no finding ("fluid in the pelvis is absent" denies the fluid)
        before = [l for l in before if l.end == at - 1 and not targets]
    if at is not None and spans[at].text.split()[-1] in ("resection", "excision"):
        # "LUL resection" names the part just before it; "resection of the left upper lobe" the one after "of"
        before = [l for l in before if l.end >= at - 1] or [
            l for l in locs if at < l.start <= at + 3 and lex.removal_of(l.organ or "")
            and any(g.text == "of" for g in spans[at + 1:l.start])
            and not any(g.cat == "OBS" for g in spans[at + 1:l.end + 2])][:1]  # not "of a renal mass"
    out = []
    for loc in before[-1:]:
        obs = lex.removal_of(loc.organ or "")
        if obs is not None:
            f = Finding(observation=obs, anatomy=loc.organ, sub_location=loc.sub,
                        laterality=loc.laterality if lex.is_paired(loc.organ or "") else None)
            out.append(ParsedFinding(f, "removed", loc.text))
    return out


def _measured_organs(spans: list[Span], locs: list[Location], targets: list[_Target], scope: dict[int, str],
                     lex: Lexicon, sized: list[tuple[int, Location]] = ()) -> list[ParsedFinding]:
    """An organ measured with no finding named ("Spleen 15 cm.", "The ascending aorta measures 4.6 cm.") states
    its size: enlarged beyond the lexicon's upper normal value (with the size), not enlarged otherwise."""
    out: list[ParsedFinding] = []
    findings = [t.pos for t in targets if t.kind in ("OBS", "ENLARGE")]
    pairs = list(sized)  # "a 17 cm spleen": the organ named right after its size
    for p, s in enumerate(spans):
        if s.cat != "SIZE" or scope.get(p) == "neg" or any(abs(q - p) <= MAX_SIZE_REACH for q in findings):
            continue
        organs = [l for l in locs if l.organ in lex.upper_normal_mm and l.end < p and p - l.end <= 4]
        if organs and _may_measure_organ(s.value, organs[-1].organ, lex):
            pairs.append((p, organs[-1]))
    for p, loc in pairs:
        s = spans[p]
        limit = lex.upper_normal_mm[loc.organ]
        if loc.sub is not None and not isinstance(limit, dict):
            continue  # "the segment 7 deposit ... 34 mm": a part measured is not the organ's size
        if isinstance(limit, dict):
            words = set(tokenize(loc.text)) | {loc.sub or ""}
            limit = next((v for k, v in limit.items() if k in words), limit.get("default"))
            if limit is None:
                continue  # an organ graded only by a part's size ("pancreas 2.5 cm" is no duct's)
        enlarged = s.value > limit
        f = Finding(observation=lex.enlargement_of(loc.organ) or "enlargement", anatomy=loc.organ,
                    sub_location=loc.sub, presence=Presence.PRESENT if enlarged else Presence.ABSENT,
                    size_mm=s.value if enlarged else None,
                    certainty=Certainty.PRESENT if enlarged else Certainty.ABSENT)
        out.append(ParsedFinding(f, s.text, loc.text))
    return out


# --- a finding target: one Finding per site it is in --------------------------------------------------------------


def _findings_of_target(t: _Target, certainty: Certainty, lex: Lexicon) -> list[ParsedFinding]:
    spec = lex.observations.get(_target_obs(t) or "", {})
    if spec.get("fixed_anatomy"):
        return [_device_finding(t, certainty, spec, lex)]
    out = []
    sites = _sites_of_target(t, certainty.presence, spec, lex)
    if isinstance(t.count, int) and t.count == len(sites) > 1 and all(l.count is None for l in sites) \
            and len({l.organ for l in sites}) == 1 and len({(l.sub, l.laterality) for l in sites}) == len(sites) \
            and all(l.sub is not None for l in sites):
        # "three nodules in the RUL, RML and LLL", "two lesions in segments 6 and 7": one in each part of the
        # organ (sites of different organs may name one place twice: "pleural-based, along the chest wall")
        sites = [copy.copy(l) for l in sites]
        for l in sites:
            l.count = 1
    for loc in sites:
        f = _finding_at_site(t, loc, certainty, spec, lex)
        if f is not None:
            out.append(ParsedFinding(f, t.span.text, loc.text))
    return out


def _stated_of(t: _Target, certainty: Certainty) -> dict[str, Any]:
    """What a finding states beside its site: certainty, change, and severity unless absent."""
    absent = certainty.presence is Presence.ABSENT
    return {"certainty": certainty, "temporal": t.temporal, "severity": None if absent else t.severity}


def _side_named_apart(t: _Target) -> str | None:
    """The side attached to the finding on its own ("bilateral ... renal cysts"); both sides named for one finding
    ("small right and moderate left effusions", "nodules: right 2, left 1") are both, and so is a bilateral
    finding said to be worse on one side ("right-predominant bilateral effusions")."""
    named = {l.laterality for l in t.sides}
    if {"left", "right"} <= named or "bilateral" in named:
        return "bilateral"
    return t.sides[0].laterality if t.sides else None


def _device_finding(t: _Target, certainty: Certainty, spec: dict[str, Any], lex: Lexicon) -> ParsedFinding:
    """A device: its organ is fixed; a side named with it is kept; one unless plural or counted."""
    absent = certainty.presence is Presence.ABSENT
    organ = spec["default_anatomy"]
    # the side of the place its tip is in ("tip in the right pulmonary artery") is not a line's side (its side is
    # where it went in); a drain's or stent's is ("stent with its loop in the left proximal ureter")
    lat = _side_named_apart(t) or next((l.laterality for l in t.locations if l.laterality and (
        "POS" not in lex.phrase_kinds.get(tuple(l.text.split()), {}) or not spec.get("access_side"))), None)
    if not (spec.get("keeps_side") or lex.is_paired(organ)):
        lat = None
    if lat not in (None, "left", "right", "bilateral"):
        lat = None
    count = t.count if isinstance(t.count, int) and not absent else None
    attrs = set(t.attrs) | (PLURAL_COUNTS.get(t.count, frozenset()) if not absent else set())
    if not absent and t.count is None:  # "two catheters" vs "a catheter": one unless plural
        if lex.is_generic(_target_obs(t)):
            pass  # "support devices", "lines and tubes": a collective, not a count
        elif _plural(t.span):
            attrs.add("multiple")
        elif spec.get("part_counts", {}).get(t.span.text):
            count = spec["part_counts"][t.span.text]  # "dual chamber pacemaker": two leads
        elif spec.get("counted_parts") and t.position and " + " in t.position:
            # "pacemaker with leads in the right atrium and right ventricle": a lead in each place named, two leads,
            # as "dual chamber pacemaker" and "pacemaker with two leads" read
            count = t.position.count(" + ") + 1
        elif not spec.get("counted_parts"):
            count = 1  # a device counted by its parts (a pacemaker's leads) says nothing of them when not counted
    # a size stated with a device is where its tip is ("ETT 5 cm above the carina", "2 cm below the aortic knob")
    # or its own calibre: either way a different number is a different statement
    size = max(t.sizes) if t.sizes and not absent else None
    f = Finding(observation=_target_obs(t), anatomy=organ, laterality=lat, count=count, size_mm=size,
                attributes=frozenset(attrs), position=None if absent else t.position, **_stated_of(t, certainty))
    return ParsedFinding(f, t.span.text, " ".join(l.text for l in t.locations))


def _implied_organ(t: _Target) -> str | None:
    """The organ the finding's own word names ("urolithiasis", "skeletal metastases")."""
    return next((r.organ for r in t.span.readings("OBS") if r.organ), None)


def _sites_of_target(t: _Target, presence: Presence, spec: dict[str, Any], lex: Lexicon) -> list[Location]:
    """The sites a (non-device) finding is in: its locations, each read as a site of the finding, without the
    regions that only frame them, with a side named apart, one per organ; else its default organ."""
    implied = _implied_organ(t)
    # "sclerotic metastases in the pelvis": a bone's finding named in a region is in the bones the region's word names
    locations = [site for site in (_own_site(_skeleton(loc, lex) if implied == "bone" else loc, implied, presence,
                                             spec, lex) for loc in t.locations) if site is not None]
    locations = _without_framing_regions(locations, spec.get("default_anatomy"), lex)
    side = _side_named_apart(t)
    if side in ("left", "right") and any(l.end == t.pos - 1 or any(
            l.end == o.start - 1 and o.end == t.pos - 1 for o in t.locations) for l in t.sides):
        # "Bases: small R effusion", "left effusion and atelectasis at both bases": the side written right before
        # the finding's noun is its own; a plural site word it shares with others ("bases") names no side of it
        locations = [dataclasses.replace(loc, laterality=side) if loc.laterality == "bilateral" else loc
                     for loc in locations]
    for loc in locations:  # "bilateral ... renal cysts": the side named apart from the organ
        if loc.laterality is None and side is not None and loc.organ is not None and lex.is_paired(loc.organ):
            loc.laterality = side
    if side == "bilateral":
        locations += _both_sides_of_one_sided_sites(locations, lex)
    merged = _merged_by_organ(locations, lex)
    if not merged:
        if t.kind == "ENLARGE":
            return []
        default = implied or lex.observations.get(_target_obs(t) or "", {}).get("default_anatomy", UNSPECIFIED)
        merged = [Location(default, None, None, t.pos, t.pos, "")]
    return merged


def _both_sides_of_one_sided_sites(locations: list[Location], lex: Lexicon) -> list[Location]:
    """"multiple bilateral pulmonary nodules, the largest in the left lower lobe": a bilateral finding whose only
    site in a paired organ is one side's part (where its largest member is) is still in both organs: the organ on
    both sides, as "nodules in both lungs, the largest in the left lower lobe" reads."""
    out = []
    for loc in locations:
        if loc.organ is None or not lex.is_paired(loc.organ) or loc.laterality not in ("left", "right"):
            continue
        if any(l.organ == loc.organ and l.laterality not in (None, loc.laterality) for l in locations + out):
            continue
        out.append(Location(loc.organ, None, "bilateral", loc.start, loc.end, loc.text))
    return out


def _own_site(loc: Location, implied: str | None, presence: Presence, spec: dict[str, Any],
              lex: Lexicon) -> Location | None:
    """One location as a site of the finding (a copy), or None when it is not the finding's. An observation that
    lives in one organ reads a neighbouring organ named with it as its own site ("effusion at the right lung base"
    is a right pleural effusion); a lymph node finding reads an organ as its station."""
    default_organ = spec.get("default_anatomy")
    absorbs = lex.anatomy.get(default_organ or "", {}).get("absorbs", [])
    if implied and loc.organ not in (implied, None) and loc.organ not in lex.anatomy.get(implied, {}).get(
            "absorbs", []) and not (lex.is_region(implied) and lex.in_region(implied, loc.organ)) \
            and not (implied == "lymph node" and (loc.station or loc.organ in lex.node_station_of_organ)):
        # "urolithiasis" is in the urinary tract whatever else the sentence names; but "osseous metastasis in T9"
        # names the skeleton and the bone in it, which is the more exact site, and "mesenteric nodal mass" or
        # "mediastinal nodal disease" name the nodes' station with their region word
        return None
    loc = copy.copy(loc)
    if spec.get("sole_anatomy") and loc.organ not in (default_organ, None) and loc.organ not in absorbs \
            and loc.organ not in spec.get("in_organ", {}):  # "a filling defect in the renal pelvis": a lesion there
        # "no hydronephrosis or skeletal deposits": an observation of one organ only keeps it (and a side)
        loc.organ, loc.sub = default_organ, None
    if default_organ and loc.organ not in (default_organ, None) and loc.sub is None:
        # "accessory spleens at the hilum": a part named without its organ is the finding's own organ's part
        part = next((r.value for r in lex.phrases.get(tuple(tokenize(loc.text)), ())
                     if r.kind == "SUB" and r.value.organ == default_organ), None)
        if part is not None:
            loc.organ, loc.sub = default_organ, part.name
    if loc.organ in absorbs:  # the sub-location stays where the absorbing organ has one of that name
        keep = loc.sub in (lex.anatomy.get(default_organ or "", {}).get("subs") or {})
        loc.organ, loc.sub = default_organ, loc.sub if keep else None
    elif default_organ == "lymph node" and loc.organ != "lymph node" and (
            loc.station or loc.organ in lex.node_station_of_organ):
        loc.organ, loc.sub = "lymph node", loc.station or lex.node_station_of_organ[loc.organ] or None
    elif default_organ == "lymph node" and loc.organ not in ("lymph node", None) and presence is Presence.ABSENT:
        return None  # "kidneys, nodes normal": nodes denied beside an organ are not that organ's
    elif default_organ == "lymph node" and loc.organ not in ("lymph node", None) \
            and not lex.is_region(loc.organ):
        loc.organ, loc.sub = "lymph node", None  # "a node beside the oesophagus": a node, station unnamed
    return loc


def _without_framing_regions(locations: list[Location], default_organ: str | None,
                             lex: Lexicon) -> list[Location]:
    """The sites left once a region that only frames the finding yields to a real site or the default organ."""
    # a region that only frames the study ("views of the chest") yields to a real site or the default organ
    if any(l.organ in lex.weak_anatomy for l in locations) and (
            default_organ or any(l.organ not in lex.weak_anatomy for l in locations)):
        locations = [l for l in locations if l.organ not in lex.weak_anatomy]
    if default_organ == "bone":  # "no pelvic or spinal fracture": a bone's finding in a region is in its bones
        locations = [_skeleton(l, lex) for l in locations]
    # "in the imaged upper abdomen, a lesion in the left kidney": a region that holds another site named with the
    # finding only frames it
    organs = {l.organ for l in locations if l.organ}
    if default_organ and organs and all(o != default_organ and lex.is_region(o) and lex.in_region(o, default_organ)
                                        for o in organs):
        # "SBO with a transition in the left mid-abdomen": a finding of one organ named in a region holding it
        locations = [Location(default_organ, None, None, l.start, l.end, l.text) for l in locations[:1]]
        organs = {default_organ}
    if len(organs) > 1:
        locations = [l for l in locations if not (
            l.organ and l.organ != default_organ and lex.is_region(l.organ)
            and any(o != l.organ and lex.in_region(l.organ, o) for o in organs))]
    return _without_side_frames(locations, lex)


def _skeleton(loc: Location, lex: Lexicon) -> Location:
    """The location, or the bones its region's word names ("pelvic" in "no pelvic fracture"), as a copy."""
    bones = lex.anatomy.get(loc.organ or "", {}).get("skeleton") or {}
    organ = next((bones[w] for w in loc.text.split() if w in bones), None)
    if organ is None:
        return loc
    loc = copy.copy(loc)
    loc.organ, loc.sub = organ, None
    return loc


def _without_side_frames(locations: list[Location], lex: Lexicon) -> list[Location]:
    """"pleural-based mass in the right hemithorax": a word naming one side of the chest (read as the lung) beside
    another site in the chest only says which side that site is on; it is not a second site."""
    frames = [l for l in locations if l.organ and (words := lex.anatomy.get(l.organ, {}).get("side_frames")) and any(
        w in l.text.split() for w in words)]
    others = [l for l in locations if l not in frames and l.organ and l.organ != frames[0].organ
              and lex.in_region("chest", l.organ)] if frames else []
    if not others:
        return locations
    out = []
    for l in locations:
        if l in frames:
            continue
        l = copy.copy(l)
        l.laterality = l.laterality or frames[0].laterality
        out.append(l)
    return out


def _merged_by_organ(locations: list[Location], lex: Lexicon) -> list[Location]:
    """The locations of one organ ("liver ... right lobe") merged into one: the most specific is kept."""
    merged: list[Location] = []
    for loc in locations:
        for m in merged:
            if m.organ == loc.organ and (m.laterality is None or loc.laterality is None
                                         or m.laterality == loc.laterality) and (
                    m.sub is None or loc.sub is None or m.sub == loc.sub
                    or lex.sub_contains(m.organ or "", m.sub, loc.sub)
                    or lex.sub_contains(m.organ or "", loc.sub, m.sub)):
                if m.sub is None or (loc.sub is not None and lex.sub_contains(m.organ or "", m.sub, loc.sub)):
                    m.sub = loc.sub or m.sub
                m.laterality = m.laterality or loc.laterality
                if m.size is None:  # "right kidney, 1.8 cm in the upper pole"
                    m.size, m.one, m.change = loc.size, loc.one, loc.change
                if m.count is None:  # "renal calculi, two in the left kidney ...": the count of the side's site
                    m.count = loc.count
                m.text = m.text if len(m.text) >= len(loc.text) else loc.text
                break
        else:
            merged.append(copy.copy(loc))
    # "transverse process fractures of L2 and L3 on the left": the part and the side named once are the part and
    # side at each level
    for m in merged:
        part = next((l.text for l in locations if l.organ == m.organ and lex.names_sided_part(m.organ or "", l.text)),
                    None)
        if part is None:
            continue
        if not lex.names_sided_part(m.organ or "", m.text):
            m.text = f"{m.text} {part}"
        sides = {o.laterality for o in merged if o.organ == m.organ and o.laterality is not None}
        if m.laterality is None and len(sides) == 1 and sides <= {"left", "right"}:
            m.laterality = next(iter(sides))
    return merged


def _finding_at_site(t: _Target, loc: Location, certainty: Certainty, spec: dict[str, Any],
                     lex: Lexicon) -> Finding | None:
    """The finding the target states at one of its sites, None when its word names nothing there."""
    read = _observation_at_site(t, loc, certainty.presence, lex)
    if read is None:
        return None
    obs, organ, loc_sub = read
    count, attrs = _count_and_plurality(t, obs, certainty.presence, lex)
    if obs == "pleural thickening" and t.span.text.split()[0] == "calcified":
        attrs = attrs | {"calcified"}  # "calcified plaques" on the pleura: calcified pleural plaques
    if loc.one and certainty.presence is not Presence.ABSENT and not (
            t.kind == "ENLARGE" and organ != "lymph node" and lex.enlargement_of(organ, loc_sub) == obs):
        # "nodes: subcarinal 11 mm, paratracheal 13 mm": one node at each; but an organ dilated and measured at
        # each site ("the pancreatic duct dilated to 5 mm and the bile duct to 12 mm") counts nothing
        count, attrs = 1, attrs - {"multiple"}
    if loc.count is not None and certainty.presence is not Presence.ABSENT:  # "renal cysts: R x1, L x2"
        count, attrs = loc.count, attrs - {"multiple", "many"}
    # "left L3 transverse process": a part of an unpaired organ that lies on one side keeps the side
    sided = lex.names_sided_part(organ, loc.text)
    sub, lat = _part_and_side(organ, loc_sub, loc.laterality, _side_named_apart(t), spec, lex, sided)
    size = loc.size if loc.size is not None else max(t.sizes) if t.sizes else None  # a listed site's own size
    stated = _stated_of(t, certainty)
    if loc.change is not None:  # "hilar 12 mm (prev 9 mm), subcarinal 15 mm (prev 15 mm)": each site's own change
        stated["temporal"] = loc.change
    return Finding(observation=obs, anatomy=organ, sub_location=sub, laterality=lat, size_mm=size, count=count,
                   attributes=frozenset(attrs), **stated)


def _observation_at_site(t: _Target, loc: Location, presence: Presence,
                         lex: Lexicon) -> tuple[str, str, str | None] | None:
    """(observation, organ, sub-location) of the target's word at a site: what the word means in that organ; None
    when it names nothing there."""
    organ = loc.organ or UNSPECIFIED
    obs = _target_obs(t) if t.kind == "OBS" else lex.enlargement_of(organ, loc.sub)
    if obs is None:
        return None
    loc_sub = loc.sub
    if t.kind == "ENLARGE":  # "enlarged hila": the hilar nodes' enlargement (``enlarged_as``)
        as_organ = next((o for w, o in (lex.anatomy.get(organ, {}).get("enlarged_as") or {}).items()
                         if w in loc.text.split()), None)
        if as_organ is not None:
            organ, _, loc_sub = as_organ.partition("/")
            loc_sub = loc_sub or None
            obs = lex.enlargement_of(organ, loc_sub)
    home = lex.observations.get(obs, {}).get("default_anatomy")
    if t.kind == "ENLARGE" and home and obs != "enlargement" and (
            organ != home and (lex.observations.get(obs, {}).get("sole_anatomy")
                               or organ in lex.anatomy.get(home, {}).get("absorbs", []))
            or lex.enlargement_by_sub.get(loc.sub or "") == obs):
        # "dilated ureter", "dilated collecting system": hydronephrosis, the kidney's, its part implied
        organ, loc_sub = home, None
    # what the word means in that organ ("emphysema" of the chest wall is subcutaneous emphysema)
    named = lex.observations.get(obs, {})
    obs = named.get("in_organ", {}).get(organ, obs)
    obs = lex.named_by_organ.get((obs, organ), obs)  # "no pericardial eff": a pericardial effusion
    if named.get("named_by_site") and obs not in named.get("in_organ", {}).values():
        return None
    if organ == "lung" and t.kind == "OBS" and t.span.text in _LOCULATED_FLUID and "pleura" in named.get("in_organ", {}):
        # "loculated fluid at the right base": fluid loculates in the pleural space, the lung's site is the pleura's
        obs, organ = named["in_organ"]["pleura"], "pleura"
    mapped = lex.observations.get(obs, {})
    if obs != _target_obs(t) and mapped.get("sole_anatomy") and mapped.get("default_anatomy") \
            and organ != mapped["default_anatomy"]:
        organ, loc_sub = mapped["default_anatomy"], None  # "thickening of the bronchial walls": the lungs'
    if lex.normal_finding(organ) == "thrombosis" and lex.family(obs) == "lesion":
        obs = "thrombosis"  # "tumour extending into the IVC", "no tumour in the portal vein": a tumour thrombus
    if presence is Presence.ABSENT and t.span.text in ("abnormality", "abnormalities") and obs == "lesion":
        obs = lex.normal_finding(organ)  # "no pleural abnormality" is a normal pleura
    if presence is Presence.ABSENT and t.span.text in _INJURY_WORDS and organ != UNSPECIFIED:
        obs = lex.normal_finding(organ)  # "no hepatic injury" is an intact liver
    return obs, organ, loc_sub


#: the words of fluid that loculates, in the chest the pleura's (a loculated effusion)
_LOCULATED_FLUID = frozenset({"loculated fluid"})


#: a denied injury of an organ states it intact ("no splenic injury", "liver: no traumatic injury")
_INJURY_WORDS = frozenset({"injury", "injuries", "traumatic injury", "traumatic injuries", "inj"})


def _count_and_plurality(t: _Target, obs: str, presence: Presence, lex: Lexicon) -> tuple[int | None, set[str]]:
    """The count a finding states and its attributes with "multiple": a number, "multiple", or, for a focal or
    countable finding that is present and not named by a mass noun, one unless its word is plural."""
    attrs = set(t.attrs)
    count: int | None = None
    if isinstance(t.count, int):
        count = t.count
    elif t.count in PLURAL_COUNTS:
        attrs |= PLURAL_COUNTS[t.count]
    elif t.count == "unstated":
        pass
    elif t.listed_sizes > 1 and _plural(t.span) and presence is not Presence.ABSENT:
        count = t.listed_sizes  # "stones of 6 and 3 mm": one size each, so two
    elif presence is not Presence.ABSENT and (lex.is_focal(obs) or lex.is_countable(obs)) \
            and not _uncountable(t.span.text.split()[-1]) and t.span.text.split()[-1] != "fx":
        # ("healed R rib fx": one or more; the abbreviation is singular and plural)
        if _plural(t.span) or _said_of_plural_site(t, lex):
            attrs.add("multiple")
        else:
            count = 1
    return count, attrs


def _said_of_plural_site(t: _Target, lex: Lexicon) -> bool:
    """"Fractured left ribs", "fractured pubic rami": a finding said by a participle before the sites it is in, named
    in the plural, is one in each of them, as "left rib fractures" is."""
    if not t.span.text.endswith("ed"):
        return False
    for l in t.locations:
        words = l.text.split()
        if l.start > t.pos and words and any(r.plural or words[-1] in _LATIN_PLURAL_SITES
                                             for kind in ("ANAT", "SUB")
                                             for r in lex.phrase_kinds.get((words[-1],), {}).get(kind, ())):
            return True
    return False


#: the Latin plurals of sites listed as forms of their own (so not read as plurals)
_LATIN_PLURAL_SITES = frozenset({"rami", "pedicles", "acetabula", "processes", "laminae", "ossicles"})


def _part_and_side(organ: str, loc_sub: str | None, loc_side: str | None, side: str | None, spec: dict[str, Any],
                   lex: Lexicon, sided: bool = False) -> tuple[str | None, str | None]:
    """(sub-location, laterality) at the site: the side named apart holds for a paired organ; an unpaired organ
    keeps no side, but its side may name its part ("left hepatic lesion": left lobe)."""
    lat = loc_side
    paired = lex.is_paired(organ) or sided
    if lat is None and side is not None and (paired or spec.get("keeps_side")):
        lat = side
    if lat not in (None, "left", "right", "bilateral"):
        lat = None  # an unresolved "ipsilateral"
    if loc_sub in lex.midline_stations and organ == "lymph node":
        lat = loc_side if loc_side in ("left", "right") else None  # "bilateral hilar and mediastinal nodes"
    sub = loc_sub
    if not paired and not spec.get("keeps_side"):  # a mediastinal shift keeps its direction
        if sub is None and lat in ("left", "right"):
            sub = lex.anatomy.get(organ, {}).get("side_subs", {}).get(lat)  # "left hepatic lesion": left lobe
        elif sub is not None and lat in ("left", "right") and lex.anatomy.get(organ, {}).get("side_subs"):
            # "right upper pole thyroid nodule": the part of the lobe on that side
            sub = sub if f"{lat} {sub}" not in lex.anatomy[organ].get("subs", {}) else f"{lat} {sub}"
        lat = None
    return sub, lat
