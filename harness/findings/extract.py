"""Report text -> findings, for radiology prose in general (not only the phrasing of this project's writers).

Pipeline, per report: section headers (INDICATION/HISTORY/RECOMMENDATION... are skipped: they state no finding
of this study), sentences, a longest-match phrase scan over tokens against the lexicon (``lexicon.yaml``), then
per sentence:

1. **Context** (ConText/NegEx with graded certainty): forward triggers ("no", "without evidence of", "likely",
   "possible", "unlikely to represent") scope to the right and backward triggers ("is not seen", "cannot be
   excluded", "is unlikely") to the left, each until a termination term ("but", "however", "which", "there
   is"...), a trigger of another kind, or the sentence end; backward hedges stop at a comma ("opacity, likely
   atelectasis" hedges only the atelectasis). A phrase that is both a forward and a backward trigger
   ("likely") scopes both ways. "versus" hedges the finding on each side. The scope gives the finding's
   certainty: possible > improbable > absent > probable > present (probable is matched as present,
   improbable as absent). "Resolved"/"interval removal of" negate and set the temporal change to resolved.
   Hypothetical statements ("recommend CT to exclude PE", "evaluation for pneumothorax is limited": an
   "evaluation for" trigger counts only in a sentence that also says the evaluation is limited) state
   nothing. Pseudo-triggers ("not only") consume their words and trigger nothing.
2. **Location phrases**: organ, sub-location and side words joined by "of"/"the" ("upper pole of the left
   kidney", "left renal upper pole", "RLL"), resolved with the lexicon (a sub-location implies its organ and
   sometimes its side; "head"/"body"/"tail" only mean the pancreas when the pancreas is named; a plural paired
   organ is bilateral). A location right after "abutting"/"adjacent to" is a neighbour, not a site.
3. **Attachment**: a location directly before an observation modifies it ("liver mass"); one after a preposition
   belongs to the observation on its left ("mass in the liver"); otherwise the nearest observation or normal-
   statement ("the liver is unremarkable") takes it. Sizes go to the nearest observation (largest dimension, in
   mm), except a prior measurement ("previously 1.8 cm", "from 12 mm", "1.8 cm on the prior"); counts and
   attributes to the next one; severity ("small", "mildly", "moderate to large") and temporal change ("new",
   "unchanged", "has increased") to the next observation when only modifiers lie between, else the nearest.
   A device's tip position ("terminates at the cavoatrial junction", "4 cm above the carina") is read from the
   rest of its sentence, or from a following sentence that names only a tip ("Its tip is in the stomach").
   "Ipsilateral"/"contralateral" resolve against the side last named in the report.
4. **Report level**: exact duplicates and less specific restatements (an impression repeating a finding) are
   merged; organ-less negatives ("No evidence of tumor.") are dropped when the report states anything else.

The stages live in one module each: ``sentences`` (sections, sentences, token rewrites), ``scan`` (the phrase
scan and the context scopes, stage 1), ``sites`` (location phrases, stage 2), this module (attachment and the
findings of a sentence, stage 3, and the report) and ``report`` (a finding's record and the report-level rules,
stage 4).

Why hand-written scope rules rather than medspacy/negspacy (measured here, spaCy 3.8.18, negspacy 1.1.0 on
``spacy.blank("en")`` + sentencizer + entity ruler): negspacy is fast enough (~0.11 ms per report, ~2.3 s for
the benchmark's 20,000 texts), but it gives a binary negation flag only, with no uncertainty/hypothetical
scope, and its ``en_clinical`` termset marks "cannot exclude consolidation" as *negated*; the uncertainty flip
is one of the error types this harness must see. medspacy's ConText has the uncertainty categories but pins
numpy<2 and breaks pandas in this environment. Either would add spaCy (20+ packages) to the core install for a
rule set of ~150 phrases that already lives in the lexicon as data. The scope algorithm here is ConText's
(directional triggers, termination terms, pseudo-triggers, longest match first) and runs at ~0.1 ms per report.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache

from harness.findings.lexicon import UNSPECIFIED, Lexicon, Reading, lexicon, tokenize
from harness.findings.report import (ParsedFinding, _elliptic_denial, _hedged_once, _less_specific,
                                     _merge_restatements, _sort_key)
from harness.findings.scan import Span, _is_num, _scan, _scopes
from harness.findings.sentences import _relative_clause, _sections, _sentences, normalised_tokens
from harness.findings.sites import Location, _locations
from harness.schema import Certainty, Finding, Presence

PREPOSITIONS = frozenset({"in", "within", "of", "involving", "at", "from", "along", "throughout", "on", "into",
                          "inside", "arising", "over", "across", "to", "above", "below", "beneath", "under",
                          "behind", "overlying", "projecting", "affecting", "around"})
MODIFIER_WORDS = frozenset({"a", "an", "the", ",", ":", "-", "sided", "focal", "is", "are", "there", "amount", "of",
                            "volume", "sized", "size", "degree", "in", "(", ")"})
STUDY_WORDS = frozenset({"ct", "cta", "ctpa", "mri", "mr", "cxr", "radiograph", "radiographs", "xray", "x", "ray",
                         "film", "films", "study", "scan", "exam", "examination", "ultrasound", "us", "pet",
                         "angiogram", "angiography", "aortogram", "views", "view", "pa", "ap", "portable", "imaging"})
WITH_WORDS = frozenset({"with", "without", "containing", "contains", "contain", "showing", "shows", "(", "causing",
                        "causes", "cause", "resulting", "results", "producing", "produces", "secondary", "due"})
NUMBER_NEUTRAL = frozenset({"fx", "ln", "lad"})  # abbreviations that are singular and plural ("2 rib fx")
EXCEPT_WORDS = frozenset({"contains", "containing", "contain", "except", "but", "apart", "other", "save"})
COPULAS = frozenset({"is", "are", "appear", "appears", "look", "looks", "remain", "remains", "seem", "seems",
                     "otherwise", "all", "both", "and", ",", "now", "still", "again", "were", "was", "be"})
MAX_SIZE_REACH = 15  # spans between a measurement and the finding it measures
#: a current size within this of the prior one (mm, or share of the prior) reads as unchanged
PRIOR_SIZE_SAME_MM = 1.0
PRIOR_SIZE_SAME_REL = 0.05
LIST_JOINERS = frozenset({",", "and", "or", "with", "a", "an", "the", "/", "&", "plus", "associated", "both"})
TIP_WORDS = frozenset({"tip", "tips", "terminates", "terminating", "ends", "ending", "courses", "projects",
                       "projecting", "extends", "positioned", "position", "located", "lies", "overlies", "overlying"})


@dataclass
class _Target:
    pos: int
    kind: str  # OBS, ENLARGE, NORMAL, NORMAL_SIZE
    span: Span
    locations: list[Location] = field(default_factory=list)
    sides: list[Location] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)
    prior_sizes: list[float] = field(default_factory=list)  # "(previously 49 mm)": the prior study's size
    count: int | str | None = None
    attrs: set[str] = field(default_factory=set)
    severity: str | None = None
    temporal: str | None = None
    position: str | None = None
    refined: bool = False  # named more specifically by a hedge right after it
    base: str | None = None  # the observation without its organ ("effusion" of "pericardial effusion")


#: "fractures of the left two ribs": what may stand between a finding and the count of the parts it involves
_PART_COUNT_GAP = frozenset({"of", "involving", "in", "the", "left", "right", "both", "bilateral"})


#: the verbs after which a change is said of the subject before them ("a lesion in segment 5 is new")
_LINKING_VERBS = frozenset({"is", "are", "was", "were", "remains", "remain", "appears", "appear"})


#: "the largest node", "dominant lesion": the biggest member of a group just named
LARGEST_WORDS = frozenset({"largest", "dominant", "biggest", "index"})
#: a finding named by a mass noun ("metastatic disease", "nodal involvement", "calculous") states no count
UNCOUNTABLE_HEADS = frozenset({"disease", "involvement", "spread", "infiltration", "change", "changes", "burden",
                               "process", "tissue", "deposition", "calculous", "nodularity"})


def _uncountable(word: str) -> bool:
    """"metastatic disease", "cholelithiasis" (stones, one or many): the word states no count."""
    return word in UNCOUNTABLE_HEADS or word.endswith("lithiasis")


def _gap_is_modifiers(spans: list[Span], a: int, b: int, side_positions: set[int], locations: bool = False) -> bool:
    """Only modifiers (attributes, sizes, counts, severity, change, sides, articles; organs too with
    ``locations``) in [a, b)."""
    for q in range(a, b):
        s = spans[q]
        if s.cat in ("ATTR", "SIZE", "COUNT", "NUM", "SEV", "TEMP", "PRIOR_SIZE") or q in side_positions \
                or (locations and s.cat == "LOC"):
            continue
        if s.cat == "WORD" and s.value in MODIFIER_WORDS:
            continue
        return False
    return True


#: words that end a noun phrase: a count, severity or attribute does not reach over them
PHRASE_BREAKS = frozenset({"is", "are", "was", "were", "be", "been", "has", "have", "had", "with", "without", "and",
                           "or", "but", "to", "from", "than", "which", "that", "there", "no", "not", ";", ".",
                           "measuring", "measures", "measure", "seen", "noted", "identified", "present",
                           "demonstrated", "shows", "show", "showing", "demonstrates", "contains", "containing",
                           "reveals", "suggests", "represents", "causing", "extends", "extending", "involves",
                           "including", "includes", "appears", "appear", "remains", "remain", "persists", "also",
                           "again", "likely", "possibly", "probably", "as", "since", "compared", "prior", "for"}
                          | PREPOSITIONS - {"of"})


def _gap_is_adjectives(spans: list[Span], a: int, b: int, side_positions: set[int]) -> bool:
    """Modifiers, organs, or words that can modify a noun ("three nonobstructing calculi", "two enlarged
    nodes") in [a, b)."""
    for q in range(a, b):
        s = spans[q]
        if s.cat in ("ATTR", "SIZE", "COUNT", "NUM", "SEV", "TEMP", "LOC", "ENLARGE") or q in side_positions:
            continue
        if s.cat == "WORD" and s.value not in PHRASE_BREAKS and s.value.isalpha():
            continue
        if s.value in ("and", "or", ",") and a < q < b - 1 and spans[q - 1].cat == "LOC" and spans[q + 1].cat == "LOC":
            continue  # "enlarged mediastinal and hilar nodes": a list of sites before the noun
        return False
    return True


@dataclass(frozen=True)
class SentenceReading:
    findings: tuple[ParsedFinding, ...]
    #: a tip position stated without a device ("Its tip is in the stomach."): it belongs to the last device
    orphan_position: str | None = None
    #: the last side named, for "ipsilateral"/"contralateral" in later sentences
    last_side: str | None = None
    #: the sentence's field label when it names a site ("SPLEEN:"), () for another label ("IMPRESSION:"), None
    #: when it has none: the label's site holds for the field's later sentences
    field_label: tuple[str, ...] | None = None
    #: the sentence names an organ of its own (a field's later sentence that does ends the field)
    names_site: bool = False


@lru_cache(maxsize=65536)
def _sentence_findings(tokens: tuple[str, ...], prev_side: str | None = None,
                       inherited_label: bool = False) -> SentenceReading:
    """Findings of one sentence; cached, since reports repeat their boilerplate sentences."""
    return _analyse_sentence(list(tokens), lexicon(), prev_side, inherited_label)


def _is_prior_size(spans: list[Span], p: int, tokens: list[str], lex: Lexicon) -> bool:
    """A measurement of the prior study: "previously 1.8 cm", "from 12 mm", "1.8 cm on the prior"."""
    start, end = spans[p].start, spans[p].end
    before = [t for t in tokens[max(0, start - 4):start] if t not in ("(", ",", "measuring", "measured", ":")]
    for k in range(1, 4):
        if len(before) >= k and tuple(before[-k:]) in lex.prior_before:
            return True
    after = [t for t in tokens[end:end + 6] if t not in ("(", ",", ")")]
    # "54 mm (previously 49 mm)": a marker followed by a number belongs to that number
    return any(tuple(after[:k]) in lex.prior_after and not (len(after) > k and _is_num(after[k]))
               for k in range(1, 6))


def _resolve_sides(locs: list[Location], prev_side: str | None) -> str | None:
    """"Ipsilateral"/"contralateral" against the side last named; returns the last side named."""
    last = prev_side
    for loc in sorted(locs, key=lambda l: l.start):
        if loc.laterality == "ipsilateral":
            loc.laterality = last
        elif loc.laterality == "contralateral":
            loc.laterality = {"left": "right", "right": "left"}.get(last or "")
        if loc.laterality in ("left", "right"):
            last = loc.laterality
    return last


def _may_share_site(t: _Target, loc: Location, lex: Lexicon) -> bool:
    """A finding of a list can take the list's site when it lives there ("bronchiectasis with mucoid impaction
    in both lower lobes") but not when it lives elsewhere ("pneumothorax, haemothorax and fractures of ribs")."""
    default = lex.observations.get(_obs_name(t.span) or "", {}).get("default_anatomy")
    return default is None or default == loc.organ or loc.organ in lex.anatomy.get(default, {}).get("absorbs", [])


def _nearest(targets: list[_Target], p: int, prefer_before: bool = True) -> _Target | None:
    if not targets:
        return None
    return min(targets, key=lambda t: (abs(t.pos - p), (t.pos > p) if prefer_before else (t.pos < p)))


def _names_site(locs: list[Location], spans: list[Span]) -> bool:
    """The sentence names an organ: a site word, or a finding named with its organ ("skeletal metastases")."""
    return any(l.organ is not None for l in locs) or any(
        r.organ for s in spans if s.cat == "OBS" for r in s.readings("OBS"))


def _analyse_sentence(tokens: list[str], lex: Lexicon, prev_side: str | None = None,
                      inherited_label: bool = False) -> SentenceReading:
    tokens = normalised_tokens(tokens, lex)
    spans = _scan(tokens, lex)
    if any(s.cat == "CTX:back_reference" for s in spans):
        return SentenceReading(())  # "Two lesions as described above." restates what the report already said
    for p, s in enumerate(spans):
        if s.cat == "SIZE" and _is_prior_size(spans, p, tokens, lex):
            s.cat = "PRIOR_SIZE"
    _read_comparisons(spans)
    scope, resolved = _scopes(spans)
    # "CT CHEST/ABDOMEN (LYMPHOMA FOLLOW-UP)": what a study's title names in brackets is why it was done
    if spans and spans[0].text in STUDY_WORDS and "(" in [s.text for s in spans[:8]]:
        opening = next(p for p, s in enumerate(spans) if s.text == "(")
        if not any(s.cat == "OBS" for s in spans[:opening]):
            for q in range(opening + 1, len(spans)):
                if spans[q].text == ")":
                    break
                scope[q] = "hyp"
    # "lymph nodes are normal", "nodes not enlarged": a structure that is only a finding when abnormal, called
    # normal, is absent
    for p, s in enumerate(spans):
        if s.cat in ("CTX:normal", "CTX:normal_size"):
            q = p - 1
            while q >= 0 and ((spans[q].cat == "WORD" and spans[q].value in COPULAS)
                              or (spans[q].cat == "LOC" and q > 0 and spans[q - 1].value in ("and", ","))):
                q -= 1  # "nodes and pleura normal": the list of subjects
            if q >= 0 and spans[q].cat == "OBS" and scope.get(q) is None \
                    and lex.observations.get(_obs_name(spans[q]) or "", {}).get("normal_means_absent"):
                scope[q] = "neg"
    targets: list[_Target] = []
    for p, s in enumerate(spans):
        if s.cat == "ENLARGE":
            nxt = next((q for q in range(p + 1, min(p + 7, len(spans))) if spans[q].cat == "OBS"), None)
            if nxt is not None and _gap_is_adjectives(spans, p + 1, nxt, set()):
                # "enlarged mediastinal nodes": a modifier of the nodes, not a finding of its own; "interval
                # enlargement of the nodule" still says how the nodule changed
                if s.readings("TEMP"):
                    s.cat = "TEMP"
                continue
        if s.cat in ("OBS", "ENLARGE") and s.readings("TEMP"):  # "interval enlargement of the heart"
            targets.append(_Target(p, s.cat, s, temporal=s.readings("TEMP")[0].value))
            continue
        if s.cat in ("OBS", "ENLARGE"):
            prev = targets[-1] if targets else None
            if prev is not None and prev.pos == p - 1 and prev.kind == "OBS" and s.cat == "OBS" \
                    and lex.is_device(_obs_name(prev.span) or "") and lex.is_device(_obs_name(s) or "") and (
                    lex.is_generic(_obs_name(prev.span) or "") or lex.is_generic(_obs_name(s) or "")
                    or _obs_name(prev.span) == _obs_name(s)):
                # "chest port catheter", "PICC line": one device named twice; the specific name stays ("ETT/NGT"
                # are two)
                if lex.is_generic(_obs_name(prev.span) or ""):
                    targets[-1] = _Target(p, s.cat, s)
                continue
            targets.append(_Target(p, s.cat, s))
        elif s.cat == "CTX:normal":
            targets.append(_Target(p, "NORMAL", s))
        elif s.cat == "CTX:normal_size":
            targets.append(_Target(p, "NORMAL_SIZE", s))
        elif s.cat == "CTX:borderline_size":
            targets.append(_Target(p, "BORDERLINE_SIZE", s))
    locs = _locations(spans, lex)
    last_side = _resolve_sides(locs, prev_side)
    # a structured report's field label ("LUNGS:", "Right side:", "DEVICES:") names where the rest of the
    # sentence is, without stating a finding of its own
    header: list[Location] = []
    colon = next((p for p, s in enumerate(spans[:5]) if s.text == ":"), None)
    field_label: tuple[str, ...] | None = () if colon is not None else None
    if colon is not None and colon + 1 < len(spans):
        label = spans[:colon]
        if any(s.text in STUDY_WORDS for s in label) and all(s.cat in ("LOC", "WORD") for s in label):
            # "CT abdomen and pelvis:", "Chest radiograph:" name the study: not a field, and no site of a finding
            locs = [l for l in locs if l.end > colon]
            targets = [t for t in targets if t.pos > colon]
        elif label and all(s.cat in ("LOC", "OBS", "WORD") for s in label) and \
                not any(s.cat == "OBS" and not (lex.is_generic(_obs_name(s) or "") and lex.is_device(_obs_name(s) or ""))
                        and _obs_name(s) != "lymph node" for s in label):
            header = [l for l in locs if l.end < colon] + [
                Location("lymph node", None, None, q, q, spans[q].text) for q in range(colon)
                if spans[q].cat == "OBS" and _obs_name(spans[q]) == "lymph node"]
            if header:
                field_label = tuple(tokens[:spans[colon].start])
            locs = [l for l in locs if l.end > colon]
            targets = [t for t in targets if t.pos > colon]
        elif len(label) == 1 and label[0].cat == "OBS" and _plural(label[0]) and any(
                t.pos > colon and t.kind == "OBS" for t in targets):
            # "COLLECTIONS: 5 cm perihepatic haematoma": a plural finding word as a field label is a heading
            # ("COLLECTIONS: None." still denies one)
            targets = [t for t in targets if t.pos > colon]
        else:
            # "Chronic pancreatitis: gland atrophy, coarse calcifications": what a diagnosis label lists is in
            # the diagnosis's organ (the label's finding itself stays a finding)
            named = [q for q in range(colon) if spans[q].cat == "OBS"]
            organ = lex.observations.get(_obs_name(spans[named[0]]) or "", {}).get("default_anatomy") \
                if len(named) == 1 and not any(l.end < colon and l.organ for l in locs) else None
            if organ and not lex.is_device(_obs_name(spans[named[0]]) or ""):
                diagnosis_site = Location(organ, None, None, named[0], named[0], spans[named[0]].text)
                for t in targets:
                    if t.pos > colon and not t.locations and t.kind in ("OBS", "ENLARGE") and _may_share_site(
                            t, diagnosis_site, lex) and not any(r.organ for r in t.span.readings("OBS")):
                        t.locations.append(copy.copy(diagnosis_site))
    # "the mediastinum is stable", "unchanged cardiomediastinal silhouette": unchanged without being called normal
    # leaves its enlargement possible (the CheXpert labeler's reading, which CheXbert-based scores share)
    if not targets:
        stable = [p for p, s in enumerate(spans) if s.cat == "TEMP" and s.readings("TEMP")[0].value == "stable"]
        for p in stable:
            near = [l for l in [*locs, *header] if l.organ in lex.enlargement and lex.normal_finding(l.organ) ==
                    lex.enlargement[l.organ] and (abs(l.start - p) <= 6 or l in header)]
            if near and scope.get(p) is None:
                t = _Target(p, "STABLE_SIZE", spans[p], locations=near)
                targets.append(t)
            break
    # "Lymph nodes: right hilar 16 mm, subcarinal 11 mm.": under a node label, each station named is a node
    if any(l.organ == "lymph node" for l in header) and not any(t.kind == "OBS" for t in targets):
        node = Reading("OBS", "lymph node")
        for p, s in enumerate(spans):
            stations = s.readings("STATION")
            if p <= colon or not stations:
                continue
            side = spans[p - 1].readings("LAT")[0].value if spans[p - 1].readings("LAT") else None
            one = Span("PHRASE", [node], s.start, s.end, s.text, cat="OBS", by_kind={"OBS": [node]})
            targets.append(_Target(p, "OBS", one, locations=[
                Location("lymph node", stations[0].value.name, side, p, p, s.text)]))
        locs = [l for l in locs if not l.station]
        targets.sort(key=lambda t: t.pos)
    measured = _measured_organs(spans, [*locs, *header], targets, scope, lex) + _removed_organs(
        spans, sorted([*header, *locs], key=lambda l: l.end), targets, lex)
    if not targets:
        orphan = None
        if any(s.value in TIP_WORDS for s in spans if s.cat == "WORD"):
            orphan = next((r.value for q, s in enumerate(spans) for r in s.readings("POS")
                           if not _on_its_course(spans, q)), None)
        return SentenceReading(tuple(measured), orphan, last_side, field_label,
                               _names_site(locs, spans))
    obs_targets = [t for t in targets if t.kind in ("OBS", "ENLARGE")]
    sides = [l for l in locs if l.organ is None and not l.blocked]
    side_positions = {q for l in sides for q in range(l.start, l.end + 1)}
    devices = [t for t in obs_targets if lex.is_device(_obs_name(t.span) or "")]

    for loc in locs:
        if loc.blocked or loc.organ is None:
            continue
        nxt_obs = loc.end + 2
        if nxt_obs < len(spans) and spans[loc.end + 1].text in ("or", "and") and spans[nxt_obs].cat == "OBS":
            base = lex.observations.get(_obs_name(spans[nxt_obs]) or "", {}).get("base")
            if base:  # "no pleural or pericardial effusion": a pleural effusion and a pericardial one
                t = _Target(nxt_obs, "OBS", spans[nxt_obs], locations=[loc], base=base)
                targets.append(t)
                obs_targets.append(t)
                continue
        chosen: _Target | None = None
        following = [t for t in targets if t.pos > loc.end]
        adjective = next((t for t in targets if t.kind == "ENLARGE" and t.pos == loc.start - 1), None)
        if adjective is not None and following and spans[loc.end + 1].text == ",":
            # "distended gallbladder, wall thickening": the organ the adjective names, and the list's subject
            chosen = adjective
            nxt_t = following[0]
            if nxt_t.kind == "OBS" and nxt_t.pos - loc.end <= 5 and _may_share_site(nxt_t, loc, lex) and \
                    _gap_is_modifiers(spans, loc.end + 1, nxt_t.pos, side_positions):
                nxt_t.locations.append(copy.copy(loc))
        elif following and following[0].pos - loc.end <= 5 and \
                _gap_is_modifiers(spans, loc.end + 1, following[0].pos, side_positions):
            chosen = following[0]  # "liver mass", "left renal upper pole: hypodense mass"
        if chosen is None:
            q = loc.start - 1
            while q >= 0 and (spans[q].cat in ("COUNT", "NUM") or q in side_positions or (
                    spans[q].cat == "WORD" and spans[q].value not in PREPOSITIONS and (
                        spans[q].value in ("the", "a", "an") or spans[q].value in lex.location_fillers))):
                q -= 1  # back over "the distal", "the left three": "of" is the preposition before the site
            if q >= 0 and spans[q].cat == "WORD" and spans[q].value in PREPOSITIONS:
                left = [t for t in obs_targets if t.pos < loc.start]
                if left:
                    chosen = left[-1]  # "mass in the liver"
                    # "bronchiectasis with mucoid impaction in both lower lobes": the site of a list
                    k = obs_targets.index(chosen)
                    while k > 0 and not obs_targets[k - 1].locations and _may_share_site(
                            obs_targets[k - 1], loc, lex) and all(
                            g.text in LIST_JOINERS or g.cat in ("SEV", "ATTR", "COUNT", "TEMP")
                            for g in spans[obs_targets[k - 1].pos + 1:obs_targets[k].pos]) and \
                            not lex.is_device(_obs_name(obs_targets[k - 1].span) or ""):
                        obs_targets[k - 1].locations.append(loc)
                        k -= 1
        if chosen is None:
            chosen = min(targets, key=lambda t: (abs(t.pos - loc.start) if t.pos < loc.start
                                                 else t.pos - loc.end, t.pos < loc.start))
            after = spans[loc.end + 1] if loc.end + 1 < len(spans) else None
            if chosen.locations and after is not None and (after.cat == "CTX:relation" or (
                    after.cat == "WORD" and after.text.isalpha() and after.text not in PREPOSITIONS
                    and after.text not in PHRASE_BREAKS and after.text not in COPULAS)):
                continue  # "a mass in the left upper lobe with pleural tethering": the site of another noun
        if scope.get(loc.start) == "hyp" and scope.get(chosen.pos) != "hyp":
            continue  # "effusions in the setting of heart failure": a site in the history is not the finding's
        chosen.locations.append(loc)

    targets.sort(key=lambda t: t.pos)
    obs_targets.sort(key=lambda t: t.pos)
    for loc in sides:  # "right pleural effusion", "effusion on the right"
        after = [t for t in obs_targets if t.pos > loc.end and t.pos - loc.end <= 4
                 and _gap_is_adjectives(spans, loc.end + 1, t.pos, side_positions)]
        before = [t for t in obs_targets if t.pos < loc.start and loc.start - t.pos <= 3]
        if after:
            after[0].sides.append(loc)
            # a side before a list covers the list ("small right pneumothorax, haemothorax and rib fractures")
            k = obs_targets.index(after[0])
            for nxt in obs_targets[k + 1:]:
                gap = spans[obs_targets[k].pos + 1:nxt.pos]
                if not gap or not all(g.text in LIST_JOINERS or g.cat in ("SEV", "ATTR", "COUNT", "SIZE", "TEMP",
                                                                           "NUM") for g in gap):
                    break
                if not nxt.sides and not any(l.laterality for l in nxt.locations):
                    nxt.sides.append(loc)
                k += 1
        elif before:
            before[-1].sides.append(loc)

    for p, s in enumerate(spans):
        if s.cat in ("SIZE", "PRIOR_SIZE") and obs_targets:
            t = min(obs_targets, key=lambda t: (abs(t.pos - p), t.pos > p))
            nxt = next((u for u in obs_targets if u.pos > p), None)
            if nxt is not None and nxt is not t and nxt.pos - p <= 6 and _gap_is_modifiers(
                    spans, p + 1, nxt.pos, side_positions, locations=True) and not any(
                    g.text == "," for g in spans[p + 1:nxt.pos]):
                t = nxt  # "cirrhotic liver with a 27 mm segment 8 lesion": the size of the noun it modifies
            if abs(t.pos - p) <= MAX_SIZE_REACH:  # "the CBD measures 0.6 cm" is not the size of a far-off finding
                (t.sizes if s.cat == "SIZE" else t.prior_sizes).append(s.value)
        elif s.cat in ("COUNT", "NUM"):
            nxt = [t for t in obs_targets if t.pos > p and t.pos - p <= 7]
            if s.cat == "COUNT" and s.text.startswith("x "):  # "rib fx x3"
                prv = [t for t in obs_targets if t.pos < p and p - t.pos <= 3]
                if prv:
                    prv[-1].count = s.readings("COUNT")[0].value
                continue
            if not nxt or not _gap_is_adjectives(spans, p + 1, nxt[0].pos, side_positions):
                # "fractures of two right ribs": the count of the parts is the count of the finding
                prv = [t for t in obs_targets if t.pos < p]
                if prv and s.cat == "COUNT" and all(g.text in _PART_COUNT_GAP for g in
                                                    spans[prv[-1].pos + 1:p]) and p - prv[-1].pos <= 4 \
                        and p + 1 < len(spans) and spans[p + 1].cat in ("LOC", "WORD"):
                    prv[-1].count = s.readings("COUNT")[0].value
                continue
            if s.cat == "NUM":
                ordinal = p + 1 < len(spans) and spans[p + 1].text in ("st", "nd", "rd", "th")  # "6th rib fx"
                if s.value != int(s.value) or not 0 < s.value <= 50 or ordinal or not (
                        _plural(nxt[0].span) or nxt[0].span.text in NUMBER_NEUTRAL):
                    continue
                nxt[0].count = int(s.value)
            else:
                nxt[0].count = s.readings("COUNT")[0].value
        elif s.cat == "ATTR":
            nxt = [t for t in obs_targets if t.pos > p and t.pos - p <= 4]
            prv = [t for t in obs_targets if t.pos < p and p - t.pos <= 3]
            t = nxt[0] if nxt else (prv[-1] if prv else None)
            if t is not None:
                t.attrs.add(s.readings("ATTR")[0].value)
        elif s.cat in ("SEV", "TEMP"):
            if s.cat == "TEMP" and scope.get(p) == "neg":
                continue  # "nothing new": no change is stated
            nxt = [t for t in obs_targets if t.pos > p and t.pos - p <= 6
                   and _gap_is_adjectives(spans, p + 1, t.pos, side_positions)]
            before = [t for t in obs_targets if t.pos < p]
            if not nxt and before and p > 0 and spans[p - 1].text in _LINKING_VERBS:
                t = before[-1]  # "a lesion in segment 5 is new, suspicious for HCC": said of the subject
            else:
                t = nxt[0] if nxt else _nearest(obs_targets, p)
            if t is None:
                continue
            if s.cat == "TEMP" and nxt and t is nxt[0] and s.text in ("increased", "decreased", "increasing",
                                                                       "decreasing", "more", "less") \
                    and lex.observations.get(_obs_name(t.span) or "", {}).get("descriptive_change"):
                continue  # "increased opacity" describes the opacity, not a change since the prior
            if s.cat == "SEV" and t.severity is None:
                t.severity = s.readings("SEV")[0].value
            elif s.cat == "TEMP" and (t.temporal is None or (t.temporal == "stable" and s.readings("TEMP")[0].value
                                                                 in ("increased", "decreased", "new"))):
                t.temporal = s.readings("TEMP")[0].value  # a stated change outranks "again seen"
                pairs = zip(obs_targets, obs_targets[1:])
                listed = len(obs_targets) > 1 and all(g.text in LIST_JOINERS for a, b in pairs
                                                      for g in spans[a.pos + 1:b.pos])
                last = all(o.pos < p for o in obs_targets)
                if not nxt and p > 0 and (spans[p - 1].text == "," or listed) and last:
                    # "perihilar and basal opacities in keeping with ARDS, unchanged from yesterday", "ETT/NGT
                    # unchanged": a change said after the sentence's findings is said of each of them
                    for o in obs_targets:
                        if o.temporal is None and scope.get(o.pos) not in ("neg", "hyp", "resolved"):
                            o.temporal = t.temporal
    # "now 54 mm (previously 49 mm)" states growth as plainly as "increased from 4.9 cm": the change follows
    # from the two sizes where no word states one
    for t in obs_targets:
        if t.sizes and t.prior_sizes and t.temporal in (None, "stable"):
            now, before = max(t.sizes), max(t.prior_sizes)
            if abs(now - before) > max(PRIOR_SIZE_SAME_MM, PRIOR_SIZE_SAME_REL * before):
                t.temporal = "increased" if now > before else "decreased"
            elif t.temporal is None:
                t.temporal = "stable"

    # a device's tip position: the first position named after it (before the next device), else before it
    for k, t in enumerate(devices):
        limit = devices[k + 1].pos if k + 1 < len(devices) else len(spans)
        after = [r.value for q, s in enumerate(spans[t.pos + 1:limit], t.pos + 1) for r in s.readings("POS")[:1]
                 if not _on_its_course(spans, q)]
        if not after and k + 1 < len(devices) and all(g.text in LIST_JOINERS for g in spans[t.pos + 1:limit]):
            # "endotracheal and nasogastric tubes are satisfactorily sited": each where it is meant to be
            nxt_limit = devices[k + 2].pos if k + 2 < len(devices) else len(spans)
            after = [r.value for s in spans[limit + 1:nxt_limit] for r in s.readings("POS")[:1]
                     if r.value == "expected"]
        before = [r.value for s in spans[:t.pos] for r in s.readings("POS")[:1]] if k == 0 else []
        if not after:
            # a tip in a place the position list does not name ("in the right lower lobe bronchus", "in the
            # major fissure"): the organ (and sub-location) it is in
            after = [f"{l.organ} {l.sub}" if l.sub else l.organ for l in locs
                     if l.organ is not None and t.pos < l.start < limit and not l.blocked
                     and any(spans[q].text in PREPOSITIONS for q in range(max(t.pos + 1, l.start - 3), l.start))]
        named = [lex.expected_position(_obs_name(t.span) or "") if p == "expected" else p
                 for p in (after or before)]
        named = sorted({p for p in named if p})
        # several leads or ends ("leads in the right atrium and right ventricle") are one position set
        t.position = " + ".join(named) if named else None

    # An observation with no site of its own in a sentence that also calls an organ normal is in that organ
    # ("the liver is unremarkable except for a cyst"): it takes the organ and the normal statement yields.
    # A finding that lives mostly elsewhere ("granulomas", at home in the lung) is in the organ too when the
    # sentence says the organ holds it ("the spleen is normal in size but contains granulomas").
    normals = [t for t in targets if t.kind == "NORMAL" and t.locations]
    sized = [t for t in targets if t.kind == "NORMAL_SIZE" and t.locations]
    for t in obs_targets:
        spec = lex.observations.get(_obs_name(t.span) or "", {})
        if t.locations or t.sides or not (normals or sized) or any(r.organ for r in t.span.readings("OBS")):
            continue  # "urolithiasis" names its organ
        if scope.get(t.pos) == "neg":  # "liver unremarkable, no cyst": a negative in the organ, which stays normal
            normals = [n for n in normals if n.pos < t.pos][-1:]
        held = [n for n in (normals or sized) if n.pos < t.pos and any(
            g.text in EXCEPT_WORDS for g in spans[n.pos + 1:t.pos])]
        if normals and "default_anatomy" not in spec:
            for nt in normals:
                t.locations.extend(copy.copy(l) for l in nt.locations)
                if scope.get(t.pos) != "neg":
                    nt.locations = []
        elif "default_anatomy" not in spec:  # "the liver is normal in size with a 1 cm cyst"
            for nt in [n for n in sized if n.pos < t.pos][-1:]:
                t.locations.extend(copy.copy(l) for l in nt.locations)
        elif held and not spec.get("sole_anatomy"):
            for nt in held:  # a normal size still stands: the spleen holds granulomas and is not enlarged
                t.locations.extend(copy.copy(l) for l in nt.locations)
                if nt.kind == "NORMAL":
                    nt.locations = []
    # "numerous hepatic metastases, dominant lesion 30 mm in segment 6", "lymphadenopathy, largest node 15 mm":
    # the largest member of a group just named gives the group its size and site; it is not another finding
    for k, t in enumerate(obs_targets):
        if k == 0 or t.kind != "OBS" or not LARGEST_WORDS & {s.text for s in spans[max(0, t.pos - 2):t.pos]}:
            continue
        prev = obs_targets[k - 1]
        group, member = _obs_name(prev.span), _obs_name(t.span)
        if prev.kind != "OBS" or not group or not member or lex.family(group) != lex.family(member) \
                or not (prev.count == "multiple" or (isinstance(prev.count, int) and prev.count >= 2)
                        or _plural(prev.span) or lex.is_generic(member) or group != member and not lex.is_focal(group)):
            continue
        prev.sizes.extend(t.sizes)
        for loc in t.locations:
            same = [p for p in prev.locations if p.organ == loc.organ and p.sub is None
                    and loc.laterality in (None, p.laterality)]
            for p in same:
                p.sub = loc.sub
            if not prev.locations:
                prev.locations.append(copy.copy(loc))
        t.refined = True
    # "a 1.9 cm lesion in the left kidney, likely a simple cyst": the hedged name refines the lesion before it
    # and takes its site, size and count
    for k, t in enumerate(obs_targets):
        spec = lex.observations.get(_obs_name(t.span) or "", {})
        if k == 0 or t.kind != "OBS" or spec.get("fixed_anatomy"):
            continue
        prev = obs_targets[k - 1]
        # "a nodule in the right upper lobe, suspicious for lung carcinoma" refines like "..., suspicious for
        # carcinoma": a site the hedged name states that only repeats the organ (no side, no sub-location of
        # its own) is not a second site
        if t.locations and not (prev.locations and all(
                l.sub is None and l.laterality is None and any(l.organ == pl.organ for pl in prev.locations)
                for l in t.locations)):
            continue
        prev_default = lex.observations.get(_obs_name(prev.span) or "", {}).get("default_anatomy")
        prev_sites = [copy.copy(l) for l in prev.locations] or [
            copy.copy(l) for l in header if l.organ is not None] or (  # "Left adrenal: nodule, c/w adenoma"
            [Location(prev_default, None, None, prev.pos, prev.pos, "")]
            if prev_default and prev.kind == "OBS" and not lex.is_device(_obs_name(prev.span) or "") else [])
        prev_sites = [l for l in prev_sites if _may_share_site(t, l, lex)]
        # "a 1.4 cm hypodensity, likely a haemangioma" refines with no site named at all
        no_site = not prev.locations and not t.locations and not header and prev.kind == "OBS"
        if (prev_sites or no_site) and scope.get(t.pos) in ("probable", "possible") and scope.get(prev.pos) is None:
            t.locations = prev_sites
            t.sides = t.sides or list(prev.sides)
            t_obs, prev_obs = _obs_name(t.span) or "", _obs_name(prev.span) or ""
            if _lesion_like(t_obs, lex) and _lesion_like(prev_obs, lex) or (
                    lex.family(t_obs) == lex.family(prev_obs) and lex.observations.get(prev_obs, {}).get("descriptive")
                    and scope.get(t.pos) == "probable"):  # "LLL consolidation consistent with pneumonia"
                t.sizes = t.sizes or list(prev.sizes)
                t.count = t.count or (prev.count if prev.count != "unstated" else None)
                t.attrs |= prev.attrs
                # "an adrenal nodule, compatible with an adenoma" is one adenoma: a descriptive name yields; but
                # "a renal mass, suspicious for RCC" states a mass that is there and a diagnosis that may be
                prev.refined = (lex.observations.get(_obs_name(prev.span) or "", {}).get("descriptive", False)
                                and scope.get(t.pos) == "probable")
    # "right lower zone pneumonic consolidation": a finding named as an adjective of the next shares its site
    for a, b in zip(obs_targets, obs_targets[1:]):
        if b.pos == a.pos + 1 and a.locations and not b.locations and not b.sides and b.kind == "OBS" \
                and not lex.is_device(_obs_name(b.span) or ""):
            b.locations = [copy.copy(l) for l in a.locations if _may_share_site(b, l, lex)]
            b.sides = list(a.sides)
    # "acute calculous cholecystitis": an adjective naming a finding is in the organ of the finding it modifies,
    # and what is said before both ("acute") is said of the finding modified
    for a, b in zip(obs_targets, obs_targets[1:]):
        if b.pos == a.pos + 1 and a.kind == b.kind == "OBS" and not a.locations and not a.sides \
                and not b.locations and not lex.is_device(_obs_name(a.span) or "") \
                and not lex.is_device(_obs_name(b.span) or "") and len(a.span.text.split()) == 1:
            organ = next((r.organ for r in b.span.readings("OBS") if r.organ), None) or \
                lex.observations.get(_obs_name(b.span) or "", {}).get("default_anatomy")
            site = Location(organ, None, None, b.pos, b.pos, "") if organ else None
            if site is not None and _may_share_site(a, site, lex) and not any(
                    r.organ for r in a.span.readings("OBS")):
                a.locations = [site]
            if a.count is None:
                a.count = "unstated"  # "gallstone cholecystitis": a noun used as an adjective counts nothing
            if a.temporal and not b.temporal:
                b.temporal, a.temporal = a.temporal, None
    # "ground glass opacification": two words for one finding side by side are one finding
    for a, b in zip(obs_targets, obs_targets[1:]):
        if b.pos == a.pos + 1 and a.kind == b.kind == "OBS" and _obs_name(a.span) == _obs_name(b.span) \
                and not a.refined:
            a.refined = True
            b.locations = b.locations or a.locations
            b.sides = b.sides or a.sides
            b.sizes = b.sizes or a.sizes
            b.attrs |= a.attrs
            b.severity = b.severity or a.severity
            b.temporal = b.temporal or a.temporal
    # "fibroid uterus", "cirrhotic liver": a finding word before its own organ's noun describes the organ and
    # states no count
    for t in obs_targets:
        if t.kind == "OBS" and t.count is None and len(t.span.text.split()) == 1 and t.pos + 1 < len(spans) \
                and spans[t.pos + 1].cat == "LOC" and not _plural(t.span):
            home = lex.observations.get(_obs_name(t.span) or "", {}).get("default_anatomy")
            if home and any(r.value == home for r in spans[t.pos + 1].readings("ANAT")):
                t.count = "unstated"
    # "opacity, atelectasis or pneumonia": the second alternative is where the first is
    for a, b in zip(obs_targets, obs_targets[1:]):
        if a.locations and not b.locations and not b.sides and b.kind == "OBS" and any(
                g.text in ("or", "versus", "vs") for g in spans[a.pos + 1:b.pos]) and b.pos - a.pos <= 3:
            b.locations = [copy.copy(l) for l in a.locations if _may_share_site(b, l, lex)]
            b.sides = list(a.sides)
    # "the gallbladder is distended and contains multiple stones", "the liver is fatty without focal lesions":
    # what the finding before it has, or has not, with it is in the same site
    for k, t in enumerate(obs_targets):
        if k == 0 or t.locations or t.sides or t.kind != "OBS" or lex.is_device(_obs_name(t.span) or ""):
            continue
        prev = obs_targets[k - 1]
        gap = spans[prev.pos + 1:t.pos]
        words = {w for g in gap for w in g.text.split()}
        prev_implied = next((r.organ for r in prev.span.readings("OBS") if r.organ), None) or \
            lex.observations.get(_obs_name(prev.span) or "", {}).get("default_anatomy")
        prev_sites = prev.locations or ([Location(prev_implied, None, None, prev.pos, prev.pos, prev.span.text)]
                                        if prev_implied else [])  # "nephrolithiasis without obstruction"
        if prev_sites and not lex.is_device(_obs_name(prev.span) or "") and WITH_WORDS & words \
                and not any(g.cat == "CTX:termination" and g.text.split()[0] not in WITH_WORDS for g in gap):
            implied = next((r.organ for r in t.span.readings("OBS") if r.organ), None)
            t.locations = [copy.copy(l) for l in prev_sites if (
                (l.organ == implied or l.organ in lex.anatomy.get(implied, {}).get("absorbs", []))
                if implied else _may_share_site(t, l, lex))]
            if not words & {"with", "without", "containing", "contains", "contain", "("}:
                for l in t.locations:  # "a stone at the UPJ causing hydronephrosis": the organ, not the part
                    l.sub = None
    # the field label's site for what names none ("LUNGS: Linear atelectasis at the left base.")
    if header:
        for t in targets:
            spec = lex.observations.get(_obs_name(t.span) or "", {})
            implied = {r.organ for r in t.span.readings("OBS") if r.organ}  # "UPPER ABDOMEN: Cholelithiasis."
            if inherited_label and spec.get("default_anatomy") and not spec.get("focal"):
                continue  # "Lymph nodes: hilar 16 mm. Small effusion.": a finding with a home stays there
            # "Right lung upper lobe: pulmonary nodule": a label naming the finding's own organ still gives its part
            own_label = [l for l in header if l.organ in implied]
            if not t.locations and not spec.get("fixed_anatomy") and (not implied or own_label):
                organs = own_label or [l for l in header if l.organ is not None]
                if t.kind == "ENLARGE" and len(organs) > 1:  # "HEART AND PERICARDIUM: Enlarged."
                    organs = [l for l in organs if l.organ in lex.enlargement][:1] or organs[:1]
                if t.kind == "OBS" and len(organs) > 1:
                    # "LUNGS AND AIRWAYS: Left lung nodule.": a finding lives in one of the label's organs, the
                    # one it belongs to if named, else the first; a normal statement covers them all
                    default = spec.get("default_anatomy")
                    own = [l for l in organs if l.organ == default or l.organ in lex.anatomy.get(
                        default or "", {}).get("absorbs", [])]
                    organs = own[:1] or organs[:1]
                t.locations = [copy.copy(l) for l in organs]
            if not t.sides:
                t.sides = [l for l in header if l.organ is None and l.laterality in ("left", "right", "bilateral")]

    out: list[ParsedFinding] = []
    for t in targets:
        context = scope.get(t.pos)
        if t.kind in ("BORDERLINE_SIZE", "STABLE_SIZE"):
            for loc in t.locations:
                obs = lex.enlargement.get(loc.organ or "")
                if obs is not None and context in (None, "probable", "possible"):
                    f = Finding(observation=obs, anatomy=loc.organ, certainty=Certainty.POSSIBLE,
                                temporal="stable" if t.kind == "STABLE_SIZE" else None)
                    out.append(ParsedFinding(f, t.span.text, loc.text))
            continue
        if t.kind in ("NORMAL", "NORMAL_SIZE"):
            if context == "neg" and _after_list_break(spans, t):
                context = None  # "liver without focal lesion, adrenals normal": a new subject, not a negated one
            if context not in (None, "probable"):
                continue
            for loc in t.locations:
                obs = lex.normal_finding(loc.organ) if t.kind == "NORMAL" else lex.enlargement.get(loc.organ)
                if obs is None:
                    continue
                home = lex.observations.get(obs, {}).get("default_anatomy")
                absorbed = home and loc.organ in lex.anatomy.get(home, {}).get("absorbs", [])
                # "normal pulmonary vascularity" is no oedema of the lungs
                f = Finding(observation=obs, anatomy=home if absorbed else loc.organ,
                            sub_location=None if absorbed else loc.sub,
                            laterality=loc.laterality, presence=Presence.ABSENT)
                out.append(ParsedFinding(f, t.span.text, loc.text))
                also = lex.anatomy.get(loc.organ or "", {}).get("normal_also") or {}
                for organ, _, sub in sorted({o.partition("/") for w, o in also.items() if w in loc.text.split()}):
                    obs = lex.normal_finding(organ) if t.kind == "NORMAL" else lex.enlargement.get(organ)
                    if obs is not None:
                        out.append(ParsedFinding(Finding(observation=obs, anatomy=organ, sub_location=sub or None,
                                                         presence=Presence.ABSENT), t.span.text, loc.text))
            continue
        if context == "hyp" or t.refined:
            continue
        certainty = {"possible": Certainty.POSSIBLE, "improbable": Certainty.IMPROBABLE, "neg": Certainty.ABSENT,
                     "probable": Certainty.PROBABLE, None: Certainty.PRESENT}[context]
        if t.pos in resolved and context == "neg":
            t.temporal = "resolved"
        if t.temporal == "resolved" and certainty is Certainty.PRESENT:
            certainty = Certainty.ABSENT  # "the effusion has resolved" (a resolved-change word outside a scope)
        out.extend(_findings_of_target(t, certainty, lex))
    return SentenceReading(tuple(out + measured), None, last_side, field_label,
                           _names_site(locs, spans))


PRIOR_STUDY_WORDS = frozenset({"prior", "previous", "previously", "earlier", "yesterday", "last", "ct", "study",
                               "exam", "examination", "radiograph", "film", "scan", "mri", "cxr", "baseline"})
_NEW_SINCE = Reading("TEMP", "new")


def _read_comparisons(spans: list[Span]) -> None:
    """Comparison with a prior study is not a differential or a negation of the finding now: "CXR vs yesterday",
    "versus the film 3 days earlier" do not hedge; "not present on the 2024 CT" says the finding is new."""
    n = len(spans)
    for p, s in enumerate(spans):
        versus = s.text in ("versus", "vs")
        if not (versus or s.cat.startswith("CTX:negation")) or p + 1 >= n:
            continue
        after = [spans[q].text for q in range(p + 1, min(n, p + 6))]
        if versus and (after[0] in PRIOR_STUDY_WORDS or (
                after[0] in ("the", "a") and len(after) > 1 and after[1] in PRIOR_STUDY_WORDS)):
            spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")
        elif not versus and after[0] in ("on", "in") and any(w in PRIOR_STUDY_WORDS for w in after[1:5]):
            spans[p] = Span("PHRASE", [_NEW_SINCE], s.start, s.end, s.text, cat="TEMP", by_kind={"TEMP": [_NEW_SINCE]})


def _after_list_break(spans: list[Span], t: _Target) -> bool:
    """A normal statement with its own subject after a comma that follows a negation ("without focal lesion,
    adrenals normal"), i.e. the negation's list has ended."""
    trig = max((q for q in range(t.pos) if spans[q].cat == "CTX:negation_forward"), default=None)
    if trig is None:
        return False
    commas = [q for q in range(trig + 1, t.pos) if spans[q].text == ","]
    return bool(commas) and any(l.start > commas[-1] for l in t.locations)


_REMOVED_RE = re.compile(r"\b(?:surgically (?:absent|removed|resected)|absent surgically|(?:has|have) been "
                         r"(?:removed|resected)|resected|removed|resection|excision)\b")
_REMOVED_WORDS = frozenset({"absent", "removed", "resected", "resection", "excision"})


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
                     lex: Lexicon) -> list[ParsedFinding]:
    """An organ measured with no finding named ("Spleen 15 cm.", "The ascending aorta measures 4.6 cm.") states
    its size: enlarged beyond the lexicon's upper normal value (with the size), not enlarged otherwise."""
    out: list[ParsedFinding] = []
    findings = [t.pos for t in targets if t.kind in ("OBS", "ENLARGE")]
    for p, s in enumerate(spans):
        if s.cat != "SIZE" or scope.get(p) == "neg" or any(abs(q - p) <= MAX_SIZE_REACH for q in findings):
            continue
        organs = [l for l in locs if l.organ in lex.upper_normal_mm and l.end < p and p - l.end <= 4]
        if not organs:
            continue
        loc = organs[-1]
        limit = lex.upper_normal_mm[loc.organ]
        if loc.sub is not None and not isinstance(limit, dict):
            continue  # "the segment 7 deposit ... 34 mm": a part measured is not the organ's size
        if isinstance(limit, dict):
            words = set(tokenize(loc.text)) | {loc.sub or ""}
            limit = next((v for k, v in limit.items() if k in words), limit["default"])
        enlarged = s.value > limit
        f = Finding(observation=lex.enlargement_of(loc.organ) or "enlargement", anatomy=loc.organ,
                    sub_location=loc.sub, presence=Presence.PRESENT if enlarged else Presence.ABSENT,
                    size_mm=s.value if enlarged else None,
                    certainty=Certainty.PRESENT if enlarged else Certainty.ABSENT)
        out.append(ParsedFinding(f, s.text, loc.text))
    return out


_COURSE_WORDS = frozenset({"course", "courses", "coursing", "follows", "following", "traverses", "traversing",
                           "passes", "passing", "through", "via"})


def _on_its_course(spans: list[Span], q: int) -> bool:
    """"follows the course of the oesophagus, its tip in the stomach", "oesophageal course": a place the device
    passes through is not where its tip is."""
    return any(g.text in _COURSE_WORDS for g in spans[max(0, q - 3):q]) or (
        q + 1 < len(spans) and spans[q + 1].text in ("course", "courses"))


def _lesion_like(obs: str, lex: Lexicon) -> bool:
    """A finding with a size and a count: focal ("nodule", "cyst") or countable ("collection", "node")."""
    return lex.is_focal(obs) or lex.is_countable(obs)


def _target_obs(t: _Target) -> str | None:
    return t.base or _obs_name(t.span)


def _obs_name(span: Span) -> str | None:
    r = span.readings("OBS")
    return r[0].value if r else None


def _plural(span: Span) -> bool:
    return any(r.plural for r in span.value) if span.kind == "PHRASE" else False


def _findings_of_target(t: _Target, certainty: Certainty, lex: Lexicon) -> list[ParsedFinding]:
    presence = certainty.presence
    side = t.sides[0].laterality if t.sides else None
    spec = lex.observations.get(_target_obs(t) or "", {})
    absent = presence is Presence.ABSENT
    extra = {"certainty": certainty, "temporal": t.temporal, "severity": None if absent else t.severity}
    if spec.get("fixed_anatomy"):  # a device: its organ is fixed; a side named with it is kept
        organ = spec["default_anatomy"]
        lat = side or next((l.laterality for l in t.locations if l.laterality), None)
        if not (spec.get("keeps_side") or lex.is_paired(organ)):
            lat = None
        if lat not in (None, "left", "right", "bilateral"):
            lat = None
        count = t.count if isinstance(t.count, int) and not absent else None
        attrs = set(t.attrs) | ({"multiple"} if t.count == "multiple" and not absent else set())
        if not absent and t.count is None:  # "two catheters" vs "a catheter": one unless plural
            if lex.is_generic(_target_obs(t)):
                pass  # "support devices", "lines and tubes": a collective, not a count
            elif _plural(t.span):
                attrs.add("multiple")
            else:
                count = 1
        f = Finding(observation=_target_obs(t), anatomy=organ, laterality=lat, count=count,
                    attributes=frozenset(attrs), position=None if absent else t.position, **extra)
        return [ParsedFinding(f, t.span.text, " ".join(l.text for l in t.locations))]
    # an observation that lives in one organ reads a neighbouring organ named with it as its own site ("effusion
    # at the right lung base" is a right pleural effusion); a lymph node finding reads an organ as its station
    default_organ = spec.get("default_anatomy")
    absorbs = lex.anatomy.get(default_organ or "", {}).get("absorbs", [])
    implied = next((r.organ for r in t.span.readings("OBS") if r.organ), None)
    locations = []
    for loc in t.locations:
        if implied and loc.organ not in (implied, None) and loc.organ not in lex.anatomy.get(implied, {}).get(
                "absorbs", []):
            continue  # "urolithiasis" is in the urinary tract whatever else the sentence names
        loc = copy.copy(loc)
        if spec.get("sole_anatomy") and loc.organ not in (default_organ, None) and loc.organ not in absorbs:
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
            continue  # "kidneys, nodes normal": nodes denied beside an organ are not that organ's
        elif default_organ == "lymph node" and loc.organ not in ("lymph node", None) \
                and not lex.is_region(loc.organ):
            loc.organ, loc.sub = "lymph node", None  # "a node beside the oesophagus": a node, station unnamed
        locations.append(loc)
    # a region that only frames the study ("views of the chest") yields to a real site or the default organ
    if any(l.organ in lex.weak_anatomy for l in locations) and (
            default_organ or any(l.organ not in lex.weak_anatomy for l in locations)):
        locations = [l for l in locations if l.organ not in lex.weak_anatomy]
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
    for loc in locations:  # "bilateral ... renal cysts": the side named apart from the organ
        if loc.laterality is None and side is not None and loc.organ is not None and lex.is_paired(loc.organ):
            loc.laterality = side
    # merge the locations of one organ ("liver ... right lobe"): keep the most specific
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
                m.text = m.text if len(m.text) >= len(loc.text) else loc.text
                break
        else:
            merged.append(copy.copy(loc))
    if not merged:
        if t.kind == "ENLARGE":
            return []
        default = implied or lex.observations.get(_target_obs(t) or "", {}).get("default_anatomy", UNSPECIFIED)
        merged = [Location(default, None, None, t.pos, t.pos, "")]
    plural = _plural(t.span)
    out = []
    for loc in merged:
        organ = loc.organ or UNSPECIFIED
        obs = _target_obs(t) if t.kind == "OBS" else lex.enlargement_of(organ, loc.sub)
        if obs is None:
            continue
        loc_sub = loc.sub
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
            continue
        mapped = lex.observations.get(obs, {})
        if obs != _target_obs(t) and mapped.get("sole_anatomy") and mapped.get("default_anatomy") \
                and organ != mapped["default_anatomy"]:
            organ, loc_sub = mapped["default_anatomy"], None  # "thickening of the bronchial walls": the lungs'
        if lex.normal_finding(organ) == "thrombosis" and lex.family(obs) == "lesion":
            obs = "thrombosis"  # "tumour extending into the IVC", "no tumour in the portal vein": a tumour thrombus
        if presence is Presence.ABSENT and t.span.text in ("abnormality", "abnormalities") and obs == "lesion":
            obs = lex.normal_finding(organ)  # "no pleural abnormality" is a normal pleura
        lat = loc.laterality
        if lat is None and side is not None and (lex.is_paired(organ) or spec.get("keeps_side")):
            lat = side
        attrs = set(t.attrs)
        count: int | None = None
        if isinstance(t.count, int):
            count = t.count
        elif t.count == "multiple":
            attrs.add("multiple")
        elif t.count == "unstated":
            pass
        elif presence is not Presence.ABSENT and (lex.is_focal(obs) or lex.is_countable(obs)) \
                and not _uncountable(t.span.text.split()[-1]):
            if plural:
                attrs.add("multiple")
            else:
                count = 1
        if lat not in (None, "left", "right", "bilateral"):
            lat = None  # an unresolved "ipsilateral"
        sub = loc_sub
        if not lex.is_paired(organ) and not spec.get("keeps_side"):  # a mediastinal shift keeps its direction
            if sub is None and lat in ("left", "right"):
                sub = lex.anatomy.get(organ, {}).get("side_subs", {}).get(lat)  # "left hepatic lesion": left lobe
            lat = None
        f = Finding(observation=obs, anatomy=organ, sub_location=sub, laterality=lat,
                    size_mm=max(t.sizes) if t.sizes else None, count=count, attributes=frozenset(attrs), **extra)
        out.append(ParsedFinding(f, t.span.text, loc.text))
    return out


def _clauses(tokens: list[str], lex: Lexicon) -> list[list[str]]:
    split = _relative_clause(tokens, lex) if "which" in tokens else None
    if split is not None and _sentence_findings(tuple(split[1])).findings:
        return list(split)
    return [tokens]


_SIDE_DEPENDENT = frozenset({"ipsilateral", "contralateral", "same", "opposite", "other"})


@lru_cache(maxsize=65536)
def parse_report(text: str) -> tuple[ParsedFinding, ...]:
    """Findings of a report with the words each was read from; order-independent (sorted), cached."""
    lex = lexicon()
    items: list[ParsedFinding] = []
    last_device: int | None = None
    side: str | None = None
    for section in _sections(text, lex):
        field: tuple[str, ...] = ()
        for tokens in (clause for sentence in _sentences(section) for clause in _clauses(sentence, lex)):
            key = tuple(tokens)
            denied = _elliptic_denial(key, items, lex)
            if denied is not None:
                items.append(denied)
                continue
            reading = _sentence_findings(key, side if _SIDE_DEPENDENT.intersection(key) else None)
            if reading.field_label is None and field and not reading.names_site:
                # "Spleen: Normal size. Two calcified granulomas.": the field's later sentences are in its site
                key = (*field, ":", *key)
                reading = _sentence_findings(key, side if _SIDE_DEPENDENT.intersection(key) else None, True)
            elif reading.field_label is not None:
                field = reading.field_label
            else:
                field = ()  # "Liver: metastases. Peritoneum free of deposits. Ascites.": the field has ended
            side = reading.last_side or side
            for it in _hedged_once(reading.findings, lex):
                if lex.is_device(it.finding.observation) and it.finding.presence is not Presence.ABSENT:
                    last_device = len(items)
                items.append(it)
            if reading.orphan_position and last_device is not None:
                dev = items[last_device]
                pos = reading.orphan_position
                if pos == "expected":
                    pos = lex.expected_position(dev.finding.observation)
                if dev.finding.position is None and pos is not None:
                    items[last_device] = ParsedFinding(dataclasses.replace(dev.finding, position=pos),
                                                       dev.observation_text, dev.anatomy_text)
    # exact duplicates
    seen: dict[Finding, ParsedFinding] = {}
    for it in items:
        seen.setdefault(it.finding, it)
    items = _merge_restatements(list(seen.values()), lex)
    # organ-less negatives ("No evidence of tumor.") summarise the rest of a report that says anything else
    if any(it.finding.anatomy != UNSPECIFIED for it in items):
        items = [it for it in items
                 if not (it.finding.anatomy == UNSPECIFIED and it.finding.presence is Presence.ABSENT)]
    kept = []
    for i, it in enumerate(items):
        f = it.finding
        redundant = (f.presence is not Presence.ABSENT or f.anatomy == UNSPECIFIED) and any(
            j != i and other.finding.presence is f.presence and _less_specific(f, other.finding, lex)
            and not (_less_specific(other.finding, f, lex) and j > i)
            for j, other in enumerate(items))
        if not redundant:
            kept.append(it)
    kept.sort(key=lambda it: _sort_key(it.finding))
    return tuple(kept)


def extract_findings(text: str) -> tuple[Finding, ...]:
    """The findings a report states, in the schema shared by metrics, rewards and the report writer."""
    return tuple(it.finding for it in parse_report(text))
