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
   improbable as absent). The grades follow the radiology certainty scale: "consistent with" (> 90%),
   "suspicious for" / "concerning for" / "suspected" / "likely" (probable, ~75%), "possible" / "may represent" /
   "cannot exclude" (~50%), "less likely" / "unlikely" (improbable): a suspicion is the probable grade, so
   "consolidation, concerning for pneumonia" is read as "consolidation, likely pneumonia" is (one probable
   pneumonia), and only a merely possible diagnosis leaves the sign beside it. "Resolved"/"interval removal of" negate and set the temporal change to resolved.
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
   "unchanged", "has increased") to the next observation when only modifiers lie between, else the nearest
   ("increased opacity" is a change only in a report that compares with a prior study: else it is the look).
   A device's tip position ("terminates at the cavoatrial junction", "4 cm above the carina") is read from the
   rest of its sentence, or from a following sentence that names only a tip ("Its tip is in the stomach").
   "Ipsilateral"/"contralateral" resolve against the side last named in the report.
4. **Report level**: exact duplicates and less specific restatements (an impression repeating a finding) are
   merged; inflammation stated in the organ of an inflammatory disease stated there ("diverticulitis with
   surrounding inflammatory change") is the disease's own sign; organ-less negatives ("No evidence of tumor.") are dropped when the report states anything else.

The stages live in one module each, in the order a sentence meets them: ``sentences`` (sections, sentences, token
rewrites), ``scan`` (the phrase scan and the context scopes, stage 1), ``prepass`` (the span pre-passes around the
scopes: prior sizes, comparisons, a study title, structures called normal or enlarged, predicates, an organ's own
size), ``sites`` (location phrases, stage 2), ``attach`` (which finding each site, side, attribute, severity,
change and tip belongs to, stage 3), ``measures`` (which finding each size, list of sizes, count and tip distance
belongs to, a site's own size, a change read from a prior size, stage 3), ``sharing`` (what the findings of one
sentence give each other, stage 3), ``build`` (the findings each target states, and an organ measured or removed,
once the sentence is read), this module (the order of a sentence's steps, the targets, the field label, and the
report) and ``report`` (a finding's record and the report-level rules, stage 4); ``sizefree`` reuses a sentence's
reading for a sentence that differs from it only in its sizes, where the reading provably does not depend on them.

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
from typing import Callable

from harness.findings.attach import (COMPARISON_WORDS, _attach_locations, _attach_modifiers, _attach_sides, _gap_is_adjectives,
                                     _may_share_site, _obs_name, _on_its_course, _plural, _read_device_positions,
                                     _resolve_organless_parts, _Target, _AT_LEVEL, _LEVEL_FILLERS, _level_of_span)
from harness.findings.build import _measured_organs, _removed_organs, _stated_findings
from harness.findings.lexicon import UNSPECIFIED, Lexicon, Reading, lexicon
from harness.findings.measures import (PRIOR_SIZE_SAME_MM, PRIOR_SIZE_SAME_REL, _attach_measures, _change_from_prior_sizes, _counts_per_side,
                                       _counts_per_site, _sizes_of_listed_sites)
from harness.findings.prepass import (_attributes_denied_by_non, _solid_parts_described, STUDY_WORDS, _calcified_organs_named, _contrast_filling, _in_aside,
                                      _past_procedures, _predicates_of_the_organ_spoken_of,
                                      _deny_structures_called_normal, _enlarged_names, _focal_findings_grown,
                                      _forms_said_of_organs, _hedge_study_title, _mark_prior_sizes,
                                      _organs_called_calcified, _parts_of_devices, _predicates_of_findings,
                                      _read_comparisons, _sized_organs, _tip_subject_denials)
from harness.findings.report import (ParsedFinding, _combined, _elliptic_denial, _elliptic_side_subject, _explained_away,
                                     _hedged_once, _less_specific,
                                     _merge_restatements, _restates_group, _sort_key)
from harness.findings.scan import Span, _scan, _scopes
from harness.findings.sentences import (MAX_SENTENCE_TOKENS, _relative_clause, _sections, _sentence_pieces, _side_labels_nested,
                                       normalised_tokens)
from harness.findings.sharing import _share_between_findings
from harness.findings.sites import Location, _locations
from harness.findings.sizefree import SizedReading, SizeTracker, number_key
from harness.schema import Certainty, Finding, Presence

TIP_WORDS = frozenset({"tip", "tips", "terminates", "terminating", "ends", "ending", "courses", "projects",
                       "projecting", "extends", "positioned", "position", "located", "lies", "overlies", "overlying",
                       # "Leads terminate in the RA and RV." (the pacemaker's leads, said after it)
                       "terminate", "end", "project", "lie", "lead", "leads", "wires"})
#: the span categories that state an organ normal, and the kind of statement each is
_STATEMENT_KINDS = {"CTX:normal": "NORMAL", "CTX:normal_size": "NORMAL_SIZE",
                    "CTX:borderline_size": "BORDERLINE_SIZE"}


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
    #: the organs the sentence names when it names no side (a field labelled with a side may still hold them)
    unsided_organs: frozenset[str] | None = None
    #: a field label's sites that name a side: (organ, or None for a side alone, and the side)
    label_sides: tuple[tuple[str | None, str], ...] = ()
    #: the last paired organ the sentence names, for a side standing alone in the next ("stone in the left")
    paired_organ: str | None = None
    #: the sites the sentence names are node stations only, and it names no finding ("Station 4R 11 mm."): under a
    #: lymph node field it lists another node of the field
    stations_only: bool = False
    #: the sentence names no finding or site and states one size of the prior study ("Previously it measured 6 mm.",
    #: "It measured 6 mm in 2021."): the prior size of the finding the sentence before measured
    prior_size: float | None = None
    #: the sentence opens with a word that refers back to what was just said ("They are unchanged.", "both are
    #: slightly larger than on the prior study") and states one change, no finding and no site: the change of the
    #: findings the sentence before stated
    lone_change: str | None = None
    #: what parse_report makes of the reading after a sentence about the given subject organ: the findings, their
    #: hedges merged, and the next sentence's subject; kept with the cached reading, which repeats report after report
    in_context: dict = field(default_factory=dict, repr=False, compare=False)


#: words that make a lone size of a sentence the prior study's ("It measured 6 mm in 2021", "Previously 6 mm")
_PRIOR_SENTENCE_WORDS = frozenset({"previously", "prior", "previous", "earlier", "formerly", "measured", "was", "were",
                                   "prev"})
_PRESENT_MEASURE_WORDS = frozenset({"measures", "measure", "now", "currently", "today", "is", "are"})


#: the words that open a sentence about the findings just stated ("It has grown.", "Both are larger.")
_REFERRING_SUBJECTS = frozenset({"it", "they", "both", "each", "these", "this", "all"})


def _lone_change(tokens: list[str], spans: list[Span], locs: list[Location]) -> str | None:
    """The one change a sentence without a finding or an organ states of the findings before it, when it opens by
    referring back to them ("They have all decreased in size.", "both are larger than on the prior study")."""
    if not tokens or tokens[0] not in _REFERRING_SUBJECTS or any(l.organ is not None for l in locs):
        return None
    changes = {r.value for s in spans if s.cat == "TEMP" for r in s.readings("TEMP")}
    if len(changes) != 1 or any(s.cat in ("OBS", "ENLARGE", "SIZE", "CTX:negation_forward") for s in spans):
        return None
    return next(iter(changes))


def _lone_prior_size(spans: list[Span], locs: list[Location]) -> float | None:
    """The one size a sentence without a finding or an organ states of the prior study."""
    sizes = [s for s in spans if s.cat in ("SIZE", "PRIOR_SIZE")]
    words = {s.text for s in spans}
    if len(sizes) != 1 or any(l.organ is not None for l in locs) or any(s.cat == "OBS" for s in spans) \
            or not (sizes[0].cat == "PRIOR_SIZE" or _PRIOR_SENTENCE_WORDS & words) or _PRESENT_MEASURE_WORDS & words:
        return None
    return sizes[0].value


def _read_sentence(tokens: tuple[str, ...], prev_side: str | None = None,
                   inherited_label: bool = False, compared: bool = False) -> SentenceReading:
    """Findings of one sentence. ``compared``: the report compares with a prior study (read only where a sentence
    has a change word it decides)."""
    return _analyse_sentence(list(tokens), lexicon(), prev_side, inherited_label, compared)


#: readings of sentences with sizes, by their normalised tokens without the numbers and the other arguments (see
#: ``sizefree``); None for a sentence whose reading depends on its sizes
_SIZED_READINGS: dict[tuple, SizedReading | None] = {}


class _SentenceCache:
    """``_sentence_findings``: readings cached by their tokens, since reports repeat their boilerplate sentences, as
    lru_cache does. ``cache_clear`` also forgets the readings kept for sentences that differ only in their sizes,
    so that a cleared reader reads every sentence anew."""

    def __init__(self, read: Callable[..., SentenceReading]) -> None:
        self._cached = lru_cache(maxsize=65536)(read)
        self.__wrapped__ = read

    def __call__(self, tokens: tuple[str, ...], prev_side: str | None = None, inherited_label: bool = False,
                 compared: bool = False) -> SentenceReading:
        return self._cached(tokens, prev_side, inherited_label, compared)

    def cache_clear(self) -> None:
        self._cached.cache_clear()
        _SIZED_READINGS.clear()

    def cache_info(self):
        return self._cached.cache_info()


_sentence_findings = _SentenceCache(_read_sentence)


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


def _names_site(locs: list[Location], spans: list[Span]) -> bool:
    """The sentence names an organ: a site word, or a finding named with its organ ("skeletal metastases")."""
    return any(l.organ is not None for l in locs) or any(
        r.organ for s in spans if s.cat == "OBS" for r in s.readings("OBS"))


def _unsided_organs(locs: list[Location], spans: list[Span]) -> frozenset[str] | None:
    """The organs a sentence names, None when it names a side anywhere."""
    organs = {l.organ for l in locs if l.organ is not None}
    for s in spans:
        if s.kind == "PHRASE":
            if "LAT" in s.by_kind:
                return None
            if s.cat == "OBS":
                organs.update(r.organ for r in s.by_kind["OBS"] if r.organ)
    return frozenset(organs)


def _label_sides(label: _FieldLabel) -> tuple[tuple[str | None, str], ...]:
    if not label.sites:
        return ()
    return tuple((l.organ, l.laterality) for l in label.sites if l.laterality in ("left", "right", "bilateral"))


def _paired_organ(locs: list[Location], label: _FieldLabel, lex: Lexicon) -> str | None:
    named = [l for l in (*label.sites, *locs) if l.organ is not None and lex.is_paired(l.organ)]
    last = max(named, key=lambda l: l.start, default=None)
    return last.organ if last is not None and tuple(last.organ.split()) in lex.phrases else None


_SIDE_TOKENS = frozenset({"left", "right", "l", "r", "lt", "rt"})


def _side_for_organ_before(reading: SentenceReading, key: tuple[str, ...], organ: str | None) -> bool:
    """"Cyst in the right kidney; stone in the left.", "Right kidney: cyst. Left: stone.": a sentence whose finding
    has no organ and that names a side alone speaks of the paired organ the sentence before named."""
    return organ is not None and reading.paired_organ is None and not _SIDE_TOKENS.isdisjoint(key) and any(
        it.finding.anatomy == UNSPECIFIED for it in reading.findings)


def _stays_in_sided_field(reading: SentenceReading, sides: tuple[tuple[str | None, str], ...], lex: Lexicon) -> bool:
    """"RIGHT KIDNEY: 2 cm cyst. Lower pole calculus.", "LEFT LEG: ... Posterior tibial artery occluded.": a later
    sentence of a field labelled with a side that names no side of its own, and only paired organs the label holds
    (its own organ, one in its region, or any under a side alone), is still on the label's side."""
    organs = reading.unsided_organs
    return bool(sides) and bool(organs) and all(lex.is_paired(o) and any(
        f is None or f == o or lex.in_region(f, o) for f, _ in sides) for o in organs)


def _analyse_sentence(tokens: list[str], lex: Lexicon, prev_side: str | None = None,
                      inherited_label: bool = False, compared: bool = False) -> SentenceReading:
    """One sentence through stages 1-3 of the module docstring; a sentence with sizes through the reading of one
    that differed from it only in its sizes, where that reading did not depend on them (``sizefree``)."""
    said = tokens
    tokens = normalised_tokens(tokens, lex)
    # (a sentence opening with a word that refers back is read as said: its first word decides, not its tokens)
    key = None if said and said[0] in _REFERRING_SUBJECTS else number_key(tokens, prev_side, inherited_label, compared)
    if key is None:
        return _read_normalised(tokens, lex, prev_side, inherited_label, compared, said=said)
    kept = _SIZED_READINGS.get(key, _UNSEEN)
    reading = None
    if kept is _UNSEEN:  # the first sentence of its kind: read with its sizes tracked
        tracker = SizeTracker(tokens, lex.number_preceders)
        tracked = _read_normalised(tokens, lex, prev_side, inherited_label, compared, tracker, said)
        kept, reading = SizedReading.of(tracked, tracker)
        if len(_SIZED_READINGS) >= 65536:
            _SIZED_READINGS.clear()
        _SIZED_READINGS[key] = kept
    elif kept is not None:
        reading = kept.read(tokens)
    return reading if reading is not None else _read_normalised(tokens, lex, prev_side, inherited_label, compared,
                                                                said=said)


_UNSEEN = object()


def _read_normalised(tokens: list[str], lex: Lexicon, prev_side: str | None, inherited_label: bool, compared: bool,
                     tracker: SizeTracker | None = None, said: list[str] | None = None) -> SentenceReading:
    """A sentence's normalised tokens read. The steps mutate the spans and targets in place, so their order is part
    of the reading: a later step reads what an earlier one set. ``tracker``: sizes tracked for reuse; ``said``: the
    tokens as written."""
    said = tokens if said is None else said
    spans = _scan(tokens, lex)
    if tracker is not None:
        tracker.spans_scanned(tokens, spans)
    if _site_after_finding_label(spans):  # "VARICES: Paraoesophageal." reads as "Paraoesophageal varices."
        end = spans[-1].start if spans[-1].text in (".", ";") else len(tokens)
        tokens = tokens[spans[2].start:end] + tokens[:spans[0].end] + tokens[end:]
        spans = _scan(tokens, lex)
        if tracker is not None:
            tracker.spans_scanned(tokens, spans)
    if any(s.cat == "CTX:back_reference" for s in spans):
        return SentenceReading(())  # "Two lesions as described above." restates what the report already said
    _contrast_filling(spans)
    _attributes_denied_by_non(spans)
    _mark_prior_sizes(spans, tokens, lex)
    _read_comparisons(spans)
    _tip_subject_denials(spans, lex)
    _past_procedures(spans, lex)
    scope, resolved = _scopes(spans)
    _hedge_study_title(spans, scope)
    _deny_structures_called_normal(spans, scope, lex)
    _enlarged_names(spans, lex)
    _focal_findings_grown(spans, lex)
    _parts_of_devices(spans, lex)
    _solid_parts_described(spans, scope)
    _forms_said_of_organs(spans, lex)
    _predicates_of_the_organ_spoken_of(spans, lex)
    _organs_called_calcified(spans, lex)
    _calcified_organs_named(spans, lex)
    _predicates_of_findings(spans)
    targets = _sentence_targets(spans, lex)
    locs = _locations(spans, lex)
    last_side = _resolve_sides(locs, prev_side)
    label, locs, targets = _read_field_label(spans, tokens, locs, targets, lex)
    header = label.sites
    frame = _clause_initial_frame(spans, locs, targets) if label.colon is None else []
    locs = [l for l in locs if l not in frame]
    if not targets and _orphan_position(spans) is None:
        # ("leads in the right atrium and right ventricle unchanged": where a device's leads are, not the heart's size)
        targets.extend(_stable_organ_sizes(spans, locs, header, scope, lex))
    if any(l.organ == "lymph node" for l in header) and not any(t.kind == "OBS" for t in targets):
        locs = _stations_as_nodes(spans, label.colon, locs, targets)
    sized = _sized_organs(spans, locs, lex)
    measured = _measured_organs(spans, [*locs, *header], targets, scope, lex, sized) + _removed_organs(
        spans, sorted([*header, *locs], key=lambda l: l.end), targets, lex)
    if not targets:
        return SentenceReading(tuple(measured), _orphan_position(spans), last_side, label.label,
                               _names_site(locs, spans), _unsided_organs(locs, spans), _label_sides(label),
                               _paired_organ(locs, label, lex),
                               label.colon is None and any(l.station for l in locs)
                               and all(l.station or l.organ is None for l in locs),
                               None if measured or label.label is not None else _lone_prior_size(spans, locs),
                               None if measured or label.label is not None else _lone_change(said, spans, locs))
    obs_targets = [t for t in targets if t.kind in ("OBS", "ENLARGE")]
    sides = [l for l in locs if l.organ is None and not l.blocked]
    side_positions = {q for l in sides for q in range(l.start, l.end + 1)}
    devices = [t for t in obs_targets if lex.is_device(_obs_name(t.span) or "")]
    _resolve_organless_parts(spans, locs, obs_targets, side_positions, lex)
    _attach_locations(spans, locs, targets, obs_targets, side_positions, scope, lex)
    targets.sort(key=lambda t: t.pos)
    obs_targets.sort(key=lambda t: t.pos)
    _attach_sides(spans, sides, obs_targets, side_positions)
    _attach_measures(spans, obs_targets, side_positions, lex)
    _attach_modifiers(spans, obs_targets, side_positions, scope, lex, compared)
    _change_from_prior_sizes(obs_targets)
    _sizes_of_listed_sites(spans, obs_targets)
    _counts_per_side(spans, obs_targets, sides, lex, header)
    _counts_per_site(spans, obs_targets)
    _read_device_positions(spans, devices, locs, lex)
    _share_between_findings(spans, targets, obs_targets, header, scope, inherited_label, lex, frame)
    out = _stated_findings(spans, targets, scope, resolved, lex)
    return SentenceReading(tuple(out + measured), None, last_side, label.label, _names_site(locs, spans),
                           _unsided_organs(locs, spans), _label_sides(label), _paired_organ(locs, label, lex))


# --- targets: the findings and normal statements a sentence names --------------------------------------------------


def _site_after_finding_label(spans: list[Span]) -> bool:
    """"VARICES: Paraoesophageal.", "Hernia: left inguinal.": a finding as the label and only its site after the
    colon is the site's finding, read as the two words said together (a compound such as "paraoesophageal varices"
    names its own organ)."""
    body = spans[2:-1] if spans and spans[-1].text in (".", ";") else spans[2:]
    # (not a device's tip level as its field, "ETT tip: T3": the level the tip is at, read after the device)
    return len(spans) >= 3 and spans[0].cat == "OBS" and spans[1].text == ":" and bool(body) \
        and all(s.cat == "LOC" for s in body) and not all(_level_of_span(s) for s in body)


def _sentence_targets(spans: list[Span], lex: Lexicon) -> list[_Target]:
    """The findings and normal statements of a sentence, before any word is attached to them."""
    targets: list[_Target] = []
    for p, s in enumerate(spans):
        if s.cat == "ENLARGE" and _enlargement_modifies_next(spans, p):
            # "enlarged mediastinal nodes": a modifier of the nodes, not a finding of its own; "interval
            # enlargement of the nodule" still says how the nodule changed
            if s.readings("TEMP"):
                s.cat = "TEMP"
            continue
        if s.cat in ("OBS", "ENLARGE") and s.readings("TEMP"):  # "interval enlargement of the heart"
            targets.append(_Target(p, s.cat, s, temporal=s.readings("TEMP")[0].value))
            continue
        if s.cat in ("OBS", "ENLARGE"):
            _add_observation(targets, p, s, lex, spans)
        elif s.cat in _STATEMENT_KINDS:
            targets.append(_Target(p, _STATEMENT_KINDS[s.cat], s))
    return targets


def _enlargement_modifies_next(spans: list[Span], p: int) -> bool:
    nxt = next((q for q in range(p + 1, min(p + 7, len(spans))) if spans[q].cat == "OBS"), None)
    if nxt is None:
        # "enlarged right hilar, paraaortic and left hilar lymph nodes": a longer list of sites before the noun
        far = next((q for q in range(p + 1, min(p + 16, len(spans))) if spans[q].cat not in ("LOC", "WORD")
                    or spans[q].cat == "WORD" and spans[q].text not in (",", "and")), None)
        nxt = far if far is not None and spans[far].cat == "OBS" else None
    # "the uterus is enlarged by fibroids": an enlargement that its cause follows is the organ's own
    return nxt is not None and _gap_is_adjectives(spans, p + 1, nxt, set()) and not any(
        spans[q].text in _CAUSE_WORDS for q in range(p + 1, nxt))


#: what introduces the cause of an enlargement
_CAUSE_WORDS = frozenset({"by", "from"})


def _add_observation(targets: list[_Target], p: int, s: Span, lex: Lexicon, spans: list[Span]) -> None:
    prev = targets[-1] if targets else None
    if prev is not None and (_one_device_named_twice(prev, p, s, lex) or _device_with_its_part(prev, p, s, lex, spans)):
        # the specific name stays
        if lex.is_generic(_obs_name(prev.span) or ""):
            targets[-1] = _Target(p, s.cat, s)
        return
    targets.append(_Target(p, s.cat, s))


def _one_device_named_twice(prev: _Target, p: int, s: Span, lex: Lexicon) -> bool:
    """"chest port catheter", "PICC line": two device words side by side, one of them generic or both the same,
    are one device ("ETT/NGT" are two)."""
    return prev.pos == p - 1 and prev.kind == "OBS" and s.cat == "OBS" \
        and lex.is_device(_obs_name(prev.span) or "") and lex.is_device(_obs_name(s) or "") and (
            lex.is_generic(_obs_name(prev.span) or "") or lex.is_generic(_obs_name(s) or "")
            or _obs_name(prev.span) == _obs_name(s))


#: what joins a device to a generic device word that is its own part ("a port with its catheter tip at ...")
_OWN_PART_WORDS = frozenset({"with", "its", "whose", "the", "a", ",", "is", "present", "in", "situ", "noted", "seen"})


def _device_with_its_part(prev: _Target, p: int, s: Span, lex: Lexicon, spans: list[Span]) -> bool:
    """"Right chest port with catheter tip at the cavoatrial junction": a generic device word joined to a named
    device by "with" / "its" is that device's own line, not a second device."""
    gap = spans[prev.pos + 1:p]
    return prev.kind == "OBS" and s.cat == "OBS" and 0 < len(gap) <= 5 \
        and {g.text for g in gap} & {"with", "whose", ","} and all(g.text in _OWN_PART_WORDS for g in gap) \
        and lex.is_device(_obs_name(s) or "") \
        and lex.is_generic(_obs_name(s) or "") and lex.is_device(_obs_name(prev.span) or "") \
        and not lex.is_generic(_obs_name(prev.span) or "")


@dataclass
class _FieldLabel:
    """A structured report's field label ("LUNGS:", "Right side:", "DEVICES:"): it names where the rest of the
    sentence is, without stating a finding of its own."""
    #: the position of the label's colon among the first spans, None without one
    colon: int | None
    #: the label's words when it names a site, () for another label, None without one (``SentenceReading``)
    label: tuple[str, ...] | None
    #: the sites the label names
    sites: list[Location] = field(default_factory=list)


def _read_field_label(spans: list[Span], tokens: list[str], locs: list[Location], targets: list[_Target],
                      lex: Lexicon) -> tuple[_FieldLabel, list[Location], list[_Target]]:
    """The sentence's field label, and the sites and findings left after it: what a label names is no finding
    of the sentence, except a diagnosis that labels a list of its signs."""
    # (the first colon among the first 14 spans, looked for once: a label's within 5, a title's within 10)
    first = next((p for p in range(min(14, len(spans))) if spans[p].text == ":"), None)
    colon = first if first is not None and first < 5 else None
    if colon is None:
        # a longer study title before its colon ("Staging CT chest, abdomen and pelvis: ...") names the study too
        title = first if first is not None and first < 10 else None
        if title is not None and any(s.text in STUDY_WORDS for s in spans[:title]) and all(
                s.cat in ("LOC", "WORD") for s in spans[:title]):
            colon = title
    label = _FieldLabel(colon, () if colon is not None else None)
    if colon is None:
        # a longer diagnosis label ("Active Crohn's disease of the terminal ileum: 12 cm of mural thickening"):
        # its one finding, its site and qualifiers before the colon place what it lists
        # (a bracketed aside there is the label's: "Proctocolitis of the rectosigmoid (100 mm segment):")
        late = first
        outside = [s for q, s in enumerate(spans[:late or 0]) if not _in_aside(spans, q) and s.text not in "()"]
        if late is not None and late + 1 < len(spans) and 0 < len(outside) <= 8 \
                and sum(s.cat == "OBS" for s in outside) == 1 and all(
                s.cat in ("OBS", "LOC", "WORD", "TEMP", "SEV", "ATTR") and s.text not in (",", ";")
                and s.text not in STUDY_WORDS for s in outside) \
                and not any(s.cat == "OBS" for q, s in enumerate(spans[:late]) if _in_aside(spans, q)):
            _diagnosis_label_site(spans, late, locs, targets, lex)
        return label, locs, targets
    if colon + 1 >= len(spans):
        return label, locs, targets
    words = spans[:colon]
    if any(s.text in STUDY_WORDS for s in words) and all(s.cat in ("LOC", "WORD") for s in words):
        # "CT abdomen and pelvis:", "Chest radiograph:" name the study: not a field, and no site of a finding
        locs = [l for l in locs if l.end > colon]
        targets = [t for t in targets if t.pos > colon]
    elif _is_site_label(words, lex) and not _label_denied(spans, colon):
        label.sites = [l for l in locs if l.end < colon] + [
            Location("lymph node", None, None, q, q, spans[q].text) for q in range(colon)
            if spans[q].cat == "OBS" and _obs_name(spans[q]) == "lymph node"]
        if label.sites:
            label.label = tuple(tokens[:spans[colon].start])
        locs = [l for l in locs if l.end > colon]
        targets = [t for t in targets if t.pos > colon]
    elif len(words) == 1 and words[0].cat == "OBS" and _plural(words[0]) and any(
            t.pos > colon and t.kind == "OBS" for t in targets):
        # "COLLECTIONS: 5 cm perihepatic haematoma": a plural finding word as a field label is a heading
        # ("COLLECTIONS: None." still denies one)
        targets = [t for t in targets if t.pos > colon]
    else:
        _diagnosis_label_site(spans, colon, locs, targets, lex)
        _items_of_a_diagnosis_label(spans, colon, targets, lex)
    return label, locs, targets


#: the generic names of a focal finding an item of a diagnosis label may go by ("Liver metastases: a 14 mm lesion in
#: segment 2 and a new 8 mm lesion in segment 7")
_ITEM_NAMES = frozenset({"lesion", "nodule", "mass"})


def _items_of_a_diagnosis_label(spans: list[Span], colon: int, targets: list[_Target], lex: Lexicon) -> None:
    """"Hepatic metastases: segment 4 19 mm and a new 9 mm segment 6 lesion", "Pulmonary metastases: 8 mm nodule in
    the RUL, 5 mm nodule in the LLL": an item named by a generic focal word under a label that names one focal
    diagnosis is one of the label's: it is read as the diagnosis (its own site, size and change kept)."""
    named = [q for q in range(colon) if spans[q].cat == "OBS"]
    if len(named) != 1:
        return
    diagnosis = _obs_name(spans[named[0]]) or ""
    spec = lex.observations.get(diagnosis, {})
    if diagnosis in _ITEM_NAMES or lex.is_generic(diagnosis) or spec.get("descriptive") or lex.is_device(diagnosis) \
            or not lex.is_focal(diagnosis) or any(g.cat.startswith("CTX:") for g in spans[:colon]):
        return
    for t in targets:
        if t.pos <= colon or t.kind != "OBS" or (_obs_name(t.span) or "") not in _ITEM_NAMES:
            continue
        old = t.span
        reading = Reading("OBS", diagnosis, plural=any(r.plural for r in old.readings("OBS")))
        t.span = spans[t.pos] = Span("PHRASE", [reading], old.start, old.end, old.text, cat="OBS",
                                     by_kind={"OBS": [reading]})


#: what may open a clause-initial site ("On the left,", "In the liver,", "At the level of L3,", "On the right side,")
_FRAME_OPENERS = frozenset({"on", "in", "at", "within", "of", "the", "regarding", "for", "to", "level"})


def _clause_initial_frame(spans: list[Span], locs: list[Location], targets: list[_Target]) -> list[Location]:
    """"On the left, a stone sits in the upper pole without hydronephrosis", "In the liver, two lesions": a site
    or side that opens the sentence before a comma (or "there is") frames what follows, so it is the site of the
    sentence's findings that name none (``sharing``), not of the nearest finding only. An opening without a preposition
    frames only as a side adverb ("Bilaterally, ...")."""
    # the frame ends at a comma or at "there is/are" ("On the left there is a small effusion")
    comma = next((p for p, s in enumerate(spans[:8]) if s.text == "," or s.text.split()[:1] == ["there"]), None)
    if comma is None or comma == 0 or any(t.pos < comma for t in targets):
        return []
    frame = [l for l in locs if l.end < comma]
    covered = {q for l in frame for q in range(l.start, l.end + 1)}
    opener = spans[0].text in _FRAME_OPENERS - {"the", "of"} or (
        len(frame) == 1 and frame[0].organ is None and spans[0].cat == "LOC")
    if frame and spans[comma - 1].text == "side":  # "On the right side,"
        comma -= 1
    if not frame or not opener or frame[-1].end != comma - 1 or not all(
            q in covered or spans[q].text in _FRAME_OPENERS for q in range(comma)):
        return []
    return frame


def _label_denied(spans: list[Span], colon: int) -> bool:
    """"LINES/TUBES: None.", "Devices: nil": a label answered by a denial alone denies what it names."""
    rest = [s for s in spans[colon + 1:] if s.text not in (".", ";")]
    return bool(rest) and all(s.cat.startswith("CTX:negation") for s in rest)


def _is_site_label(words: list[Span], lex: Lexicon) -> bool:
    """Sites, words and at most a generic device or "lymph node" ("DEVICES:", "LYMPH NODES:"): no finding."""
    return bool(words) and all(s.cat in ("LOC", "OBS", "WORD") for s in words) and \
        not any(s.cat == "OBS" and not (lex.is_generic(_obs_name(s) or "") and lex.is_device(_obs_name(s) or ""))
                and _obs_name(s) != "lymph node" for s in words)


def _diagnosis_label_site(spans: list[Span], colon: int, locs: list[Location], targets: list[_Target],
                          lex: Lexicon) -> None:
    """"Chronic pancreatitis: gland atrophy, coarse calcifications", "Proctocolitis of the rectosigmoid: marked mural
    thickening": what a diagnosis label lists is in the diagnosis's site, the one the label names or else its
    organ (the label's finding itself stays a finding)."""
    named = [q for q in range(colon) if spans[q].cat == "OBS"]
    if len(named) != 1 or lex.is_device(_obs_name(spans[named[0]]) or ""):
        return
    sites = [l for l in locs if l.end < colon and l.organ]
    # (the organ a diagnosis names by itself: "Cholelithiasis: 3 stones" are the gallbladder's)
    implied = next((r.organ for r in spans[named[0]].readings("OBS") if r.organ), None)
    organ = implied or lex.observations.get(_obs_name(spans[named[0]]) or "", {}).get("default_anatomy")
    diagnosis_site = copy.copy(sites[-1]) if len(sites) == 1 else Location(
        organ, None, None, named[0], named[0], spans[named[0]].text) if organ and not sites else None
    if diagnosis_site is not None:
        for t in targets:
            if t.pos > colon and not t.locations and t.kind in ("OBS", "ENLARGE") and _may_share_site(
                    t, diagnosis_site, lex) and not any(r.organ for r in t.span.readings("OBS")) \
                    and (sites or not _own_site_before(t, locs, spans, colon, organ, bool(lex.observations.get(
                        _obs_name(spans[named[0]]) or "", {}).get("post_surgical")))):
                t.locations.append(copy.copy(diagnosis_site))


def _own_site_before(t: _Target, locs: list[Location], spans: list[Span], colon: int, organ: str | None,
                     operation: bool = False) -> bool:
    """"Pancreatitis: two peripancreatic collections": a finding under a diagnosis label that names a site of the
    diagnosis's own organ right before it ("peripancreatic", only modifiers between) is there already; the organ
    is not added a second time, as another site of it (a site the label names still holds: "Left cervical nodal
    disease: level III node")."""
    # (under an operation, a site of any organ: "Post-Whipple: right subhepatic collection" is the liver's, not the
    # removed pancreas's too)
    return any(colon < l.end < t.pos and (l.organ == organ or operation and l.organ not in (None, UNSPECIFIED)) and all(
        spans[q].cat in ("ATTR", "SEV", "COUNT", "NUM", "SIZE") or spans[q].text in ("a", "an", "the")
        for q in range(l.end + 1, t.pos)) for l in locs)


#: words that say where an organ lies, not how large it is
_PLACED = frozenset({"central", "midline", "centrally", "centred", "centered", "undisplaced", "unshifted"})


def _stable_organ_sizes(spans: list[Span], locs: list[Location], header: list[Location], scope: dict[int, str],
                        lex: Lexicon) -> list[_Target]:
    """"the mediastinum is stable", "unchanged cardiomediastinal silhouette": unchanged without being called
    normal leaves its enlargement possible (the CheXpert labeler's reading, which CheXbert-based scores share).
    Only the sentence's first "stable" is read."""
    stable = [p for p, s in enumerate(spans) if s.cat == "TEMP" and s.readings("TEMP")[0].value == "stable"]
    for p in stable:
        if p + 1 < len(spans) and spans[p + 1].text in _PLACED:
            break  # "the mediastinum remains central": where it is, not its size
        near = [l for l in [*locs, *header] if l.organ in lex.enlargement and lex.normal_finding(l.organ) ==
                lex.enlargement[l.organ] and (abs(l.start - p) <= 6 or l in header)]
        if near and scope.get(p) is None:
            return [_Target(p, "STABLE_SIZE", spans[p], locations=near)]
        break
    return []


def _stations_as_nodes(spans: list[Span], colon: int, locs: list[Location], targets: list[_Target]) -> list[Location]:
    """"Lymph nodes: right hilar 16 mm, subcarinal 11 mm.": under a node label, each station named is a node.
    Adds the nodes to ``targets`` and returns the sites left once the stations are nodes."""
    node = Reading("OBS", "lymph node")
    for p, s in enumerate(spans):
        stations = s.readings("STATION")
        if p <= colon or not stations:
            continue
        side = spans[p - 1].readings("LAT")[0].value if spans[p - 1].readings("LAT") else None
        if side is None:  # "Station 4R 11 mm": the side its code carries after the number
            side = next((l.laterality for l in locs if l.start <= p <= l.end and l.station), None)
        one = Span("PHRASE", [node], s.start, s.end, s.text, cat="OBS", by_kind={"OBS": [node]})
        targets.append(_Target(p, "OBS", one, locations=[
            Location("lymph node", stations[0].value.name, side, p, p, s.text)]))
    targets.sort(key=lambda t: t.pos)
    return [l for l in locs if not l.station]


def _orphan_position(spans: list[Span]) -> str | None:
    """A tip position in a sentence with no finding ("Its tip is in the stomach."), for the last device."""
    if any(s.value in TIP_WORDS for s in spans if s.cat == "WORD"):
        # every place of a list ("leads terminate in the right atrium and the right ventricle")
        named = []
        for q, s in enumerate(spans):
            if s.readings("POS") and not _on_its_course(spans, q):
                if named and not all(g.cat == "LOC" or w in _ORPHAN_LIST
                                     for g in spans[named[-1][0] + 1:q] for w in g.text.split()):
                    break
                named.append((q, s.readings("POS")[0].value))
        if not named:  # "Its tip is at T3.": the vertebral level it is at, where no place is named
            for q, s in enumerate(spans):
                level = _level_of_span(s)
                k = q
                while k > 0 and spans[k - 1].text in _LEVEL_FILLERS:
                    k -= 1
                if level and k > 0 and spans[k - 1].text in _AT_LEVEL and not any(
                        g.cat in ("OBS", "ENLARGE") for g in spans[q + 1:q + 3]):
                    return level
        return " + ".join(sorted({v for _, v in named})) if named else None
    return None


#: what joins the places of one orphan position list ("in the RA and the other in the RV")
#: ("atrial lead in the RA appendage and ventricular lead at the RV apex")
_ORPHAN_LIST = frozenset({",", "and", "the", "in", "at", "within", "other", "one", "another", "second", "/", "&",
                          "lead", "leads", "tip", "tips", "wire", "end", "coil", "its", "appendage", "apex",
                          # "the atrial lead tip projects over the RA and the ventricular lead tip over the RV apex"
                          "over", "projects", "projecting", "overlies", "overlying", "terminates", "terminating",
                          "lies", "ends", "ending", "into"})


def _clauses(tokens: list[str], lex: Lexicon) -> list[list[str]]:
    split = _relative_clause(tokens, lex) if "which" in tokens else None
    if split is not None and _sentence_findings(tuple(split[1])).findings:
        return list(split)
    return [tokens]


def _hedges_joined(pieces: list[tuple[list[str], bool]]) -> list[list[str]]:
    """"Wall thickening of the sigmoid; a neoplasm cannot be excluded", "lucency at the right apex; a small
    pneumothorax cannot be excluded": a clause after a semicolon that only hedges a diagnosis, naming no site,
    says what the clause before it may be: the two are read as one sentence (the hedged name refines the finding
    and takes its site), as they are when a comma joins them."""
    out: list[list[str]] = []
    for tokens, after_semicolon in pieces:
        if after_semicolon and out and tokens[:2] == ["concern", "for"]:
            # "swirl of the mesentery; concern for internal hernia": a concern after a finding is a hedge of what
            # it may be, not a study's indication ("Concern for PE." opening a report)
            tokens = ["concern", "is", "for", *tokens[2:]]
        if after_semicolon and out and _only_hedges_a_diagnosis(tuple(tokens)) \
                and len(out[-1]) + len(tokens) < MAX_SENTENCE_TOKENS:
            out[-1] = [*out[-1], ";", *tokens]
        elif out and _only_hedges_a_technique(tokens) and len(out[-1]) + len(tokens) < MAX_SENTENCE_TOKENS:
            # "Mediastinum ?widened on AP supine. Likely projectional.": a sentence of a hedged technical cause
            # alone says what the finding before it is due to, as "..., likely projectional" does
            out[-1] = [*out[-1], ",", *tokens]
        else:
            out.append(tokens)
    return out


#: the hedges and the technical causes of a sentence that says only what the finding before it is due to
_TECHNIQUE_HEDGES = frozenset({"likely", "probably", "possibly", "most", "may", "could", "be", "partly", "partially",
                               "in", "part", "due", "to", "query", "?"})
_TECHNIQUE_CAUSES = frozenset({"projectional", "positional", "rotational", "technical"})


def _only_hedges_a_technique(tokens: list[str]) -> bool:
    words = [t for t in tokens if t not in (".", ";", ",")]
    return 2 <= len(words) <= 5 and words[-1] in _TECHNIQUE_CAUSES and all(w in _TECHNIQUE_HEDGES for w in words[:-1])


def _only_hedges_a_diagnosis(tokens: tuple[str, ...]) -> bool:
    findings = _sentence_findings(tokens).findings
    return bool(findings) and all(not it.anatomy_text and (
        it.finding.presence is Presence.UNCERTAIN or it.finding.certainty in (Certainty.PROBABLE, Certainty.IMPROBABLE))
        for it in findings)


#: a field label that names lymph nodes ("NODES:", "LYMPH NODES:", "Nodal stations:")
_NODE_FIELD_WORDS = frozenset({"node", "nodes", "nodal", "ln", "lns", "lymphadenopathy", "adenopathy"})
_SIDE_DEPENDENT = frozenset({"ipsilateral", "contralateral", "same", "opposite", "other", "contralat", "ipsilat"})


def _subject_organ(reading: SentenceReading, subject: str | None, lex: Lexicon) -> str | None:
    """The one organ a sentence's present findings are in, for the next sentence's findings that name none ("The
    infrarenal aortic aneurysm measures 4.0 cm. There is eccentric mural thrombus."); a sentence that names another
    organ, or several, ends it."""
    organs: set[str] = set()
    present: set[str] = set()
    for it in reading.findings:
        f = it.finding
        if f.anatomy == UNSPECIFIED or lex.is_device(f.observation):
            continue
        if not it.anatomy_text and lex.observations.get(f.observation, {}).get("lists_apart"):
            return None  # "Cardiomegaly. Mass.": the silhouette's size names no organ for the next sentence
        organs.add(f.anatomy)
        if len(organs) > 1:
            return None
        if f.presence is not Presence.ABSENT:
            present.add(f.anatomy)
    if not organs:
        return subject if not reading.names_site else None
    return next(iter(present)) if len(present) == 1 and not lex.is_region(next(iter(present))) else None


def _in_the_organ_just_named(findings: tuple[ParsedFinding, ...], subject: str | None,
                             lex: Lexicon) -> tuple[ParsedFinding, ...]:
    """Findings that name no organ, in a sentence right after one about a single organ, are in that organ; a
    negative that names none still summarises the report ("No other abnormality.")."""
    if subject is None or not any(it.finding.anatomy == UNSPECIFIED for it in findings):
        return findings
    return tuple(ParsedFinding(dataclasses.replace(it.finding, anatomy=subject), it.observation_text, "")
                 if it.finding.anatomy == UNSPECIFIED and it.finding.presence is not Presence.ABSENT
                 and not lex.observations.get(it.finding.observation, {}).get("own_vessels") else it
                 for it in findings)


#: openings of a sentence that lists what the finding just stated may be ("Differential includes A and B.")
_DIFFERENTIAL_OPENINGS = (("differential",), ("ddx",), ("the", "differential"), ("differential", "diagnosis"),
                          ("differential", "diagnoses"), ("considerations", "include"), ("possibilities", "include"),
                          ("differential", "considerations"))


_DIFFERENTIAL_FIRST = frozenset(o[0] for o in _DIFFERENTIAL_OPENINGS)


_URINARY_ORGANS = frozenset({"kidney", "ureter"})
_BOWEL_WORDS = frozenset({"bowel", "bowels", "intestine", "intestines", "intestinal", "colon", "sbo"})


def _urinary_obstruction(findings: tuple[ParsedFinding, ...], key: tuple[str, ...]) -> tuple[ParsedFinding, ...]:
    """A stone's obstruction is the urinary tract's: "left renal stone without obstruction", "kidneys free of stones
    and not obstructed" deny a hydronephrosis of that kidney, not a bowel obstruction, where the clause speaks of
    the kidney or ureter and names no bowel; and "non-obstructing renal calculus" says the same of its kidney."""
    urinary = [it.finding for it in findings if it.finding.anatomy in _URINARY_ORGANS]
    if not urinary or any(it.finding.anatomy == "bowel" and it.finding.observation != "bowel obstruction"
                          for it in findings) or _BOWEL_WORDS & set(key):  # "kidneys and bowel not obstructed"
        return findings
    if "obstructing" not in key and "nonobstructing" not in key and not any(
            it.finding.observation == "bowel obstruction" for it in findings):
        # (nothing below would change: the common case, said first)
        return _hydronephrosis_of_the_stones_side(findings)
    sides = {f.laterality for f in urinary}
    side = next(iter(sides)) if len(sides) == 1 else None
    findings = _hydronephrosis_of_the_stones_side(findings)
    out = []
    for it in findings:
        f = it.finding
        if f.observation == "bowel obstruction" and f.anatomy == "bowel" and f.sub_location is None \
                and f.presence is Presence.ABSENT:
            it = ParsedFinding(dataclasses.replace(f, observation="hydronephrosis", anatomy="kidney", laterality=side),
                               it.observation_text, it.anatomy_text or "kidney")
        out.append(it)
    non = [i for i, w in enumerate(key) if w == "nonobstructing" or (w == "obstructing" and i and key[i - 1] == "non")]
    if non and not any(w == "obstructing" and not (i and key[i - 1] == "non") for i, w in enumerate(key)):
        hydro = {f.laterality for f in (it.finding for it in out)
                 if f.observation == "hydronephrosis" and f.anatomy == "kidney"}
        for f in urinary:
            if f.observation == "calculus" and f.presence is Presence.PRESENT and f.laterality not in hydro:
                hydro.add(f.laterality)
                out.append(ParsedFinding(Finding(observation="hydronephrosis", anatomy="kidney",
                                                 laterality=f.laterality, presence=Presence.ABSENT),
                                         "non obstructing", "kidney"))
    return tuple(out)


def _hydronephrosis_of_the_stones_side(findings: tuple[ParsedFinding, ...]) -> tuple[ParsedFinding, ...]:
    """"7 mm calculus in the mid right ureter, moderate hydronephrosis": a hydronephrosis said with no side beside
    stones of one side is that side's, as "... with moderate hydronephrosis" is read."""
    hydro = [k for k, it in enumerate(findings) if it.finding.observation == "hydronephrosis"
             and it.finding.laterality is None and it.finding.presence is not Presence.ABSENT]
    if not hydro:
        return findings
    sides = {it.finding.laterality for it in findings if it.finding.observation == "calculus"
             and it.finding.anatomy in _URINARY_ORGANS and it.finding.presence is not Presence.ABSENT}
    if len(sides) != 1 or next(iter(sides)) not in ("left", "right"):
        return findings
    side = next(iter(sides))
    return tuple(ParsedFinding(dataclasses.replace(it.finding, laterality=side), it.observation_text,
                               it.anatomy_text) if k in hydro else it for k, it in enumerate(findings))


def _inflammation_denied_of(findings: tuple[ParsedFinding, ...], lex: Lexicon) -> tuple[ParsedFinding, ...]:
    """"Sigmoid diverticulosis without inflammation": the inflammation denied beside a finding that has a name for
    itself inflamed (``inflamed`` in the lexicon: inflamed diverticula are diverticulitis) is that name denied, in
    its place ("without diverticulitis")."""
    named = {(it.finding.anatomy, lex.observations.get(it.finding.observation, {}).get("inflamed")):
             it.finding.sub_location for it in findings if it.finding.presence is Presence.PRESENT
             and lex.observations.get(it.finding.observation, {}).get("inflamed")}
    if not named:
        return findings
    out = []
    for it in findings:
        f = it.finding
        name = next((n for (organ, n) in named if organ == f.anatomy), None)
        if f.observation == "inflammation" and f.presence is Presence.ABSENT and name:
            sub = f.sub_location or named[(f.anatomy, name)]
            it = ParsedFinding(dataclasses.replace(f, observation=name, sub_location=sub), it.observation_text,
                               it.anatomy_text)
        out.append(it)
    return tuple(out)


def _operation_as_place(findings: tuple[ParsedFinding, ...], lex: Lexicon) -> tuple[ParsedFinding, ...]:
    """"No oral contrast leak at the gastrojejunostomy", "no collection at the Hartmann's stump": an operation named
    as the place of a finding denied at the surgical site is there; the denial is the site's finding's, not the
    operation's."""
    if not any(it.finding.anatomy == "surgical site" and it.finding.presence is Presence.ABSENT for it in findings):
        return findings
    return tuple(ParsedFinding(dataclasses.replace(it.finding, presence=Presence.PRESENT), it.observation_text,
                               it.anatomy_text)
                 if it.finding.presence is Presence.ABSENT
                 and lex.observations.get(it.finding.observation, {}).get("post_surgical") else it
                 for it in findings)


def _names_a_differential(key: tuple[str, ...]) -> bool:
    return any(key[:len(o)] == o for o in _DIFFERENTIAL_OPENINGS)


def _one_site_stated(reading: SentenceReading) -> Finding | None:
    """The one present finding with a site a sentence states (its hedged names at that site count as one)."""
    sites = {(f.anatomy, f.sub_location, f.laterality) for f in (it.finding for it in reading.findings)
             if f.presence is not Presence.ABSENT and f.anatomy != UNSPECIFIED}
    if len(sites) != 1:
        return None
    return next(it.finding for it in reading.findings if it.finding.presence is not Presence.ABSENT
                and it.finding.anatomy != UNSPECIFIED)


#: the opening of a sentence that refers back to the findings before it ("The findings are consistent with
#: pneumonia.", "Appearances could be in keeping with sarcoidosis.", "These likely represent cysts.")
_REFERRING_OPENINGS = (("findings",), ("the", "findings"), ("these", "findings"), ("appearances",),
                       ("the", "appearances"), ("overall", "appearances"), ("these", "appearances"), ("features",),
                       ("the", "features"), ("these", "features"), ("imaging", "findings"), ("the", "imaging", "findings"),
                       ("overall", "findings"), ("the", "above"), ("these",), ("this",), ("they",),
                       ("the", "constellation"), ("constellation",))


def _refers_back(key: tuple[str, ...], reading: SentenceReading) -> bool:
    """A sentence that opens by referring back to the findings before it and names no site of its own."""
    return not reading.names_site and any(key[:len(o)] == o for o in _REFERRING_OPENINGS)


def _at_the_referred_site(findings: tuple[ParsedFinding, ...], stated: list[Finding],
                          lex: Lexicon) -> tuple[ParsedFinding, ...]:
    """"RLL opacity. The findings could represent pneumonia.": a diagnosis a sentence that refers back names with no
    site of its own is of the findings stated before it, at their site, as a hedge in their own sentence is: one
    with no organ where they are at one site, one of an organ where that organ's findings are at one site."""
    sites = list(dict.fromkeys((f.anatomy, f.sub_location, f.laterality) for f in stated))
    out = []
    for it in findings:
        f = it.finding
        if f.presence is not Presence.ABSENT and f.sub_location is None and f.laterality is None:
            fits = sites if f.anatomy == UNSPECIFIED else [s for s in sites if s[0] == f.anatomy]
            if len(fits) == 1 and (fits[0][1] is not None or fits[0][2] is not None or f.anatomy == UNSPECIFIED):
                a, sub, side = fits[0]
                it = ParsedFinding(dataclasses.replace(f, anatomy=a, sub_location=sub, laterality=side),
                                   it.observation_text, it.anatomy_text)
        out.append(it)
    return tuple(out)


def _refined_by_referring_diagnosis(items: list[ParsedFinding], start: int, findings: tuple[ParsedFinding, ...],
                                    lex: Lexicon) -> tuple[tuple[ParsedFinding, ...], list[int]]:
    """"Ground-glass opacity in both lower lobes. The findings are most consistent with pneumonia.": a probable
    diagnosis that refers back to a diffuse finding named by its look at its site is that finding, as "opacity,
    likely pneumonia" is in one sentence: the look yields to it, its details kept (a merely possible diagnosis
    leaves the look beside it; a focal lesion and its diagnosis are joined at the report's end). Returns the
    sentence's findings and the indices dropped from ``items``."""
    dropped: list[int] = []
    out = []
    for it in findings:
        d = it.finding
        if d.certainty is Certainty.PROBABLE and d.presence is Presence.PRESENT:
            looks = [k for k in range(start, len(items)) if items[k].finding.presence is Presence.PRESENT
                     and items[k].finding.certainty is None and items[k].finding.observation != d.observation
                     and (items[k].finding.anatomy, items[k].finding.sub_location, items[k].finding.laterality)
                     == (d.anatomy, d.sub_location, d.laterality)
                     and not (lex.is_focal(items[k].finding.observation)
                              or lex.is_countable(items[k].finding.observation))
                     and (lex.is_sign_of(items[k].finding.observation, d.observation) or (
                         lex.family(items[k].finding.observation) == lex.family(d.observation)
                         and bool(lex.observations.get(items[k].finding.observation, {}).get("descriptive"))))]
            if len(looks) == 1:
                look = items.pop(looks[0]).finding
                dropped.append(looks[0])
                it = ParsedFinding(_combined(d, dataclasses.replace(look, observation=d.observation), lex),
                                   it.observation_text, it.anatomy_text)
        out.append(it)
    return tuple(out), dropped


def _at_the_explained_site(findings: tuple[ParsedFinding, ...], explained: Finding) -> tuple[ParsedFinding, ...]:
    """"2.1 cm cystic lesion in the pancreatic body. Differential includes a serous cystadenoma or IPMN.": the
    diagnoses a differential lists are of the finding just stated, at its site (side and part included), when
    they name no site of their own."""
    return tuple(ParsedFinding(dataclasses.replace(
        it.finding, anatomy=explained.anatomy, sub_location=explained.sub_location, laterality=explained.laterality),
        it.observation_text, it.anatomy_text)
        if it.finding.presence is not Presence.ABSENT and it.finding.sub_location is None
        and it.finding.laterality is None and it.finding.anatomy in (UNSPECIFIED, explained.anatomy) else it
        for it in findings)


def _names_own_part(dev: ParsedFinding, it: ParsedFinding, lex: Lexicon) -> bool:
    """A generic device word the last device names as its own part (``own_parts``), with a tip where that device
    has none: the last device's part, not a second device."""
    return dev.finding.position is None and it.finding.position is not None \
        and it.finding.presence is Presence.PRESENT and lex.is_generic(it.finding.observation) \
        and lex.is_device(it.finding.observation) \
        and it.observation_text in (lex.observations.get(dev.finding.observation, {}).get("own_parts") or ())


#: a study of the head: its title or the head's own anatomy named; and one that speaks of the heart or lungs as well
_HEAD_STUDY_RE = re.compile(r"\b(?:ct|cta|mri?|mra)\s+(?:of\s+the\s+)?(?:head|brain)\b|\b(?:head|brain)\s+(?:ct|mri?)\b"
                            r"|intracranial|extra-?\s?axial|\bsulci\b|gr[ae]y[- ]white|calvari|posterior fossa"
                            r"|basal cisterns|hydroceph|ventriculomegaly|subarachnoid|subdural|extradural|\bsdh\b"
                            r"|midline shift")
_CHEST_STUDY_RE = re.compile(r"cardi|\bheart\b|atri(?:um|al)\b|\blungs?\b|pleura|pulmonary|mitral|tricuspid|\b[rl]v\b"
                             r"|pacemaker|septum|\bpa\b")
_VENTRICLE_WORDS = frozenset({"ventricle", "ventricles", "ventricular"})
#: a sentence about the brain ("ventricles and sulci", "ventricles enlarged out of proportion to the sulci")
_BRAIN_WORDS = frozenset({"sulci", "sulcal", "hydrocephalus", "ventriculomegaly", "intracranial", "brain", "cerebral",
                          "subdural", "subarachnoid", "cisterns", "periventricular", "midline", "cerebellar"})
#: what already names the brain's ventricles ("lateral ventricles", "fourth ventricle")
_VENTRICLE_NAMED = frozenset({"lateral", "third", "fourth", "cerebral"})


def _is_head_study(text: str) -> bool:
    low = text.lower()
    return _HEAD_STUDY_RE.search(low) is not None and _CHEST_STUDY_RE.search(low) is None


def _head_senses(tokens: tuple[str, ...], text: str) -> tuple[str, ...]:
    """Words with a head sense read in it in a study of the head, or in a sentence about the brain: the ventricles
    are the brain's ("VENTRICLES: normal", "ventricles and sulci"), not the heart's; a "Head:" field is the brain's,
    not the pancreatic head. (The report is only searched for a head study when a sentence has such a word.)"""
    label = tokens[:2] == ("head", ":")
    if not label and _VENTRICLE_WORDS.isdisjoint(tokens):
        return tokens
    head_study = _is_head_study(text)
    if not head_study and (label or _BRAIN_WORDS.isdisjoint(tokens)):
        return tokens
    out: list[str] = []
    for k, t in enumerate(tokens):
        if t in _VENTRICLE_WORDS and (k == 0 or tokens[k - 1] not in _VENTRICLE_NAMED):
            out += ["cerebral", t]
        elif head_study and k == 0 and label:
            out.append("brain")
        else:
            out.append(t)
    return tuple(out)


#: a report comparing with a prior study says so in one of these words
_COMPARES = re.compile(r"\b(" + "|".join(sorted(COMPARISON_WORDS)) + r")\b", re.IGNORECASE)
#: a report that says it has no prior study to compare with ("Comparison: none.", "No prior for comparison.",
#  "No previous imaging available"): these words do not make it a comparing report
_NO_COMPARISON = re.compile(r"\bcomparisons?\s*:?\s*(?:none|nil|n/?a|not available)\b|\bno (?:prior|previous|"
                            r"comparison)\b(?:\s+(?:study|studies|imaging|images|exams?|examinations?|films?|"
                            r"radiographs?|ct|available))*(?:\s+(?:is\s+|are\s+)?(?:available\s+)?for\s+"
                            r"comparison)?", re.IGNORECASE)
#: the change words whose reading depends on a comparison
_CHANGE_WORDS_READ = frozenset({"increased", "increasing", "more"})


#: what a report says of a pleural drain, and of a cardiac device, to tell which an "ICD" is
#  (an effusion alone does not tell: a heart-failure patient with a defibrillator often has one)
_PLEURAL_SPACE = re.compile(r"\b(pneumothora(x|ces)|ptx|h(a)?emo-?pneumothorax|h(a)?emothorax|empyema|"
                            r"hydropneumothorax|drain(s|ed|age)?|thoracostomy)\b", re.IGNORECASE)
_CARDIAC_DEVICE = re.compile(r"\b(leads?|generator|pac(ing|emaker|er)|defibrillator|cardioverter|ventric\w*|atri(um|al)|"
                             r"rv|ra|cardiac device|aicd|crt|biventricular|sternotomy|cardiomegaly|heart failure|cardiomyopathy)\b", re.IGNORECASE)


_DENIAL = re.compile(r"\b(no|without|nor|negative)\b", re.IGNORECASE)


def _speaks_of_pleural_space(text: str) -> bool:
    """A pleural finding or drain stated, not only denied (a denial before it in its sentence)."""
    for sentence in re.split(r"[.;\n]", text):
        m = _PLEURAL_SPACE.search(sentence)
        if m and not _DENIAL.search(sentence[:m.start()]):
            return True
    return False


def _icd_sense(tokens: tuple[str, ...], text: str) -> tuple[str, ...]:
    """"ICD" is an implantable cardioverter-defibrillator, or in British usage an intercostal (chest) drain: a
    report that speaks of the pleural space (a pneumothorax, an effusion, a drain) and of no cardiac device (leads,
    generator, pacing, the ventricles) means the drain."""
    if "icd" not in tokens and "icds" not in tokens:
        return tokens
    # (a denied pneumothorax is what a film after a defibrillator's insertion looks for: "ICD in situ. No PTX.")
    if not _speaks_of_pleural_space(text) or _CARDIAC_DEVICE.search(text):
        return tokens
    out: list[str] = []
    for k, t in enumerate(tokens):
        if t in ("icd", "icds") and (k + 1 == len(tokens) or tokens[k + 1] not in ("drain", "drains")):
            out += ["icd", "drain"]
        else:
            out.append(t)
    return tuple(out)


#: words that name a finding as one more of its kind ("another nodule", "a second cyst", "a separate lesion")
_DISTINCT_WORDS = frozenset({"another", "second", "third", "additional", "separate", "further"})


def _named_as_one_more(key: tuple[str, ...], it: ParsedFinding) -> bool:
    """The finding's own words follow one of ``_DISTINCT_WORDS`` with at most a few describing words between
    ("another small nodule", "a second 4 mm hypodensity"; not "the second rib", nor a word of another clause)."""
    if it.finding.presence is Presence.ABSENT or not it.observation_text:
        return False
    words = it.observation_text.split()
    n = len(words)
    for i, w in enumerate(key):
        if w in _DISTINCT_WORDS:
            for j in range(i + 1, min(i + 6, len(key) - n + 1)):
                if list(key[j:j + n]) == words:
                    return True
                if key[j] in (",", ";", ":", "and", "or", "with", "of", "in", "at", "the"):
                    break
    return False


#: what a chest drain or a lung operation leaves in its pleural space, said next without a side
_PLEURAL_COMPLICATIONS = frozenset({"pneumothorax", "effusion"})


def _side_of_a_chest_procedure(findings: tuple[ParsedFinding, ...], lex: Lexicon) -> str | None:
    """The one side of the present pleural devices (a chest drain) and lung operations (a lobectomy) a sentence
    states, when it states nothing on another side; else None."""
    sides = {it.finding.laterality for it in findings
             if it.finding.presence is not Presence.ABSENT and it.finding.laterality is not None}
    if len(sides) != 1 or next(iter(sides)) not in ("left", "right"):
        return None
    if not any(it.finding.presence is Presence.PRESENT and it.finding.laterality is not None and (
            (lex.is_device(it.finding.observation) and it.finding.anatomy == "pleura")
            or (lex.observations.get(it.finding.observation, {}).get("post_surgical") and it.finding.anatomy == "lung"))
               for it in findings):
        return None
    return next(iter(sides))


def _unsided_complication(it: ParsedFinding) -> bool:
    """A present pneumothorax or pleural effusion stated with no side (a sentence that names none)."""
    f = it.finding
    return f.presence is Presence.PRESENT and f.laterality is None and f.anatomy == "pleura" \
        and f.observation in _PLEURAL_COMPLICATIONS


@lru_cache(maxsize=65536)
def parse_report(text: str) -> tuple[ParsedFinding, ...]:
    """Findings of a report with the words each was read from; order-independent (sorted), cached."""
    lex = lexicon()
    # a report that compares with a prior study: its "increased opacity" is a change, not a look (searched for
    # only when a sentence has such a change word: the search over every report was a thirtieth of the reader)
    compares: bool | None = None
    items: list[ParsedFinding] = []
    last_device: int | None = None
    side: str | None = None
    drain_side: str | None = None  # the side of a chest drain or lung operation the sentence before stated
    for section in _sections(text, lex):
        field: tuple[str, ...] = ()
        subject: str | None = None
        field_sides: tuple[tuple[str | None, str], ...] = ()
        organ: str | None = None  # the last paired organ named
        before: SentenceReading | None = None  # the sentence before, for a differential after its finding
        stated: list[Finding] = []  # the findings the section has stated, for a sentence that refers back
        section_start = len(items)
        before_start = len(items)  # where the sentence before's findings start in items
        for tokens in (clause for sentence in _hedges_joined(_side_labels_nested(_sentence_pieces(section)))
                       for clause in _clauses(sentence, lex)):
            key = _icd_sense(_head_senses(tuple(tokens), text), text)
            cmp = False
            if not _CHANGE_WORDS_READ.isdisjoint(key):
                if compares is None:
                    compares = bool(_COMPARES.search(_NO_COMPARISON.sub(" ", text)))
                cmp = compares
            denied = _elliptic_denial(key, items, lex)
            if denied is not None:
                items.append(denied)
                continue
            key = _elliptic_side_subject(key, items, lex) or key
            reading = _sentence_findings(key, side if not _SIDE_DEPENDENT.isdisjoint(key) else None, False, cmp)
            if _side_for_organ_before(reading, key, organ):
                key = (*organ.split(), *key) if reading.field_label else (*organ.split(), ":", *key)
                reading = _sentence_findings(key, side if not _SIDE_DEPENDENT.isdisjoint(key) else None, False, cmp)
            if reading.field_label is None and field and (
                    not reading.names_site or _stays_in_sided_field(reading, field_sides, lex)
                    or (reading.stations_only and not _NODE_FIELD_WORDS.isdisjoint(field))):
                # "Spleen: Normal size. Two calcified granulomas.": the field's later sentences are in its site
                key = (*field, ":", *key)
                reading = _sentence_findings(key, side if not _SIDE_DEPENDENT.isdisjoint(key) else None, True, cmp)
            elif reading.field_label is not None:
                field, field_sides = reading.field_label, reading.label_sides
            else:
                field = ()  # "Liver: metastases. Peritoneum free of deposits. Ascites.": the field has ended
            side = reading.last_side or side
            context = reading.in_context.get(subject)
            if context is None:
                read = _operation_as_place(_inflammation_denied_of(_urinary_obstruction(
                    _in_the_organ_just_named(reading.findings, subject, lex), key), lex), lex)
                context = reading.in_context[subject] = (read, _hedged_once(read, lex),
                                                         _subject_organ(reading, subject, lex))
            findings, hedged, next_subject = context
            refers_back = bool(stated) and _refers_back(key, reading)
            if key[0] in _DIFFERENTIAL_FIRST and before is not None and _names_a_differential(key):
                explained = _one_site_stated(before)
                if explained is not None:
                    findings = _at_the_explained_site(findings, explained)
            elif refers_back:
                findings = _at_the_referred_site(findings, stated, lex)
                findings, dropped = _refined_by_referring_diagnosis(items, section_start, findings, lex)
                for k in dropped:
                    if last_device is not None and last_device > k:
                        last_device -= 1
            if reading.prior_size is not None and not findings and before is not None:
                _change_from_prior_sentence(items, before, reading.prior_size)
            if reading.lone_change is not None and not findings:
                _change_of_prior_findings(items, range(before_start, len(items)), reading.lone_change, lex)
            before = reading
            before_start = len(items)
            stated.extend(it.finding for it in findings if it.finding.presence is not Presence.ABSENT
                          and it.finding.anatomy != UNSPECIFIED)
            subject = next_subject
            organ = reading.paired_organ or (organ if not reading.names_site else None)
            carried, drain_side = drain_side, _side_of_a_chest_procedure(findings, lex)
            for it in (hedged if findings is context[0] else _hedged_once(findings, lex)):
                if carried is not None and reading.last_side is None and _unsided_complication(it):
                    # "Left chest drain in situ. Small residual pneumothorax.": the drained side's
                    it = ParsedFinding(dataclasses.replace(it.finding, laterality=carried), it.observation_text,
                                       it.anatomy_text, it.distinct)
                if last_device is not None and _names_own_part(items[last_device], it, lex):
                    # "Left chest wall port. The catheter tip lies in the lower SVC.": the port's catheter
                    items[last_device] = ParsedFinding(
                        dataclasses.replace(items[last_device].finding, position=it.finding.position),
                        items[last_device].observation_text, items[last_device].anatomy_text)
                    continue
                if lex.is_device(it.finding.observation) and it.finding.presence is not Presence.ABSENT:
                    last_device = len(items)
                if not _DISTINCT_WORDS.isdisjoint(key) and _named_as_one_more(key, it):
                    it = dataclasses.replace(it, distinct=True)
                items.append(it)
            if reading.orphan_position and last_device is not None:
                dev = items[last_device]
                pos = reading.orphan_position
                if pos == "expected":
                    pos = lex.expected_position(dev.finding.observation)
                if dev.finding.position is None and pos is not None:
                    items[last_device] = ParsedFinding(dataclasses.replace(dev.finding, position=pos),
                                                       dev.observation_text, dev.anatomy_text)
    # exact duplicates (not one named as one more of its kind: "a nodule in the RUL. Another nodule in the RUL.")
    seen: dict[Finding | int, ParsedFinding] = {}
    for k, it in enumerate(items):
        seen.setdefault(k if it.distinct and it.finding in seen else it.finding, it)
    items = _merge_restatements(_explained_away(list(seen.values()), lex), lex)
    # organ-less denials of a tumour ("No evidence of tumor.", "no metastatic disease") summarise the rest of a
    # report that says anything else; an organ-less negative of anything else ("No abscess.", "no drainable
    # collection") is a statement of its own, which matches the same negative at any site; so is a tumour called
    # unlikely ("an underlying neoplasm is unlikely"), the weighing of one diagnosis, no summary
    if any(it.finding.anatomy != UNSPECIFIED for it in items):
        items = [it for it in items
                 if not (it.finding.anatomy == UNSPECIFIED and it.finding.presence is Presence.ABSENT
                         and it.finding.certainty is not Certainty.IMPROBABLE and lex.is_focal(it.finding.observation))]
    kept = []
    all_found = [it.finding for it in items]
    # (a group is restated only where two findings are stated one each: most reports have none)
    singles = sum(1 for f in all_found if f.count == 1) >= 2
    for i, it in enumerate(items):
        f = it.finding
        redundant = (f.presence is not Presence.ABSENT or f.anatomy == UNSPECIFIED) and any(
            j != i and other.finding.presence is f.presence and (other.distinct or not it.distinct)
            and _less_specific(f, other.finding, lex)
            and not (_less_specific(other.finding, f, lex) and j > i)
            for j, other in enumerate(items)) or (singles and _restates_group(f, all_found, lex))
        if not redundant:
            kept.append(it)
    kept.sort(key=lambda it: _sort_key(it.finding))
    return tuple(kept)


def _change_of_prior_findings(items: list[ParsedFinding], added: range, change: str, lex: Lexicon) -> None:
    """"Two right lung nodules. Both have grown.": a change said of the findings just stated, by a sentence that
    refers back to them, is theirs (each present non-device finding that states no change, or only "stable" from a
    word like "known"; a "new" one keeps it)."""
    for k in added:
        f = items[k].finding
        if f.presence is Presence.ABSENT or lex.is_device(f.observation) or f.temporal not in (None, "stable"):
            continue
        items[k] = ParsedFinding(dataclasses.replace(f, temporal=change), items[k].observation_text,
                                 items[k].anatomy_text)


def _change_from_prior_sentence(items: list[ParsedFinding], before: SentenceReading, prior_mm: float) -> None:
    """"The nodule measures 9 mm. Previously it measured 6 mm.": the prior size said in a sentence of its own states
    the change of the one finding the sentence before measured (its size now stays)."""
    sized = [it for it in before.findings if it.finding.size_mm is not None
             and it.finding.presence is not Presence.ABSENT]
    if len(sized) != 1 or sized[0].finding.temporal not in (None, "stable"):
        return
    f = sized[0].finding
    now = f.size_mm
    if abs(now - prior_mm) > max(PRIOR_SIZE_SAME_MM, PRIOR_SIZE_SAME_REL * prior_mm):
        change = "increased" if now > prior_mm else "decreased"
    elif f.temporal is None:
        change = "stable"
    else:
        return
    for k in range(len(items) - 1, -1, -1):
        if items[k].finding == f:
            items[k] = ParsedFinding(dataclasses.replace(f, temporal=change), items[k].observation_text,
                                     items[k].anatomy_text)
            return


def extract_findings(text: str) -> tuple[Finding, ...]:
    """The findings a report states, in the schema shared by metrics, rewards and the report writer."""
    return tuple(it.finding for it in parse_report(text))
