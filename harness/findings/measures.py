"""Stage 3 of the reader, its measurements (see ``extract``'s docstring): which finding each size, list of sizes
("6 and 3 mm", "11 and 13 mm respectively"), count and device tip distance belongs to, and what a finding's sizes
say beyond its size: a size stated beside one of its sites is that site's, and a size of the prior study set
against the current one states a change.

``extract`` calls ``_attach_measures`` once ``attach`` has given each finding its sites and sides, and before
``attach._attach_modifiers`` (attributes, severity, change), whose noun-phrase gaps read the size lists this pass
settles as the prior study's or the current one's; then ``_change_from_prior_sizes`` (after the change words) and
``_sizes_of_listed_sites``. The noun-phrase grammar (``_Target``, the gap rules, the word sets) is ``attach``'s;
nothing here imports ``extract``."""

from __future__ import annotations

import copy

from harness.findings.attach import LIST_JOINERS, _gap_is_adjectives, _gap_is_modifiers, _obs_name, _plural, _Target
from harness.findings.lexicon import Lexicon
from harness.findings.scan import Span
from harness.findings.sites import Location

NUMBER_NEUTRAL = frozenset({"fx", "ln", "lad"})  # abbreviations that are singular and plural ("2 rib fx")
MAX_SIZE_REACH = 15  # spans between a measurement and the finding it measures
_HEDGES = ("CTX:probable", "CTX:possible", "CTX:improbable")  # "likely", "concerning for", "unlikely to be"
#: a current size within this of the prior one (mm, or share of the prior) reads as unchanged
PRIOR_SIZE_SAME_MM = 1.0
PRIOR_SIZE_SAME_REL = 0.05

#: "fractures of the left two ribs": what may stand between a finding and the count of the parts it involves
_PART_COUNT_GAP = frozenset({"of", "involving", "in", "within", "at", "the", "left", "right", "both", "bilateral", "l",
                             "r", "lt", "rt", "b", "bilat"})


def _attach_measures(spans: list[Span], obs_targets: list[_Target], side_positions: set[int], lex: Lexicon) -> None:
    """Each size, list of sizes, tip distance and count to the finding it measures or counts, in sentence order
    (a count read first is the one a list of sizes over sites goes by)."""
    # an organ removed has no size: "s/p cholecystectomy, CBD 7 mm" measures the duct
    measurable = [t for t in obs_targets if not lex.observations.get(_obs_name(t.span) or "", {}).get("post_surgical")
                  and not lex.observations.get(_obs_name(t.span) or "", {}).get("unmeasured")]
    listed = _size_lists(spans)
    for p, s in enumerate(spans):
        if s.cat in ("SIZE", "PRIOR_SIZE") and _is_movement(spans, p):
            continue  # "recommend withdrawing by 2-3 cm": how far to move a device, no size or tip distance
        if s.cat in ("SIZE", "PRIOR_SIZE") and _is_distance(spans, p):
            _attach_tip_distance(p, spans, measurable, side_positions, lex)
            continue
        if p in listed:
            if listed[p][0] == p and measurable:
                _attach_size_list(listed[p], spans, measurable, side_positions)
        elif s.cat in ("SIZE", "PRIOR_SIZE") and measurable:
            _attach_size(p, spans, measurable, side_positions, lex)
        elif s.cat in ("COUNT", "NUM"):
            if not _count_of_device_parts(p, spans, obs_targets, lex):
                _attach_count(p, spans, obs_targets, side_positions)


def _size_owner(p: int, spans: list[Span], obs_targets: list[_Target], side_positions: set[int]) -> _Target | None:
    """The finding a size measures: the noun it modifies, the finding one of whose sites it is stated beside, else
    the nearest finding within reach."""
    bracketed = _finding_before_bracket(p, spans, obs_targets, side_positions)
    if bracketed is not None:
        return bracketed
    dimension = _finding_with_dimension(p, spans, obs_targets)
    if dimension is not None:
        return dimension
    nxt = next((u for u in obs_targets if u.pos > p), None)
    if nxt is not None and nxt.pos - p <= 6 and _gap_is_modifiers(
            spans, p + 1, nxt.pos, side_positions, locations=True) and not any(
            g.text in (",", "(") for g in spans[p + 1:nxt.pos]):
        return nxt  # "cirrhotic liver with a 27 mm segment 8 lesion": the size of the noun it modifies
    # a size stated beside one of a finding's sites is that finding's, however near another finding is ("1.2 cm
    # in the interpolar region, suspicious for RCC") or far the finding ("3 metastases - segment 2 18 mm, ...,
    # segment 7 (posterior right lobe) 31 mm")
    # ("common bile duct 6 mm without choledocholithiasis": a finding denied after the size is not what it
    # measures; the organ measured is read on its own)
    obs_targets = [u for u in obs_targets if not (
        u.pos > p and any(g.cat.startswith("CTX:negation") for g in spans[p + 1:u.pos]))]
    if not obs_targets:
        return None
    by_site = next((u for u in obs_targets if _site_beside(
        p, spans, [l for l in u.locations if l.organ], loose=False) is not None), None)
    if by_site is not None:
        return by_site
    t = min(obs_targets, key=lambda t: (abs(t.pos - p), t.pos > p))
    prv = [u for u in obs_targets if u.pos < p and p - u.pos <= MAX_SIZE_REACH]
    if _of_the_largest(spans, p):
        # "two segments of ileal thickening, the longest measuring 12 cm, with small bowel dilatation to 3.4 cm":
        # the largest of a group is the group's size, however near the next finding or far the group
        earlier = [u for u in obs_targets if u.pos < p]
        group = [u for u in earlier if _plural(u.span) or (isinstance(u.count, int) and u.count > 1)]
        if group or prv:
            return group[-1] if group else prv[-1]
    if t.pos > p and prv and any(g.cat.startswith(_HEDGES) for g in spans[p + 1:t.pos]):
        # "renal lesion, hypervascular, 19 mm, concerning for RCC": what a hedge names after the size is what the
        # measured finding may be, so the size is the finding's before it (the hedged name shares it later)
        return prv[-1]
    if t.pos > p and prv and t.pos + 1 < len(spans) and spans[t.pos + 1].cat == "SIZE" \
            and spans[p + 1].text == "," and spans[p - 1].text == ",":
        # "part-solid nodule in the left upper lobe, 18 mm, solid component 9 mm": the next finding has its size
        # after it, so the size set apart before it is the finding's before
        return prv[-1]
    if abs(t.pos - p) <= MAX_SIZE_REACH:
        return t
    before = [u for u in obs_targets if u.pos < p]
    if before and all(g.cat == "LOC" or g.text in _SITE_PHRASE_WORDS for g in spans[before[-1].pos + 1:p]):
        # "cysts in the upper pole of the left kidney and in the lower pole of the right kidney measure 23 and
        # 31 mm": only the finding's long list of sites stands between it and its size
        return before[-1]
    # "the CBD measures 0.6 cm" is not the size of a far-off finding, but "(subcarinal, 11 mm)" after a long
    # list of its sites is
    return next((u for u in obs_targets if _site_beside(p, spans, [l for l in u.locations if l.organ])), None)


#: the words of "with a maximal diameter of": a dimension the finding before "with" has
_DIMENSION_NOUNS = frozenset({"diameter", "size", "dimension", "diameters", "dimensions", "width", "length",
                              "calibre", "caliber", "measurement", "extent"})
_DIMENSION_GAP = frozenset({"a", "an", "the", "maximal", "maximum", "max", "greatest", "largest", "long", "short",
                            "mean", "average",
                            "axis", "transverse", "axial", "overall", "total", "outer", "of", "measuring", "up", "to",
                            "approximately", "about", "approx", "ap"})


#: what opens a dimension of the whole finding set apart by a comma ("nodule, mean diameter 14 mm", "nodule,
#: total diameter 20 mm with an 8 mm solid component", "mass, maximal dimension 4 cm", "nodule, diameter 9 mm")
_WHOLE_DIMENSION = frozenset({"mean", "average", "total", "overall", "maximal", "maximum", "max", "greatest"})


def _finding_with_dimension(p: int, spans: list[Span], obs_targets: list[_Target]) -> _Target | None:
    """"aneurysm with a maximal diameter of 46 mm and mural thrombus", "adrenal nodule with a diameter of 14 mm and
    macroscopic fat": a dimension said with "with" is the finding's before it, not the companion named after it."""
    q = p - 1
    seen_noun = False
    while q >= 0 and p - q <= 7 and (spans[q].text in _DIMENSION_GAP or spans[q].text in _DIMENSION_NOUNS):
        seen_noun = seen_noun or spans[q].text in _DIMENSION_NOUNS
        q -= 1
    if seen_noun and q >= 1 and spans[q].text == "," and q + 1 < p and (
            spans[q + 1].text in _WHOLE_DIMENSION or spans[q + 1].text in _DIMENSION_NOUNS):
        # "part-solid nodule, 16 x 12 mm, mean diameter 14 mm, with a 7 mm solid part": a mean diameter set apart
        # by a comma is the finding's before it
        before = [u for u in obs_targets if u.pos < q]
        return before[-1] if before and q - before[-1].pos <= 12 else None
    if not seen_noun or q < 1 or spans[q].text not in ("with", "with a", "with an"):
        return None
    before = [u for u in obs_targets if u.pos < q]
    if before and all(spans[r].cat in ("LOC", "ATTR", "SEV", "TEMP") or spans[r].text in (",", "the", "of", "in")
                      for r in range(before[-1].pos + 1, q)) and q - before[-1].pos <= 6:
        return before[-1]
    return None


#: the words of a list of sites, and the verb of measuring after it
_SITE_PHRASE_WORDS = frozenset({"in", "of", "the", "and", "within", "at", ",", "both", "measure", "measures", "measuring",
                                "measured"})


def _finding_before_bracket(p: int, spans: list[Span], obs_targets: list[_Target],
                            side_positions: set[int]) -> _Target | None:
    """"unchanged left axillary node (11 mm, was 10 mm) and para-aortic nodes (max 14 mm)": a size in a bracket
    that opens right after a finding measures that finding, however near the next one is."""
    q = p - 1
    while q >= 0 and spans[q].text not in ("(", ")") and not any(u.pos == q for u in obs_targets):
        q -= 1
    if q < 1 or spans[q].text != "(":
        return None
    before = [u for u in obs_targets if u.pos < q]
    if before and q - before[-1].pos <= 3 and _gap_is_modifiers(spans, before[-1].pos + 1, q, side_positions,
                                                                  locations=True):
        return before[-1]
    return None


def _bracketed_after_plural_word(p: int, spans: list[Span], obs_targets: list[_Target],
                                 side_positions: set[int]) -> bool:
    """"multiple (5) liver lesions", "several (at least 4) nodules": a number in brackets after a plural word is
    the count of the noun the plural word counts."""
    s = spans[p]
    if s.cat != "NUM" or s.value != int(s.value) or not 0 < s.value <= 100 or p + 1 >= len(spans) \
            or spans[p + 1].text != ")":
        return False
    q = p - 1
    if q >= 1 and spans[q].text == "least" and spans[q - 1].text == "at":
        q -= 2
    if q < 1 or spans[q].text != "(" or spans[q - 1].cat != "COUNT" or isinstance(
            spans[q - 1].readings("COUNT")[0].value, int):
        return False
    nxt = next((t for t in obs_targets if t.pos > p), None)
    if nxt is None or nxt.pos - p > 7 or not _gap_is_adjectives(spans, p + 2, nxt.pos, side_positions) or not (
            _plural(nxt.span) or nxt.span.text in NUMBER_NEUTRAL):
        return False
    nxt.count = int(s.value)
    return True


#: words that make a size the largest of a group just named ("the largest 14 mm", "the longest measuring 12 cm")
_LARGEST = frozenset({"largest", "longest", "larger", "longer", "biggest", "bigger", "dominant", "max", "maximum",
                      "maximal"})


def _of_the_largest(spans: list[Span], p: int) -> bool:
    """"the largest 14 mm", "the largest measuring 14 mm", "the largest in the LLL now 14 mm"."""
    q = p - 1
    while q >= 0 and p - q <= 6 and (spans[q].cat == "LOC" or spans[q].text in (
            "measuring", "measures", "measured", "at", "of", "is", "one", "in", "the", "now", ",")):
        q -= 1
    return q >= 0 and spans[q].text in _LARGEST


#: what stands between a current size and the prior one said with it ("now 12 mm (previously 8 mm)", "14 mm, was
#: 9 mm")
_BEFORE_PRIOR_SIZE = frozenset({"(", ",", ";", "previously", "prev", "previous", "prior", "was", "were", "from",
                                "versus", "vs", "compared", "with", "to", "on", "the", "study", "exam", "scan", "then"})
#: verbs by which an organ is measured ("the right kidney measures 11 cm")
_MEASURE_VERBS = frozenset({"measures", "measuring", "measured", "measure"})


def _current_size_before(p: int, spans: list[Span]) -> int | None:
    """The current size a prior size at ``p`` is said with ("now 12 mm (previously 8 mm)"), or None."""
    q = p - 1
    while q >= 0 and p - q <= 5 and spans[q].text in _BEFORE_PRIOR_SIZE:
        q -= 1
    return q if q >= 0 and q < p - 1 and spans[q].cat == "SIZE" else None


def _organ_measured(p: int, spans: list[Span], obs_targets: list[_Target]) -> bool:
    """"The right kidney measures 11 cm and contains a 2 cm cyst": a size said of an organ that is the sentence's
    subject, with no finding named before it, is the organ's (read on its own), not the size of a finding after."""
    q = p - 1
    while q >= 0 and spans[q].text in ("approximately", "about", "approx", "up", "to"):
        q -= 1
    if q < 1 or spans[q].text not in _MEASURE_VERBS:
        return False
    q -= 1
    if spans[q].text == ",":
        q -= 1
    # (when a finding after it has a size of its own: "the aorta measures 52 mm, in keeping with an aneurysm" sizes
    # the aneurysm)
    return q >= 0 and spans[q].cat == "LOC" and bool(spans[q].readings("ANAT")) \
        and not any(u.pos < p for u in obs_targets) and any(g.cat == "SIZE" for g in spans[p + 1:])


#: the parts of a lesion whose thickness a report may give ("a cavity with a wall up to 8 mm", "septa 3 mm thick")
_LESION_PARTS = frozenset({"wall", "walls", "septa", "septum", "septation", "septations", "rim"})
#: what stands between such a part and its thickness
_PART_SIZE_GAP = frozenset({"thickness", "thick", "up", "to", "of", "measuring", "measures", "measure", "is", "are",
                            "a", "an", "the", "maximal", "maximum", "max", "at", "most", "approximately", "about"})


def _size_of_a_lesions_part(p: int, spans: list[Span], t: _Target, lex: Lexicon) -> bool:
    """"Cavity in the left upper lobe with a wall up to 8 mm", "cyst with septa up to 3 mm thick": the thickness of a
    focal lesion's (or a collection's) wall or septa, not the lesion's size."""
    if not (lex.is_focal(_obs_name(t.span) or "") or lex.family(_obs_name(t.span) or "") in ("abscess", "collection")):
        return False
    q = p - 1
    while q >= 0 and p - q <= 6 and spans[q].cat == "WORD" and spans[q].value in _PART_SIZE_GAP:
        q -= 1
    if q >= 0 and spans[q].cat == "WORD" and spans[q].value in _LESION_PARTS:
        return True
    # "septa up to 3 mm thick" reads the same way from behind
    return p + 1 < len(spans) and spans[p + 1].text == "thick" and q >= 0 and spans[q].text in _LESION_PARTS


def _attach_size(p: int, spans: list[Span], obs_targets: list[_Target], side_positions: set[int],
                 lex: Lexicon | None = None) -> None:
    if spans[p].cat == "SIZE" and _organ_measured(p, spans, obs_targets):
        return
    current = _current_size_before(p, spans) if spans[p].cat == "PRIOR_SIZE" else None
    owner = next((u for u in obs_targets if current in u.size_at), None) if current is not None else None
    # (a prior size goes with the finding its current size measures, however near the next finding is)
    t = owner or _size_owner(p, spans, obs_targets, side_positions)
    if t is not None and lex is not None and _size_of_a_lesions_part(p, spans, t, lex):
        return
    if t is not None and t.count is None and spans[p].cat == "SIZE" and t.span.text in NUMBER_NEUTRAL \
            and _of_the_largest(spans, p):
        t.count = "unstated"  # "mediastinal LN, max 11 mm": the largest of the nodes the abbreviation names
    if t is not None:
        (t.sizes if spans[p].cat == "SIZE" else t.prior_sizes).append(spans[p].value)
        if spans[p].cat == "SIZE":
            t.size_at.append(p)


_DISTANCE_WORDS = frozenset({"above", "below", "beyond"})  # not "from": "1 cm from the apex" sizes a pneumothorax
_DISTANCE_DIRECTIONS = frozenset({"proximal", "distal", "superior", "inferior", "lateral", "medial", "anterior",
                                  "posterior", "deep", "cranial", "caudal"})


#: verbs that move a device ("withdraw 2 cm", "advance by 3 cm", "pulled back 2 cm"), and the words between the verb
#: and the distance
_MOVE_WORDS = frozenset({"withdraw", "withdrawn", "withdrawing", "withdrawal", "retract", "retracted", "retracting",
                         "retraction", "advance", "advanced", "advancing", "advancement", "back"})
_MOVE_GAP = frozenset({"by", "approximately", "about", "approx", "roughly", "further", "another", "an", "additional",
                       "at", "least", "ca", "circa", "~"})


def _is_movement(spans: list[Span], p: int) -> bool:
    """"rec withdraw 2-3 cm", "should be advanced by approximately 5 cm": the size is how far to move a device."""
    q = p - 1
    while q >= 0 and p - q <= 4 and spans[q].text in _MOVE_GAP:
        q -= 1
    return q >= 0 and spans[q].text.split()[-1] in _MOVE_WORDS
#: the landmarks a length along a hollow organ or a vessel is measured from ("25 cm from the anal verge", "3 cm from
#: the carina", "2 cm from the origin of the SMA"): "from" one of them is a distance, where "1 cm from the apex" (a
#: pneumothorax's rim) is a size
_LANDMARKS = frozenset({"verge", "carina", "junction", "gej", "goj", "ogj", "egj", "pylorus", "valve", "dentate",
                        "incisors", "origin", "ostium", "bifurcation", "skin"})


def _is_distance(spans: list[Span], p: int) -> bool:
    """"2 cm above the VUJ", "20 mm proximal to the VUJ", "25 cm from the anal verge": a distance from a landmark,
    not a size."""
    nxt = [w for g in spans[p + 1:p + 5] for w in g.text.split()]
    return bool(nxt) and (nxt[0] in _DISTANCE_WORDS or (
        nxt[0] in _DISTANCE_DIRECTIONS and len(nxt) > 1 and nxt[1] in ("to", "of")) or (
        nxt[0] == "from" and any(w in _LANDMARKS for w in nxt[1:5])))


def _attach_tip_distance(p: int, spans: list[Span], obs_targets: list[_Target], side_positions: set[int],
                         lex: Lexicon) -> None:
    """"ETT 5 cm above the carina": a distance from a landmark is a device's (its tip's), no lesion's size."""
    t = _size_owner(p, spans, obs_targets, side_positions) if obs_targets else None
    if t is not None and lex.is_device(_obs_name(t.span) or "") and spans[p].cat == "SIZE":
        t.sizes.append(spans[p].value)


def _size_lists(spans: list[Span]) -> dict[int, list[int]]:
    """Sizes listed together ("6 mm and 3 mm", "11 and 13 mm", "4, 6 and 9 mm"): each member's position -> the
    list. A list of the prior study's sizes ("previously 5 and 6 mm") is one wholly."""
    lists: list[list[int]] = []
    for p, s in enumerate(spans):
        if s.cat not in ("SIZE", "PRIOR_SIZE") or _is_distance(spans, p):
            continue
        joined = bool(lists) and p - lists[-1][-1] <= 3 and all(
            g.text in (",", "and", "or") for g in spans[lists[-1][-1] + 1:p])
        if joined and (s.cat == spans[lists[-1][0]].cat or spans[lists[-1][0]].cat == "PRIOR_SIZE"):
            s.cat = spans[lists[-1][0]].cat
            lists[-1].append(p)
        else:
            lists.append([p])
    return {p: members for members in lists if len(members) > 1 for p in members}


def _attach_size_list(members: list[int], spans: list[Span], obs_targets: list[_Target],
                      side_positions: set[int]) -> None:
    """A list of sizes: one each to listed findings or to the sites of one finding when the numbers match
    ("a cyst and a haemangioma of 10 and 15 mm", "subcarinal and paratracheal nodes, 11 and 13 mm respectively"),
    else all to one finding, which then counts as many ("stones of 6 and 3 mm": two, the largest 6 mm)."""
    last = members[-1]
    nxt = next((u for u in obs_targets if u.pos > last), None)
    before_noun = nxt is not None and nxt.pos - last <= 6 and _gap_is_modifiers(
        spans, last + 1, nxt.pos, side_positions, locations=True)
    t = _size_owner(last if before_noun else members[0], spans, obs_targets, side_positions)
    if t is None:
        return
    values = [spans[p].value for p in members]
    if spans[members[0]].cat == "PRIOR_SIZE":
        t.prior_sizes.extend(values)
        return
    run = _listed_findings_ending_at(t, spans, obs_targets, side_positions)
    sites = _sides_named_apart(sorted({id(l): l for l in t.locations if l.organ is not None}.values(),
                                      key=lambda l: l.start))
    # "two metastases in the liver, in segments VI and VII, measuring 18 mm and 25 mm": the organ that holds the
    # parts named is no site of its own for a size
    sites = [l for l in sites if l.sub is not None or not any(m.organ == l.organ and m.sub for m in sites)]
    beside = _site_beside(members[0], spans, sites) if len(sites) > 1 else None
    if len(run) == len(values):
        for u, v in zip(run, values):
            u.sizes.append(v)
    elif beside is not None and any(l.start > members[-1] for l in sites) and (
            isinstance(beside.count, int) and beside.count > 1 or t.pos < beside.start):
        # "2 nodules in the RUL measuring 5 and 7 mm and one in the LLL measuring 4 mm", "2 nodules RUL (5 mm,
        # 7 mm) & 1 in LLL (4 mm)": a list stated beside one site, with more sites to come, is that site's
        t.locations = [copy.copy(l) for l in t.locations]
        own = next(l for l in t.locations if l.start == beside.start and l.end == beside.end)
        own.size = max(values)
    elif len(sites) == len(values) and t.pos < members[0] and not _sites_overlap(sites):
        t.locations = [copy.copy(l) for l in sites]
        _give_site_sizes(t, list(zip(t.locations, values)))
        t.sizes.append(max(values))
    else:
        t.sizes.extend(values)
        t.size_at.extend(members)
        t.listed_sizes = max(t.listed_sizes, len(values))


def _sites_overlap(sites: list[Location]) -> bool:
    """Two of the sites are one place named twice (the same organ and part, no other side): "three pleural masses
    along the lateral, posterior and diaphragmatic pleura, 21, 34 and 15 mm" lists three masses of one pleura,
    not a size for each of its names."""
    return any(a.organ == b.organ and a.sub == b.sub and a.station == b.station and a.text != b.text
               and None in (a.laterality, b.laterality)
               for k, a in enumerate(sites) for b in sites[k + 1:])


def _sides_named_apart(sites: list[Location]) -> list[Location]:
    """"right and left renal stones of 3 and 5 mm": a site named with both sides in turn is one site per side,
    in the order named, for a list of sizes to go one each."""
    out = []
    for loc in sites:
        words = loc.text.split()
        if loc.laterality == "bilateral" and words[:3] in (["right", "and", "left"], ["left", "and", "right"]):
            for side in (words[0], words[2]):
                one_side = copy.copy(loc)
                one_side.laterality = side
                out.append(one_side)
        else:
            out.append(loc)
    return out


def _listed_findings_ending_at(t: _Target, spans: list[Span], obs_targets: list[_Target],
                               side_positions: set[int]) -> list[_Target]:
    """The findings of a list that ends with ``t`` ("a hepatic cyst and a left renal cyst"), in order."""
    k = obs_targets.index(t)
    run = [t]
    while k > 0 and all(set(g.text.split()) <= LIST_JOINERS or g.cat in ("LOC", "ATTR", "SEV", "COUNT")
                        or q in side_positions
                        for q, g in enumerate(spans[obs_targets[k - 1].pos + 1:obs_targets[k].pos],
                                              obs_targets[k - 1].pos + 1)):
        k -= 1
        run.insert(0, obs_targets[k])
    return run


def _sizes_of_listed_sites(spans: list[Span], obs_targets: list[_Target]) -> None:
    """"nodes: right paratracheal 1.3 cm and subcarinal 1.1 cm", "two lesions, 1.8 cm in the upper pole and
    1.2 cm in the interpolar region": where each of a finding's sizes is stated beside one of its sites, it is
    that site's size."""
    for t in obs_targets:
        sites = [l for l in t.locations if l.organ is not None]
        if len(t.size_at) < 2 or len(sites) < 2:
            continue
        paired = [_site_beside(p, spans, sites, own=t.pos) for p in t.size_at]
        if any(l is None for l in paired) or len({id(l) for l in paired}) < len(paired):
            continue
        sized = {id(l): spans[p].value for p, l in zip(t.size_at, paired)}
        # each site's prior size, stated right after its own ("12 mm (prev 9 mm)")
        # each site's own change: a prior size stated right after its size ("12 mm (prev 9 mm)") or a change
        # word in brackets ("0.9 cm (new)")
        changes = {}
        for p, l in zip(t.size_at, paired):
            prior, word = _prior_beside(p, spans)
            if prior is not None:
                changes[id(l)] = _size_change(sized[id(l)], prior)
            elif word is not None:
                changes[id(l)] = word
        pairs = [(copy.copy(l), sized.get(id(l)), changes.get(id(l))) for l in t.locations]
        t.locations = [l for l, _, _ in pairs]
        _give_site_sizes(t, [(l, v) for l, v, _ in pairs if v is not None])
        if len(changes) == len(paired) and t.temporal in (None, "stable", "increased", "decreased",
                                                          *changes.values()):
            for l, _, change in pairs:
                l.change = change


def _prior_beside(p: int, spans: list[Span]) -> tuple[float | None, str | None]:
    """The prior size stated right after the size at ``p``, before any other size ("12 mm (prev 9 mm)",
    "12 mm, previously 9 mm"), or the change word bracketed right after it ("9 mm (new)")."""
    if p + 3 < len(spans) and spans[p + 1].text == "(" and spans[p + 2].cat == "TEMP" and spans[p + 3].text == ")":
        return None, spans[p + 2].readings("TEMP")[0].value
    for q in range(p + 1, min(p + 5, len(spans))):
        if spans[q].cat == "PRIOR_SIZE":
            return spans[q].value, None
        if spans[q].cat in ("SIZE", "OBS", "LOC") or spans[q].text in (")", ";"):
            break
    return None, None


def _size_change(now: float, before: float) -> str:
    if abs(now - before) > max(PRIOR_SIZE_SAME_MM, PRIOR_SIZE_SAME_REL * before):
        return "increased" if now > before else "decreased"
    return "stable"


def _give_site_sizes(t: _Target, pairs: list[tuple[Location, float]]) -> None:
    """Each site its own size; one measured thing at each where the finding states no other count ("nodes",
    "two lesions" over two sites)."""
    one = t.count is None or t.count == len(pairs) or t.count in ("multiple", "unstated")
    for loc, size in pairs:
        loc.size, loc.one = size, one


#: generic nouns of place that may close a site's phrase before its size ("the right paratracheal region (17 mm)")
_PLACE_NOUNS = ("region", "area", "aspect", "portion", "territory")


def _site_beside(p: int, spans: list[Span], sites: list[Location], loose: bool = True,
                 own: int | None = None) -> Location | None:
    """The site a size is stated with: right after it behind a preposition ("1.8 cm in the upper pole"), right
    before it ("subcarinal 1.1 cm", "segment 7 (posterior right lobe) 31 mm"), or right after it as a noun's
    modifier ("the 5 mm RML and 4 mm LLL nodules")."""
    after = [l for l in sites if l.start > p and len(spans[p + 1:l.start]) <= 3 and all(
        g.text in ("in", "at", "within", "the", "of") for g in spans[p + 1:l.start])]
    if after and p + 1 < after[0].start and spans[p + 1].text in ("in", "at", "within"):
        return after[0]
    # ``loose`` only among sites known to be the finding's: "met seg VIII, 7 mm indeterminate lesion" (a comma),
    # "a 15 cm spleen" (a noun's modifier) do not find the finding by its site
    gap_words = (",", ":", "measuring", "measures", ")", "(") if loose else ("measuring", "measures", ")", "(")
    # ("in the right paratracheal region (17 mm)": a generic noun of place ends the site's phrase)
    gap_words += _PLACE_NOUNS
    # ("the pancreatic duct is dilated to 5 mm and the bile duct to 12 mm": the finding's verb and its "to")
    gap_words += ("to", "is", "are", "upstream")
    # (the finding's own noun may stand between: "right paratracheal node 1.2 cm, subcarinal 1.4 cm")
    before = [l for l in sites if l.end < p and p - l.end <= (4 if own is not None and l.end < own < p else 3) and all(
        g.text in gap_words or q == own for q, g in enumerate(spans[l.end + 1:p], l.end + 1))]
    right_after = next((l for l in after if l.start == p + 1), None) if loose else None
    if before:
        last = max(before, key=lambda l: l.end)
        # "7 mm RUL, 5 mm RML": the site a size runs into is its own; the one behind a comma is the last size's
        if right_after is not None and any(g.text in (",", ":") for g in spans[last.end + 1:p]):
            return right_after
        return last
    return right_after


def _attach_count(p: int, spans: list[Span], obs_targets: list[_Target], side_positions: set[int]) -> None:
    s = spans[p]
    if _count_after_noun(p, spans, obs_targets):
        return
    if _bracketed_after_plural_word(p, spans, obs_targets, side_positions):
        return
    nxt = [t for t in obs_targets if t.pos > p and t.pos - p <= 7]
    if s.cat == "COUNT" and s.text.startswith("x "):  # "rib fx x3"
        if p + 1 < len(spans) and spans[p + 1].text in _TIME_UNITS:
            return  # "nodule stable x 2 yrs": how long it has been stable, no count
        prv = [t for t in obs_targets if t.pos < p and p - t.pos <= 3]
        if prv:
            prv[-1].count = s.readings("COUNT")[0].value
        return
    if not nxt or not _count_gap(spans, p + 1, nxt[0].pos, side_positions):
        _count_of_parts(p, spans, obs_targets)
        return
    if s.cat == "NUM":
        if _labelled(spans, p):
            return
        ordinal = p + 1 < len(spans) and spans[p + 1].text in ("st", "nd", "rd", "th")  # "6th rib fx"
        if s.value != int(s.value) or not 0 < s.value <= 50 or ordinal or not (
                _plural(nxt[0].span) or nxt[0].span.text in NUMBER_NEUTRAL):
            return
        nxt[0].count = int(s.value)
    else:
        nxt[0].count = s.readings("COUNT")[0].value
    _count_reaches_head_noun(nxt, spans, side_positions)
    _count_of_findings_parts(p, nxt[0], spans, obs_targets)


#: units of time: a number before them is a duration ("stable x 2 yrs"), not a count
_TIME_UNITS = frozenset({"y", "yr", "yrs", "year", "years", "mo", "mos", "month", "months", "wk", "wks", "week", "weeks",
                         "d", "day", "days", "hr", "hrs", "hour", "hours"})


#: words of a normal look that describe a counted thing without being a finding ("seven intact sternotomy wires",
#: "two patent stents")
_NORMAL_ADJECTIVES = frozenset({"intact", "patent", "unremarkable", "normal"})


def _count_gap(spans: list[Span], a: int, b: int, side_positions: set[int]) -> bool:
    """Only words that can modify the counted noun in [a, b), a word of its normal look among them."""
    return all(_gap_is_adjectives(spans, q, q + 1, side_positions) or (
        spans[q].cat == "CTX:normal" and spans[q].text in _NORMAL_ADJECTIVES) for q in range(a, b)) \
        if any(spans[q].cat == "CTX:normal" for q in range(a, b)) else _gap_is_adjectives(spans, a, b, side_positions)


def _count_of_findings_parts(p: int, counted: _Target, spans: list[Span], obs_targets: list[_Target]) -> None:
    """"fracture of three sternal wires": the parts counted are named by a finding of their own (the wires of a
    sternotomy), and the finding said "of" them has as many as they are."""
    prv = [t for t in obs_targets if t.pos < p]
    if prv and prv[-1].count is None and p - prv[-1].pos <= 3 and spans[prv[-1].pos + 1].text == "of" \
            and all(g.text in _PART_COUNT_GAP for g in spans[prv[-1].pos + 1:p]):
        prv[-1].count = counted.count


def _count_reaches_head_noun(nxt: list[_Target], spans: list[Span], side_positions: set[int]) -> None:
    """"Two enlarged necrotic lymph nodes", "three calcified, hypodense liver lesions": a finding named by an
    adjective ("necrotic") before the noun of the phrase does not take the count from it; the count is also the
    head noun's (each plural finding of the phrase joined only by modifiers)."""
    prev = nxt[0]
    for t in nxt[1:]:
        if not (_plural(t.span) and all(spans[q].text == "," or _gap_is_adjectives(spans, q, q + 1, side_positions)
                                        for q in range(prev.pos + 1, t.pos))):
            return
        if t.count is None:
            t.count = nxt[0].count
        prev = t


#: words before a count said after its noun ("nodules, now 6", "a total of 3", "(n = 3)") and after it ("three in
#: number", "3 in total")
_COUNT_BEFORE = (("now",), ("total", "of"), ("n", "="), ("numbering",), ("now", "numbering"), ("at", "least"), ("(",))
_COUNT_AFTER = (("in", "number"), ("in", "total"), ("in", "all"))
_CLAUSE_ENDS = frozenset({",", ";", ")", "(", "and", ":"})


def _count_after_noun(p: int, spans: list[Span], obs_targets: list[_Target]) -> bool:
    """A count said after its noun: "nodules, three in number", "metastases, now 6 (previously 4)", "lesions
    (n = 3)", "segmental PE, multiple". It counts the finding named last before it, which may have said only
    "multiple"; a count of the prior study ("previously 4") counts nothing now."""
    s = spans[p]
    words = [g.text for g in spans[max(0, p - 2):p]]
    after = [g.text for g in spans[p + 1:p + 3]]
    closes = p + 1 >= len(spans) or spans[p + 1].text in _CLAUSE_ENDS
    if s.cat == "NUM":
        if s.value != int(s.value) or not 0 < s.value <= 100:
            return False
        value: int | str = int(s.value)
    else:
        value = s.readings("COUNT")[0].value
    # "increased in number from four to six": the second number is the count now
    # ("the number of nodules in the right lower lobe has increased from two to three": the finding's sites between)
    changed = words[-1:] == ["to"] and p >= 3 and spans[p - 3].text == "from" and spans[p - 2].cat in (
        "NUM", "COUNT") and "number" in [g.text for g in spans[max(0, p - 6):p - 3]] or _number_of_sites_changed(spans, p)
    if not (changed or any(tuple(after[:len(k)]) == k for k in _COUNT_AFTER)
            or (closes and any(tuple(words[-len(k):]) == k for k in _COUNT_BEFORE))
            or (closes and s.cat == "COUNT" and words[-1:] == [","] and not isinstance(value, int))):
        return False
    prv = [t for t in obs_targets if t.pos < p and p - t.pos <= (MAX_SIZE_REACH if changed else 10)]
    if words[-1:] == ["("] and not changed and (not prv or prv[-1].pos != p - 2):
        return False  # "metastases (3)": a bare bracketed number counts only the noun it follows
    # a number needs a plural noun ("nodules, 3 in total"); a plural word says the noun is plural ("PE, multiple")
    if not prv or isinstance(prv[-1].count, int) or (isinstance(value, int) and not (
            _plural(prv[-1].span) or prv[-1].span.text in NUMBER_NEUTRAL)):
        return False
    prv[-1].count = value
    return True


def _number_of_sites_changed(spans: list[Span], p: int) -> bool:
    """"The number of nodules in the right lower lobe has increased from two to three": "number of" the finding,
    then only its sites and a verb of change before "from N to" the count now."""
    if p < 3 or spans[p - 1].text != "to" or spans[p - 3].text != "from" or spans[p - 2].cat not in ("NUM", "COUNT"):
        return False
    q = p - 4
    while q > 0 and (spans[q].cat in ("LOC", "TEMP") or spans[q].text in ("in", "on", "at", "of", "the", "has", "have",
                                                                         "and", "within")):
        q -= 1
    if spans[q].cat != "OBS":
        return False
    q -= 1
    while q > 0 and spans[q].cat in ("LOC", "ATTR", "SEV"):  # "the number of hepatic lesions"
        q -= 1
    return q >= 1 and [g.text for g in spans[q - 1:q + 1]] == ["number", "of"]


#: words that a number after them labels, not counts: a place ("level 2", "zone 2", "image 45"), a grade on a scale
#: ("Bosniak 2", "LR-5", "Lung-RADS 4", "type 2")
_LABEL_WORDS = frozenset({"level", "levels", "zone", "zones", "segment", "segments", "station", "stations", "image",
                          "images", "im", "img", "series", "se", "ser", "slice", "bosniak", "rads", "lr", "type",
                          "class", "category", "grade", "stage", "score", "tirads", "pirads", "birads", "lirads"})


def _labelled(spans: list[Span], p: int) -> bool:
    """The number at ``p`` is a label: after a label word, a letter it was written onto ("T2", "M2", "N3"), or
    listed after a labelled number or a numbered site ("level 2 and 3", "station 4R and 7")."""
    q = p - 1
    if q < 0:
        return False
    if spans[q].text in (",", "and", "or", "to"):
        r = q - 1
        while r >= 0 and spans[r].cat == "LOC":  # "station 4R and 7", "segment 6 and 7"
            if any(ch.isdigit() for ch in spans[r].text):
                return True
            r -= 1
        return r == q - 1 and spans[r].cat == "NUM" and _labelled(spans, r)  # "level 2 and 3"
    word = spans[q].text
    return word in _LABEL_WORDS or (spans[q].cat == "WORD" and len(word) == 1 and word.isalpha()
                                    and word not in ("a", "x"))


def _count_of_parts(p: int, spans: list[Span], obs_targets: list[_Target]) -> None:
    """"fractures of two right ribs", "emboli in 2 segmental arteries": the count of the parts is the count of the
    finding."""
    s = spans[p]
    prv = [t for t in obs_targets if t.pos < p]
    if not (prv and all(g.text in _PART_COUNT_GAP for g in spans[prv[-1].pos + 1:p]) and p - prv[-1].pos <= 4
            and p + 1 < len(spans) and spans[p + 1].cat in ("LOC", "WORD")):
        return
    if s.cat == "COUNT":
        prv[-1].count = s.readings("COUNT")[0].value
    elif s.cat == "NUM" and s.value == int(s.value) and 0 < s.value <= 20 and spans[p + 1].text not in (
            "st", "nd", "rd", "th", "of") and any(
            g.text.endswith("s") and g.text.replace(" ", "").isalpha() for g in spans[p + 1:p + 4]):
        prv[-1].count = int(s.value)  # a digit counts parts named in the plural ("in 2 segmental branches")


#: what stands between a device and the count of its parts after it ("pacemaker with two leads", "PPM w/ 3 leads",
#: "sternotomy, 7 wires", "ICD has a single lead")
_DEVICE_PART_GAP = frozenset({"with", "with a", "and", ",", "has", "having", "a", "its", "intact", "has a", "with its",
                              "is", "seen", "noted", "present", "identified", "in situ", "is seen with", "is present with"})


def _count_value(s: Span, most: int = 50) -> int | None:
    """The whole count a number or a count word states ("3", "three", "x2"); None for a fraction, a number over
    ``most`` or a count word of no number ("several")."""
    if s.cat == "COUNT":
        v = s.readings("COUNT")[0].value
        return v if isinstance(v, int) else None
    if s.cat == "NUM" and s.value == int(s.value) and 0 < s.value <= most:
        return int(s.value)
    return None


def _count_of_device_parts(p: int, spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> bool:
    """"pacemaker with two leads", "single-lead ICD", "sternotomy with seven intact wires": a count of the parts a
    device is counted by (``counted_parts``: a pacemaker's leads, a sternotomy's wires) is the device's count (one
    pacemaker with two leads is stated as "two pacemaker leads" is). Returns whether the count was a device's."""
    k = p + 1
    while k < len(spans) and spans[k].text in _NORMAL_ADJECTIVES:
        k += 1  # "seven intact wires"
    # ("fracture of two sternotomy wires": the parts a finding of their own is said of count that finding)
    if k < len(spans) and spans[k].cat == "OBS" and not (p > 0 and spans[p - 1].text in ("of", "of the")) \
            and spans[k].text.split()[-1] in (
            lex.observations.get(_obs_name(spans[k]) or "", {}).get("counted_parts") or ()):
        # "7 sternotomy wires", "3 intact sternal wires": the device named by the parts it is counted by
        value = _count_value(spans[p], most=20)
        own = next((t for t in obs_targets if t.pos == k), None)
        if value is not None and own is not None:
            own.count = value
            return True
    if k >= len(spans) or spans[k].cat != "WORD":
        return False
    value = _count_value(spans[p], most=20)
    if value is None:
        return False
    part = spans[k].text
    prv = [t for t in obs_targets if t.pos < p]
    if prv and part in (lex.observations.get(_obs_name(prv[-1].span) or "", {}).get("counted_parts") or ()) \
            and p - prv[-1].pos <= 4 and all(g.text in _DEVICE_PART_GAP or g.cat == "CTX:termination"
                                             for g in spans[prv[-1].pos + 1:p]):
        prv[-1].count = value
        return True
    # "single-lead left ICD", "dual lead pacemaker": the count and its part before the device
    nxt = [t for t in obs_targets if t.pos > k]
    if nxt and part in (lex.observations.get(_obs_name(nxt[0].span) or "", {}).get("counted_parts") or ()) \
            and nxt[0].pos - k <= 3 and all(g.cat == "LOC" for g in spans[k + 1:nxt[0].pos]):
        nxt[0].count = value
        return True
    return False


def _change_from_prior_sizes(obs_targets: list[_Target]) -> None:
    """"now 54 mm (previously 49 mm)" states growth as plainly as "increased from 4.9 cm": the change follows
    from the two sizes where no word states one."""
    for t in obs_targets:
        if t.sizes and t.prior_sizes and t.temporal in (None, "stable"):
            now, before = max(t.sizes), max(t.prior_sizes)
            if abs(now - before) > max(PRIOR_SIZE_SAME_MM, PRIOR_SIZE_SAME_REL * before):
                t.temporal = "increased" if now > before else "decreased"
            elif t.temporal is None:
                t.temporal = "stable"


def _counts_per_side(spans: list[Span], obs_targets: list[_Target], sides: list[Location], lex: Lexicon,
                     header: list[Location] | None = None) -> None:
    """"Renal cysts: R x1 (2.1 cm), L x2 (largest 1.4 cm)", "cysts in both kidneys: one on the right measuring
    21 mm and two on the left": a count stated for each side of a paired organ splits the finding into one per
    side, each with its count and the size stated with it."""
    for k, t in enumerate(obs_targets):
        paired = [l for l in t.locations if l.organ is not None and lex.is_paired(l.organ)
                  and l.laterality in (None, "bilateral") and l.sub is None]
        implied = next((r.organ for r in t.span.readings("OBS") if r.organ), None)
        if not t.locations and implied is not None and lex.is_paired(implied):
            # "calcified pleural plaques: right 3, left 2": the organ the finding's own word names
            paired = [Location(implied, None, None, t.pos, t.pos, t.span.text)]
        elif not t.locations and implied is None and header and len({l.organ for l in header}) == 1 \
                and header[0].organ is not None and lex.is_paired(header[0].organ) and header[0].sub is None:
            # "PLEURA: calcified plaques, right x3, left x2": the field label's organ
            paired = [Location(header[0].organ, None, None, t.pos, t.pos, t.span.text)]
        if not paired or len({l.organ for l in paired}) > 1:
            continue  # "renal cysts in both kidneys": one organ, named twice
        end = obs_targets[k + 1].pos if k + 1 < len(obs_targets) else len(spans)
        named = [s for s in sides if t.pos < s.start < end and s.laterality in ("left", "right")]
        groups = [(s, _side_count(spans, s)) for s in named]
        stated = t.count if isinstance(t.count, int) else _leading_digit_count(spans, t)
        if len(groups) >= 2 and groups[0][1] is None and isinstance(stated, int) and stated > 0 \
                and all(g[1] is not None for g in groups[1:]) \
                and all(g.text in ("on", "in", "at", "the", "of") for g in spans[t.pos + 1:groups[0][0].start]):
            # "three rib fractures on the left and one on the right": the count before the finding is the first
            # side's, as the count before "on the right" is the second's
            groups[0] = (groups[0][0], stated)
        groups = [(s, count) for s, count in groups if count is not None]
        before = False
        if len(groups) < 2:
            # "renal cysts: right 12 mm, left 8 mm", "adrenal nodules, 1.5 cm right and 2.1 cm left": a size stated
            # with each side splits the finding too (after each side, else before each)
            if len(named) >= 2 and all(_size_of_side(spans, s) is not None for s in named):
                groups = [(s, None) for s in named]
            elif len(named) >= 2 and all(s.start > 0 and spans[s.start - 1].cat == "SIZE" for s in named):
                groups, before = [(s, None) for s in named], True
        if len(groups) < 2 or len({s.laterality for s, _ in groups}) < 2:
            continue
        sites = []
        for g, (s, count) in enumerate(groups):
            stop = groups[g + 1][0].start if g + 1 < len(groups) else end
            if before:
                size = spans[s.start - 1].value
            else:
                size = next((spans[q].value for q in range(s.end + 1, stop) if spans[q].cat == "SIZE"), None)
            site = copy.copy(paired[0])
            site.laterality, site.count, site.size, site.one = s.laterality, count, size, count == 1
            sites.append(site)
        t.locations = [l for l in t.locations if all(l is not m for m in paired)] + sites


def _leading_digit_count(spans: list[Span], t: _Target) -> int | None:
    """"1 rib fracture on the right and 2 on the left": a digit opening the finding's phrase (over its organ words)
    is its count, though a lone "1" is left unread as one elsewhere."""
    q = t.pos - 1
    while q >= 0 and spans[q].cat == "LOC":
        q -= 1
    if q < 0 or spans[q].cat != "NUM" or spans[q].value != int(spans[q].value) or not 0 < spans[q].value <= 20:
        return None
    return int(spans[q].value) if q == 0 or spans[q - 1].text in ("are", "is", ",", ":", ";") else None


def _counts_per_site(spans: list[Span], obs_targets: list[_Target]) -> None:
    """"Three pulmonary nodules, two in the right lower lobe and one in the lingula": a count stated before each
    of a finding's sites ("N in the ...") is that site's count."""
    for t in obs_targets:
        sites = [l for l in t.locations if l.organ is not None and l.start > t.pos]
        if len(sites) < 2:
            continue
        counts = [_count_before_site(spans, l) for l in sites]
        if all(c is None for c in counts):
            # "nodules: RUL (3), LLL (2)", "nodules: RUL x3, LLL x2": a count written after each site
            after = [_count_after_site(spans, l) for l in sites]
            if all(c is not None for c in after):
                for l, c in zip(sites, after):
                    l.count, l.one = c, c == 1
                continue
        if counts[0] is None and isinstance(t.count, int) and t.count > 0 and all(c is not None for c in counts[1:]) \
                and sites[0].start > t.pos and all(g.text in ("in", "at", "within", "the", "of", "on")
                                                   for g in spans[t.pos + 1:sites[0].start]):
            # "two nodules in the RML and three in the LUL": the count before the finding is its first site's,
            # as the count before "in the LUL" is the second's
            counts[0] = t.count
        for i in range(1, len(sites)):
            if counts[i] is None and counts[i - 1] is not None and sites[i].organ == sites[i - 1].organ \
                    and sites[i].laterality in (None, sites[i - 1].laterality) \
                    and any(g.text in _LARGEST for g in spans[sites[i - 1].end + 1:sites[i].start]):
                # "three in the left kidney, the largest 7 mm in the lower pole": where the largest of that
                # site's group lies, the same group
                counts[i] = counts[i - 1]
        # "... one in the right kidney and three in the left, the largest 7 mm in the left lower pole": a site
        # named after the counted ones, where one of them lies, places one of those counted (it is no count)
        while len(counts) > 2 and counts[-1] is None and any(
                m.organ == sites[-1].organ and m.laterality == sites[-1].laterality and c is not None
                for m, c in zip(sites, counts)):
            counts.pop()
        if counts[0] is None and isinstance(t.count, int) and all(
                g.text in ("in", "the", "within", "of", "at") for g in spans[t.pos + 1:sites[0].start]):
            counts[0] = t.count  # "2 nodules in the RUL and 1 in the LLL": the noun's count is its own site's
        if any(c is None for c in counts):
            _count_of_the_first_site_only(spans, t, sites)
            continue
        for l, c in zip(sites, counts):
            l.count, l.one = c, c == 1


def _count_of_the_first_site_only(spans: list[Span], t: _Target, sites: list[Location]) -> None:
    """"fractures of two left ribs and the right seventh rib", "... of the right 11th and 12th ribs (two right ribs)
    and the right L3 transverse process": a count of the first site's parts is that site's count, not the count
    of another side's or another organ's site listed after it; such a site has its own count before it, or is
    one where its noun is singular."""
    first = _parts_count_before(spans, sites[0])
    if first is None or first != t.count:
        return
    if all(l.organ == sites[0].organ and l.laterality == sites[0].laterality for l in sites[1:]):
        return  # one place named twice ("two right ribs, the lateral right ribs")
    own = [_parts_count_before(spans, l) for l in sites[1:]]
    for l, c in zip(sites[1:], own):
        if l.organ == sites[0].organ and l.laterality == sites[0].laterality:
            continue
        if c is None:
            last = l.text.split()[-1] if l.text.split() else ""
            plural = last.endswith("s") and not last.endswith(("ss", "us", "is"))
            if plural or last.isdigit():
                continue
            c = 1
        l.count, l.one = c, c == 1
    sites[0].count = first


def _parts_count_before(spans: list[Span], l: Location) -> int | None:
    """A count right before a site, over its article and side: "(of the) two left ribs", "and three right ribs"."""
    q = l.start - 1
    while q >= 0 and spans[q].text in ("left", "right", "l", "r", "bilateral"):
        q -= 1
    if q < 0:
        return None
    g = spans[q]
    if g.cat == "NUM" and not (q >= 1 and spans[q - 1].text in ("of", "the", "and", ",", "and the", "of the")):
        return None
    return _count_value(g)


def _count_after_site(spans: list[Span], l: Location) -> int | None:
    """The count written right after a site: "RUL (3)", "LLL x2"."""
    q = l.end + 1
    if q + 2 < len(spans) and spans[q].text == "(" and spans[q + 1].cat == "NUM" and spans[q + 2].text == ")":
        return _count_value(spans[q + 1])
    if q < len(spans) and spans[q].cat == "COUNT" and spans[q].text.split()[0] in ("x", "×"):
        return _count_value(spans[q])
    return None


def _count_before_site(spans: list[Span], l: Location) -> int | None:
    """The count stated before a site: "two in the right lower lobe", or of the site's parts ("emboli in two
    right lower lobe segmental arteries and one left upper lobe segmental artery")."""
    q = l.start - 1
    while q >= 0 and spans[q].text in ("the", "left", "right"):
        q -= 1
    if q >= 1 and spans[q].cat in ("NUM", "COUNT") and spans[q - 1].text in ("in", "at", "within", "and", ","):
        q += 1  # the count of the parts the site names, right before it
    elif q < 1 or spans[q].text not in ("in", "at", "within", "on"):
        return None
    return _count_value(spans[q - 1])


def _size_of_side(spans: list[Span], s: Location) -> int | None:
    """Where the size stated right after a side is: "right 12 mm", "the right measuring 7 cm"."""
    q = s.end + 1
    if q < len(spans) and spans[q].text in ("measuring", "measures", "measured", "at"):
        q += 1
    return q if q < len(spans) and spans[q].cat == "SIZE" else None


def _side_count(spans: list[Span], s: Location) -> int | None:
    """The count stated with a side: "R x1", "left 2", "one on the right", "two on the left"."""
    if s.end + 1 < len(spans):
        n = _count_value(spans[s.end + 1])
        if n is not None and (s.end + 2 >= len(spans) or spans[s.end + 2].cat not in ("OBS", "LOC")):
            return n
    if s.end + 3 < len(spans) and spans[s.end + 1].text == "(" and spans[s.end + 3].text == ")" \
            and spans[s.end + 2].cat == "NUM":
        return _count_value(spans[s.end + 2])  # "renal cysts: right (2), left (1)"
    q = s.start - 1
    while q >= 0 and spans[q].text in ("the",):
        q -= 1
    if q >= 1 and spans[q].text in ("on", "in", "at") and spans[q - 1].cat in ("NUM", "COUNT"):
        return _count_value(spans[q - 1])
    if q >= 1 and spans[q].cat in ("NUM", "COUNT") and spans[q - 1].text in (",", "and", ":") \
            and (s.end + 1 >= len(spans) or spans[s.end + 1].cat not in ("OBS", "LOC")):
        return _count_value(spans[q])  # "rib fractures, two left and one right"
    return None
