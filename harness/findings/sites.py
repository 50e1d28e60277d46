"""Spans -> locations: organ, sub-location, station and side words grouped into the sites of a sentence and
resolved with the lexicon ("upper pole of the left kidney", "left renal upper pole", "RLL")."""

from __future__ import annotations

from dataclasses import dataclass

from harness.findings.lexicon import Lexicon, SubLocation
from harness.findings.scan import Span


@dataclass(slots=True)  # built and copied many times a sentence: slots and a plain __copy__ keep that cheap
class Location:
    organ: str | None
    sub: str | None
    laterality: str | None
    start: int
    end: int
    text: str
    blocked: bool = False
    station: str | None = None  # a lymph-node station word in the phrase ("hilar"), kept for node findings
    pending_subs: tuple[SubLocation, ...] = ()  # "lower pole" without its organ: resolved from the sentence
    size: float | None = None  # "subcarinal and paratracheal nodes, 11 and 13 mm": the size of this site's finding
    one: bool = False  # that size measures one thing at this site (a node each, not "nodes" at each)
    count: int | None = None  # "renal cysts: R x1, L x2": how many this site holds
    # "nodes: hilar 12 mm (prev 9 mm), subcarinal 15 mm (prev 15 mm)": the change this site's sizes state
    change: str | None = None

    def __copy__(self) -> Location:
        # copy.copy's generic path (__reduce_ex__) costs several times a direct construction
        return Location(self.organ, self.sub, self.laterality, self.start, self.end, self.text, self.blocked,
                        self.station, self.pending_subs, self.size, self.one, self.count, self.change)


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
            while j < n and ((spans[j].cat == "WORD" and spans[j].value in fillers) or spans[j].cat == "NUM"):
                j += 1
            if j < n and spans[j].cat == "LOC" and not _new_clause_after_comma(spans, k, m, j, fillers) \
                    and not _another_side(spans, members, j) and not _own_noun_after_and(spans, k, m, j):
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
        loc.blocked = q >= 0 and spans[q].cat == "CTX:relation" and not _side_of_next_noun(spans, loc) \
            and not _site_of_next_noun(spans, loc) \
            or _a_level(spans, loc) or (q >= 0 and spans[q].text in _SHUTTING and any(
                spans[k].cat == "LOC" for k in range(q)))
    _relation_reaches_list(out, spans, fillers)
    # "the right kidney contains a lower pole calculus": a sub-location that needs its organ takes the organ
    # named elsewhere in the sentence
    for loc in out:
        if loc.organ is not None or not loc.pending_subs:
            continue
        for sub in loc.pending_subs:
            owner = [o for o in out if o.organ == sub.organ]
            if owner:
                near = min(owner, key=lambda o: abs(o.start - loc.start))
                loc.organ, loc.sub = sub.organ, sub.name
                loc.laterality = loc.laterality or near.laterality or sub.laterality
                break
        else:
            # no owner named: the one organ with that part, or with a side stated the paired one ("L lower pole
            # stone" is in the left kidney, not the spleen)
            owners = [sub for sub in loc.pending_subs
                      if loc.laterality is None or lex.is_paired(sub.organ)]
            if len({o.organ for o in owners}) == 1:
                loc.organ, loc.sub = owners[0].organ, owners[0].name
    _parts_of_the_organ_named(out, spans)
    # a side just after an organ of its own ("the 9th rib on the right", "effusion at the base on the left")
    for k, loc in enumerate(out):
        if loc.organ is not None or k == 0 or loc.laterality not in ("left", "right", "bilateral"):
            continue
        prev = out[k - 1]
        between = [spans[q] for q in range(prev.end + 1, loc.start)]
        # a vertebra whose sided part the sentence names ("transverse process fractures of L2 and L3 on the left")
        sided = any(o.organ == prev.organ and lex.names_sided_part(o.organ or "", o.text) for o in out[:k])
        # a part still looking for its organ ("stone in the lower pole on the left") when it may be a paired one's
        paired = lex.is_paired(prev.organ) if prev.organ is not None else any(
            lex.is_paired(sub.organ) for sub in prev.pending_subs)
        # (not a side that opens a noun of its own after a comma: "PA catheter in the main PA, L PICC in the IVC")
        e = loc.end + 1
        while e < len(spans) and spans[e].cat == "WORD" and spans[e].text in ACCESS_WORDS:
            e += 1
        own_noun = any(b.value == "," for b in between) and e < len(spans) and spans[e].cat in ("OBS", "ENLARGE")
        if (prev.organ is not None or prev.pending_subs) and (paired or sided) and prev.laterality is None \
                and not own_noun \
                and len(between) <= 3 and all(b.cat == "WORD" and b.value in ("on", "the", "at", "to", "of", ",")
                                              for b in between):
            prev.laterality = loc.laterality
            loc.blocked = True
            _side_reaches_site_list(out, k - 1, spans, lex)
    _parts_of_a_sided_organ(out, lex)
    _largest_on_one_side(out, spans, lex)
    return out


def _parts_of_a_sided_organ(out: list[Location], lex: Lexicon) -> None:
    """"two nodules in the right lung, 12 mm in the upper zone and 20 mm in the lower zone": a part of a paired organ
    named with no side after the whole organ named with one is that organ's part, on its side (a part named in the
    plural, "the lower lobes", may be both; another side named between ends it)."""
    side: tuple[str, str] | None = None
    for loc in out:
        if loc.organ is None:
            if loc.laterality is not None:
                side = None
            continue
        if loc.laterality is not None:
            side = (loc.organ, loc.laterality) if loc.sub is None and loc.laterality in ("left", "right") \
                and lex.is_paired(loc.organ) else None
        elif side is not None and loc.sub is not None and loc.organ == side[0] and not loc.blocked \
                and not loc.text.endswith("s"):
            loc.laterality = side[1]


#: words that name the largest of a group ("the largest 8 mm on the left")
_LARGEST_OF_GROUP = frozenset({"largest", "biggest", "dominant", "larger", "bigger"})


def _largest_on_one_side(out: list[Location], spans: list[Span], lex: Lexicon) -> None:
    """"Bilateral renal calculi, the largest 8 mm on the left": the side where the largest of a group in both
    paired organs lies is that organ's side, as "the largest 8 mm in the left kidney" reads."""
    for k, loc in enumerate(out):
        if loc.organ is not None or loc.blocked or loc.laterality not in ("left", "right") or k == 0:
            continue
        group = next((o for o in reversed(out[:k]) if o.organ is not None), None)
        both = group is not None and (group.laterality == "bilateral" or group.laterality is None and any(
            o.organ is None and o.laterality == "bilateral" for o in out[:k]))  # "renal cysts bilaterally, ..."
        if not both or group.sub is not None or not lex.is_paired(group.organ):
            continue
        q = next((q for q in range(loc.start - 1, max(group.end, loc.start - 8), -1)
                  if spans[q].text in _LARGEST_OF_GROUP), None)
        if q is not None and all(g.cat in ("WORD", "SIZE", "NUM") for g in spans[q:loc.start]):
            loc.organ = group.organ


def _side_reaches_site_list(out: list[Location], k: int, spans: list[Span], lex: Lexicon) -> None:
    """"fractures of the distal radius and ulnar styloid on the right", "cysts in the kidney and adrenal on the
    left": a side written after a list of paired sites, given to its last member, is each member's (back over the
    list while only joiners stand between and a member names no side of its own)."""
    side = out[k].laterality
    while k > 0:
        prev = out[k - 1]
        between = [spans[q] for q in range(prev.end + 1, out[k].start)]
        if not between or not all(b.cat == "WORD" and b.value in ("and", "or", ",", "the", "/") for b in between) \
                or not any(b.value in ("and", "or", ",", "/") for b in between):
            return
        if prev.organ is None or prev.laterality is not None or prev.blocked or not lex.is_paired(prev.organ):
            return
        prev.laterality = side
        k -= 1


_SITE_LIST_JOINERS = frozenset({"and", "or", ",", "/", "&", "nor"})
#: what may open a clause before its subject ("The SMV abuts the mass", "Inferiorly, the SMA is encased")
_SUBJECT_OPENERS = frozenset({"the", "a", "an", "its", "both", "and"})


#: a verb of a finding shutting what is named after it: "pancreatic tail mass occluding the splenic vein" (the vein
#: is the neighbour of a finding that has its own site before; "thrombus occluding the left PA" has none: its site)
_SHUTTING = frozenset({"occluding", "occludes"})
_TIP_WORDS = frozenset({"tip", "tips", "end", "marker", "terminates", "terminating", "coil", "coiled"})
#: organs named "at the level of" that are the finding's own place: a vertebra ("fracture at the level of L1")
_LEVEL_SITES = frozenset({"spine"})


def _a_level(spans: list[Span], loc: Location) -> bool:
    """"Widened mediastinum, 9 cm at the level of the aortic knuckle", "node at the level of the renal hilum": the
    organ a measurement or a finding is said to be "at the level of" is a landmark, not its site (a vertebra
    excepted: "compression fracture at the level of L1")."""
    words = [g.text for g in spans[max(0, loc.start - 4):loc.start]]
    if loc.organ in _LEVEL_SITES or _TIP_WORDS & {g.text for g in spans[max(0, loc.start - 8):loc.start]}:
        return False  # (a device's tip "at the level of the diaphragm" is where the tip is)
    return words[-4:] == ["at", "the", "level", "of"] or words[-3:] in (["the", "level", "of"], ["level", "of", "the"]) \
        or (loc.end + 1 < len(spans) and spans[loc.end + 1].text == "level"
            and loc.start >= 1 and spans[loc.start - 1].text in ("the", "at"))


def _relation_reaches_list(out: list[Location], spans: list[Span], fillers: frozenset[str]) -> None:
    """A relation word reaches over the sites listed after it and the site it is said of: "without invasion of the
    renal vein or IVC", "encasing the SMA and coeliac axis" name neighbours, each of them; "The SMV abuts the
    mass", "the splenic artery is encased by tumour": the vessel that opens the clause and is the subject of a
    relation is the finding's neighbour, not its site."""
    if not any(s.cat == "CTX:relation" for s in spans):
        return
    by_start = sorted(out, key=lambda l: l.start)
    for a, b in zip(by_start, by_start[1:]):
        if a.blocked and not b.blocked and b.start <= a.end:
            b.blocked = True  # "encasing the SMA and coeliac axis": a site the same phrase lists
        elif a.blocked and not b.blocked and b.organ is not None and b.start > a.end and all(
                w in _SITE_LIST_JOINERS or w in fillers for q in range(a.end + 1, b.start)
                for w in spans[q].text.split()) and any(
                w in _SITE_LIST_JOINERS for q in range(a.end + 1, b.start) for w in spans[q].text.split()) and \
                ", and" not in " ".join(spans[q].text for q in range(a.end + 1, b.start)):
            # (", and the spleen is enlarged" opens a clause of its own)
            b.blocked = True
    for loc in by_start:
        if loc.blocked or loc.organ is None:
            continue
        q = loc.end + 1
        while q < len(spans) and spans[q].cat == "WORD" and spans[q].value in ("is", "are", "was", "were"):
            q += 1
        if q >= len(spans) or spans[q].cat != "CTX:relation" or not any(
                s.cat in ("OBS", "ENLARGE") for s in spans[q + 1:]):
            continue
        r = loc.start - 1
        while r >= 0 and spans[r].cat == "WORD" and spans[r].value in _SUBJECT_OPENERS:
            r -= 1
        if r < 0 or spans[r].text in (".", ";", ":", ","):
            loc.blocked = True


def _side_of_next_noun(spans: list[Span], loc: Location) -> bool:
    """"a ureteric calculus causing right hydronephrosis": a side alone before a finding's noun is that finding's
    side, not a neighbour after a relation word."""
    if loc.organ is not None or loc.pending_subs:
        return False
    q = loc.end + 1
    while q < len(spans) and spans[q].cat in ("SEV", "ATTR", "SIZE", "TEMP"):
        q += 1
    return q < len(spans) and spans[q].cat == "OBS"


def _site_of_next_noun(spans: list[Span], loc: Location) -> bool:
    """"hydronephrosis due to PUJ obstruction", "secondary to a pancreatic head mass": a site named right before a
    finding's noun after a relation word is that finding's own site (the neighbour is the finding it names)."""
    q = loc.end + 1
    while q < len(spans) and spans[q].cat in ("SEV", "ATTR", "SIZE", "TEMP"):
        q += 1
    return q < len(spans) and spans[q].cat == "OBS"


def _side_only(span: Span) -> str | None:
    lats = span.readings("LAT")
    return lats[0].value if lats and len(span.by_kind) == 1 else None


def _another_side(spans: list[Span], members: list[int], j: int) -> bool:
    """"nodules: right 2, left 1": a side word after another side with words between is a site of its own, not
    the same site named twice (one group would keep only the first side)."""
    side = _side_only(spans[j])
    return side is not None and j > members[-1] + 1 and any(
        _side_only(spans[p]) not in (None, side) for p in members)


#: what states something of the site before it: the site is a clause's subject ("collecting systems not dilated")
_PREDICATE_CATS = frozenset({"CTX:normal", "CTX:normal_size", "CTX:borderline_size", "ENLARGE"})
_PREDICATE_WORDS = frozenset({"is", "are", "was", "were", "appear", "appears", "remain", "remains", "measure",
                              "measures", "show", "shows", "contain", "contains", "demonstrate", "demonstrates"})


def _new_clause_after_comma(spans: list[Span], first: int, gap_start: int, nxt: int, fillers: frozenset[str]) -> bool:
    """"Simple cysts in both kidneys, collecting systems not dilated": a comma after the site of a finding named
    before it, followed by a site that is the subject of its own statement or the site of its own noun ("...,
    left lower lobe atelectasis"), ends the site's group (read as one, the cysts lose their site to the normal
    statement). A list of organs with no finding before it ("liver, spleen and pancreas are normal") stays one
    subject."""
    if not any(spans[q].text == "," for q in range(gap_start, nxt)) or not any(
            spans[q].cat in ("OBS", "ENLARGE") for q in range(first)):
        return False
    q = nxt
    while q < len(spans) and (spans[q].cat == "LOC" or (spans[q].cat == "WORD" and spans[q].value in fillers
                                                          and spans[q].text != ",")
                              or spans[q].cat == "WORD" and spans[q].text in ACCESS_WORDS):  # "L-sided PICC"
        q += 1
    for s in spans[q:q + 3]:
        if s.cat == "OBS":  # "consolidation in the RLL, left lower lobe atelectasis": a site naming its own noun
            return s is spans[q]
        if s.text in (",", ".", ";"):
            return False
        if s.cat in _PREDICATE_CATS or s.text in _PREDICATE_WORDS:
            return True
    return False


_LIST_WORDS = frozenset({"and", "or", ",", "/"})
_SITE_PREPOSITIONS = frozenset({"in", "within", "of", "at", "involving"})


#: words of a device's access route between its side and its noun ("left-sided PICC", "right arm PICC")
ACCESS_WORDS = frozenset({"sided", "side", "arm", "ij", "subclavian", "femoral", "jugular", "internal", "basilic",
                          "cephalic", "brachial", "chest", "wall"})
#: words between a device and the preposition of its tip's place ("with its tip in", "terminating in")
_END_OR_COURSE_WORDS = frozenset({"with", "its", "the", "tip", "tips", "end", "ends", "ending", "distal", "terminates",
                                  "terminating", "lies", "lying", "projects", "projecting", "positioned", "sited",
                                  "coiled", "located", ","})


def _own_noun_after_and(spans: list[Span], first: int, gap_start: int, nxt: int) -> bool:
    """"a nodule in the right breast and right axillary lymphadenopathy": after a finding's site named with its
    preposition, "and" and site words right before a noun of their own open a second finding, whose site they are
    (read as one group, the breast took the nodes' station and the nodes lost their site and side)."""
    if not any(spans[q].text == "and" for q in range(gap_start, nxt)):
        return False
    q = first - 1
    while q >= 0 and spans[q].text in ("the", "a", "an"):
        q -= 1
    if q < 1 or spans[q].text not in _SITE_PREPOSITIONS:
        return False
    # the preposition right after the finding, or after the words of its own end or course ("NG tube with its tip
    # in the stomach and left PICC in the SVC", "tube terminating in the stomach and right IJ line ...")
    b = q - 1
    while b > 0 and q - b <= 4 and spans[b].cat == "WORD" and spans[b].text in _END_OR_COURSE_WORDS:
        b -= 1
    if spans[b].cat not in ("OBS", "ENLARGE"):
        return False
    e = nxt
    while e < len(spans) and (spans[e].cat == "LOC" or spans[e].cat == "WORD" and spans[e].text in ACCESS_WORDS):
        e += 1
    return e < len(spans) and spans[e].cat == "OBS"



def _resolve_group(spans: list[Span], members: list[int], lex: Lexicon) -> list[Location]:
    organ_pos: list[tuple[int, str, bool]] = []
    has_node = any(r.value == "lymph node" for p in members for r in spans[p].readings("ANAT"))
    station_at: dict[int, str] = {}
    for p in members:
        stations = spans[p].readings("STATION")
        anats = spans[p].readings("ANAT")
        if stations and (has_node or not (anats or spans[p].readings("SUB"))):
            station_at[p] = stations[0].value.name
            continue
        if anats:
            organ_pos.append((p, anats[0].value, anats[0].plural))
    organs = {o for _, o, _ in organ_pos}
    if organs:
        # "the liver and colon are unremarkable": a part that names its own organ, listed beside another organ, is
        # that organ's site, not a part of the organ beside it ("colonic anastomosis" is one site)
        for i, p in enumerate(members):
            subs = [r for r in spans[p].readings("SUB") if not r.value.needs_organ]
            if not subs or p in station_at or spans[p].readings("ANAT"):
                continue
            listed = any(spans[q].text in _LIST_WORDS for q in range(members[max(i - 1, 0)] + 1, p)) or any(
                spans[q].text in _LIST_WORDS for q in range(p + 1, members[min(i + 1, len(members) - 1)]))
            if listed and not any(r.value.organ in organs for r in subs):
                organ_pos.append((p, subs[0].value.organ, subs[0].plural))
        organ_pos.sort()
        organs = {o for _, o, _ in organ_pos}
    station_words = [p for p in members if spans[p].readings("STATION")]
    if len(organs) > 1:  # two organs side by side: each member goes with its nearest organ word
        buckets: dict[int, list[int]] = {p: [] for p, _, _ in organ_pos}
        for p in members:
            best = min(organ_pos, key=lambda t: (abs(t[0] - p), -t[0]))[0]
            buckets[best].append(p)
        parts = [sorted(b) for b in buckets.values()]
    elif not has_node and len({spans[p].readings("STATION")[0].value.name for p in station_words}) > 1 \
            and all(p in station_words for p, _, _ in organ_pos):
        # "axillary and inguinal lymphadenopathy", "mediastinal and hilar nodes": words that can each name a
        # node station, with no other organ, are one site each
        buckets = {p: [] for p in station_words}
        for p in members:
            buckets[min(station_words, key=lambda q: (abs(q - p), -q))].append(p)
        parts = [sorted(b) for b in buckets.values()]
    else:
        parts = [members]
    parts = [piece for part in parts for piece in _split_at_side_changes(spans, part)]
    locs = []
    named_side: str | None = None  # a side word before the first of several organs named together
    for part in parts:
        organ = None
        plural = False
        for p, o, pl in organ_pos:
            if p in part:
                organ, plural = o, pl
                break
        if organ is None and any(p in station_at for p in part):
            # a station word names the nodes when a node is in the phrase, else the region it is in
            # ("peripancreatic collection": by the pancreas)
            organ = "lymph node" if has_node else lex.station_region.get(
                next(station_at[p] for p in part if p in station_at), "lymph node")
        elif organ is not None and lex.is_region(organ) and not has_node:
            # "right iliac fossa mesenteric mass": a station word naming an organ inside the region is the site
            inner = lex.station_region.get(next((station_at[p] for p in part if p in station_at), ""))
            organ = inner if inner and inner != organ and lex.in_region(organ, inner) else organ
        sub: str | None = None
        sub_lat: str | None = None
        sub_plural = False
        station = next((station_at[p] for p in part if p in station_at), None)
        if station is None:
            station = next((r.value.name for p in part for r in spans[p].readings("STATION")), None)
        pending: list[SubLocation] = []
        siblings: list[tuple[int, str]] = []  # sub-locations of one organ that do not contain each other
        for p in part:
            if p in station_at and organ == "lymph node":
                if sub is not None and station_at[p] != sub:  # "right hilar and subcarinal nodes"
                    siblings.append((p, station_at[p]))
                sub = sub or station_at[p]
            for r in spans[p].readings("SUB"):
                loc: SubLocation = r.value
                if organ is None and not loc.needs_organ:
                    organ = loc.organ
                if loc.organ != organ:
                    if organ is None:
                        pending.append(loc)
                    continue
                # the most specific of several ("posterior basal segment of the RLL": the base of the lower lobe)
                if sub is None or lex.sub_contains(organ, sub, loc.name):
                    sub = loc.name
                    plural = plural or r.plural
                    sub_plural = sub_plural or r.plural
                elif sub != loc.name and not lex.sub_contains(organ, loc.name, sub):
                    siblings.append((p, loc.name))
                elif sub == loc.name and loc.laterality and loc.laterality != (sub_lat or next(
                        (spans[q].readings("LAT")[0].value for q in part if q < p and spans[q].readings("LAT")),
                        loc.laterality)):
                    siblings.append((p, loc.name))  # "RLL and LLL", "right lower lobe and LLL": a lobe each side
                sub_lat = sub_lat or loc.laterality
        for loc in pending:  # "superior segment of the right lower lobe": the part named before its organ
            if organ is not None and loc.organ == organ and (sub is None or lex.sub_contains(organ, sub, loc.name)):
                sub = loc.name
        lat = None
        for p in part:
            lats = spans[p].readings("LAT")
            if lats:
                lat = lats[0].value
                break
        if part is parts[0] and len(parts) > 1 and lat in ("left", "right"):
            named_side = lat
        elif lat is None and sub_lat is None and named_side and organ is not None and lex.is_paired(organ) \
                and not plural:
            lat = named_side  # "the right lung and pleura are clear", "left kidney and adrenal": both on that side
        if lat is None:
            lat = sub_lat
        inherent = lex.anatomy.get(organ or "", {}).get("subs", {}).get(sub or "", {}).get("laterality")
        if inherent and lat in ("left", "right"):
            lat = inherent  # "the lingula and right middle lobe": the lingula is left whatever side follows it
        sub_spec = lex.anatomy.get(organ or "", {}).get("subs", {}).get(sub, {})
        if lat is None and sub_plural and organ is not None and lex.is_paired(organ) and not sub_spec.get(
                "laterality") and not sub_spec.get("unsided"):
            # "the lung bases", "both lower lobes": one of each side ("the ventricles" are one system, unsided)
            lat = "bilateral"
        # an unpaired organ keeps a side named with it for now: "left chest" places a device, "left hepatic"
        # names a lobe; findings drop it where it means nothing
        # a plural organ ("the lungs are hyperinflated") does not say "both sides": it leaves the side unstated
        text = " ".join([spans[p].text for p in part])
        locs.append(Location(organ, sub, lat, part[0], part[-1], text, station=station,
                             pending_subs=tuple(pending) if organ is None else ()))
        # "the right middle and right lower lobes": one site each, with the side named before each
        for p, name in siblings:
            own = next((r.value.laterality for r in spans[p].readings("SUB") if r.value.name == name), None)
            side = lex.anatomy.get(organ or "", {}).get("subs", {}).get(name, {}).get("laterality") or own or next(
                (spans[q].readings("LAT")[0].value for q in range(p, part[0] - 1, -1) if spans[q].readings("LAT")),
                lat)
            if organ == "lymph node" and name in lex.midline_stations and not (
                    p > part[0] and spans[p - 1].readings("LAT")):
                side = None  # "the right paratracheal and subcarinal stations": the side is not the midline one's
            locs.append(Location(organ, name, side, p, p, spans[p].text, station=station))
    return locs


def _split_at_side_changes(spans: list[Span], part: list[int]) -> list[list[int]]:
    """"emboli in the left pulmonary artery and right lower lobe arteries": a side word naming the other side
    starts another site of the organ, when each piece names a site of its own."""
    if len(part) < 3 or sum(1 for p in part if "LAT" in spans[p].by_kind) < 2:
        return [part]  # two sides and a site after the second need three words
    pieces: list[list[int]] = [[]]
    side = None
    for p in part:
        lats = spans[p].readings("LAT")
        value = lats[0].value if lats else None
        if value in ("left", "right"):
            if side not in (None, value) and pieces[-1]:
                pieces.append([])
            side = value
        pieces[-1].append(p)
    if len(pieces) > 1 and all(any(spans[q].readings("ANAT") or spans[q].readings("SUB") for q in piece)
                               for piece in pieces):
        return pieces
    return [part]


def _parts_of_the_organ_named(out: list[Location], spans: list[Span]) -> None:
    """"Enlarged thyroid with a 3 cm left lobe nodule": a part that several organs have ("left lobe": the liver's,
    the thyroid's) is the part of the one the sentence names, when it names that organ and not the default one."""
    named = {loc.organ for loc in out if loc.organ is not None and loc.sub is None}
    for loc in out:
        if loc.organ is None or loc.sub is None or loc.organ in named:
            continue
        others = [r.value for q in range(loc.start, loc.end + 1) if q < len(spans)
                  for r in spans[q].readings("SUB") if r.value.organ != loc.organ and r.value.organ in named]
        if len({o.organ for o in others}) == 1:
            loc.organ, loc.sub = others[0].organ, others[0].name
