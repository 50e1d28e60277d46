"""Stage 3 of the reader (see ``extract``'s docstring): which finding of a sentence each site, side, attribute,
severity, change and device position belongs to; sizes, counts and tip distances are ``measures``'s, which reads
this module's grammar.

The rules read positions in the sentence's span list, and the words between two spans decide whether they are one
noun phrase; the word sets below are that grammar's vocabulary, kept here rather than in the lexicon because they
are English function words, not radiology. ``_Target`` (a finding or normal statement being read) and the gap rules
are shared by ``prepass``, ``measures``, ``sharing``, ``build`` and ``extract``; nothing here imports them."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from harness.findings.lexicon import UNSPECIFIED, Lexicon
from harness.findings.report import LEVEL_JOIN
from harness.findings.scan import Span
from harness.findings.sites import ACCESS_WORDS, Location, _side_only

PREPOSITIONS = frozenset({"in", "within", "of", "involving", "at", "from", "along", "throughout", "on", "into",
                          "inside", "arising", "over", "across", "to", "above", "below", "beneath", "under",
                          "behind", "overlying", "projecting", "affecting", "around"})
MODIFIER_WORDS = frozenset({"a", "an", "the", ",", ":", "-", "sided", "focal", "is", "are", "there", "amount", "of",
                            "volume", "sized", "size", "degree", "in", "(", ")"})
COPULAS = frozenset({"is", "are", "appear", "appears", "look", "looks", "remain", "remains", "seem", "seems",
                     "otherwise", "all", "both", "and", ",", "now", "still", "again", "were", "was", "be"})
LIST_JOINERS = frozenset({",", "and", "or", "with", "a", "an", "the", "/", "&", "plus", "associated", "both"})
# alternatives for one site share it as "or" does ("atelectasis versus scarring at the left base")
_SITE_LIST_JOINERS = LIST_JOINERS | {"versus", "vs"}


@dataclass(slots=True)
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
    listed_sizes: int = 0  # the most sizes one list gave it ("stones of 6 and 3 mm"): their number is a count
    size_at: list[int] = field(default_factory=list)  # where each current size was stated, to pair it with a site


#: the verbs after which a change is said of the subject before them ("a lesion in segment 5 is new")
_LINKING_VERBS = frozenset({"is", "are", "was", "were", "remains", "remain", "appears", "appear"})


#: words that end a noun phrase: a count, severity or attribute does not reach over them
PHRASE_BREAKS = frozenset({"is", "are", "was", "were", "be", "been", "has", "have", "had", "with", "without", "and",
                           "or", "but", "to", "from", "than", "which", "that", "there", "no", "not", ";", ".",
                           "measuring", "measures", "measure", "seen", "noted", "identified", "present",
                           "demonstrated", "shows", "show", "showing", "demonstrates", "contains", "containing",
                           "reveals", "suggests", "represents", "causing", "extends", "extending", "involves",
                           "including", "includes", "appears", "appear", "remains", "remain", "persists", "also",
                           "again", "likely", "possibly", "probably", "as", "since", "compared", "prior", "for"}
                          | PREPOSITIONS - {"of"})

_COURSE_WORDS = frozenset({"course", "courses", "coursing", "follows", "following", "traverses", "traversing",
                           "passes", "passing", "through", "via"})


def _obs_name(span: Span) -> str | None:
    r = span.readings("OBS")
    return r[0].value if r else None


def _target_obs(t: _Target) -> str | None:
    return t.base or _obs_name(t.span)


def _plural(span: Span) -> bool:
    return any(r.plural for r in span.value) if span.kind == "PHRASE" else False


def _may_share_site(t: _Target, loc: Location, lex: Lexicon) -> bool:
    """A finding of a list can take the list's site when it lives there ("bronchiectasis with mucoid impaction
    in both lower lobes") but not when it lives elsewhere ("pneumothorax, haemothorax and fractures of ribs"). A
    focal lesion whose home is a region lies in any organ of it ("a sclerotic focus in L2, likely a bone island"); a
    diffuse one does not ("cirrhosis with ascites": no ascites in the liver)."""
    name = _obs_name(t.span) or ""
    default = lex.observations.get(name, {}).get("default_anatomy")
    return default is None or default == loc.organ or loc.organ in lex.anatomy.get(default, {}).get("absorbs", []) \
        or (loc.organ is not None and default != UNSPECIFIED and lex.is_focal(name) and lex.is_region(default)
            and lex.in_region(default, loc.organ))


def _nearest(targets: list[_Target], p: int, prefer_before: bool = True) -> _Target | None:
    if not targets:
        return None
    return min(targets, key=lambda t: (abs(t.pos - p), (t.pos > p) if prefer_before else (t.pos < p)))


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


def _gap_is_adjectives(spans: list[Span], a: int, b: int, side_positions: set[int]) -> bool:
    """Modifiers, organs, or words that can modify a noun ("three nonobstructing calculi", "two enlarged
    nodes") in [a, b)."""
    for q in range(a, b):
        s = spans[q]
        if s.cat in ("ATTR", "SIZE", "COUNT", "NUM", "SEV", "TEMP", "LOC", "ENLARGE") or q in side_positions:
            continue
        if s.cat == "WORD" and s.value not in PHRASE_BREAKS and s.value.isalpha():
            continue
        if s.value in ("and", "or", ",") and a < q < b - 1 and spans[_before_aside(spans, q)].cat == "LOC" \
                and spans[q + 1].cat == "LOC":
            continue  # "enlarged mediastinal and hilar nodes": a list of sites before the noun (each with its
            # bracketed size: "enlarged paratracheal (18 mm) and subcarinal (15 mm) nodes")
        if s.value in ("(", ")") and (_aside_length(spans, a, b) or _bracketed_size(spans, q, a, b)):
            continue  # "bilateral simple (Bosniak I) renal cysts": an aside in brackets between them
        return False
    return True


def _bracketed_size(spans: list[Span], q: int, a: int, b: int) -> bool:
    """The bracket at ``q`` closes or opens a size in brackets within [a, b) ("subcarinal (15 mm short axis)
    nodes"): the size of the site before it, no break of the noun phrase."""
    if spans[q].text == "(":
        close = next((k for k in range(q + 1, min(b, q + 6)) if spans[k].text == ")"), None)
        inside = range(q + 1, close) if close is not None else range(0)
    else:
        opening = next((k for k in range(q - 1, max(a - 1, q - 6), -1) if spans[k].text == "("), None)
        inside = range(opening + 1, q) if opening is not None else range(0)
    return bool(inside) and spans[inside[0]].cat == "SIZE" and all(
        spans[k].cat == "SIZE" or (spans[k].cat == "WORD" and spans[k].text.isalpha()) for k in inside)


def _before_aside(spans: list[Span], q: int) -> int:
    """The span before ``q``, back over a bracketed aside that ends right before it ("paratracheal (18 mm) and")."""
    k = q - 1
    if k > 0 and spans[k].text == ")":
        opening = next((j for j in range(k - 1, max(-1, k - 8), -1) if spans[j].text == "("), None)
        if opening is not None and opening > 0:
            return opening - 1
    return k


def _aside_length(spans: list[Span], a: int, b: int) -> int:
    """The number of spans in [a, b) that one closed bracketed aside takes ("simple (Bosniak I) renal"), 0 when
    there is none: words in brackets stand outside the phrase around them."""
    if b - a < 3 or spans[b - 1].text == ")":
        return 0
    try:
        open_at = next(q for q in range(a, b) if spans[q].text == "(")
        close_at = next(q for q in range(open_at + 1, b) if spans[q].text == ")")
    except StopIteration:
        return 0
    return close_at - open_at + 1


def _on_its_course(spans: list[Span], q: int) -> bool:
    """"follows the course of the oesophagus, its tip in the stomach", "oesophageal course": a place the device
    passes through is not where its tip is."""
    r = q - 1
    while r >= 0 and spans[r].text in ("the", "a"):
        r -= 1
    if r >= 0 and spans[r].text == "into":
        return False  # "passes into the right main bronchus": where it goes, past its course
    return any(g.text in _COURSE_WORDS for g in spans[max(0, q - 3):q]) or (
        q + 1 < len(spans) and spans[q + 1].text in ("course", "courses"))


#: what says where a device's own part is ("its apex at the level of the renal veins")
_PART_PLACED_BY = frozenset({"at", "in", "within", "below", "above", "level", "just", "projecting", "projects", "lies",
                             "immediately", "directly", "caudal", "cranial", "cephalad", "inferior", "superior"})


def _own_part(spans: list[Span], q: int) -> bool:
    """"IVC filter with its apex at the renal veins", "filter, apex below the renal veins": a position word that is
    the device's own ("its apex") or is itself placed by what follows it names a part of the device, not a place."""
    return (q > 0 and spans[q - 1].text == "its") or (
        spans[q].text in _PART_NAMES and q + 1 < len(spans) and spans[q + 1].text.split()[0] in _PART_PLACED_BY
        and not spans[q + 1].readings("POS")  # "in the duodenum below the diaphragm": two places
        and not _place_after_preposition(spans, q))


#: what puts a device's end at a place ("terminating at the apex within the pleural space")
_TO_A_PLACE = frozenset({"at", "in", "into", "to", "toward", "towards"})


def _place_after_preposition(spans: list[Span], q: int) -> bool:
    """"tube terminating at the apex within the pleural space": a part name after a preposition is the place the
    device reaches, not the device's own part ("filter, apex below the renal veins")."""
    r = q - 1
    if r >= 0 and spans[r].text == "the":
        r -= 1
    return r >= 0 and spans[r].text in _TO_A_PLACE


#: position words that are also names of a device's own part ("apex below the renal veins"); a place followed by
#: where it is ("in the brachiocephalic vein above the SVC") stays a place
_PART_NAMES = frozenset({"apex", "apical", "base", "basal", "basilar"})


# --- sites -------------------------------------------------------------------------------------------------------


def _attach_locations(spans: list[Span], locs: list[Location], targets: list[_Target], obs_targets: list[_Target],
                      side_positions: set[int], scope: dict[int, str], lex: Lexicon) -> None:
    """Each organ phrase to the one finding it is the site of. The rules are tried from the most to the least
    telling word order: a site before its noun, a site after a preposition, and only then the nearest finding.
    A site listed before a finding of an organ ("pleural or pericardial effusion") adds a finding to both lists."""
    for loc in locs:
        if loc.blocked or loc.organ is None:
            continue
        listed = _finding_of_a_listed_organ(loc, spans, lex)
        if listed is not None:
            targets.append(listed)
            obs_targets.append(listed)
            continue
        chosen = _finding_the_site_modifies(loc, spans, targets, side_positions, lex)
        if chosen is None:
            chosen = _finding_before_preposition(loc, spans, obs_targets, side_positions, lex, targets)
        if chosen is None:
            # "sarcoidosis: bilateral hilar lymphadenopathy": a nodal station is not the finding's across the colon
            # or full stop that ends the finding's clause when a finding stands on its own side
            near = [t for t in targets if loc.station is None or not any(
                spans[k].cat == "CTX:termination" for k in range(min(t.pos, loc.start) + 1, max(t.pos, loc.end)))] \
                or targets
            chosen = min(near, key=lambda t: (abs(t.pos - loc.start) if t.pos < loc.start
                                              else t.pos - loc.end, t.pos < loc.start))
            verb = _blocking_verb_before(loc, spans, side_positions)
            if verb is not None and chosen.pos < verb and chosen.locations:
                # "pancreatic head mass, 26 mm, obstructing the bile duct": the duct a finding sited already blocks
                # from outside is its neighbour, not a second site (a clot named with no site lies in the lumen)
                continue
            if chosen.locations and _site_of_another_noun(loc, spans):
                continue  # "a mass in the left upper lobe with pleural tethering": the site of another noun
        if scope.get(loc.start) == "hyp" and scope.get(chosen.pos) != "hyp":
            continue  # "effusions in the setting of heart failure": a site in the history is not the finding's
        if scope.get(loc.start) == "neg" and scope.get(chosen.pos) != "neg" and chosen.pos < loc.start:
            # "lung mass without involvement of the chest wall", "collection with no extension into the pelvis":
            # a site the denial reaches is where the finding is not, not a second site of it
            continue
        chosen.locations.append(loc)
        head = _finding_in_an_organ_described(loc, chosen, spans, obs_targets)
        if head is not None:
            head.locations.append(loc)


#: what may stand between a preposition and a finding named as the adjective of the organ after it ("in the
#: non-dilated", "within a mildly aneurysmal")
_BEFORE_ORGAN_ADJECTIVE = frozenset({"the", "a", "an", "non", "mildly", "moderately", "severely", "slightly"})


def _finding_in_an_organ_described(loc: Location, adjective: _Target, spans: list[Span],
                                   obs_targets: list[_Target]) -> _Target | None:
    """"stone in the non-dilated common bile duct", "atheroma in the non-aneurysmal infrarenal aorta": the organ a
    finding-word describes (its site) is also the site of the finding before the preposition, which has none."""
    if not (adjective.pos < loc.start and all(spans[k].cat == "LOC" for k in range(adjective.pos + 1, loc.start))):
        return None
    q = adjective.pos - 1
    while q >= 0 and (spans[q].text in _BEFORE_ORGAN_ADJECTIVE or spans[q].cat in ("ATTR", "SEV")):
        q -= 1
    if q < 1 or spans[q].text not in ("in", "within", "of", "involving"):
        return None
    before = [t for t in obs_targets if t.pos < q]
    if not before or q - before[-1].pos > 4 or before[-1].locations or not all(
            spans[k].cat in ("ATTR", "SEV", "SIZE") for k in range(before[-1].pos + 1, q)):
        return None
    return before[-1]


def _resolve_organless_parts(spans: list[Span], locs: list[Location], obs_targets: list[_Target],
                             side_positions: set[int], lex: Lexicon) -> None:
    """"a stone in the upper pole", "a calculus in the neck": a part that needs its organ and found none named
    in the sentence is in the one organ with that part where the finding it belongs to can be (a stone: the
    kidney, not the spleen; the gallbladder, not the pancreas)."""
    for loc in locs:
        if loc.organ is not None or not loc.pending_subs or loc.blocked:
            continue
        t = _finding_of_organless_part(loc, spans, obs_targets, side_positions)
        if t is None:
            continue
        possible = _organs_of_observation(t, lex)
        if loc.station and "lymph node" in possible:
            # "reactive lymph nodes in the neck": a station's word is where the nodes are, not a part of an organ
            loc.organ, loc.sub = "lymph node", loc.station
            continue
        owners = [sub for sub in loc.pending_subs if sub.organ in possible]
        if len({sub.organ for sub in owners}) == 1:
            loc.organ, loc.sub = owners[0].organ, owners[0].name
            loc.laterality = loc.laterality or owners[0].laterality


def _finding_of_organless_part(loc: Location, spans: list[Span], obs_targets: list[_Target],
                               side_positions: set[int]) -> _Target | None:
    """The finding a part belongs to: the noun it modifies ("upper pole stone"), else the finding before it
    ("stone in the upper pole"), else the nearest after it."""
    following = [t for t in obs_targets if t.pos > loc.end]
    if following and following[0].pos - loc.end <= 5 and _gap_is_modifiers(
            spans, loc.end + 1, following[0].pos, side_positions):
        return following[0]
    before = [t for t in obs_targets if t.pos < loc.start]
    return before[-1] if before else (following[0] if following else None)


def _organs_of_observation(t: _Target, lex: Lexicon) -> set[str]:
    """The organs a finding can be in, from the lexicon: its home, the organs its forms name, the organs it has
    another name in."""
    obs = _target_obs(t) or ""
    spec = lex.observations.get(obs, {})
    home = spec.get("default_anatomy")
    organs = {home} if home else set()
    organs |= set(lex.anatomy.get(home or "", {}).get("absorbs", []))
    organs |= set(spec.get("implied_anatomy", {})) | set(spec.get("in_organ", {}))
    organs |= {r.organ for r in t.span.readings("OBS") if r.organ}
    return organs


def _finding_of_a_listed_organ(loc: Location, spans: list[Span], lex: Lexicon) -> _Target | None:
    """"no pleural or pericardial effusion": a pleural effusion and a pericardial one, the first read from the
    second's base observation."""
    nxt_obs = loc.end + 2
    if nxt_obs < len(spans) and spans[loc.end + 1].text in ("or", "and") and spans[nxt_obs].cat == "OBS":
        base = lex.observations.get(_obs_name(spans[nxt_obs]) or "", {}).get("base")
        if base:
            return _Target(nxt_obs, "OBS", spans[nxt_obs], locations=[loc], base=base)
    return None


def _finding_the_site_modifies(loc: Location, spans: list[Span], targets: list[_Target], side_positions: set[int],
                               lex: Lexicon) -> _Target | None:
    """A site right before a finding, with only modifiers between, is that finding's ("liver mass", "left renal
    upper pole: hypodense mass")."""
    following = [t for t in targets if t.pos > loc.end]
    # ("dilated proximal small bowel loops": a part's position word between the adjective and its organ)
    pre = loc.start - 1
    while pre > 0 and spans[pre].cat == "WORD" and spans[pre].value in _PART_POSITION_WORDS:
        pre -= 1
    adjective = next((t for t in targets if t.kind == "ENLARGE" and t.pos == pre), None)
    if adjective is None:
        # "a mildly enlarged, unchanged heart": the adjective before a list of others is the organ's too
        adjective = next((t for t in targets if t.kind == "ENLARGE" and loc.start - 4 <= t.pos < loc.start - 1
                          and _adjective_list(spans, t.pos + 1, loc.start)), None)
    normal = next((t for t in targets if t.kind == "NORMAL" and t.pos == loc.start - 1), None)
    if normal is not None and adjective is None and (not following or any(
            spans[q].text in (",", ";", ":") for q in range(loc.end + 1, following[0].pos))):
        # "hilar adenopathy with clear lungs, possibly sarcoidosis": the organ an adjective calls normal is that
        # statement's, not the site of a finding after the comma
        return normal
    if adjective is not None and following and spans[loc.end + 1].text == ",":
        # "distended gallbladder, wall thickening": the organ the adjective names, and the list's subject
        nxt_t = following[0]
        # ("enlarged caudate, atrophic right lobe": a next finding that names its own site right after it is not)
        if nxt_t.kind == "OBS" and nxt_t.pos - loc.end <= 5 and _may_share_site(nxt_t, loc, lex) and \
                _gap_is_modifiers(spans, loc.end + 1, nxt_t.pos, side_positions) and not (
                nxt_t.pos + 1 < len(spans) and spans[nxt_t.pos + 1].cat == "LOC"):
            nxt_t.locations.append(copy.copy(loc))
        return adjective
    if following and following[0].pos - loc.end <= 5 and \
            _gap_is_modifiers(spans, loc.end + 1, following[0].pos, side_positions) and not (
            following[0].kind in ("NORMAL", "NORMAL_SIZE") and any(
                spans[q].text == "," for q in range(loc.end + 1, following[0].pos))):
        # ("calcified aortic arch, clear lungs": a normal statement after a comma is one of its own)
        # "consolidation in the left lower lobe, small effusion": a site after a finding's preposition and then a
        # comma ends that finding's phrase; it is no adjective of the next list member
        if any(spans[q].text == "," for q in range(loc.end + 1, following[0].pos)) and any(
                t.pos < loc.start and t.kind in ("OBS", "ENLARGE") for t in targets) and (
                _follows_preposition(loc, spans, side_positions, lex) or _plug_in_what_it_blocks(
                    loc, spans, [t for t in targets if t.kind == "OBS"], side_positions, lex) is not None
                or following[0].kind == "OBS" and _right_after_a_finding(loc, spans, targets, side_positions)):
            # ("calculus R proximal ureter, mild R hydro": a dictated site right after its noun, no preposition;
            # "fibroid uterus, enlarged": an adjective after the comma is still the organ's)
            return None
        # "polyp of the ascending colon and sigmoid diverticulosis", "consolidation in the right lower lobe and
        # middle lobe atelectasis": a list of one organ's parts after a finding's preposition whose last part opens
        # the next finding: the first part is the earlier finding's (the last is read on its own)
        if any(spans[q].text in ("and", ",") for q in range(loc.start + 1, loc.end)) and any(
                t.pos < loc.start and t.kind == "OBS" for t in targets) and \
                _follows_preposition(loc, spans, side_positions, lex):
            return None
        return following[0]
    if following and following[0].pos - loc.end <= 6 and following[0].kind == "OBS" \
            and _sites_listed_before(spans, loc.end + 1, following[0].pos, side_positions) \
            and not _follows_preposition(loc, spans, side_positions, lex) \
            and not (loc.start > 0 and spans[loc.start - 1].cat == "OBS"):  # "necrotic left level II and III nodes"
        # "mass with enlarged right hilar and right lower paratracheal lymph nodes": a list of sites before a noun
        # is the noun's, each of them
        return following[0]
    return adjective


#: where along an organ a part lies, said between an adjective and the organ ("dilated proximal small bowel")
_PART_POSITION_WORDS = frozenset({"proximal", "distal", "mid", "upper", "lower", "terminal"})


def _right_after_a_finding(loc: Location, spans: list[Span], targets: list[_Target], side_positions: set[int]) -> bool:
    """The site follows a finding's noun with nothing but a side between ("stone R proximal ureter")."""
    q = loc.start - 1
    while q >= 0 and q in side_positions:
        q -= 1
    return q >= 0 and any(t.pos == q and t.kind == "OBS" for t in targets)


def _sites_listed_before(spans: list[Span], a: int, b: int, side_positions: set[int]) -> bool:
    """[a, b) continues a list of sites: a joiner, then sites (and their sides, modifiers), a site last."""
    if a >= b or spans[a].text not in ("and", "or", ",") or spans[b - 1].cat != "LOC":
        return False
    return all(spans[q].text in ("and", "or", ",") or spans[q].cat == "LOC"
               or _gap_is_modifiers(spans, q, q + 1, side_positions) for q in range(a + 1, b))


def _adjective_list(spans: list[Span], a: int, b: int) -> bool:
    """Only a comma and other adjectives (change, grade, attributes) in [a, b), the comma among them."""
    return any(spans[q].text == "," for q in range(a, b)) and all(
        spans[q].text in (",", "and") or spans[q].cat in ("TEMP", "SEV", "ATTR") for q in range(a, b))


def _finding_before_preposition(loc: Location, spans: list[Span], obs_targets: list[_Target],
                                side_positions: set[int], lex: Lexicon,
                                targets: list[_Target] = ()) -> _Target | None:
    """"mass in the liver": a site after a preposition belongs to the finding on its left (and to the list that
    finding ends)."""
    if not _follows_preposition(loc, spans, side_positions, lex):
        return _plug_in_what_it_blocks(loc, spans, obs_targets, side_positions, lex)
    left = [t for t in obs_targets if t.pos < loc.start]
    if not left:
        return None
    between = [t for t in targets if left[-1].pos < t.pos < loc.start and t.kind in ("NORMAL", "NORMAL_SIZE")]
    if between and any(spans[q].cat == "CTX:relation" for q in range(left[-1].pos + 1, between[-1].pos)):
        # "mass abutting the SMV with a clear plane around the SMA": past a relation, the SMA is the one clear
        return between[-1]
    _share_site_with_list(left[-1], loc, spans, obs_targets, lex)
    return left[-1]


#: verbs that say a finding inside a lumen blocks it there ("stone obstructing the left UVJ", "embolus occluding
#: the right interlobar artery"): the lumen is the finding's site
_BLOCKING_VERBS = frozenset({"obstructing", "occluding", "blocking", "obstructs", "occludes", "blocks"})
#: findings that lie inside the lumen they block (a mass obstructing a duct lies outside it: a neighbour)
_INTRALUMINAL = frozenset({"calculus", "thrombus", "pulmonary embolism", "mucus plugging", "foreign body"})


def _blocking_verb_before(loc: Location, spans: list[Span], side_positions: set[int]) -> int | None:
    """Where the blocking verb right before a site is ("obstructing the left ureter"), None without one."""
    q = loc.start - 1
    while q >= 0 and (q in side_positions or spans[q].text in ("the", "a", "an")):
        q -= 1
    return q if q >= 1 and spans[q].text in _BLOCKING_VERBS else None


def _plug_in_what_it_blocks(loc: Location, spans: list[Span], obs_targets: list[_Target],
                            side_positions: set[int], lex: Lexicon) -> _Target | None:
    q = loc.start - 1
    while q >= 0 and (q in side_positions or spans[q].text in ("the", "a", "an")):
        q -= 1
    if q < 1 or spans[q].text not in _BLOCKING_VERBS:
        return None
    left = [t for t in obs_targets if t.pos < q]
    if not left or q - left[-1].pos > 2 or lex.canonical_observation(_target_obs(left[-1]) or "") not in _INTRALUMINAL:
        return None
    return left[-1]


def _sites_only_bracket(spans: list[Span], q: int) -> bool:
    """The bracket opened at ``q`` closes and names sites (with their sizes), no finding of its own ("LLL collapse
    (retrocardiac triangular opacity)" glosses the finding, it does not place it)."""
    for r in range(q + 1, len(spans)):
        if spans[r].text == ")":
            return True
        if spans[r].cat in ("OBS", "ENLARGE") or spans[r].text == "(":
            return False
    return False


def _follows_preposition(loc: Location, spans: list[Span], side_positions: set[int], lex: Lexicon) -> bool:
    return _preposition_before(loc.start, spans, side_positions, lex)


def _preposition_before(start: int, spans: list[Span], side_positions: set[int], lex: Lexicon, links: int = 4) -> bool:
    q = start - 1
    while q >= 0 and (spans[q].cat in ("COUNT", "NUM") or q in side_positions or (
            spans[q].cat == "WORD" and spans[q].value not in PREPOSITIONS and (
                spans[q].value in ("the", "a", "an", "its", "their") or spans[q].value in lex.location_fillers))
            or spans[q].cat == "LOC" and _side_only(spans[q]) is not None):
        q -= 1  # back over "the distal", "the left three": "of" is the preposition before the site
    if q >= 0 and spans[q].cat == "WORD" and spans[q].value in PREPOSITIONS:
        return True
    if q > 0 and spans[q].text == "(" and spans[q - 1].cat == "OBS" and _sites_only_bracket(spans, q):
        return True  # "two liver lesions (segment 2 and segment 7)": the bracket places the finding before it
    # "lesions in segments II and V", "nodules in the RUL, RML and LLL": a site listed after a site that follows
    # a preposition follows that preposition too
    if q >= 0 and spans[q].cat == "LOC" and q + 1 < start:  # "and" may be a filler inside a site phrase
        q += 1
    if links and q >= 2 and spans[q].cat == "SIZE" and spans[q - 1].text == "," and spans[q - 2].cat == "LOC":
        q -= 1  # "lesions (segment 2, 8 mm, segment 7, 12 mm)": back over the size of the site before
    if links and q >= 1 and spans[q].text in ("and", "or", ",", "/"):
        r = q - 1
        # ("lesions (segment 2, 8 mm, segment 7, 12 mm)": a size stated beside the site before it)
        if r >= 2 and spans[r].cat == "SIZE" and spans[r - 1].text == "," and spans[r - 2].cat == "LOC":
            r -= 2
        elif r >= 1 and spans[r].cat == "SIZE" and spans[r - 1].cat == "LOC":
            r -= 1
        if spans[r].cat != "LOC":
            return False
        while r > 0 and (spans[r - 1].cat == "LOC" or r - 1 in side_positions):
            r -= 1
        return _preposition_before(r, spans, side_positions, lex, links - 1)
    return False


def _share_site_with_list(chosen: _Target, loc: Location, spans: list[Span], obs_targets: list[_Target],
                          lex: Lexicon) -> None:
    """"bronchiectasis with mucoid impaction in both lower lobes": the site of a list's last finding is the
    site of the list."""
    k = obs_targets.index(chosen)
    # "bronchiectasis and nodularity in the lingula and right middle lobe": a member that holds only the sites the
    # list's last finding holds takes the next listed site too
    while k > 0 and all(l in chosen.locations for l in obs_targets[k - 1].locations) and _may_share_site(
            obs_targets[k - 1], loc, lex) and ((_own_sizes_only(spans[obs_targets[k - 1].pos + 1:obs_targets[k].pos])
            and all(g.text in _SITE_LIST_JOINERS or g.cat in ("SEV", "ATTR", "COUNT", "TEMP", "SIZE")
            # ("a cyst and a calculus in the right kidney": "and a" is one span, the end of a denial's clause, so
            # not after one: "no pneumothorax and a small effusion in the right hemithorax")
            or (g.cat == "CTX:termination" and set(g.text.split()) <= LIST_JOINERS
                and not any(s.cat.startswith("CTX:negation") for s in spans[:obs_targets[k - 1].pos])
                and _with_article(spans, obs_targets[k - 1].pos))
            for g in spans[obs_targets[k - 1].pos + 1:obs_targets[k].pos]))
            or _joined_past_own_site(spans, obs_targets[k - 1], obs_targets[k], loc)) and \
            not lex.is_device(_obs_name(obs_targets[k - 1].span) or "") and \
            not _whole_lungs_with_a_lesion(obs_targets[k - 1], obs_targets[k], spans, lex):
        obs_targets[k - 1].locations.append(loc)
        k -= 1


def _with_article(spans: list[Span], p: int) -> bool:
    """The finding at ``p`` is named with an article of its own ("a cyst and a calculus": two members alike, as
    "pericholecystic fluid and a stone impacted in the neck" are not)."""
    q = p - 1
    while q >= 0 and spans[q].cat in ("SEV", "ATTR", "SIZE", "COUNT", "LOC", "TEMP"):
        q -= 1
    return q >= 0 and spans[q].text.split()[-1] in ("a", "an")


def _own_sizes_only(gap: list[Span]) -> bool:
    """Any size between two listed findings is the later one's own, after the word that joins them ("a 5 mm
    calculus and a 12 mm cyst"), not the earlier one's ("enlarged, 12 x 8 cm, with fibroids")."""
    sizes = [q for q, g in enumerate(gap) if g.cat == "SIZE"]
    joins = [q for q, g in enumerate(gap) if g.text.split()[0] in ("and", "or", ",", "with", "/", "&", "plus")]
    return not sizes or bool(joins) and min(sizes) > max(joins)


def _joined_past_own_site(spans: list[Span], before: _Target, member: _Target, loc: Location) -> bool:
    """"mural thickening and pericolic stranding of the sigmoid colon": a finding joined by "and" / "or" to a
    member whose own site word (in the organ of the site after the list, no part of it) stands right before it."""
    gap = spans[before.pos + 1:member.pos]
    return len(gap) == 2 and gap[0].text in ("and", "or") and gap[1].cat == "LOC" and any(
        l.start == member.pos - 1 and l.organ == loc.organ and l.sub is None for l in member.locations)


def _whole_lungs_with_a_lesion(head: _Target, member: _Target, spans: list[Span], lex: Lexicon) -> bool:
    """"hyperinflated lungs with one granuloma at the right base", "cirrhotic liver with an LR-5 observation in
    segment 8", "hyperinflated lungs, pleural thickening at both apices": a finding said of a whole organ named
    beside it keeps the organ whole; the site of a finding listed after it is that finding's only."""
    return said_of_whole_organ(head, spans, lex)


def said_of_whole_organ(t: _Target, spans: list[Span], lex: Lexicon) -> bool:
    """A finding said of an organ named whole right beside it: "hyperinflated lungs", "cirrhotic liver", "the
    lungs are hyperinflated"."""
    def whole(g: Span) -> bool:
        return g.cat == "LOC" and bool(g.readings("ANAT")) and not g.readings("SUB")

    last = t.span.text.split()[-1]
    if "ANAT" in lex.phrase_kinds.get((last,), {}) and len(t.span.text.split()) > 1:
        return True  # the organ within the finding's own name ("hyperinflated lungs", "cirrhotic liver")
    nxt = spans[t.pos + 1] if t.pos + 1 < len(spans) else None
    if nxt is not None and whole(nxt):
        return True
    return any(whole(spans[q]) and all(w.text in _COPULA_GAP for w in spans[q + 1:t.pos])
               for q in range(max(0, t.pos - 3), t.pos))


_COPULA_GAP = frozenset({"is", "are", "appears", "appear", "remains", "remain", "look", "looks"})


def _site_of_another_noun(loc: Location, spans: list[Span]) -> bool:
    """A site followed by a noun the reader does not know (or a relation) is that noun's site."""
    after = spans[loc.end + 1] if loc.end + 1 < len(spans) else None
    return after is not None and (after.cat == "CTX:relation" or (
        after.cat == "WORD" and after.text.isalpha() and after.text not in PREPOSITIONS
        and after.text not in PHRASE_BREAKS and after.text not in COPULAS))


#: what may stand between the sides of a per-side list after a finding ("nodules: right 2, left 1", "effusions,
#: right small, left moderate", "R x1 (2.1 cm), L x2")
_SIDE_LIST_CATS = frozenset({"COUNT", "NUM", "SIZE", "SEV", "ATTR", "TEMP"})
_SIDE_LIST_WORDS = frozenset({",", "and", "(", ")", ":", "x", "the", "on"})


def _attach_sides(spans: list[Span], sides: list[Location], obs_targets: list[_Target],
                  side_positions: set[int]) -> None:
    """A side named apart from an organ: "right pleural effusion", "effusion on the right", "small right and
    moderate left effusions" (both sides the effusions'), "nodules: right 2, left 1" (each side of the list the
    nodules')."""
    listed: tuple[Location, _Target] | None = None  # the last side that followed its finding
    inherited: set[int] = set()  # the findings whose side is a list's ("left pneumothorax with shift")
    for loc in sides:
        if loc.organ is not None or loc.laterality is None:
            continue  # a part resolved to its organ since ("lower pole calculus on the left"), or no side at all
        after = [t for t in obs_targets if t.pos > loc.end and t.pos - loc.end - _aside_length(spans, loc.end + 1, t.pos) <= 4
                 and _gap_is_adjectives(spans, loc.end + 1, t.pos, side_positions | _coordinated_side(spans, loc))]
        before = [t for t in obs_targets if t.pos < loc.start and (loc.start - t.pos <= 3 or (
            loc.start - t.pos <= 8 and _side_list_gap(spans[t.pos + 1:loc.start])) or (
            loc.start - t.pos <= 7 and _side_adverb_of_clause(spans, t.pos, loc.start)))]
        if after:
            after[0].sides.append(loc)
            inherited |= {id(t) for t in _side_covers_list(loc, after[0], spans, obs_targets)}
            listed = None
        elif before:
            if id(before[-1]) in inherited:  # "left pneumothorax with mediastinal shift to the right": its own
                before[-1].sides = []
                inherited.discard(id(before[-1]))
            before[-1].sides.append(loc)
            listed = (loc, before[-1])
            _side_reaches_finding_list(loc, before[-1], spans, obs_targets)
        elif listed is not None and listed[1].pos < loc.start and _side_list_gap(spans[listed[0].end + 1:loc.start]) \
                and not any(listed[1].pos < t.pos < loc.start for t in obs_targets):
            listed[1].sides.append(loc)
            listed = (loc, listed[1])


def _side_reaches_finding_list(loc: Location, last: _Target, spans: list[Span], obs_targets: list[_Target]) -> None:
    """"pneumothorax and small pleural effusion on the right": "on the <side>" after a list of findings (joined
    by "and"/commas, only their grades, sizes and counts between) places each member, back to one with a side or
    a sided site of its own."""
    if loc.start < 2 or spans[loc.start - 1].text != "the" or spans[loc.start - 2].text not in ("on", "at"):
        return
    k = obs_targets.index(last)
    while k > 0:
        prev = obs_targets[k - 1]
        # (a joiner may be read as one span: "and a")
        gap = spans[prev.pos + 1:obs_targets[k].pos]
        if not gap or not any(g.text.split()[0] in _SITE_LIST_JOINERS for g in gap) or not all(
                set(g.text.split()) <= _SITE_LIST_JOINERS or g.cat in ("SEV", "ATTR", "COUNT", "SIZE", "TEMP", "NUM")
                for g in gap):
            return
        if prev.sides or any(l.laterality for l in prev.locations):
            return
        prev.sides.append(loc)
        k -= 1


def _side_adverb_of_clause(spans: list[Span], a: int, b: int) -> bool:
    """"the pneumothorax has resolved on the right", "an effusion is again seen on the left": "on the <side>"
    ending a clause places its subject, over the verb between (no other finding, no comma)."""
    return b >= 2 and spans[b - 1].text == "the" and spans[b - 2].text == "on" and not any(
        g.cat in ("OBS", "ENLARGE", "LOC") or g.text in (",", ";", ":") or g.cat == "CTX:termination"
        for g in spans[a + 1:b - 2])


def _side_list_gap(gap: list[Span]) -> bool:
    """Only the counts, sizes and grades of a per-side list between ("nodules: 2 on the right, 1 on the left")."""
    return all(g.cat in _SIDE_LIST_CATS or g.text in _SIDE_LIST_WORDS for g in gap)


def _coordinated_side(spans: list[Span], loc: Location) -> set[int]:
    """"small right and moderate left effusions": a side used as an adjective (not "on the right"), joined by
    "and"/"or"/a comma to the next one, shares that side's noun; the joiner may then stand between it and its noun."""
    q = loc.end + 1
    if loc.start > 0 and spans[loc.start - 1].text in PREPOSITIONS | {"the"} or q >= len(spans) \
            or spans[q].text not in ("and", "or", ","):
        return set()
    r = q + 1
    while r < len(spans) and spans[r].cat in ("SEV", "ATTR", "SIZE", "TEMP"):
        r += 1
    # only a side joined to another side ("bilaterally, cardiomegaly" is not)
    return {q} if r < len(spans) and spans[r].readings("LAT") else set()


def _side_covers_list(loc: Location, first: _Target, spans: list[Span], obs_targets: list[_Target]) -> list[_Target]:
    """A side before a list covers the list ("small right pneumothorax, haemothorax and rib fractures") unless a
    finding of it names a side of its own. Returns the findings it covered."""
    k = obs_targets.index(first)
    covered = []
    for nxt in obs_targets[k + 1:]:
        gap = spans[obs_targets[k].pos + 1:nxt.pos]
        if not gap or not all(g.text in LIST_JOINERS or g.cat in ("SEV", "ATTR", "COUNT", "SIZE", "TEMP",
                                                                   "NUM") for g in gap):
            break
        if not nxt.sides and not any(l.laterality for l in nxt.locations):
            nxt.sides.append(loc)
            covered.append(nxt)
        k += 1
    return covered


# --- attributes, severity and change -------------------------------------------------------------------------------


def _attach_modifiers(spans: list[Span], obs_targets: list[_Target], side_positions: set[int],
                      scope: dict[int, str], lex: Lexicon, compared: bool = False) -> None:
    """Each attribute, severity and change word to the finding it describes, in sentence order (a later word may
    outrank an earlier one's change). Sizes and counts are ``measures``'s, attached before. ``compared``: the
    report compares with a prior study."""
    for p, s in enumerate(spans):
        if s.cat == "ATTR":
            _attach_attribute(p, spans, obs_targets)
        elif s.cat in ("SEV", "TEMP"):
            _attach_severity_or_change(p, spans, obs_targets, side_positions, scope, lex, compared)


def _attach_attribute(p: int, spans: list[Span], obs_targets: list[_Target]) -> None:
    nxt = [t for t in obs_targets if t.pos > p and t.pos - p <= 4]
    # (a site named after the finding's word is no distance: "dilated small bowel loops with multiple air-fluid
    # levels" as "dilated bowel loops with multiple air-fluid levels")
    prv = [t for t in obs_targets if t.pos < p and p - t.pos - sum(
        1 for g in spans[t.pos + 1:p] if g.cat == "LOC") <= 3 and p - t.pos <= 5]
    t = nxt[0] if nxt else (prv[-1] if prv else None)
    if t is not None:
        t.attrs.add(spans[p].readings("ATTR")[0].value)


def _attach_severity_or_change(p: int, spans: list[Span], obs_targets: list[_Target], side_positions: set[int],
                               scope: dict[int, str], lex: Lexicon, compared: bool = False) -> None:
    s = spans[p]
    if s.cat == "TEMP" and scope.get(p) == "neg":
        return  # "nothing new": no change is stated
    if s.cat == "TEMP" and _compares_sides(p, spans):
        return  # "bilateral effusions, larger on the right": one side against the other, no change since before
    if s.cat == "TEMP" and s.text == "recent" and p + 1 < len(spans) and spans[p + 1].cat == "WORD" \
            and spans[p + 1].text in _EVENTS:
        return  # "gas, possibly related to recent surgery": the event is recent, not the finding new
    nxt = [t for t in obs_targets if t.pos > p and t.pos - p <= 6
           and _gap_is_adjectives(spans, p + 1, t.pos, side_positions)]
    before = [t for t in obs_targets if t.pos < p]
    if not nxt and before and p > 0 and spans[p - 1].text in _LINKING_VERBS:
        t = before[-1]  # "a lesion in segment 5 is new, suspicious for HCC": said of the subject
    else:
        t = nxt[0] if nxt else _nearest(obs_targets, p)
    if t is None:
        return
    if s.cat == "TEMP" and nxt and t is nxt[0] and s.text in ("increased", "increasing", "more") \
            and lex.observations.get(_obs_name(t.span) or "", {}).get("descriptive_change") and not compared \
            and not any(g.text in COMPARISON_WORDS for g in spans):
        # "increased opacity" describes the opacity, not a change since the prior ("decreased opacities" do not);
        # but in a report or sentence that compares with a prior study ("since the prior", "compared with"), it is
        # the change
        return
    name = _obs_name(t.span) or ""
    if s.cat == "SEV" and _grades_a_change(p, spans, lex.observations.get(name, {}).get("descriptive_change")):
        return  # "marked improvement of the opacities", "mildly decreased effusion": how much it changed, not its grade
    if s.cat == "SEV" and (lex.is_focal(name) or lex.is_countable(name)) \
            and not lex.observations.get(name, {}).get("graded"):
        return  # "small nodules", "a large mass", "small calculi": their extent is a size; "should be advanced": a device
    if s.cat == "SEV" and t.severity is None:
        t.severity = s.readings("SEV")[0].value
    elif s.cat == "TEMP" and (t.temporal is None or (t.temporal == "stable" and s.readings("TEMP")[0].value
                                                     in ("increased", "decreased", "new"))):
        t.temporal = s.readings("TEMP")[0].value  # a stated change outranks "again seen"
        _spread_change_over_findings(p, t, bool(nxt), spans, obs_targets, scope)
        if not nxt and t.pos < p and _plural_predicate(p, spans):
            _change_of_subject_list(t, spans, obs_targets, side_positions, scope)
        if s.text in _CHRONIC_WORDS:
            pass  # "old healed rib fracture, kyphosis": how old the fracture is, not a change of the list after it
        elif nxt and t is nxt[0] or (t.pos > p and all(g.text in _CHANGE_OF_WORDS or g.cat == "LOC"
                                                      for g in spans[p + 1:t.pos])):
            # ("no interval change in the size of the effusion or the nodule": the change is said of each)
            _change_heads_list(t, spans, obs_targets, side_positions, scope, lex)


def _compares_sides(p: int, spans: list[Span]) -> bool:
    """The change word at ``p`` compares one side with the other ("worse on the left", "slightly larger on the
    right", "right worse than left", "larger than the left"), not the finding with a prior study. Only a
    comparative does: "increased on the right" is a change."""
    if spans[p].text.split()[-1] not in ("worse", "larger", "bigger", "greater", "more", "smaller", "less",
                                         "prominent", "extensive", "severe"):
        return False
    q = p + 1
    while q < len(spans) and spans[q].text in ("on", "at", "in", "the", "than", "side"):
        q += 1
    if q < len(spans) and q > p + 1 and _side_only(spans[q]) in ("left", "right") \
            and not any(spans[r].text in ("prior", "previous", "previously", "before") for r in range(p + 1, q)):
        return True
    return p > 0 and _side_only(spans[p - 1]) in ("left", "right") and p + 1 < len(spans) \
        and spans[p + 1].text == "than"


#: words by which a report compares with a prior study
COMPARISON_WORDS = frozenset({"prior", "previous", "previously", "compared", "comparison", "since", "interval",
                              "yesterday", "earlier"})


#: events of the history and treatment: "recent" before one dates the event ("after recent surgery")
_EVENTS = frozenset({"surgery", "surgeries", "operation", "procedure", "intervention", "biopsy", "resection",
                     "instrumentation", "trauma", "injury", "fall", "delivery", "chemotherapy", "radiotherapy",
                     "therapy", "treatment", "catheterisation", "catheterization", "endoscopy", "ercp", "admission",
                     "travel", "illness", "laparoscopy"})


#: nouns of a change: a grade just before one is the size of the change ("marked improvement", "slight increase")
_CHANGE_NOUNS = frozenset({"improvement", "increase", "decrease", "progression", "regression", "reduction",
                           "worsening", "growth", "enlargement", "deterioration", "resolution", "clearance",
                           "clearing", "shrinkage"})


def _grades_a_change(p: int, spans: list[Span], descriptive: bool) -> bool:
    """A grade word right before a change up or down ("marked improvement of the GGO", "mild progression of
    fibrosis", "slightly decreased effusion") says how much the finding changed, not how severe it is; but
    "mildly increased interstitial markings" grades the markings (an increase there describes, not compares)."""
    if p + 1 >= len(spans) or spans[p + 1].cat != "TEMP" \
            or spans[p + 1].readings("TEMP")[0].value not in ("increased", "decreased"):
        return False
    if _CHANGE_NOUNS.intersection(spans[p + 1].text.split()):
        return True
    return spans[p].text.endswith("ly") and not descriptive


#: words of a finding's age, said of the one finding they describe ("old healed fracture")
_CHRONIC_WORDS = frozenset({"old", "healed", "healing", "remote", "chronic", "longstanding", "long standing",
                            "old healed"})
#: what may stand between a change and the findings it is said of ("no change in the size of the nodules")
_CHANGE_OF_WORDS = frozenset({"in", "of", "the", "a", "an", "size", "appearance", "appearances", "extent",
                              "configuration", "number"})
#: what joins the members of a list of findings one change word heads ("unchanged effusion and atelectasis")
_CHANGE_LIST_JOINERS = frozenset({",", "and", "or", "/", "&", "plus", "a", "an", "the", "both"})


def _change_heads_list(t: _Target, spans: list[Span], obs_targets: list[_Target], side_positions: set[int],
                       scope: dict[int, str], lex: Lexicon) -> None:
    """"Unchanged right effusion and basal atelectasis", "stable cardiomegaly, effusions and interstitial oedema",
    "new consolidation and pleural effusion": a change word heading a list of findings is said of each member, up to
    one with a change word of its own or a word that ends the list ("with", a verb)."""
    value = t.temporal
    k = obs_targets.index(t)
    prev = t
    for o in obs_targets[k + 1:]:
        gap = _outside_brackets(spans, prev.pos + 1, o.pos)
        if not gap or not any(g.text in ("and", "or", ",", "/", "&", "plus") for _, g in gap) or not all(
                g.text in _CHANGE_LIST_JOINERS or g.cat in ("ATTR", "SEV", "LOC", "SIZE", "COUNT", "NUM")
                or q in side_positions or (g.text in ("in", "at", "within", "of", "on") and q + 1 < len(spans)
                                           and spans[q + 1].cat in ("LOC", "WORD"))
                # a device's access route ("unchanged ETT and right arm PICC")
                or (g.text in ACCESS_WORDS and lex.is_device(_obs_name(o.span) or ""))
                for q, g in gap):
            return
        if o.temporal is not None or scope.get(o.pos) in ("neg", "hyp", "resolved") or (
                value in ("increased", "decreased")
                and lex.observations.get(_obs_name(o.span) or "", {}).get("descriptive_change")):
            return
        o.temporal = value
        prev = o


#: plural verbs after which a change is said of a plural subject ("the effusion and the atelectasis are unchanged")
_PLURAL_LINKING_VERBS = frozenset({"are", "were", "remain", "appear", "have", "persist"})
#: the words by which a change's own span begins when it is a plural verb phrase ("have increased")
_PLURAL_CHANGE_VERBS = frozenset({"have", "are", "were", "remain", "persist"})


def _plural_predicate(p: int, spans: list[Span]) -> bool:
    """The change at ``p`` is a predicate of a plural subject: after a plural verb ("are unchanged", "have both
    increased", "remain stable") or a plural verb phrase itself ("have increased", "persist")."""
    if spans[p].text.split()[0] in _PLURAL_CHANGE_VERBS:
        return True
    q = p - 1
    while q > 0 and spans[q].text in ("both", "all", "each", "now", "since", "also"):
        q -= 1
    return q >= 0 and q < p and spans[q].text in _PLURAL_LINKING_VERBS


def _change_of_subject_list(t: _Target, spans: list[Span], obs_targets: list[_Target], side_positions: set[int],
                            scope: dict[int, str]) -> None:
    """"The right effusion and left basal consolidation have increased", "ETT, NGT and left PICC are unchanged in
    position": a change said after a plural verb is said of each member of the list that is its subject, back to
    one with a change of its own or a word that is no part of a list of findings."""
    value = t.temporal
    k = obs_targets.index(t)
    nxt = t
    for o in reversed(obs_targets[:k]):
        gap = list(enumerate(spans[o.pos + 1:nxt.pos], start=o.pos + 1))
        if not gap or not any(set(g.text.split()) & {"and", ",", "&", "/", "plus"} for _, g in gap) or not all(
                set(g.text.split()) <= _CHANGE_LIST_JOINERS or g.cat in ("ATTR", "SEV", "LOC", "SIZE", "COUNT", "NUM")
                or q in side_positions or (g.text in ("in", "at", "within", "of", "on") and q + 1 < len(spans)
                                           and spans[q + 1].cat in ("LOC", "WORD"))
                or (g.cat == "WORD" and g.text.isalpha() and g.text not in PHRASE_BREAKS)
                for q, g in gap):
            return
        if o.temporal is not None or scope.get(o.pos) in ("neg", "hyp", "resolved"):
            return
        o.temporal = value
        nxt = o


def _outside_brackets(spans: list[Span], a: int, b: int) -> list[tuple[int, Span]]:
    """The positions and spans of [a, b) that are not in a closed bracketed aside ("unchanged axillary node (11 mm,
    was 10 mm) and para-aortic nodes": the aside's measurements stand outside the list)."""
    out, depth = [], 0
    for q in range(a, b):
        t = spans[q].text
        if t == "(":
            depth += 1
        elif t == ")" and depth:
            depth -= 1
        elif not depth:
            out.append((q, spans[q]))
    return out if not depth else list(enumerate(spans[a:b], start=a))


def _spread_change_over_findings(p: int, t: _Target, has_following: bool, spans: list[Span],
                                 obs_targets: list[_Target], scope: dict[int, str]) -> None:
    """"perihilar and basal opacities in keeping with ARDS, unchanged from yesterday", "ETT/NGT unchanged": a
    change said after the sentence's findings is said of each of them."""
    pairs = zip(obs_targets, obs_targets[1:])
    listed = len(obs_targets) > 1 and all(g.text in LIST_JOINERS for a, b in pairs
                                          for g in spans[a.pos + 1:b.pos])
    last = all(o.pos < p for o in obs_targets)
    if not has_following and p > 0 and (spans[p - 1].text == "," or listed) and last:
        for o in obs_targets:
            if o.temporal is None and scope.get(o.pos) not in ("neg", "hyp", "resolved"):
                o.temporal = t.temporal


# --- device tips ---------------------------------------------------------------------------------------------------


def _read_device_positions(spans: list[Span], devices: list[_Target], locs: list[Location], lex: Lexicon) -> None:
    respective = _respective_positions(spans, devices)
    for k, t in enumerate(devices):
        t.position = respective[k] if respective else _device_position(k, devices, spans, locs, lex)
        if t.position is not None and lex.observations.get(_obs_name(t.span) or "", {}).get("access_side"):
            # "tip in the right lower lobe pulmonary artery": the side of the place after the device is the place's
            t.sides = [l for l in t.sides if not (l.start > t.pos and l.end + 1 < len(spans)
                                                  and spans[l.end + 1].readings("POS"))]
            t.locations = [l for l in t.locations if not (l.start > t.pos and l.laterality
                                                          and spans[l.end].readings("POS"))]


def _respective_positions(spans: list[Span], devices: list[_Target]) -> list[str] | None:
    """"The PICC and NG tube tips are in the SVC and stomach respectively": a list of devices and, after it, a list
    of as many places closed by "respectively" are paired in order. None when the sentence is not so."""
    if len(devices) < 2 or not any(s.text == "respectively" for s in spans):
        return None
    if not all(set(g.text.split()) <= LIST_JOINERS or g.cat == "LOC" or g.text in ACCESS_WORDS
               for a, b in zip(devices, devices[1:]) for g in spans[a.pos + 1:b.pos]):
        return None
    end = next(q for q, s in enumerate(spans) if s.text == "respectively")
    # (or the vertebral levels they are at: "UAC and UVC tips at T8 and T9 respectively")
    places = [s.readings("POS")[0].value if s.readings("POS") else _level_of_span(s)
              for s in spans[devices[-1].pos + 1:end] if s.readings("POS") or _level_of_span(s)]
    return places if len(places) == len(devices) and end > devices[-1].pos else None


#: words that say the place after them is where a device is not ("outside the collection", "not in the bladder",
#: "anterior to the collection"): a tip beside or outside a place is not in it
_NOT_THERE = frozenset({"outside", "not", "instead", "rather", "short", "beside", "alongside"})
#: ... and these when they relate ("anterior to the collection"), not when they name a part ("anterior pleural space")
_BESIDE = frozenset({"anterior", "posterior", "lateral", "medial", "adjacent", "superior", "inferior"})
#: words that name the device's own end, whose place is the tip position ("with its distal end in the duodenum",
#: "lower coil in the bladder", "lead tip in the RV apex")
_END_WORDS = frozenset({"tip", "tips", "end", "ends", "coil", "coils", "pigtail", "pigtails", "terminates",
                        "terminating", "terminate", "ending", "inlet", "outlet", "balloon", "leads", "lead"})
#: what joins one end's place to the next ("in the RA and RV", "one lead in the RA and the other in the RV")
_NEXT_END = LIST_JOINERS | PREPOSITIONS | {"other", "second", "another", "one", "appendage", "apex", "outflow", "tract"}
#: positions that only say which compartment, or which side of the diaphragm or of the image, the tip is in
#: ("below the diaphragm"): a specific place named beside them ("in the duodenum, below the diaphragm") is the tip's
_COARSE_POSITIONS = frozenset({"pleural space", "below the diaphragm", "beyond the field of view", "out of view",
                               "out of the field of view", "outside the field of view", "beyond the image",
                               "off the image", "out of the image", "beyond the inferior margin of the image",
                               "below the field of view",
                               "above the diaphragm", "below the left hemidiaphragm", "below the hemidiaphragm",
                               "subdiaphragmatic", "infradiaphragmatic"})


#: a place named after the tip's own, relative to it ("in the brachiocephalic vein above the SVC"), is a landmark
_RELATIVE_TO = frozenset({"above", "below", "beyond", "short", "superior", "inferior"})


#: words that put a tip past a landmark ("beyond the pylorus", "past the DJ flexure", "distal to the GOJ")
_PAST = frozenset({"beyond", "past", "distal to", "traversing", "traverses", "crossing", "crosses"})


def _past_landmark(spans: list[Span], q: int) -> bool:
    """The place at ``q`` is a landmark the tip has gone past ("tip beyond the duodenojejunal flexure"), a coarse
    position: a place the tip is said to be in beside it ("... in the proximal jejunum") is its position."""
    k = q
    while k > 0 and spans[k - 1].text in ("the", "a", "an", "to", "its", "level", "of"):
        k -= 1
    return k > 0 and spans[k - 1].text in _PAST
#: words after a finding that name what caused it ("pneumothorax post CVC insertion")
_AFTER_CAUSE = frozenset({"post", "after", "following", "s/p"})


def _names_next_finding(spans: list[Span], q: int, lex: Lexicon) -> bool:
    """A place word that is an adjective of the (non-device) finding right after it."""
    k = q + 1
    while k < len(spans) and spans[k].cat in ("LOC", "ATTR", "SEV", "SIZE"):
        k += 1
    return k < len(spans) and spans[k].cat == "OBS" and not lex.is_device(_obs_name(spans[k]) or "")


def _not_there(spans: list[Span], q: int) -> bool:
    while q > 0 and (spans[q - 1].cat in ("LOC", "ATTR", "SEV") or spans[q - 1].text in (
            "the", "a", "an", "its", "residual", "remaining", "known", "dominant")):
        q -= 1  # back over "the residual right subphrenic" in "outside the residual right subphrenic abscess"
    return any(g.text.split()[0] in _NOT_THERE or (g.text.split()[0] in _BESIDE and (
        "to" in g.text.split() or (k + 1 < len(spans) and spans[k + 1].text == "to")))
        for k, g in enumerate(spans[max(0, q - 2):q], max(0, q - 2)))


#: what stands between a place and the device it places ("infrarenal position of the IVC filter")
_POSITION_OF = frozenset({"position", "location", "positioning", "placement", "of", "the", "a", "an"})
_POSITION_NOUNS = frozenset({"position", "location", "positioning", "placement"})


def _over_position_of(spans: list[Span], p: int) -> int:
    """Where the two spans before the device at ``p`` start, back over "position of the": "infrarenal position of
    the IVC filter" places the filter as "an infrarenal IVC filter" does."""
    q = p
    while q > 0 and spans[q - 1].text in _POSITION_OF:
        q -= 1
    if not _POSITION_NOUNS & {g.text for g in spans[q:p]}:
        q = p  # "the IVC filter": no place said of it
    return max(0, q - 2)


def _device_position(k: int, devices: list[_Target], spans: list[Span], locs: list[Location],
                     lex: Lexicon) -> str | None:
    """The first position named after the device (before the next device), else one before it; several leads or
    ends ("leads in the right atrium and right ventricle") are one position set."""
    t = devices[k]
    limit = devices[k + 1].pos if k + 1 < len(devices) else len(spans)
    # (position, named after an end word of the device, coarse)
    found = []
    outside: list[str] = []  # places the tip is said to be outside ("outside the collection")
    skipped: list[str] = []
    last = t.pos
    for q, s in enumerate(spans[t.pos + 1:limit], t.pos + 1):
        if s.text == "outside" and q + 1 < limit and spans[q + 1].text in ("it", "them", "this"):
            outside.append("")  # "drain lying outside it": outside the place named before the device
        for r in s.readings("POS")[:1]:
            if _not_there(spans, q):
                skipped.append(r.value)  # "anterior to the collection": beside it, not in it
                if any(g.text == "outside" for g in spans[max(0, q - 3):q]):
                    outside.append(r.value)
            if r.value == "expected" and q + 1 < limit and spans[q + 1].text == "of":
                continue  # "over the expected location of the cavoatrial junction": the junction
            if _names_next_finding(spans, q, lex):
                continue  # "mediastinal drains present, left basal atelectasis": the atelectasis's base
            # "courses below the diaphragm and out of view": a tube that passes below the diaphragm ends below it
            # (or past the junction: "passes beyond the GE junction")
            below = r.value == "stomach" and (s.text in _COARSE_POSITIONS
                                              or s.text.startswith(("beyond ", "below ", "past ", "distal to ")))
            if (_on_its_course(spans, q) and not below) or _own_part(spans, q) or _not_there(spans, q) or (
                    q == t.pos + 1 and s.text in _PART_NAMES) or (
                    found and any(g.text in _RELATIVE_TO for g in spans[max(0, q - 3):q])) or (
                    found and last == q - 1 and spans[q - 1].text.endswith(("al", "ar", "ic"))):
                continue  # "in the suprarenal IVC": the place the adjective before it narrows down
            gap = spans[last + 1:q]
            # "leads in the RA and RV": a place listed after an end's place is that end's too
            end = any(g.text in _END_WORDS for g in gap) or bool(
                found and found[-1][1] and all(w in _NEXT_END for g in gap for w in g.text.split()))
            found.append((r.value, end, s.text in _COARSE_POSITIONS or _past_landmark(spans, q)))
            last = q
    if any(not coarse for _, _, coarse in found):
        # "tip in the duodenum, below the diaphragm": the duodenum; "tip beyond the duodenojejunal flexure in
        # the proximal jejunum": the jejunum, not the landmark the tip has passed
        found = [f for f in found if not f[2]]
    if any(end for _, end, _ in found):
        found = [f for f in found if f[1]]  # "stent in the CBD, with its distal end in the duodenum": the end's
    after = [v for v, _, _ in found]
    if not after and k + 1 < len(devices):
        # "endotracheal and nasogastric tubes are satisfactorily sited", "ETT, NGT and right IJ line in
        # satisfactory position": each of a list of devices where it is meant to be
        j = k
        while j + 1 < len(devices) and all(g.text in LIST_JOINERS or g.cat == "LOC" and g.readings("LAT")
                                           or g.text in ("ij", "picc", "femoral", "subclavian")
                                           for g in spans[devices[j].pos + 1:devices[j + 1].pos]):
            j += 1
        if j > k:
            nxt_limit = devices[j + 1].pos if j + 1 < len(devices) else len(spans)
            after = [r.value for s in spans[devices[j].pos + 1:nxt_limit] for r in s.readings("POS")[:1]
                     if r.value == "expected"]
    # not a place that another finding between it and the device is in ("apical pneumothorax after CVC placement")
    # nor a place that a finding named before the device is in ("PTX at apex post CVC attempt"): what comes after
    # "post", "after" or "following" is the finding's cause, not placed where the finding is
    before = [r.value for q, s in enumerate(spans[:t.pos]) for r in s.readings("POS")[:1]
              if not _own_part(spans, q) and not _not_there(spans, q) and not any(
                  g.cat == "OBS" and not lex.is_device(_obs_name(g) or "") for g in spans[q + 1:t.pos])
              and not any(g.text in _AFTER_CAUSE for g in spans[q + 1:t.pos])] \
        if k == 0 else []
    if not after and before and all(g.cat != "OBS" for g in spans[t.pos - 2:t.pos]) and any(
            spans[q].readings("POS") for q in range(_over_position_of(spans, t.pos), t.pos)):
        after = before  # "an infrarenal IVC filter with its apex at the level of the renal veins": its own
    if not after:
        # a tip in a place the position list does not name ("in the right lower lobe bronchus", "in the
        # major fissure"): the organ (and sub-location) it is in
        after = [f"{l.organ} {l.sub}" if l.sub else l.organ for l in locs
                 # a vertebral level ("tip at T4") is a landmark the tip projects at, not a place it is in
                 if l.organ not in (None, "spine") and t.pos < l.start < limit and not l.blocked
                 and not _not_there(spans, l.start)
                 # (its own preposition: not one of a place before it, "tip at T3 and right IJ line")
                 and (any(spans[q].text in PREPOSITIONS and not any(g.cat == "LOC" or g.text in ("and", "or", ",", ";")
                                                                     for g in spans[q + 1:l.start])
                          for q in range(max(t.pos + 1, l.start - 3), l.start))
                      # "coiled in a blind-ending upper oesophageal pouch": the place's adjectives between
                      or any(spans[q].text in PREPOSITIONS and all(g.cat in ("WORD", "ATTR", "SEV") and g.text.isalpha()
                                                                   for g in spans[q + 1:l.start])
                             for q in range(max(t.pos + 1, l.start - 5), l.start)))]
    if not after and outside:
        # "drain terminating anterior to the collection, outside it": a tip outside its target is a position of
        # its own (a malposition), not the target it is said to miss
        places = [p or (skipped[-1] if skipped else before[-1] if before else "") for p in outside]
        return " + ".join(sorted({f"outside {p}" for p in places if p})) or None
    named = [lex.expected_position(_obs_name(t.span) or "") if p == "expected" else p
             for p in (after or before)]
    named = sorted({p for p in named if p})
    level = _vertebral_level(t, limit, spans, locs, lex)
    if named and level and after:
        # "tip in the SVC at the level of T6": the place and the level it projects at, both stated of the tip
        return " + ".join(named) + LEVEL_JOIN + level
    return " + ".join(named) if named else level


#: what introduces the vertebral level a tip is at ("at T6", "over T5-T6", "to the level of T10", "(T3)")
_AT_LEVEL = frozenset({"at", "over", "overlying", "overlies", "to", "opposite", "near", "("})
#: what may stand between that word and the level ("at the level of the T4 vertebral body", "at approximately T6")
_LEVEL_FILLERS = frozenset({"the", "level", "of", "approximately", "about", "around", "roughly", "~"})


def vertebral_level(sub: str | None) -> str | None:
    """The canonical tip position of a vertebral sub-location of the spine: "T6" -> "T6 level"; a range or disc
    level ("T5-T6", "T5/6", "T12-L1") is read at its upper (cranial) vertebra, "T5 level". None for any other."""
    upper = (sub or "").split("-")[0]
    if len(upper) < 2 or upper[0] not in "CTL" or not upper[1:].isdecimal():
        return None
    return f"{upper} level"


def _level_of_span(s: Span) -> str | None:
    return next((vertebral_level(r.value.name) for r in s.readings("SUB") if r.value.organ == "spine"), None)


def _vertebral_level(t: _Target, limit: int, spans: list[Span], locs: list[Location], lex: Lexicon) -> str | None:
    """A tip stated only at a vertebral level ("ETT tip at T2", "IABP tip at the level of T10", "CVC tip over
    T5-T6"): the level (see vertebral_level), a landmark read only where no anatomical place is named for the tip.
    Not a level that a finding between the device and it, or right after it, is at ("CVC; fracture at T6"), nor
    the spine named with no level ("projects over the thoracic spine")."""
    for l in locs:
        level = vertebral_level(l.sub) if l.organ == "spine" else None
        if level is None or l.blocked or not t.pos < l.start < limit:
            continue
        if any(g.cat in ("OBS", "ENLARGE") and not lex.is_device(_obs_name(g) or "")
               for g in spans[t.pos + 1:min(limit, l.end + 3)]):
            continue
        k = l.start
        while k > t.pos + 1 and spans[k - 1].text in _LEVEL_FILLERS:
            k -= 1
        # ("ETT tip T3", "ETT: tip T2": telegraphic, the level right after the tip)
        if k > t.pos and (spans[k - 1].text in _AT_LEVEL or (k == l.start and spans[k - 1].text.split()[-1] in (
                "tip", "tips"))):
            return level
        # a field of its own: "ETT tip: T3", "NGT tip - T11", "ETT: T2"
        if k == l.start and k - 1 > t.pos and spans[k - 1].text in (":", "-", "–") and (
                k - 2 == t.pos or spans[k - 2].text.split()[-1] in ("tip", "tips")):
            return level
    return None
