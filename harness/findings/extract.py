"""Report text -> findings: the inverse of ``harness.reports.write_report``.

Pipeline, per report: section headers (INDICATION/HISTORY... are skipped: they state no finding of this
study), sentences, a longest-match phrase scan over tokens against the lexicon (``lexicon.yaml``), then per
sentence:

1. **Context** (ConText/NegEx): forward triggers ("no", "without evidence of", "possible", "cannot exclude")
   scope to the right and backward triggers ("is not seen", "cannot be excluded") to the left, each until a
   termination term ("but", "however", "which"...), a trigger of the other kind, or the sentence end. Pseudo-
   triggers ("no change") consume their words and trigger nothing. Uncertainty wins over negation.
2. **Location phrases**: organ, sub-location and side words joined by "of"/"the" ("upper pole of the left
   kidney", "left renal upper pole", "RLL"), resolved with the lexicon (a sub-location implies its organ and
   sometimes its side; "head"/"body"/"tail" only mean the pancreas when the pancreas is named; a plural paired
   organ is bilateral). A location right after "abutting"/"adjacent to" is a neighbour, not a site.
3. **Attachment**: a location directly before an observation modifies it ("liver mass"); one after a preposition
   belongs to the observation on its left ("mass in the liver"); otherwise the nearest observation or normal-
   statement ("the liver is unremarkable") takes it. Sizes go to the nearest observation (largest dimension, in
   mm), counts and attributes to the next one.
4. **Report level**: exact duplicates and less specific restatements (an impression repeating a finding) are
   merged; organ-less negatives ("No evidence of tumor.") are dropped when the report states anything else.

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

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harness.findings.lexicon import UNSPECIFIED, Lexicon, Reading, SubLocation, lexicon, normalize, TOKEN_RE
from harness.schema import Finding, Presence

UNITS = {"mm": 1.0, "millimeter": 1.0, "millimeters": 1.0, "millimetre": 1.0, "millimetres": 1.0,
         "cm": 10.0, "centimeter": 10.0, "centimeters": 10.0, "centimetre": 10.0, "centimetres": 10.0}
PREPOSITIONS = frozenset({"in", "within", "of", "involving", "at", "from", "along", "throughout", "on", "into",
                          "inside", "arising", "over", "across", "to"})
MODIFIER_WORDS = frozenset({"a", "an", "the", ",", ":", "-", "sided", "new", "focal", "is", "are", "there"})
SENTENCE_END = frozenset({".", "!", "?", ";"})


@dataclass
class Span:
    kind: str  # PHRASE, SIZE, NUM, WORD
    value: Any
    start: int
    end: int
    text: str
    cat: str = ""  # resolved category: OBS, ENLARGE, LOC, ATTR, COUNT, CTX:<kind>, SIZE, NUM, WORD

    def readings(self, kind: str) -> list[Reading]:
        return [r for r in self.value if r.kind == kind] if self.kind == "PHRASE" else []


@dataclass
class Location:
    organ: str | None
    sub: str | None
    laterality: str | None
    start: int
    end: int
    text: str
    blocked: bool = False


@dataclass(frozen=True)
class ParsedFinding:
    """A finding with the words it was read from (the entity score embeds these)."""

    finding: Finding
    observation_text: str
    anatomy_text: str  # "" when the organ was not named (default anatomy)


@dataclass
class _Target:
    pos: int
    kind: str  # OBS, ENLARGE, NORMAL, NORMAL_SIZE
    span: Span
    locations: list[Location] = field(default_factory=list)
    sides: list[Location] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)
    count: int | str | None = None
    attrs: set[str] = field(default_factory=set)


@lru_cache(maxsize=1)
def _section_re(lex_id: int) -> re.Pattern[str]:
    names = sorted(lexicon().sections, key=len, reverse=True)
    return re.compile(r"(?i)(?:^|(?<=[\s.]))(" + "|".join(re.escape(n) for n in names) + r")\s*:")


@lru_cache(maxsize=1)
def _first_tokens(lex_id: int) -> frozenset[str]:
    return frozenset(k[0] for k in lexicon().phrases)


def _sections(text: str, lex: Lexicon) -> list[str]:
    """Text of the sections that state findings (the preamble, FINDINGS, IMPRESSION...)."""
    parts = _section_re(id(lex)).split(text)
    keep = [parts[0]]
    for i in range(1, len(parts), 2):
        name = " ".join(parts[i].lower().split())
        if name not in lex.skip_sections:
            keep.append(parts[i + 1])
    return keep


def _is_num(tok: str) -> bool:
    return tok[0].isdigit()


def _parse_size(tokens: list[str], i: int) -> tuple[float | None, int]:
    """'15 mm', '1.5 cm', '1.5 x 2.0 cm', '1.5 cm x 2.0 cm' -> largest dimension in mm, and the next index."""
    n, j = len(tokens), i
    dims: list[float] = []
    units: list[float | None] = []
    while j < n and _is_num(tokens[j]):
        dims.append(float(tokens[j]))
        j += 1
        unit = None
        if j < n and tokens[j] in UNITS:
            unit = UNITS[tokens[j]]
            j += 1
        units.append(unit)
        if j + 1 < n and tokens[j] in ("x", "by") and _is_num(tokens[j + 1]):
            j += 1
            continue
        break
    last = next((u for u in reversed(units) if u is not None), None)
    if last is None:
        return None, i
    return round(max(d * (u if u is not None else last) for d, u in zip(dims, units)), 1), j


def _scan(tokens: list[str], lex: Lexicon) -> list[Span]:
    spans: list[Span] = []
    firsts = _first_tokens(id(lex))
    phrases = lex.phrases
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if _is_num(tok):
            size, j = _parse_size(tokens, i)
            if size is not None:
                spans.append(Span("SIZE", size, i, j, " ".join(tokens[i:j]), cat="SIZE"))
                i = j
            else:
                spans.append(Span("NUM", float(tok), i, i + 1, tok, cat="NUM"))
                i += 1
            continue
        if tok in firsts:
            for length in range(min(lex.max_len, n - i), 0, -1):
                readings = phrases.get(tuple(tokens[i:i + length]))
                if readings:
                    spans.append(Span("PHRASE", readings, i, i + length, " ".join(tokens[i:i + length])))
                    i += length
                    break
            else:
                spans.append(Span("WORD", tok, i, i + 1, tok, cat="WORD"))
                i += 1
            continue
        spans.append(Span("WORD", tok, i, i + 1, tok, cat="WORD"))
        i += 1
    for s in spans:
        if s.kind != "PHRASE":
            continue
        kinds = {r.kind for r in s.value}
        if "CTX" in kinds:
            s.cat = "CTX:" + next(r.value for r in s.value if r.kind == "CTX")
        elif "OBS" in kinds:
            s.cat = "OBS"
        elif "ENLARGE" in kinds:
            s.cat = "ENLARGE"
        elif kinds & {"ANAT", "SUB", "STATION", "LAT"}:
            s.cat = "LOC"
        elif "ATTR" in kinds:
            s.cat = "ATTR"
        elif "COUNT" in kinds:
            s.cat = "COUNT"
        else:
            s.cat = "WORD"
    return spans


def _scopes(spans: list[Span]) -> tuple[set[int], set[int], set[int]]:
    """Positions under negation, under uncertainty, and the triggers' own positions."""
    trig: dict[int, tuple[str, str]] = {}
    term: set[int] = set()
    for p, s in enumerate(spans):
        c = s.cat
        if not c.startswith("CTX:"):
            continue
        kind = c[4:]
        if kind == "termination":
            term.add(p)
        elif kind.startswith("negation_"):
            trig[p] = ("neg", kind.split("_")[1])
        elif kind.startswith("uncertainty_"):
            trig[p] = ("unc", kind.split("_")[1])
    neg: set[int] = set()
    unc: set[int] = set()
    n = len(spans)
    for p, (pol, direction) in trig.items():
        target = neg if pol == "neg" else unc

        def stop(q: int) -> bool:
            return q in term or (q in trig and trig[q][0] != pol)

        if direction in ("forward", "bidirectional"):
            q = p + 1
            while q < n and not stop(q):
                target.add(q)
                q += 1
        if direction in ("backward", "bidirectional"):
            q = p - 1
            while q >= 0 and not stop(q):
                target.add(q)
                q -= 1
    return neg, unc, set(trig)


def _locations(spans: list[Span], lex: Lexicon) -> list[Location]:
    fillers = lex.location_fillers  # type: ignore[attr-defined]
    n = len(spans)
    groups: list[list[int]] = []
    k = 0
    while k < n:
        if spans[k].cat != "LOC":
            k += 1
            continue
        members = [k]
        m = k + 1
        while True:
            j = m
            while j < n and spans[j].cat == "WORD" and spans[j].value in fillers:
                j += 1
            if j < n and spans[j].cat == "LOC":
                members.append(j)
                m = j + 1
            else:
                break
        groups.append(members)
        k = m
    out: list[Location] = []
    for members in groups:
        out.extend(_resolve_group(spans, members, lex))
    for loc in out:  # a neighbour ("abutting the spleen") is not the finding's site
        q = loc.start - 1
        while q >= 0 and spans[q].cat == "WORD" and spans[q].value in fillers:
            q -= 1
        loc.blocked = q >= 0 and spans[q].cat == "CTX:relation"
    return out


def _resolve_group(spans: list[Span], members: list[int], lex: Lexicon) -> list[Location]:
    organ_pos: list[tuple[int, str, bool]] = []
    has_node = any(r.value == "lymph node" for p in members for r in spans[p].readings("ANAT"))
    station_at: dict[int, str] = {}
    for p in members:
        stations = spans[p].readings("STATION")
        anats = spans[p].readings("ANAT")
        if stations and (has_node or not anats):
            station_at[p] = stations[0].value.name
            continue
        if anats:
            organ_pos.append((p, anats[0].value, anats[0].plural))
    organs = {o for _, o, _ in organ_pos}
    if len(organs) > 1:  # two organs side by side: each member goes with its nearest organ word
        buckets: dict[int, list[int]] = {p: [] for p, _, _ in organ_pos}
        for p in members:
            best = min(organ_pos, key=lambda t: (abs(t[0] - p), -t[0]))[0]
            buckets[best].append(p)
        parts = [sorted(b) for b in buckets.values()]
    else:
        parts = [members]
    locs = []
    for part in parts:
        organ = None
        plural = False
        for p, o, pl in organ_pos:
            if p in part:
                organ, plural = o, pl
                break
        if organ is None and any(p in station_at for p in part):
            organ = "lymph node"
        sub: str | None = None
        sub_lat: str | None = None
        for p in part:
            if p in station_at and organ == "lymph node":
                sub = sub or station_at[p]
            for r in spans[p].readings("SUB"):
                loc: SubLocation = r.value
                if organ is None and not loc.needs_organ:
                    organ = loc.organ
                if loc.organ == organ and sub is None:
                    sub, sub_lat = loc.name, loc.laterality
                    plural = plural or r.plural
        lat = None
        for p in part:
            lats = spans[p].readings("LAT")
            if lats:
                lat = lats[0].value
                break
        if lat is None:
            lat = sub_lat
        if organ is not None and lex.is_paired(organ):
            if lat is None and plural:
                lat = "bilateral"
        elif organ is not None:
            lat = None
        text = " ".join(spans[p].text for p in part)
        locs.append(Location(organ, sub, lat, part[0], part[-1], text))
    return locs


def _gap_is_modifiers(spans: list[Span], a: int, b: int, side_positions: set[int], locations: bool = False) -> bool:
    """Only modifiers (attributes, sizes, counts, sides, articles; organs too with ``locations``) in [a, b)."""
    for q in range(a, b):
        s = spans[q]
        if s.cat in ("ATTR", "SIZE", "COUNT", "NUM") or q in side_positions or (locations and s.cat == "LOC"):
            continue
        if s.cat == "WORD" and s.value in MODIFIER_WORDS:
            continue
        return False
    return True


@lru_cache(maxsize=65536)
def _sentence_findings(tokens: tuple[str, ...]) -> tuple[ParsedFinding, ...]:
    """Findings of one sentence; cached, since reports repeat their boilerplate sentences."""
    return tuple(_analyse_sentence(list(tokens), lexicon()))


def _analyse_sentence(tokens: list[str], lex: Lexicon) -> list[ParsedFinding]:
    spans = _scan(tokens, lex)
    if any(s.cat == "CTX:back_reference" for s in spans):
        return []  # "Two lesions as described above." restates what the report already said
    neg, unc, _ = _scopes(spans)
    targets: list[_Target] = []
    for p, s in enumerate(spans):
        if s.cat in ("OBS", "ENLARGE"):
            targets.append(_Target(p, s.cat, s))
        elif s.cat == "CTX:normal":
            targets.append(_Target(p, "NORMAL", s))
        elif s.cat == "CTX:normal_size":
            targets.append(_Target(p, "NORMAL_SIZE", s))
    if not targets:
        return []
    locs = _locations(spans, lex)
    obs_targets = [t for t in targets if t.kind in ("OBS", "ENLARGE")]
    sides = [l for l in locs if l.organ is None and not l.blocked]
    side_positions = {q for l in sides for q in range(l.start, l.end + 1)}

    for loc in locs:
        if loc.blocked or loc.organ is None:
            continue
        chosen: _Target | None = None
        following = [t for t in targets if t.pos > loc.end]
        if following and following[0].pos - loc.end <= 5 and \
                _gap_is_modifiers(spans, loc.end + 1, following[0].pos, side_positions):
            chosen = following[0]  # "liver mass", "left renal upper pole: hypodense mass"
        if chosen is None:
            q = loc.start - 1
            while q >= 0 and spans[q].cat == "WORD" and spans[q].value in ("the", "a", "an"):
                q -= 1
            if q >= 0 and spans[q].cat == "WORD" and spans[q].value in PREPOSITIONS:
                left = [t for t in obs_targets if t.pos < loc.start]
                if left:
                    chosen = left[-1]  # "mass in the liver"
        if chosen is None:
            chosen = min(targets, key=lambda t: (abs(t.pos - loc.start) if t.pos < loc.start
                                                 else t.pos - loc.end, t.pos < loc.start))
        chosen.locations.append(loc)

    for loc in sides:  # "right pleural effusion", "effusion on the right"
        after = [t for t in obs_targets if t.pos > loc.end and t.pos - loc.end <= 4
                 and _gap_is_modifiers(spans, loc.end + 1, t.pos, side_positions, locations=True)]
        before = [t for t in obs_targets if t.pos < loc.start and loc.start - t.pos <= 3]
        if after:
            after[0].sides.append(loc)
        elif before:
            before[-1].sides.append(loc)

    for p, s in enumerate(spans):
        if s.cat == "SIZE" and obs_targets:
            t = min(obs_targets, key=lambda t: (abs(t.pos - p), t.pos > p))
            t.sizes.append(s.value)
        elif s.cat in ("COUNT", "NUM"):
            nxt = [t for t in obs_targets if t.pos > p and t.pos - p <= 4]
            if not nxt or not _gap_is_modifiers(spans, p + 1, nxt[0].pos, side_positions, locations=True):
                continue
            if s.cat == "NUM":
                if s.value != int(s.value) or not 0 < s.value <= 50 or not _plural(nxt[0].span):
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

    # An observation with no site of its own in a sentence that also calls an organ normal is in that organ
    # ("the liver is unremarkable except for a cyst"): it takes the organ and the normal statement yields.
    normals = [t for t in targets if t.kind == "NORMAL" and t.locations]
    for t in obs_targets:
        if not t.locations and normals and "default_anatomy" not in lex.observations.get(
                _obs_name(t.span) or "", {}):
            for nt in normals:
                t.locations.extend(nt.locations)
                nt.locations = []

    out: list[ParsedFinding] = []
    for t in targets:
        if t.kind in ("NORMAL", "NORMAL_SIZE"):
            if t.pos in neg or t.pos in unc:
                continue
            for loc in t.locations:
                obs = lex.normal_finding(loc.organ) if t.kind == "NORMAL" else lex.enlargement.get(loc.organ)
                if obs is None:
                    continue
                f = Finding(observation=obs, anatomy=loc.organ, sub_location=loc.sub,
                            laterality=loc.laterality, presence=Presence.ABSENT)
                out.append(ParsedFinding(f, t.span.text, loc.text))
            continue
        presence = Presence.UNCERTAIN if t.pos in unc else Presence.ABSENT if t.pos in neg else Presence.PRESENT
        out.extend(_findings_of_target(t, presence, lex))
    return out


def _obs_name(span: Span) -> str | None:
    r = span.readings("OBS")
    return r[0].value if r else None


def _plural(span: Span) -> bool:
    return any(r.plural for r in span.value) if span.kind == "PHRASE" else False


def _findings_of_target(t: _Target, presence: Presence, lex: Lexicon) -> list[ParsedFinding]:
    side = t.sides[0].laterality if t.sides else None
    spec = lex.observations.get(_obs_name(t.span) or "", {})
    if spec.get("fixed_anatomy"):  # a device: its organ is fixed; a side named with it is kept
        organ = spec["default_anatomy"]
        lat = side or next((l.laterality for l in t.locations if l.laterality), None)
        if not (spec.get("keeps_side") or lex.is_paired(organ)):
            lat = None
        f = Finding(observation=_obs_name(t.span), anatomy=organ, laterality=lat, presence=presence,
                    attributes=frozenset(t.attrs))
        return [ParsedFinding(f, t.span.text, " ".join(l.text for l in t.locations))]
    # merge the locations of one organ ("liver ... right lobe"): keep the most specific
    merged: list[Location] = []
    for loc in t.locations:
        for m in merged:
            if m.organ == loc.organ and (m.laterality is None or loc.laterality is None
                                         or m.laterality == loc.laterality):
                m.sub = m.sub or loc.sub
                m.laterality = m.laterality or loc.laterality
                m.text = m.text if len(m.text) >= len(loc.text) else loc.text
                break
        else:
            merged.append(Location(loc.organ, loc.sub, loc.laterality, loc.start, loc.end, loc.text))
    if not merged:
        if t.kind == "ENLARGE":
            return []
        default = lex.observations.get(_obs_name(t.span) or "", {}).get("default_anatomy", UNSPECIFIED)
        merged = [Location(default, None, None, t.pos, t.pos, "")]
    plural = _plural(t.span)
    out = []
    for loc in merged:
        organ = loc.organ or UNSPECIFIED
        obs = _obs_name(t.span) if t.kind == "OBS" else lex.enlargement.get(organ)
        if obs is None:
            continue
        lat = loc.laterality
        if lat is None and side is not None and lex.is_paired(organ):
            lat = side
        attrs = set(t.attrs)
        count: int | None = None
        if isinstance(t.count, int):
            count = t.count
        elif t.count == "multiple":
            attrs.add("multiple")
        elif presence is not Presence.ABSENT and lex.is_focal(obs):
            if plural:
                attrs.add("multiple")
            else:
                count = 1
        f = Finding(observation=obs, anatomy=organ, sub_location=loc.sub, laterality=lat, presence=presence,
                    size_mm=max(t.sizes) if t.sizes else None, count=count, attributes=frozenset(attrs))
        out.append(ParsedFinding(f, t.span.text, loc.text))
    return out


def _sentences(text: str) -> list[list[str]]:
    out: list[list[str]] = []
    for block in re.split(r"\n\s*\n", text):
        cur: list[str] = []
        for tok in TOKEN_RE.findall(normalize(block)):
            if tok in SENTENCE_END:
                if cur:
                    out.append(cur)
                cur = []
            else:
                cur.append(tok)
        if cur:
            out.append(cur)
    return out


def _less_specific(f: Finding, g: Finding, lex: Lexicon) -> bool:
    """``f`` says nothing that ``g`` does not (an impression restating a finding)."""
    if f.presence is not g.presence or not lex.observations_compatible(f.observation, g.observation, f.presence):
        return False
    if f.presence is not Presence.ABSENT and lex.is_generic(g.observation) and not lex.is_generic(f.observation):
        return False
    if f.anatomy != g.anatomy and f.anatomy != UNSPECIFIED:
        return False
    if f.presence is Presence.ABSENT:
        return f.anatomy == UNSPECIFIED
    return ((f.laterality is None or f.laterality == g.laterality)
            and (f.sub_location is None or f.sub_location == g.sub_location)
            and (f.size_mm is None or f.size_mm == g.size_mm)
            and (f.count is None or f.count == g.count)
            and f.attributes <= g.attributes)


def _sort_key(f: Finding) -> tuple:
    return (f.anatomy, f.laterality or "", f.sub_location or "", f.observation, f.presence.value,
            f.size_mm or 0.0, f.count or 0, tuple(sorted(f.attributes)))


@lru_cache(maxsize=65536)
def parse_report(text: str) -> tuple[ParsedFinding, ...]:
    """Findings of a report with the words each was read from; order-independent (sorted), cached."""
    lex = lexicon()
    items: list[ParsedFinding] = []
    for section in _sections(text, lex):
        for tokens in _sentences(section):
            items.extend(_sentence_findings(tuple(tokens)))
    # exact duplicates
    seen: dict[Finding, ParsedFinding] = {}
    for it in items:
        seen.setdefault(it.finding, it)
    items = list(seen.values())
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
