"""Report text -> sections -> sentences -> tokens, normalised before the phrase scan.

Sections that state no finding of this study are skipped (indication, comparison, technique...: up to their first
line break or sentence end when written inline); sentences split on full stops that end sentences (not those of
abbreviations, nor a "?" that stands for "query"); a run-on sentence is read in bounded pieces. The token
rewrites here are the ones that need no reading of the sentence: spelled-out sizes, numbered ribs, the silhouette
sign's border, bracketed station codes, coordinated words sharing one head noun, and a relative clause about an
organ (split off by the reader when it states something of that organ).
"""

from __future__ import annotations

import re
from functools import lru_cache

from harness.findings.lexicon import TOKEN_RE, Lexicon, lexicon, normalize


UNITS = {"mm": 1.0, "millimeter": 1.0, "millimeters": 1.0, "millimetre": 1.0, "millimetres": 1.0,
         "cm": 10.0, "centimeter": 10.0, "centimeters": 10.0, "centimetre": 10.0, "centimetres": 10.0}


SENTENCE_END = frozenset({".", "!", "?", ";"})


@lru_cache(maxsize=1)
def _section_re(lex_id: int) -> re.Pattern[str]:
    names = sorted(lexicon().sections, key=len, reverse=True)
    return re.compile(r"(?i)(?:^|(?<=[\s.]))(" + "|".join(re.escape(n) for n in names) + r")\s*:")


#: a structured report's next field label ("PLEURA:", "Lines/tubes:") after a sentence: ends a skipped section
_FIELD_LABEL_RE = re.compile(r"(?:(?<=[.;\n])|^)\s*[A-Z][A-Za-z/&,\- ]{1,40}:")


_SKIPPED_SECTION_END_RE = re.compile(r"\S[^\n]*?(?:[.;](?=\s|$)|\n)")


@lru_cache(maxsize=1)
def _section_names(lex_id: int) -> tuple[frozenset[str], tuple[int, ...]]:
    names = frozenset(n.lower() for n in lexicon().sections)
    return names, tuple(sorted({len(n) for n in names}, reverse=True))


def _opens_a_section(text: str, start: int) -> bool:
    """A section name at ``start`` opens a section where it opens the text, a line or a sentence, or is written
    capitalised ("... lat view COMPARISON: none"); a lower-case word inside a sentence ends no section ("CT for fever
    after a Whipple procedure: a collection ..." is no PROCEDURE section)."""
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in ".:;\n" or text[start].isupper()


def _split_at_section_names(text: str, lex: Lexicon) -> list[str]:
    """``_section_re(...).split(text)``, found from the colons instead: the pattern's alternation of every section
    name, tried at each character of every report, was a tenth of the reader's time. A name ends where the
    whitespace before a colon starts, begins the text or follows whitespace or a full stop, and is the longest one
    that fits (the regex's leftmost match)."""
    colon = text.find(":")
    if colon < 0:
        return [text]
    names, lengths = _section_names(id(lex))
    parts: list[str] = []
    last = 0
    while colon >= 0:
        end = colon
        while end > last and text[end - 1].isspace():
            end -= 1
        for length in lengths:
            start = end - length
            if start < last:
                continue
            if (start == 0 or text[start - 1].isspace() or text[start - 1] == ".") \
                    and text[start:end].lower() in names and _opens_a_section(text, start):
                parts += [text[last:start], text[start:end]]
                last = colon + 1
                break
        colon = text.find(":", colon + 1)
    parts.append(text[last:])
    return parts


def _sections(text: str, lex: Lexicon) -> list[str]:
    """Text of the sections that state findings (the preamble, FINDINGS, IMPRESSION...). A skipped section
    (COMPARISON, INDICATION...) ends at its first line break or sentence end, or at the next field label after a
    sentence ("COMPARISON: 3 days prior. PLEURA: ..."), whichever comes first."""
    parts = _split_at_section_names(text, lex)
    keep = [parts[0]]
    for i in range(1, len(parts), 2):
        name = " ".join(parts[i].lower().split())
        if name not in lex.skip_sections:
            keep.append(parts[i + 1])
            continue
        body = parts[i + 1]
        # "Indication: raised inflammatory markers. There is mural thickening...": the findings go on after it
        first = _SKIPPED_SECTION_END_RE.search(body)
        ends = [first.end()] if first else []
        label = _FIELD_LABEL_RE.search(body, 1)
        if label:
            ends.append(label.start())
        if ends:
            keep.append(body[min(ends):])
    return keep


_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
#: the ribs' numbers spelled out ("the right fifth and sixth ribs")
_ORDINAL_WORDS = {w: k + 1 for k, w in enumerate(("first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                                                   "eighth", "ninth", "tenth", "eleventh", "twelfth"))}
#: where on the ribs, said before their numbers ("the lateral right 7th and 8th ribs"): the count goes before these
#: the way it goes before a side ("two lateral right ribs")
_RIB_ASPECTS = frozenset({"left", "right", "lateral", "anterior", "posterior", "anterolateral", "posterolateral",
                          "axillary", "l", "r"})


def _ordinal_at(tokens: list[str], j: int) -> tuple[int, int] | None:
    """The number of an ordinal at ``j`` ("5 th" as two tokens, or "fifth") and how many tokens it takes."""
    if j + 1 < len(tokens) and tokens[j].isdigit() and tokens[j + 1] in _ORDINAL_SUFFIXES:
        return int(tokens[j]), 2
    if j < len(tokens) and tokens[j] in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[tokens[j]], 1
    return None


_ORDINAL_OF = {v: w for w, v in _ORDINAL_WORDS.items()}


def _ribs_named_by_vertebra(tokens: list[str]) -> list[str]:
    """"right T7 and T8 rib fractures", "fractures of the left T5-T6 ribs": a rib named by the thoracic vertebra it
    meets is that numbered rib ("the right seventh and eighth ribs"), not the vertebra."""
    if "t" not in tokens:
        return tokens
    out, k = list(tokens), 0
    while k < len(out):
        if not (out[k] == "t" and k + 1 < len(out) and out[k + 1].isdigit() and 1 <= int(out[k + 1]) <= 12):
            k += 1
            continue
        names, j = [k], k + 2
        while j < len(out):
            gap = 1 if out[j] in (",", "and", "to", "through", "-") else 0
            if j + gap + 1 < len(out) and out[j + gap] == "t" and out[j + gap + 1].isdigit() \
                    and 1 <= int(out[j + gap + 1]) <= 12:
                names.append(j + gap)
                j += gap + 2
            else:
                break
        if j < len(out) and out[j] in ("rib", "ribs"):
            words = []
            for i, q in enumerate(names):
                if i and q == names[i - 1] + 2:
                    words.append("to")  # "T4-T6": the tokeniser has dropped the hyphen of the range
                elif i:
                    words.append(out[q - 1])
                words.append(_ORDINAL_OF[int(out[q + 1])])
            out[k:j] = words
            k += len(words)
        else:
            k = j
    return out


def _counted_ordinals(tokens: list[str]) -> list[str]:
    """"the left 4th and 5th ribs" are two ribs, "4th to 8th ribs" five, "fifth through eighth ribs" four: numbered
    parts listed before their noun state how many there are."""
    if not ("ribs" in tokens or "rib" in tokens) or not (
            _ORDINAL_SUFFIXES.intersection(tokens) or _ORDINAL_WORDS.keys() & set(tokens)):
        return tokens
    out, k = [], 0
    while k < len(tokens):
        j, numbers, span = k, [], False
        while (ordinal := _ordinal_at(tokens, j)) is not None:
            numbers.append(ordinal[0])
            j += ordinal[1]
            if j < len(tokens) and tokens[j] in (",", "and", "to", "through", "-") \
                    and _ordinal_at(tokens, j + 1) is not None:
                span = span or tokens[j] in ("to", "through", "-")
                j += 1
            elif j + 2 < len(tokens) and tokens[j] in ("to", "through") and tokens[j + 1] == "the" \
                    and _ordinal_at(tokens, j + 2) is not None:
                span = True  # "from the fourth to the seventh ribs"
                j += 2
            elif _ordinal_at(tokens, j) is not None and tokens[j].isdigit():
                span = True  # "4th-6th": the hyphen of a range is not a token
            else:
                break
        noun = j < len(tokens) and tokens[j] in ("rib", "ribs") or (
            j + 1 < len(tokens) and tokens[j] in ("left", "right") and tokens[j + 1] in ("rib", "ribs"))
        if len(numbers) >= 2 and noun:
            n = numbers[-1] - numbers[0] + 1 if span and len(numbers) == 2 and numbers[-1] > numbers[0] \
                else len(numbers)
            word = next((w for w, v in _NUMBER_WORDS.items() if v == str(n)), str(n))
            at = len(out)
            while at > 0 and out[at - 1] in _RIB_ASPECTS:
                at -= 1
            if span and out[at - 2:at] == ["from", "the"]:
                out[at - 2] = "of"  # "fractures from the fourth to the seventh ribs": of the four ribs
            out.insert(at, word)
            k = j
        else:
            out.append(tokens[k])
            k += 1
    return out


#: a rib's break written between the noun and the ribs' numbers ("rib fx 5-6")
_RIB_BREAKS = frozenset({"fx", "fxs", "fracture", "fractures"})


def _ribs_numbered_after(tokens: list[str]) -> list[str]:
    """"right ribs 4-6" are three ribs, "ribs 4 and 5" two: rib numbers after the noun state how many, written as
    a count before it ("three right ribs") the way "the left 4th and 5th ribs" is read."""
    if "ribs" not in tokens and "rib" not in tokens:
        return tokens
    out = list(tokens)
    k = len(out) - 1
    while k >= 0:
        if out[k] not in ("ribs", "rib"):
            k -= 1
            continue
        # "rib fx 5-6", "rib fractures 4 and 5": the numbers after the fracture are the ribs' too
        broken = k + 1 < len(out) and out[k + 1] in _RIB_BREAKS
        j, numbers, span = k + 1 + broken, [], False
        # "L rib fx (5-6)", "rib fractures (ribs 4 and 5)": the numbers in a bracket closing on them
        bracket = j < len(out) and out[j] == "("
        j += bracket + (bracket and out[j + 1:j + 2] in (["ribs"], ["rib"]))
        while j < len(out) and out[j].isdigit() and 1 <= int(out[j]) <= 12:
            numbers.append(int(out[j]))
            j += 1
            if j + 1 < len(out) and out[j] in (",", "and", "to", "through", "-") and out[j + 1].isdigit():
                span = span or out[j] in ("to", "through", "-")
                j += 1
            elif j < len(out) and out[j].isdigit():
                span = True  # "4-6": the tokeniser has dropped the hyphen
            else:
                break
        if bracket:
            numbers = numbers if out[j:j + 1] == [")"] else []
            j += 1
        if len(numbers) >= 2:
            n = numbers[-1] - numbers[0] + 1 if span and len(numbers) == 2 and numbers[-1] > numbers[0] \
                else len(numbers)
            word = next((w for w, v in _NUMBER_WORDS.items() if v == str(n)), str(n))
            # the count goes before a side ("four right ribs"), which then still reaches what follows
            side = k > 0 and out[k - 1] in ("left", "right", "bilateral", "l", "r")
            out[k - side:j] = ([word, out[k - 1], "ribs"] if side else [word, "ribs"]) + out[k + 1:k + 1 + broken]
        k -= 1
    return out


_SIDE_LETTERS = {"l": "left", "r": "right", "lt": "left", "rt": "right"}


def _ribs_numbered_before(tokens: list[str]) -> list[str]:
    """"R 4-6 rib fx", "left 9-11 rib fractures": a range of rib numbers before the noun, written as cardinals, states
    how many ribs (three), not a count of eleven; a side's letter before it is the side ("L 4-6" is no vertebra)."""
    if "ribs" not in tokens and "rib" not in tokens:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 1, 1, -1):
        if out[k] not in ("ribs", "rib"):
            continue
        j, numbers, span = k - 1, [], False
        while j >= 0 and out[j].isdigit() and 1 <= int(out[j]) <= 12:
            numbers.insert(0, int(out[j]))
            if j >= 2 and out[j - 1] in (",", "and", "to", "through", "-") and out[j - 2].isdigit():
                span = span or out[j - 1] in ("to", "through", "-")
                j -= 2
            elif j >= 1 and out[j - 1].isdigit():
                span = True  # "4-6": the tokeniser has dropped the hyphen
                j -= 1
            else:
                j -= 1
                break
        start = j + 1
        if len(numbers) < 2 or (start > 0 and out[start - 1].isdigit()):
            continue
        n = numbers[-1] - numbers[0] + 1 if span and len(numbers) == 2 and numbers[-1] > numbers[0] \
            else len(numbers)
        if n < 2:
            continue
        word = next((w for w, v in _NUMBER_WORDS.items() if v == str(n)), str(n))
        side = _SIDE_LETTERS.get(out[start - 1]) if start > 0 else None
        if side is not None:
            start -= 1
        out[start:k + 1] = [word, *((side,) if side else ()), "ribs"] if side else [word, "ribs"]
    return out


#: where on one rib ("the posterior left sixth rib"): each a part of the numbered rib
_RIB_PART_WORDS = {"anterior": "anterior", "anteriorly": "anterior", "posterior": "posterior",
                   "posteriorly": "posterior", "lateral": "lateral", "laterally": "lateral"}


_ORDINAL_NAMES = {v: w for w, v in _ORDINAL_WORDS.items()}


def _one_rib_at(tokens: list[str], j: int) -> tuple[int, int] | None:
    """The number of the one rib named at ``j`` ("6 th rib", "sixth rib") and where its noun is, or None."""
    ordinal = _ordinal_at(tokens, j)
    if ordinal is None or not 1 <= ordinal[0] <= 12:
        return None
    noun = j + ordinal[1]
    return (ordinal[0], noun) if noun < len(tokens) and tokens[noun] == "rib" else None


def _rib_parts(tokens: list[str]) -> list[str]:
    """One numbered rib, with where on it, in one order: "the posterior left sixth rib", "the posterior aspect of
    the left 6th rib", "the left 6th rib posteriorly" all read "the left posterior sixth rib" (the lexicon's parts
    of the numbered rib: a fracture of the anterior sixth rib is not one of the posterior sixth rib)."""
    if "rib" not in tokens:
        return tokens
    out = list(tokens)
    k = 0
    while k < len(out):
        rib = _one_rib_at(out, k)
        if rib is None or (k > 0 and (out[k - 1] in ("and", "to", "through", ",") or _ordinal_at(out, k - 1))):
            k += 1
            continue
        number, noun = rib
        start = k - 1 if k > 0 and out[k - 1] in ("left", "right", "l", "r") else k
        part, cut = None, None
        # before: "posterior [left] 6th rib", "posterior aspect/part/portion of the [left] 6th rib"
        b = start - 1
        if b >= 0 and out[b] in ("the", "a"):
            b -= 1
        if b >= 2 and out[b] == "of" and out[b - 1] in ("aspect", "part", "portion", "arc", "end"):
            if out[b - 2] in _RIB_PART_WORDS:
                part, cut = _RIB_PART_WORDS[out[b - 2]], (b - 2, start)
        elif b >= 0 and out[b] in _RIB_PART_WORDS and b == start - 1:
            part, cut = _RIB_PART_WORDS[out[b]], (b, start)
        # after: "the left 6th rib posteriorly", "right 8th rib fracture, posteriorly"
        if part is None:
            for a in range(noun + 1, min(noun + 4, len(out))):
                if out[a] in ("posteriorly", "anteriorly", "laterally"):
                    part, cut = _RIB_PART_WORDS[out[a]], (a, a + 1)
                    break
                if out[a] in ("and", "rib", "ribs", "with", "."):
                    break
        name = [_ORDINAL_NAMES[number], "rib"]
        if part is None:
            out[k:noun + 1] = name
            k = k + len(name)
            continue
        head = out[start:k]  # the side, if named
        if cut[0] > noun:  # the part said after the rib: drop it there first (with its comma)
            dropped = cut[0] - 1 if out[cut[0] - 1] == "," and out[cut[1]:cut[1] + 1] in ([], ["."], [","]) else cut[0]
            del out[dropped:cut[1]]
        else:
            start = cut[0]
        out[start:noun + 1] = [*head, part, *name]
        k = start + len(head) + 3
    return out


_POLE_WORDS = frozenset({"upper", "lower", "superior", "inferior"})


def _poles_of_a_sided_lobe(tokens: list[str]) -> list[str]:
    """"the upper pole of the right thyroid lobe", "the lower pole of the left lobe of the thyroid": the side goes
    before the pole ("the right upper pole of the thyroid"), so the pole and its lobe read as one part."""
    if "pole" not in tokens or "lobe" not in tokens:
        return tokens
    out = list(tokens)
    k = 0
    while k + 4 < len(out):
        if out[k] in _POLE_WORDS and out[k + 1] == "pole" and out[k + 2] == "of":
            j = k + 3 + (out[k + 3] == "the")
            if j + 1 < len(out) and out[j] in ("left", "right"):
                side, m = out[j], j + 1
                thyroid = m < len(out) and out[m] == "thyroid"
                m += thyroid
                if m < len(out) and out[m] == "lobe":
                    m += 1
                    if m + 1 < len(out) and out[m] == "of" and "thyroid" in out[m + 1:m + 3]:
                        m = out.index("thyroid", m + 1) + 1
                        thyroid = True
                        if m < len(out) and out[m] == "gland":
                            m += 1
                    if thyroid:
                        out[k:m] = [side, out[k], "pole", "of", "the", "thyroid"]
        k += 1
    return out


#: the vertebrae in order, for a range ("T11 to L1" is three)
_VERTEBRAE = [f"{r}{n}" for r, top in (("c", 7), ("t", 12), ("l", 5), ("s", 5)) for n in range(1, top + 1)]
_VERTEBRA_INDEX = {v: k for k, v in enumerate(_VERTEBRAE)}


def _vertebra(tokens: list[str], j: int) -> int | None:
    """The vertebra written at ``j`` ("l", "1" for L1), as its place in the spine, or None."""
    if j + 1 < len(tokens) and tokens[j] in ("c", "t", "l", "s") and tokens[j + 1].isdigit():
        return _VERTEBRA_INDEX.get(tokens[j] + tokens[j + 1])
    return None


def _vertebrae_counted(tokens: list[str]) -> list[str]:
    """"Compression fractures of L1 and L2", "T11, T12 and L1 fractures", "T11 to L1": vertebrae listed (or a
    range with both ends named) state how many, written as a count before the list the way "the left 4th and 5th
    ribs" is read. "L4-5" (one disc level) and "L4-L5" (a level or two vertebrae) are left alone."""
    if not {"c", "t", "l", "s"}.intersection(tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        first = _vertebra(tokens, k)
        if first is None:
            out.append(tokens[k])
            k += 1
            continue
        second = _vertebra(tokens, k + 2)
        if second is None and k + 3 < len(tokens) and tokens[k + 2] == "on" and _vertebra(tokens, k + 3) == first + 1:
            # "anterolisthesis of L4 on L5": the slip is at the level between the two, L4-L5
            out.extend([*tokens[k:k + 2], *tokens[k + 3:k + 5]])
            k += 5
            continue
        if second is not None and second - first == 1:  # "L4-L5", "L5/S1": one disc level
            out.extend(tokens[k:k + 4])
            k += 4
            continue
        levels, j, span = [first], k + 2, False
        if second is not None and second > first:  # "T11-L1" (the hyphen is no token): a range
            levels, j, span = [first, second], k + 4, True
        while j + 2 < len(tokens) and tokens[j] in (",", "and", "to", "through") and _vertebra(tokens, j + 1) is not None:
            span = span or tokens[j] in ("to", "through")
            levels.append(_vertebra(tokens, j + 1))
            j += 3
        n = levels[-1] - levels[0] + 1 if span and len(levels) == 2 and levels[1] > levels[0] else len(levels)
        if len(levels) >= 2 and n <= 12:
            word = next((w for w, v in _NUMBER_WORDS.items() if v == str(n)), str(n))
            # "left T6, T7 and T8 transverse process fractures": the count goes before the side, which stays with
            # the levels it places
            out.insert(len(out) - 1 if out and out[-1] in ("left", "right", "l", "r", "bilateral") else len(out),
                       word)
            if n != len(levels):  # "T11 to L1": each vertebra of the range is a level of its own
                named = [_VERTEBRAE[v] for v in range(levels[0], levels[-1] + 1)]
                words = [w for v in named for w in (",", v[0], v[1:])][1:]
                words[-3] = "and"
                out.extend(words)
                k = j
                continue
        out.extend(tokens[k:j])
        k = j
    return out


#: numbered parts whose numbers are listed after one noun ("segments 6 and 7", "station 4R and 7")
_NUMBERED_PARTS = {"segment": "segment", "segments": "segment", "station": "station", "stations": "station",
                   "level": "level", "levels": "level"}
_NODE_WORDS = frozenset({"node", "nodes", "lymph", "ln", "lns", "lymphadenopathy", "adenopathy"})
_ROMAN = frozenset({"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"})


def _part_number(tokens: list[str], j: int) -> int:
    """The length of a part's number at ``j`` ("7", "4 r" for 4R, "4 a" for 4a, "vii"), 0 when there is none."""
    if j < len(tokens) and tokens[j].isdigit() and len(tokens[j]) <= 2:
        if j + 1 < len(tokens) and tokens[j + 1] in UNITS:
            return 0  # "segments II and VII, 8 mm and 12 mm": a size after the list, no part
        return 2 if j + 1 < len(tokens) and tokens[j + 1] in ("r", "l", "a", "b") else 1
    return 1 if j < len(tokens) and tokens[j] in _ROMAN and tokens[j] != "x" else 0


def _bracket_at(tokens: list[str], j: int) -> int:
    """The length of a short bracketed aside at ``j`` ("( 19 mm sa )"), 0 for none."""
    if j < len(tokens) and tokens[j] == "(" and ")" in tokens[j + 1:j + 6]:
        return tokens.index(")", j + 1) - j + 1
    return 0


def _numbered_parts_listed(tokens: list[str]) -> list[str]:
    """"Segment 6 and 7 liver lesions", "stations 4R and 7": numbers listed after one part noun are each a part,
    written out ("segment 6 and segment 7") so that each is read as a site, and no number as a count."""
    if _NUMBERED_PARTS.keys().isdisjoint(tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        noun = _NUMBERED_PARTS.get(tokens[k])
        size = _part_number(tokens, k + 1) if noun else 0
        if not size:
            out.append(tokens[k])
            k += 1
            continue
        j = k + 1 + size
        # "station 7 (19 mm), 4R (11 mm) and 10R (13 mm)": each part's bracketed size stays with it
        j += _bracket_at(tokens, j)
        parts = [tokens[k + 1:j]]
        joiners = []
        while j + 1 < len(tokens) and tokens[j] in (",", "and", "or", "&") and _part_number(tokens, j + 1) \
                and tokens[j + 1 + _part_number(tokens, j + 1):][:1] not in (["mm"], ["cm"], ["x"], ["millimetres"],
                                                                             ["millimeters"], ["centimetres"],
                                                                             ["centimeters"]):
            # (not a size after the part: "a cyst in segment 6, 8 mm")
            n = _part_number(tokens, j + 1)
            n += _bracket_at(tokens, j + 1 + n)
            joiners.append(tokens[j])
            parts.append(tokens[j + 1:j + 1 + n])
            j += 1 + n
        # a station list is written out only before its node word, or after it ("enlarged nodes at station 7, 4R
        # and 10R"): "stations 4L and 2L not enlarged" keeps the plural that names the nodes themselves
        station_alone = noun == "station" and not _NODE_WORDS.intersection(tokens[j:j + 3]) and not (
            tokens[k] in ("station", "stations") and _NODE_WORDS.intersection(tokens[max(0, k - 4):k]))
        if len(parts) < 2 or station_alone:
            out.extend(tokens[k:j])
        else:
            out.extend([noun, *parts[0]])
            for joiner, part in zip(joiners, parts[1:]):
                out.extend([joiner, noun, *part])
        k = j
    return out


_NUMBER_WORDS = {w: str(k) for k, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven",
                                                    "eight", "nine", "ten", "eleven", "twelve"))}


_SIGN_VERBS = frozenset({"silhouetting", "silhouettes", "obscuring", "obscures", "effacing", "effaces",
                         "obliterating", "obliterates"})


_BORDERS = frozenset({"border", "outline", "contour", "silhouette", "margin"})
_SIGN_END = frozenset({",", "and", "with", "consistent", "compatible", "likely", "in", "which", "suggesting"})


def _without_silhouette_signs(tokens: list[str]) -> list[str]:
    """"opacity in the right middle lobe silhouetting the right heart border": the border is how the opacity is
    placed (the silhouette sign), not a second site of the finding."""
    if "loss" in tokens:  # "with loss of the right heart border": the same sign
        tokens = [("obscuring" if t == "loss" and tokens[k + 1:k + 2] == ["of"] and _BORDERS.intersection(
            tokens[k + 2:k + 7]) else t) for k, t in enumerate(tokens)]
    if not _SIGN_VERBS.intersection(tokens):
        return tokens
    out: list[str] = []
    skipping = False
    for k, tok in enumerate(tokens):
        if tok in _SIGN_VERBS:
            skipping = True
            continue
        if skipping and tok in _SIGN_END and k > 0 and tokens[k - 1] not in _SIGN_VERBS:
            skipping = False
        if not skipping:
            out.append(tok)
    return out


#: "two of the sternal wires are fractured": a part of a set counted, then what is said of that part
_PARTITIVE_VERBS = frozenset({"are", "were", "is", "was", "appear", "appears", "remain", "remains"})


def _partitive_counts(tokens: list[str]) -> list[str]:
    """"two of the sternal wires are fractured", "three of these nodes are enlarged": the count is of the ones the
    predicate describes; written as one noun phrase ("two fractured sternal wires") the count reaches its
    finding."""
    if "of" not in tokens or _PARTITIVE_VERBS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    k = 0
    while k < len(out) - 4:
        count = out[k]
        if (count.isdigit() or count in _NUMBER_WORDS) and out[k + 1] == "of" and out[k + 2] in ("the", "these",
                                                                                                  "those"):
            verb = next((j for j in range(k + 4, min(k + 7, len(out) - 1)) if out[j] in _PARTITIVE_VERBS), None)
            if verb is not None and all(t.isalpha() for t in out[k + 3:verb]) and out[verb + 1].isalpha():
                out[k:verb + 2] = [count, out[verb + 1], *out[k + 3:verb]]
        elif (count.isdigit() or count in _NUMBER_WORDS) and out[k + 1] == "of" and out[k + 2] in (
                "which", "them", "whom") and out[k + 3] in _PARTITIVE_VERBS and out[k + 4].isalpha():
            # "sternotomy wires, two of which are fractured": the count is of the ones the predicate describes
            out[k:k + 5] = [count, out[k + 4]]
        k += 1
    return out


#: the units of a time span ("versus six months ago")
_TIME_UNITS = frozenset({"day", "days", "week", "weeks", "month", "months", "year", "years", "hour", "hours"})
_PRIOR_TIMES = frozenset({"this", "yesterday", "prior", "previous", "earlier", "last", "today", "baseline"})
#: the words that name an earlier study after "versus the" ("versus the pre-op film", "vs the previous CT")
_PRIOR_STUDY_WORDS = frozenset({"prior", "previous", "earlier", "last", "baseline", "pre", "preop", "preoperative",
                                "postoperative", "post", "admission", "initial", "original", "index", "most"})


#: what a public corpus writes for a de-identified word (MIMIC's "___", split by the tokeniser; IU X-ray's "XXXX")
_PLACEHOLDERS = frozenset({"_", "xxxx"})


_SIZE_CHANGE_WORDS = frozenset({">", "\u2192", "now", "to", "currently"})
#: a word that marks the size after it as the prior one ("previously 6 mm, now 9 mm")
_PRIOR_MARKERS = frozenset({"previously", "prev", "formerly", "was", "were"})


def _now_size(tokens: list[str], j: int) -> int | None:
    """Where the current size starts in ", now 9 mm", "and currently measures 9 mm" (from ``j``), else None."""
    k = j
    while k < len(tokens) and tokens[k] in (",", "and") and k - j < 2:
        k += 1
    if k == j or k >= len(tokens) or tokens[k] not in ("now", "currently"):
        return None
    k += 1
    if k < len(tokens) and tokens[k] in ("measures", "measuring", "measure", "at"):
        k += 1
    return k if k + 1 < len(tokens) and _number(tokens[k]) and tokens[k + 1] in UNITS else None


def _size_changes(tokens: list[str]) -> list[str]:
    """"34 -> 21 mm", "from 12 to 8 mm", "2.0 cm, now 1.4 cm": the first size is the prior one; written as the
    reader reads a prior size ("21 mm previously 34 mm")."""
    if _SIZE_CHANGE_WORDS.isdisjoint(tokens):
        return tokens
    out = list(tokens)

    def at(i: int) -> str:
        return out[i] if 0 <= i < len(out) else ""

    k = 0
    while k < len(out):
        arrow = 2 if (at(k + 1), at(k + 2)) == ("-", ">") else 1 if at(k + 1) == "\u2192" else 0
        if arrow and _number(at(k)) and _number(at(k + arrow + 1)) and at(k + arrow + 2) in UNITS:
            unit = at(k + arrow + 2)
            out[k:k + arrow + 3] = [at(k + arrow + 1), unit, "previously", at(k), unit]
        elif at(k) == "from" and _number(at(k + 1)) and at(k + 2) == "to" and _number(at(k + 3)) \
                and at(k + 4) in UNITS and not _a_range(out, k, k + 5):
            unit = at(k + 4)
            out[k:k + 5] = [at(k + 3), unit, "previously", at(k + 1), unit]
        elif _number(at(k)) and at(k + 1) == "to" and _number(at(k + 2)) and at(k + 3) in UNITS \
                and at(k - 1) != "from" and _CHANGE_WORDS.intersection(out[max(0, k - 5):k]) \
                and not _a_range(out, k, k + 4):
            unit = at(k + 3)  # "smaller (61 to 28 mm)": a change word before the two sizes
            out[k:k + 4] = [at(k + 2), unit, "previously", at(k), unit]
        elif _number(at(k)) and at(k + 1) in UNITS and (now := _now_size(out, k + 2)) is not None:
            # "2.0 cm, now 1.4 cm"; "previously 6 mm, now 9 mm" and "was 6 mm and currently measures 9 mm" (the
            # marker of the prior size is written again after the current one)
            start = k - 1 if at(k - 1) in _PRIOR_MARKERS else k
            out[start:now + 2] = [at(now), at(now + 1), ",", "previously", at(k), at(k + 1)]
            k = start
        else:
            k += 1
            continue
        k += 5
    return out


#: words that make "A to B mm" a change of size (else it is a range: "3 to 7 mm", "ranging from 3 to 7 mm")
_CHANGE_WORDS = frozenset({"increased", "increase", "increasing", "decreased", "decrease", "decreasing", "grown",
                           "grew", "enlarged", "enlarging", "reduced", "reduction", "smaller", "larger", "bigger",
                           "shrunk", "shrunken", "regressed", "progressed", "changed", "diminished", "now", "interval"})
_RANGE_WORDS = frozenset({"ranging", "range", "ranges", "varying", "between", "size", "sizes"})


def _a_range(tokens: list[str], start: int, end: int) -> bool:
    """"Nodules ranging from 3 to 7 mm", "from 3 to 7 mm in size": the two sizes bound a range, not a change."""
    return bool(_RANGE_WORDS.intersection(tokens[max(0, start - 4):start])) or tokens[end:end + 2] == ["in", "size"]


def _number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


# abbreviations that stand for several words the reader reads one by one: "SBO" is an obstruction whose site is
# the small bowel, as "small bowel obstruction" is read (a sub-location and an observation), not a finding of its own
_EXPANSIONS = {"stn": ("station",), "jxn": ("junction",), "jct": ("junction",), "sbo": ("small", "bowel", "obstruction"),
               "contralat": ("contralateral",), "ipsilat": ("ipsilateral",),
               "lbo": ("large", "bowel", "obstruction"),
               # the verb names the device: "interval extubation" removed the tube, "intubated" placed it
               "extubation": ("removal", "of", "endotracheal", "tube"),
               "extubated": ("endotracheal", "tube", "removed"),
               "intubated": ("endotracheal", "tube", "in", "place"),
               # a line's access side and vein in one word: "RIJ CVC", "LUE PICC", "L SCV line"
               "rij": ("right", "ij"), "lij": ("left", "ij"), "rue": ("right", "upper", "extremity"),
               "lue": ("left", "upper", "extremity"), "rscv": ("right", "subclavian"), "lscv": ("left", "subclavian"),
               "scv": ("subclavian",),
               # "R prox ureter", "prox SMA": where along the organ, dictated short
               "prox": ("proximal",),
               # "small R pl eff": the pleural space's abbreviation
               "pl": ("pleural",),
               # a finding's dictated initials: "LUL GGN" is a ground-glass nodule, "CAC" coronary calcification
               "ggn": ("ground", "glass", "nodule"), "ggns": ("ground", "glass", "nodules"),
               "cac": ("coronary", "artery", "calcification"),
               "dz": ("disease",),  # "old granulomatous dz", "no acute cardiopulmonary dz"
               "infxn": ("infection",), "infxns": ("infections",),  # "?atypical infxn vs edema"
               # a tip's distance dictated short: "ETT 4 cm abv carina"
               "abv": ("above",),
               # the abdomen's quadrants dictated by their initials: "RLQ collection", "tender LUQ"
               "rlq": ("right", "lower", "quadrant"), "llq": ("left", "lower", "quadrant"),
               "ruq": ("right", "upper", "quadrant"), "luq": ("left", "upper", "quadrant"),
               "rif": ("right", "iliac", "fossa"), "lif": ("left", "iliac", "fossa"),
               # a conjunction written as its sign: "6th & 7th rib fx", "1.0 & 1.3 cm", "liver & spleen normal"
               "&": ("and",),
               # a site or finding dictated short: "L supraclav LN", "desc colon", "coronary artery calcs"
               "supraclav": ("supraclavicular",), "calcs": ("calcifications",),
               # "susp for TCC": suspicious for; "small vol FF between loops": free fluid
               "susp": ("suspicious",), "ff": ("free", "fluid"),
               # "upstream SB dilated to 4 cm" (small bowel), "no pneumatosis/PVG" (portal venous gas)
               "sb": ("small", "bowel"), "pvg": ("portal", "venous", "gas"),
               # the bile ducts' dilatation dictated by its initials: "no IHBD", "mild intrahepatic BDD"
               "ihbd": ("intrahepatic", "biliary", "dilatation"), "bdd": ("bile", "duct", "dilatation"),
               # a radiograph's zones by their initials: "1.5 cm nodule RLZ", "LMZ consolidation"
               "rlz": ("right", "lower", "zone"), "llz": ("left", "lower", "zone"), "rmz": ("right", "mid", "zone"),
               "lmz": ("left", "mid", "zone"), "ruz": ("right", "upper", "zone"), "luz": ("left", "upper", "zone")}

#: what a film's "port" (portable) stands beside in a radiograph's title ("Port AP CXR", "CXR AP port", "port
#: semi-erect film"); a port beside none of them is the device ("chest port", "port in the left chest wall")
_PORTABLE_TITLE = frozenset({"ap", "pa", "cxr", "xr", "film", "radiograph", "supine", "erect", "semierect",
                             "semi", "upright", "view", "views"})
#: what ends the name that a protocol is called by in a study's title ("CT chest PE protocol", "renal stone
#: protocol CT"): the finding named there is what the study looks for, not one found
_PROTOCOL_NAME_ENDS = frozenset({",", ":", ";", "(", ")", "ct", "cta", "ctpa", "mri", "mr", "mra", "study", "scan",
                                 "chest", "abdomen", "pelvis", "a", "p", "with", "without", "contrast", "noncontrast",
                                 "/", "and", "the", "on", "per", "using"})


#: words beside "LAD" that make it the left anterior descending artery, not lymphadenopathy ("calcification of the
#: LAD", "proximal LAD stenosis", "LAD stent"); "no LAD", "hilar LAD" stay lymphadenopathy
_CORONARY_CONTEXT = frozenset({"coronary", "coronaries", "calcification", "calcified", "plaque", "plaques",
                               "stenosis", "stent", "stents", "occlusion", "proximal", "mid", "distal", "artery",
                               "territory", "lcx", "rca", "circumflex", "cabg", "graft", "agatston", "calcium"})


#: the words of a study's title, before a bare "w/o" (without contrast)
_STUDY_TITLE = frozenset({"ct", "cta", "ctpa", "mri", "mr", "mra", "ctu", "ivp"})
_HEAD_STUDIES = frozenset({"ct", "cta", "ctv", "mri", "mr", "mra", "mrv", "noncontrast", "unenhanced", "plain"})
#: what is said of the pulmonary artery abbreviated "PA" ("PA 3.1 cm", "dilated PA", "PA dilatation"); a
#: radiograph's "PA" (posteroanterior: "PA and lateral", "PA chest") is neither measured nor dilated
#: a branch level said before "PA" ("the right interlobar PA"): a branch of the pulmonary artery, not the main one
_PA_BRANCH_LEVELS = frozenset({"interlobar", "lobar", "segmental", "subsegmental", "descending"})
#: arteries named by their adjective, abbreviated "a." in terse reports ("thrombus in the R interlobar a.",
#: "occluded L renal a."): an "a" after one, closing its phrase, is the artery, no article
_ARTERY_ADJECTIVES = frozenset({"interlobar", "lobar", "segmental", "renal", "splenic", "hepatic", "mesenteric",
                                "iliac", "femoral", "carotid", "vertebral", "subclavian", "pulmonary", "coronary",
                                "gastroduodenal", "brachial", "popliteal", "coeliac", "celiac", "axillary", "tibial",
                                "peroneal", "gastric", "basilar", "cerebral"})
_ARTERY_ABBREVIATION_AFTER = frozenset({",", ";", ")", ":", "and", "or", "with", "."})
_PA_SAID_BEFORE = frozenset({"dilated", "enlarged", "prominent", "distended", "ectatic", "aneurysmal", "main", "mpa"})
_PA_SAID_AFTER = frozenset({"dilatation", "dilation", "dilated", "enlarged", "enlargement", "measures", "measuring",
                            "diameter", "calibre", "caliber", "trunk", "prominent", "normal", "nml", "not"})


def _pa_is_the_artery(tokens: list[str], k: int) -> bool:
    nxt = tokens[k + 1] if k + 1 < len(tokens) else ""
    prev = tokens[k - 1] if k else ""
    if prev == "main":
        return False  # "main PA" is already the artery
    return prev in _PA_SAID_BEFORE or nxt in _PA_SAID_AFTER or (
        _is_number(nxt) and k + 2 < len(tokens) and tokens[k + 2] in UNITS)


def _counts_with_their_sign(tokens: list[str]) -> list[str]:
    """"multiple (>5) cysts", ">10 nodules": a count written with its sign (no unit after it) is "more than" that
    many, read as the many it is; brackets around it ("multiple (>5)") go, so that it reaches its noun."""
    out: list[str] = []
    k = 0
    while k < len(tokens):
        t = tokens[k]
        if t == ">" and k + 1 < len(tokens) and tokens[k + 1].isdigit() and (
                k + 2 == len(tokens) or tokens[k + 2] not in UNITS):
            n = int(tokens[k + 1])
            word = next((w for w, v in _NUMBER_WORDS.items() if v == str(n)), None)
            said = ["more", "than", word] if word and n >= 2 else ["numerous"] if n > 12 else [t, tokens[k + 1]]
            bracketed = out and out[-1] == "(" and k + 2 < len(tokens) and tokens[k + 2] == ")"
            if bracketed:
                out.pop()
            out.extend(said)
            k += 3 if bracketed else 2
            continue
        out.append(t)
        k += 1
    return out


_COUNT_WORDS = frozenset({"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"})


_TIME_ADJECTIVES = frozenset({"acute", "chronic", "subacute"})


def _acute_inside_a_name(tokens: list[str], lex: Lexicon) -> list[str]:
    """"Interstitial oedematous acute pancreatitis", "calculous acute cholecystitis": "acute" set inside a name the
    lexicon knows whole ("oedematous pancreatitis") is read before it, so the name is not split into a second
    finding ("oedematous" alone: oedema)."""
    if _TIME_ADJECTIVES.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    for k in range(len(out) - 2, 0, -1):
        if out[k] in _TIME_ADJECTIVES and "OBS" in lex.phrase_kinds.get((out[k - 1], out[k + 1]), {}):
            out[k - 1], out[k] = out[k], out[k - 1]
    return out


def _duct_of_the_pancreas(tokens: list[str]) -> list[str]:
    """"Normal-calibre duct in the pancreatic head", "the duct of the pancreas": a bare "duct" placed in the pancreas
    is the pancreatic duct."""
    if "duct" not in tokens:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 2, -1, -1):
        if out[k] != "duct" or (k > 0 and out[k - 1] in ("pancreatic", "bile", "common", "hepatic", "cystic", "main")):
            continue
        after = out[k + 1:k + 4]
        if after[:1] and after[0] in ("in", "of", "within") and {"pancreas", "pancreatic"} & set(after[1:]):
            out[k:k + 1] = ["pancreatic", "duct"]
    return out


def _counts_or_more(tokens: list[str]) -> list[str]:
    """"5 or more cysts", "three or more lesions": the count stated as a lower bound, read as "at least 5"."""
    if "more" not in tokens:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 3, -1, -1):
        if out[k + 1:k + 3] == ["or", "more"] and (out[k].isdecimal() or out[k] in _COUNT_WORDS):
            out[k:k + 3] = ["at", "least", out[k]]
    return out


def _abbreviated_words(tokens: list[str]) -> list[str]:
    """"stn 7" is "station 7", "SBO" "small bowel obstruction", "LAD" in a coronary sentence the artery, "w/"
    "with", "d/t" "due to" (so that what follows it is read as the finding's companion, as after "with")."""
    # (the words are looked up in a set, made again after each rewrite that changes them)
    words = set(tokens)
    if ">" in words:
        tokens = _counts_with_their_sign(tokens)
        words = set(tokens)
    if "w" in words and "o" in words and not _STUDY_TITLE.isdisjoint(words):
        # "CT chest w/o:", "CTU w/o, ...": a study title's bare "w/o" is without contrast, no denial of what follows
        for k in range(1, len(tokens) - 1):
            if tokens[k:k + 2] == ["w", "o"] and _STUDY_TITLE.intersection(tokens[:k]) and (
                    k + 2 == len(tokens) or tokens[k + 2] in (":", ",")):
                tokens = [*tokens[:k], "noncontrast", *tokens[k + 2:]]
                words = set(tokens)
                break
    if "w" in words and "/" in words:
        out: list[str] = []
        for k, t in enumerate(tokens):
            if t == "/" and k and tokens[k - 1] == "w":
                out[-1] = "with"
            else:
                out.append(t)
        tokens = out
        words = set(tokens)
    if "d" in words and "t" in words:  # "hydronephrosis d/t a ureteric stone": due to (not "T" a vertebral level)
        tokens = [w for k, t in enumerate(tokens) if not (t == "t" and k and tokens[k - 1] == "d")
                  for w in (("due", "to") if t == "d" and k + 1 < len(tokens) and tokens[k + 1] == "t" else (t,))]
        words = set(tokens)
    if "head" in words:  # "CT head": the study of the brain, not the head of the pancreas
        tokens = ["brain" if t == "head" and k and tokens[k - 1] in _HEAD_STUDIES else t for k, t in enumerate(tokens)]
        words = set(tokens)
    if "a" in words and not _ARTERY_ADJECTIVES.isdisjoint(words):
        tokens = ["artery" if t == "a" and k and tokens[k - 1] in _ARTERY_ADJECTIVES and (
            k + 1 == len(tokens) or tokens[k + 1] in _ARTERY_ABBREVIATION_AFTER) else t for k, t in enumerate(tokens)]
        words = set(tokens)
    if "pa" in words:
        tokens = [w for k, t in enumerate(tokens)
                  for w in (("pulmonary", "artery") if t == "pa" and k and tokens[k - 1] in _PA_BRANCH_LEVELS
                            else (t,))]
        words = set(tokens)
    if "pa" in words:
        tokens = [w for k, t in enumerate(tokens)
                  for w in (("main", "pa") if t == "pa" and _pa_is_the_artery(tokens, k) else (t,))]
        words = set(tokens)
    if "lad" in words and _CORONARY_CONTEXT & words:
        tokens = [w for t in tokens for w in (("left", "anterior", "descending") if t == "lad" else (t,))]
        words = set(tokens)
    if "port" in words:
        # (the title's "chest" may stand between: "port chest radiograph", "port chest film")
        tokens = ["portable" if t == "port" and ({tokens[k - 1] if k else "", tokens[k + 1] if k + 1 < len(tokens)
                                                  else ""} & _PORTABLE_TITLE or tokens[k + 1:k + 2] == ["chest"]
                                                 and tokens[k + 2:k + 3] and tokens[k + 2] in _PORTABLE_TITLE)
                  else t for k, t in enumerate(tokens)]
        words = set(tokens)
    if "protocol" in words:
        tokens = _without_protocol_names(tokens)
        words = set(tokens)
    if "decompression" in words:  # "consider nasogastric decompression": a treatment, no tube seen
        tokens = [t for k, t in enumerate(tokens)
                  if not (t in _DECOMPRESSION_ROUTES and tokens[k + 1:k + 2] == ["decompression"])]
        words = set(tokens)
    if "pathology" in words:  # "correlate with pathology", "pathology results awaited": the laboratory
        tokens = ["histopathology" if t == "pathology" and (tokens[k - 1:k] and tokens[k - 1] in _LAB_BEFORE or
                                                            tokens[k + 1:k + 2] and tokens[k + 1] in _LAB_AFTER)
                  else t for k, t in enumerate(tokens)]
        words = set(tokens)
    if "primary" in words:
        tokens = [w for k, t in enumerate(tokens)
                  for w in (("primary", "tumour") if t == "primary" and _primary_is_the_tumour(tokens, k) else (t,))]
        words = set(tokens)
    if "ti" in words:  # "thickening of the TI": the terminal ileum ("TI-RADS" is the thyroid's score)
        tokens = [w for k, t in enumerate(tokens)
                  for w in (("terminal", "ileum") if t == "ti" and tokens[k + 1:k + 2] != ["rads"] else (t,))]
        words = set(tokens)
    if "desc" in words:  # "desc colon": the descending colon ("desc aorta" is a form the lexicon reads whole)
        tokens = ["descending" if t == "desc" and tokens[k + 1:k + 2] not in (["aorta"], ["ao"], ["aortic"]) else t
                  for k, t in enumerate(tokens)]
        words = set(tokens)
    if _EXPANSIONS.keys().isdisjoint(words):
        return tokens
    return [w for t in tokens for w in _EXPANSIONS.get(t, (t,))]


#: the words around "pathology" that make it the laboratory's report, not a disease ("aortic pathology")
_LAB_BEFORE = frozenset({"with", "to", "at", "awaiting", "await", "pending", "for", "by", "from", "per", "via",
                         "surgical", "tissue", "histological", "histologic", "on"})
_LAB_AFTER = frozenset({"result", "results", "report", "reports", "correlation", "sampling", "specimen", "specimens",
                        "confirmation", "review", "awaited", "pending", "showed", "shows", "confirmed"})
#: the routes a bowel or stomach is decompressed by, named before "decompression" as the treatment
_DECOMPRESSION_ROUTES = frozenset({"nasogastric", "ng", "ngt", "orogastric", "og", "nasojejunal", "rectal"})
#: what follows "primary" used as a noun, the primary tumour ("the rectal primary is again seen", "RUL primary
#: reduced to 29 mm", "the known primary, now 3 cm"): a verb, a preposition or a stop, never the noun it qualifies
_AFTER_PRIMARY_NOUN = frozenset({"", ",", ";", ".", "(", ")", "is", "was", "again", "reduced", "measures",
                                 "measuring", "measured", "now", "has", "had", "with", "remains", "unchanged",
                                 "stable", "decreased", "increased", "smaller", "larger", "and", "which", "previously",
                                 "appears", "in", "at", "shows", "demonstrates", "seen", "noted", "not", "versus",
                                 "vs", "from", "to", "since", "without", "grown", "shrunk", "progressed",
                                 "responded", "persists", "persisting", "redemonstrated", "re", "slightly",
                                 "minimally", "significantly", "markedly", "further", "also"})


def _primary_is_the_tumour(tokens: list[str], k: int) -> bool:
    """"rectal primary again seen", "the RUL primary measures 29 mm": "primary" stands for the primary tumour where
    no noun follows it; a primary of unknown or occult site is none that is seen."""
    prev = tokens[k - 1] if k else ""
    nxt = tokens[k + 1] if k + 1 < len(tokens) else ""
    return k > 0 and nxt in _AFTER_PRIMARY_NOUN and prev not in ("unknown", "occult", "no", "of", "post", "non")


def _without_protocol_names(tokens: list[str]) -> list[str]:
    """"CT chest PE protocol", "aortic dissection protocol": the words a study's protocol is named by (back to the
    study's own words, at most three) name what it looks for; they go, so that no finding is read from them."""
    out: list[str] = []
    for t in tokens:
        if t == "protocol":
            k = len(out)
            j = k
            while j > 0 and k - j < 3 and out[j - 1] not in _PROTOCOL_NAME_ENDS and out[j - 1] not in (
                    "no", "not", "without", "protocol"):
                j -= 1
            del out[j:]
        out.append(t)
    return out


_VALVES = {"mitral": "mitral", "aortic": "aortic", "tricuspid": "tricuspid", "pulmonary": "pulmonary",
           "pulmonic": "pulmonary"}
_VALVE_MAKERS = frozenset({"prosthetic", "mechanical", "bioprosthetic", "metallic", "metal", "transcatheter"})
_VALVE_DEVICES = frozenset({"prosthesis", "prostheses", "replacement", "replacements"})
#: valve devices whose name says the valve they replace
_VALVE_OF_DEVICE = {"tavi": "aortic", "tavr": "aortic", "avr": "aortic", "mvr": "mitral", "tvr": "tricuspid"}


def _valve_positions(tokens: list[str]) -> list[str]:
    """"prosthetic mitral valve", "aortic valve replacement", "TAVI": a valve prosthesis is placed by the valve it
    replaces, written as radiologists do ("a prosthetic valve in the mitral position"), so that a prosthesis in
    another valve's position is another device position, not the same device."""
    if "valve" not in tokens and _VALVE_OF_DEVICE.keys().isdisjoint(tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        t = tokens[k]
        nxt = tokens[k + 1:k + 4]
        if t in _VALVE_MAKERS and nxt[:1] and nxt[0] in _VALVES and nxt[1:2] == ["valve"]:
            out += [t, "valve", "in", "the", _VALVES[nxt[0]], "position"]  # "prosthetic mitral valve"
            k += 3
        elif t in _VALVES and nxt[:1] in (["and"], ["/"]) and nxt[1:2] and nxt[1] in _VALVES \
                and tokens[k + 3:k + 4] == ["valve"] and tokens[k + 4:k + 5] and tokens[k + 4] in _VALVE_DEVICES:
            # "mitral and aortic valve replacements": one in each position
            out += ["valve", "replacement", "in", "the", _VALVES[t], "position", "and",
                    "valve", "replacement", "in", "the", _VALVES[nxt[1]], "position"]
            k += 5
        elif t in _VALVES and nxt[:1] == ["valve"] and nxt[1:2] and nxt[1] in _VALVE_DEVICES:
            out += ["valve", nxt[1], "in", "the", _VALVES[t], "position"]  # "mitral valve prosthesis"
            k += 3
        elif t in _VALVE_OF_DEVICE and (k == 0 or tokens[k - 1] not in _VALVES):
            out += [t, "in", "the", _VALVE_OF_DEVICE[t], "position"]
            k += 1
        else:
            out.append(t)
            k += 1
    return out


def _comparisons(tokens: list[str]) -> list[str]:
    """"Versus 3 days prior: ...", "film versus this morning": "versus" before a time compares with a prior study;
    it offers no alternative (as in "pneumonia versus atelectasis"). A public corpus's de-identified date ("CXR vs
    ___", "new vs XXXX") is such a time."""
    if tokens and tokens[0] in ("versus", "vs"):
        return ["compared", "with", *tokens[1:]]
    for k, tok in enumerate(tokens[:-1]):
        if tok in ("versus", "vs") and (tokens[k + 1] in _PRIOR_TIMES or tokens[k + 1].isdigit()
                                        # "versus six months ago", "vs a week earlier": a spelled time span
                                        or (tokens[k + 1] in _NUMBER_WORDS or tokens[k + 1] in ("a", "one"))
                                        and tokens[k + 2:k + 3] and tokens[k + 2] in _TIME_UNITS
                                        or tokens[k + 1] in _PLACEHOLDERS or (
                                            # "versus the pre-op film", "vs the previous study": a study named
                                            tokens[k + 1] == "the" and k + 2 < len(tokens)
                                            and tokens[k + 2] in _PRIOR_STUDY_WORDS)):
            return [*tokens[:k], "compared", "with", *tokens[k + 1:]]
    return tokens


_RV_NAMES = (("rv",), ("right", "ventricle"), ("right", "ventricular"))
_LV_NAMES = (("lv",), ("left", "ventricle"), ("left", "ventricular"))
#: words between a ventricle (or its ratio) and its number: "RV/LV ratio is 1.4", "RV diameter measuring 52 mm"
_MEASURE_FILLERS = frozenset({"ratio", "diameter", "diameters", "dimension", "short", "axis", "transverse", "maximal",
                              "maximum", "of", "is", "was", "=", ":", "measures", "measured", "measuring", "at",
                              "approximately", "about", "approx", "~", "ratio", "the", "cavity", "internal"})
_ABOVE = (("greater", "than"), ("more", "than"), ("above",), ("exceeding",), ("exceeds",), (">",), ("over",))
_BELOW = (("less", "than"), ("below",), ("under",), ("<",))
_RATIO_JOINS = frozenset({"versus", "vs", "and", ",", "/", "to", "compared", "with", ":"})


def _name_at(tokens: list[str], k: int, names: tuple[tuple[str, ...], ...]) -> int:
    """The length of the name of ``names`` at ``k`` (0: none)."""
    return next((len(n) for n in names if tuple(tokens[k:k + len(n)]) == n), 0)


def _number_at(tokens: list[str], k: int) -> tuple[int, float | None, int]:
    """From ``k``: skip measure fillers, read a comparator and a number; (index after it, value, +1/-1/0 for a
    comparator above/below/none)."""
    while k < len(tokens) and tokens[k] in _MEASURE_FILLERS:
        k += 1
    sense = 0
    for words, sign in [(w, 1) for w in _ABOVE] + [(w, -1) for w in _BELOW]:
        if tuple(tokens[k:k + len(words)]) == words:
            k, sense = k + len(words), sign
            break
    try:
        return k + 1, float(tokens[k]), sense
    except (IndexError, ValueError):
        return k, None, sense


def _ventricle_ratios(tokens: list[str]) -> list[str]:
    """"RV/LV ratio of 1.4", "RV:LV > 1", "RV 52 mm versus LV 34 mm": the right ventricle measured against the left
    is the measure of right heart strain (CT pulmonary angiography). A ratio above 1 (or a right ventricle wider than
    the left) is read as the strain; either way the diameters are no size of a finding (neither of the strain nor of
    an enlarged left ventricle), and a ratio of 1 or less names no finding. Each ratio is read once ("RV/LV 1.2,
    suggestive of right heart strain": the strain named beside it is that finding)."""
    out = list(tokens)
    k = 0
    while k < len(out):
        rv = _name_at(out, k, _RV_NAMES)
        if not rv:
            k += 1
            continue
        j = k + rv
        if j < len(out) and out[j] in (":", "/", "to"):
            j += 1
        lv = _name_at(out, j, _LV_NAMES)
        strain: bool | None = None
        end = k
        if lv:  # a ratio: "RV/LV ratio 1.3"
            end, value, sense = _number_at(out, j + lv)
            if value is not None and 0 < value < 10:
                strain = value > 1 or (sense > 0 and value >= 1)
        else:  # two diameters: "RV 52 mm versus LV 34 mm"
            after_rv, first, sense1 = _number_at(out, j)
            unit1 = out[after_rv] if after_rv < len(out) else None
            if first is not None and not sense1 and unit1 in UNITS:
                q = after_rv + 1
                while q < len(out) and out[q] in _RATIO_JOINS | {"the"}:
                    q += 1
                lv = _name_at(out, q, _LV_NAMES)
                if lv and q > after_rv + 1:
                    end, second, sense2 = _number_at(out, q + lv)
                    unit2 = out[end] if end < len(out) else None
                    if second and not sense2 and unit2 in UNITS:
                        end += 1
                        strain = first * UNITS[unit1] > second * UNITS[unit2]
        if strain is None:
            k += 1
            continue
        # a sentence that names the strain itself gives the ratio as its evidence, no second finding ("RV/LV
        # ratio 1.3, suggestive of right heart strain")
        out[k:end] = ["right", "heart", "strain"] if strain and "strain" not in out else ["rv", "lv", "ratio"]
        k += 3
    return out if out != tokens else tokens


#: the findings an air bronchogram describes (an airspace opacity, or a mass or nodule it runs through)
_BRONCHOGRAM_HOSTS = frozenset({
    "consolidation", "consolidations", "consolidative", "consolidated", "opacity", "opacities", "opacification",
    "opacified", "density", "densities", "infiltrate", "infiltrates", "shadowing", "airspace", "pneumonia",
    "pneumonic", "collapse", "collapsed", "atelectasis", "atelectatic", "mass", "masses", "nodule", "nodules",
    "lesion", "lesions", "infarct", "infarction", "contusion", "haemorrhage", "hemorrhage", "ggo", "glass", "cancer",
    "carcinoma", "adenocarcinoma", "lymphoma", "tumour", "tumor", "whiteout", "haziness"})
_BRONCHOGRAM_DENIALS = frozenset({"no", "without", "not", "nor", "absent", "none", "free"})


def _air_bronchograms_alone(tokens: list[str]) -> list[str]:
    """"Air bronchograms in the left lower lobe": air bronchograms are seen only through airspace consolidation, so
    stated on their own they state it (Fleischner glossary); beside the consolidation, opacity or mass they describe
    ("consolidation with air bronchograms", "a mass without air bronchograms") they are its descriptor and name
    nothing, and denied on their own ("no air bronchograms") they deny no consolidation."""
    for k in range(len(tokens) - 1):
        if tokens[k] == "air" and tokens[k + 1] in ("bronchogram", "bronchograms"):
            if _BRONCHOGRAM_HOSTS.isdisjoint(tokens) and _BRONCHOGRAM_DENIALS.isdisjoint(tokens):
                return [*tokens[:k], "consolidation", "with", *tokens[k:]]
            return tokens
    return tokens


def _spelled_sizes(tokens: list[str]) -> list[str]:
    """"five centimetres above the carina" is a measurement, not a count of five."""
    if _NUMBER_WORDS.keys().isdisjoint(tokens):
        return tokens
    return [_NUMBER_WORDS[t] if t in _NUMBER_WORDS and k + 1 < len(tokens) and tokens[k + 1] in UNITS else t
            for k, t in enumerate(tokens)]


_MONTHS = frozenset({"january", "february", "march", "april", "june", "july", "august", "september", "october",
                     "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                     "nov", "dec"})  # not "may": "may represent"; "May 2024" is caught by its year


_YEARS = frozenset(str(year) for year in range(1950, 2100))


def _year(tok: str) -> bool:
    return len(tok) == 4 and tok.isdigit() and 1950 <= int(tok) <= 2099


def _date_part(tok: str) -> bool:
    return tok in _MONTHS or tok == "may" or (tok.isdigit() and len(tok) <= 2 and 1 <= int(tok) <= 31)


def _dates(tokens: list[str]) -> list[str]:
    """"not present in March 2026", "compared with 12/03/2025", "vs 3/2026": a date is the prior study's, so it is
    read as "the prior", and its numbers are not counts or sizes (the tokeniser has dropped the slashes)."""
    if _MONTHS.isdisjoint(tokens) and _YEARS.isdisjoint(tokens) and (
            "".join(tokens).isascii() or not any(map(_year, tokens))):  # other digits ("\u0661\u0669\u0665\u0660")
        return tokens
    out: list[str] = []
    k, n = 0, len(tokens)
    while k < n:
        end = k
        while end < n and end - k < 3 and _date_part(tokens[end]) and not _year(tokens[end]):
            end += 1
        if end < n and _year(tokens[end]):
            start, end = k, end + 1
            while end < n and end - start < 5 and tokens[end].isdigit() and len(tokens[end]) <= 2:
                end += 1  # ISO "2026 03 14"
        elif tokens[k] in _MONTHS and k > 0 and (tokens[k - 1] in ("in", "on", "since", "from", "of") or (
                tokens[k - 1] in ("vs", "versus") and tokens[k] != "dec")):  # ("vs dec": decreased)
            start, end = k, k + 1  # "not seen in March", "CT chest vs January: ..."
        else:
            out.append(tokens[k])
            k += 1
            continue
        if out and out[-1] in ("in", "on", "since", "from", "of", "with", "to", "dated", "vs", "versus"):
            out.append("the")
        out.append("prior")
        k = end
    return out


_DENSITY_WORDS = frozenset({"density", "attenuation", "of", "a", "measuring", "with", "mean", "an"})


def _without_densities(tokens: list[str]) -> list[str]:
    """"an adrenal nodule with a density of 5 HU", "attenuation of -10 HU": a measured density is no opacity and its
    number no size or count (a finding word for the look stays: "low attenuation lesion")."""
    if "hu" not in tokens:
        return tokens
    out = list(tokens)
    k = len(out) - 1
    while k > 0:
        if out[k] == "hu" and out[k - 1].lstrip("-").replace(".", "", 1).isdigit():
            start = k - 1
            while start > 0 and out[start - 1] in _DENSITY_WORDS:
                start -= 1
            del out[start:k + 1]
            k = start
        k -= 1
    return out


#: a numbered grade (AAST organ injury, hydronephrosis, spondylolisthesis, Kellgren-Lawrence...) is an ordinal
#: severity: one to five on the five-step scale, so "grade III" and "grade IV" are one grade apart
_GRADES = {"i": "minimal", "1": "minimal", "ii": "mild", "2": "mild", "iii": "moderate", "3": "moderate",
           "iv": "severe", "4": "severe", "v": "massive", "5": "massive"}


def _numbered_grades(tokens: list[str]) -> list[str]:
    """"a grade III splenic laceration" reads as "a moderate splenic laceration" (its dictated "gr III" too)."""
    if "grade" not in tokens and "gr" not in tokens:
        return tokens
    out: list[str] = []
    skip = False
    for k, tok in enumerate(tokens):
        if skip:
            skip = False
            continue
        if tok in ("grade", "gr") and k + 1 < len(tokens) and tokens[k + 1] in _GRADES:
            out.append(_GRADES[tokens[k + 1]])
            skip = True
        else:
            out.append(tok)
    return out


#: what makes an occlusion less than complete: "subtotal occlusion", "near-total occlusion", "nearly occluded"
_NEAR_WORDS = (("subtotal",), ("subtotally",), ("near", "total"), ("near", "complete"), ("near",), ("nearly",),
               ("almost",), ("near", "totally"), ("nearly", "completely"), ("almost", "completely"))
_OCCLUSION_AS_STENOSIS = {"occlusion": ["severe", "stenosis"], "occlusions": ["severe", "stenoses"],
                          "occluded": ["severely", "narrowed"], "occlusive": ["severely", "narrowed"],
                          "occluding": ["severely", "narrowing"]}


def _near_occlusions(tokens: list[str]) -> list[str]:
    """"subtotal occlusion of the right ICA", "the SFA is nearly occluded": an occlusion said to be less than
    complete is a severe stenosis, not an occlusion (the vessel is still open)."""
    if not {"subtotal", "subtotally", "near", "nearly", "almost"} & set(tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        n = next((len(w) for w in sorted(_NEAR_WORDS, key=len, reverse=True)
                  if tuple(tokens[k:k + len(w)]) == w and tokens[k + len(w):k + len(w) + 1]
                  and tokens[k + len(w)] in _OCCLUSION_AS_STENOSIS), 0)
        if n:
            out.extend(_OCCLUSION_AS_STENOSIS[tokens[k + n]])
            k += n + 1
            continue
        out.append(tokens[k])
        k += 1
    return out


def _sizes_up_to(tokens: list[str]) -> list[str]:
    """"right paratracheal up to 15 mm and subcarinal 13 mm", "nodes measuring up to 1.5 cm": "up to" before a size
    says it is the largest one measured, which is what a finding's size is; read without it, the size stands
    beside its site as any other does."""
    if "up" not in tokens:
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        # (set apart by a comma or bracket, "(segments 6 and 7), up to 4.5 cm" says the largest of the group)
        if tokens[k] == "up" and tokens[k + 1:k + 2] == ["to"] and k + 3 < len(tokens) and k > 0 \
                and tokens[k - 1] not in (",", ")", "(", ";", ":") and _is_number(tokens[k + 2]) \
                and tokens[k + 3] in UNITS:
            if out and out[-1] == "ln":  # "mediastinal LN up to 11 mm": the largest of several nodes
                out[-1] = "lns"
            k += 2
            continue
        out.append(tokens[k])
        k += 1
    return out


#: the words of a narrowing whose grade a percentage states ("70% stenosis", "narrowing of greater than 50%")
_NARROWING_WORDS = frozenset({"stenosis", "stenoses", "stenotic", "stenosed", "narrowing", "narrowed", "narrowings"})
_PLAQUE_WORDS = frozenset({"plaque", "plaques", "atheroma", "atheromatous"})
#: what bounds a percentage: below it ("< 50 %", "under 50%") or above it ("> 70 %", "greater than 50%")
_BELOW = (("less", "than"), ("<",), ("under",), ("below",))
_ABOVE = (("greater", "than"), ("more", "than"), (">",), ("over",), ("above",), ("at", "least"))
#: how a stenosis grade is named by its percentage (NASCET and the usual vascular grading): under 50% mild,
#: 50-69% moderate, 70-99% severe
_PERCENT_GRADES = ((70, "severe"), (50, "moderate"), (0, "mild"))


def _percent_at(tokens: list[str], k: int) -> tuple[int, float] | None:
    """The percentage at ``k`` ("70 %", "70 99 %", "50 to 69 percent", "< 50 %", "greater than 50 %"): how many
    tokens it takes and the value that grades it (a range by its lower bound, a bound just past it)."""
    shift, j = 0.0, k
    for words, sign in [(w, -1.0) for w in _BELOW] + [(w, 1.0) for w in _ABOVE]:
        if tuple(tokens[k:k + len(words)]) == words:
            shift, j = sign, k + len(words)
            break
    if j < len(tokens) and tokens[j] in ("~", "approximately", "approx", "about", "roughly", "nearly"):
        j += 1
    if not (j < len(tokens) and tokens[j].isdigit()):
        return None
    low = float(tokens[j])
    j += 1
    if j + 1 < len(tokens) and tokens[j] in ("to", "-") and tokens[j + 1].isdigit():
        j += 2
    elif j < len(tokens) and tokens[j].isdigit() and float(tokens[j]) > low:  # "70-99%" read as "70 99 %"
        j += 1
    if j < len(tokens) and tokens[j] in ("%", "percent") and 0 < low + shift < 100:
        return j + 1 - k, low + shift
    return None


def _percent_stenoses(tokens: list[str]) -> list[str]:
    """"50% stenosis of the left popliteal artery", "70-99% stenosis", "ICA stenosis under 50%", "greater than 50%
    narrowing": the percentage of a narrowing is its grade, read as the severity word (mild under 50%, moderate
    50-69%, severe 70-99%), so that a grade stated as a number and one stated in words are the same."""
    if "%" not in tokens and "percent" not in tokens or _NARROWING_WORDS.isdisjoint(tokens) and _PLAQUE_WORDS.isdisjoint(
            tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        got = _percent_at(tokens, k)
        if got is not None:
            n, value = got
            after = tokens[k + n:k + n + 3]
            before = tokens[max(0, k - 3):k]
            if not _NARROWING_WORDS.isdisjoint(after) or not _NARROWING_WORDS.isdisjoint(before):
                out.append(next(word for floor, word in _PERCENT_GRADES if value >= floor))
                k += n
                if k < len(tokens) and tokens[k] == "nascet":
                    k += 1
                continue
            if not _PLAQUE_WORDS.isdisjoint(before):
                # "ICAs: mild plaque, <50% bilaterally": a percentage said of a vessel's plaque is the narrowing
                # it causes
                out.extend([next(word for floor, word in _PERCENT_GRADES if value >= floor), "stenosis"])
                k += n
                # "a 70% NASCET stenosis", "70% (NASCET)": the grading method names no finding
                if k < len(tokens) and tokens[k] == "nascet":
                    k += 1
                continue
        out.append(tokens[k])
        k += 1
    return out


_DIAPHRAGM = frozenset({"diaphragm", "hemidiaphragm", "hemidiaphragms"})


_DISPLACING = frozenset({"displacing", "displaces", "pushing", "pushes", "deviating", "deviates", "shifting", "shifts"})


def _displacing_the_mediastinum(tokens: list[str]) -> list[str]:
    """"a large effusion displacing the mediastinum to the right", "a thyroid nodule displaces the trachea to the
    left": a finding pushing the mediastinum or trachea aside comes with a mediastinal shift, read as "with
    mediastinal shift" (so that the organ named just before the verb stays the pushing finding's)."""
    if _DISPLACING.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    for k in range(len(out) - 2, -1, -1):
        if out[k] in _DISPLACING and out[k + 1] == "the" and k + 2 < len(out) \
                and out[k + 2] in ("mediastinum", "trachea"):
            out[k:k + 3] = ["with", "mediastinal", "shift"]
    return out


#: what follows a device's "tips" ("catheters, tips in the SVC"), and the devices said before it
_TIP_PLACED = frozenset({"in", "at", "over", "of", "are", "project", "projects", "projecting", "overlie", "overlying",
                         "overlies", "terminate", "terminating", "terminates", "lie", "lying", "near", "within", "just",
                         "positioned", "located", "seen", "not", "both", "remain", "appear", "above", "below", "beyond"})
_TIP_OWNERS = frozenset({"catheter", "catheters", "line", "lines", "drain", "drains", "tube", "tubes", "lead", "leads",
                         "wire", "wires", "their", "its", "with", "both", "stents", "cannulae", "cannulas"})


def _tips_shunt(tokens: list[str]) -> list[str]:
    """"Patent TIPS extending from the right portal vein", "post TIPS": the transjugular intrahepatic portosystemic
    shunt, named by its letters ("tips shunt"); "central lines, tips in the SVC" are the lines' ends."""
    if "tips" not in tokens:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 1, -1, -1):
        if out[k] != "tips" or (k + 1 < len(out) and out[k + 1] in _TIP_PLACED | {"shunt", "stent", ","}) \
                or _TIP_OWNERS & set(out[max(0, k - 3):k]):
            continue
        out[k:k + 1] = ["tips", "shunt"]
    return out


_ATHEROMA_NOUNS = frozenset({"atherosclerosis", "atheroma", "calcification", "calcifications", "atheromatosis"})
_ATHEROMA_ADJECTIVES = frozenset({"atherosclerotic", "atheromatous", "calcific", "vascular"})
_ATHEROMA_HEADS = frozenset({"disease", "change", "changes", "calcification", "calcifications", "plaque", "plaques"})


def _aortoiliac_atheroma(tokens: list[str]) -> list[str]:
    """"Moderate aortoiliac atherosclerosis": the atheroma of the aorta and of the iliac arteries, each its own site
    ("atherosclerosis of the aorta and iliac arteries" reads two findings)."""
    out = list(tokens)
    for k in range(len(out) - 2, -1, -1):
        if out[k] != "aortoiliac" and not (out[k] == "aorto" and k + 2 < len(out) and out[k + 1] == "iliac"):
            continue
        j = k + 1 if out[k] == "aortoiliac" else k + 2
        if j < len(out) and out[j] in _ATHEROMA_NOUNS:
            end = j + 1
        elif j + 1 < len(out) and out[j] in _ATHEROMA_ADJECTIVES and out[j + 1] in _ATHEROMA_HEADS:
            end = j + 2
        else:
            continue
        out[k:end] = [*out[j:end], "of", "the", "aorta", "and", "iliac", "arteries"]
    return out if out != tokens else tokens


def _classification_in_brackets(tokens: list[str]) -> list[str]:
    """"Type B (Stanford) dissection": the classification named in brackets after its type is read before it, as
    "Stanford type B dissection" is."""
    out = list(tokens)
    for k in range(len(out) - 4, -1, -1):
        if out[k] == "type" and out[k + 2] == "(" and out[k + 3] in ("stanford", "debakey") \
                and k + 4 < len(out) and out[k + 4] == ")":
            out[k:k + 5] = [out[k + 3], "type", out[k + 1]]
    return out if out != tokens else tokens


_HILUM_WORDS = frozenset({"hilum", "hila", "hilar", "hilus"})


def _full_hila(tokens: list[str]) -> list[str]:
    """"Full right hilum", "the left hilum is full": a hilum called full is its fullness, read as "prominent" (the
    word "full" alone says nothing: "full inspiration", "full bladder")."""
    if "full" not in tokens or _HILUM_WORDS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    for k, w in enumerate(out):
        if w != "full":
            continue
        after = out[k + 1:k + 4]
        before = out[max(0, k - 4):k]
        if (after[:1] and after[0] in _HILUM_WORDS) or (after[1:2] and after[0] in _SIDES | {"both", "bilateral"}
                                                          and after[1] in _HILUM_WORDS) \
                or (before[-2:-1] and before[-1] in ("is", "are", "appears", "appear", "looks", "look")
                    and _HILUM_WORDS & set(before)):
            out[k] = "prominent"
    return out


_MIDLINE_ORGANS = frozenset({"mediastinum", "trachea"})
_MIDLINE_WORDS = frozenset({"midline", "central", "centrally", "centred", "centered", "undisplaced"})


def _midline_mediastinum(tokens: list[str]) -> list[str]:
    """"Mediastinum midline", "the trachea is central", "central trachea": the mediastinum where it belongs is no
    mediastinal shift, read as "not shifted"."""
    if _MIDLINE_ORGANS.isdisjoint(tokens) or _MIDLINE_WORDS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    for k in range(len(out) - 1, -1, -1):
        if out[k] not in _MIDLINE_ORGANS:
            continue
        j = k + 1
        while j < len(out) and out[j] in ("is", "remains", "appears", "lies", "in", "the"):
            j += 1
        end = j + 1 if j < len(out) and out[j] in _MIDLINE_WORDS else None
        if end is not None and (end == len(out) or out[end] in (".", ",", ";", "and")):
            out[k + 1:end] = ["is", "not", "shifted"]
        elif k > 0 and out[k - 1] in _MIDLINE_WORDS:  # "central trachea"
            out[k - 1:k + 1] = [out[k], "is", "not", "shifted"]
    return out


def _diaphragm_words(tokens: list[str]) -> list[str]:
    """"Raised left hemidiaphragm", "gas under the right hemidiaphragm": a side between the words and the diaphragm
    splits the lexicon's phrase, so "raised" / "high riding" say "elevated" and the gas is named free gas; the side
    then stays a site word of its own."""
    if _DIAPHRAGM.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    for k in range(len(out) - 1, -1, -1):
        if out[k] not in _DIAPHRAGM:
            continue
        j = k - 1 if k > 0 and out[k - 1] in _SIDES else k
        if j >= 1 and out[j - 1] == "raised":
            out[j - 1] = "elevated"
        elif j >= 2 and out[j - 2:j] == ["high", "riding"]:
            out[j - 2:j] = ["elevated"]
        elif j >= 3 and out[j - 1] == "the" and out[j - 2] in ("under", "beneath", "below") \
                and out[j - 3] in ("gas", "air") and (j < 4 or out[j - 4] != "free"):
            out.insert(j - 3, "free")
    return out


#: a pleural space holding blood and air in one word: the two findings it names
#: fluid and air in one pleural space, named as one word: the fluid's name written out
_FLUID_OF_AIR = {"hemopneumothorax": "haemothorax", "haemopneumothorax": "haemothorax",
                 "hemopneumothoraces": "haemothorax", "haemopneumothoraces": "haemothorax",
                 "hemo pneumothorax": "haemothorax", "haemo pneumothorax": "haemothorax",
                 "hydropneumothorax": "hydrothorax", "hydropneumothoraces": "hydrothorax",
                 "hydro pneumothorax": "hydrothorax"}
_BLOOD_AND_AIR = frozenset(_FLUID_OF_AIR)


def _blood_and_air(tokens: list[str]) -> list[str]:
    """"small right haemopneumothorax", "left hydropneumothorax": a haemothorax (or hydrothorax, pleural fluid) and a
    pneumothorax, read as the two words written out (the side before them covers both)."""
    if _BLOOD_AND_AIR.isdisjoint(tokens):
        return tokens
    return [w for t in tokens for w in ((_FLUID_OF_AIR[t], "and", "pneumothorax") if t in _BLOOD_AND_AIR else (t,))]


#: the gut's parts, whose wall a "thick-walled" before them is ("a thick-walled sigmoid segment")
_GUT_WORDS = frozenset({"bowel", "colon", "sigmoid", "caecum", "cecum", "caecal", "cecal", "rectum", "rectal",
                        "rectosigmoid", "ileum", "ileal", "jejunum", "jejunal", "duodenum", "duodenal", "appendix",
                        "stomach", "gastric", "oesophagus", "esophagus", "loop", "loops", "colonic", "ascending",
                        "descending", "transverse", "terminal", "small", "large", "segment"})
#: a lesion whose wall it is instead ("a thick-walled cavity", "thick-walled collection"): its look, kept
_WALLED_LESIONS = frozenset({"cavity", "cavities", "cavitary", "cavitating", "collection", "collections", "lesion",
                             "lesions", "mass", "cyst", "cysts", "cystic", "abscess", "abscesses", "multiloculated",
                             "loculated", "gallbladder", "bladder", "nodule", "nodules"})


def _thick_walled_gut(tokens: list[str]) -> list[str]:
    """"a thick-walled sigmoid segment", "thick-walled, poorly enhancing jejunum", "the caecum is thick-walled": the
    gut's wall is thickened, read as "thickened" (the gallbladder's and bladder's have their own phrases, and a
    lesion's thick wall describes the lesion)."""
    out = None
    for k in range(len(tokens) - 1):
        if tokens[k] != "thick" or tokens[k + 1] != "walled":
            continue
        after = tokens[k + 2:k + 7]
        before = tokens[max(0, k - 5):k]
        ahead = next((w for w in after if w in _GUT_WORDS or w in _WALLED_LESIONS), None)
        said_of = not after or after[0] in (".", ",", ";", "and", "with") and ahead not in _GUT_WORDS
        if ahead in _GUT_WORDS or (said_of and any(w in _GUT_WORDS for w in before)
                                   and not any(w in _WALLED_LESIONS for w in before)):
            out = out or list(tokens)
            out[k], out[k + 1] = "thickened", ""
    return [t for t in out if t] if out is not None else tokens


_HEMITHORAX = frozenset({"hemithorax", "hemithoraces"})
#: the share of a hemithorax a word names ("a third", "two thirds", "half", "three quarters")
_SHARE_WORDS = {"half": 0.5, "third": 1 / 3, "thirds": 1 / 3, "quarter": 0.25, "quarters": 0.25}
_SHARE_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3}
#: a stated amount, which the share does not override ("large effusion filling two thirds of the hemithorax")
_AMOUNT_WORDS = frozenset({"small", "moderate", "large", "massive", "trace", "tiny", "mild", "minimal", "sizeable",
                           "sizable", "huge", "big", "moderately", "medium", "sm", "lg", "mod"})


def _share_of_a_hemithorax(tokens: list[str]) -> list[str]:
    """"right effusion occupying about a third of the hemithorax", "R pleural eff, ~1/3 of hemithorax", "filling the
    lower half of the left hemithorax": how much of a hemithorax a finding fills is its amount (pleural effusion
    grading on the chest film: up to a quarter small, up to half moderate, more large), read as that word in the
    share's place (not where the sentence states an amount itself)."""
    if not _AMOUNT_WORDS.isdisjoint(tokens):
        return tokens
    for k, tok in enumerate(tokens):
        if tok not in _HEMITHORAX:
            continue
        j = k - 1
        while j >= 0 and tokens[j] in ("the", "right", "left", "r", "l", "ipsilateral"):
            j -= 1
        if j < 1 or tokens[j] != "of":
            continue
        e = j  # the share ends before "of"
        share, b = None, None
        w = tokens[e - 1]
        if w in _SHARE_WORDS:
            b = e - 1
            count = _SHARE_COUNTS.get(tokens[b - 1]) if b >= 1 else None
            if count is not None:
                b -= 1
            elif w != "half":
                continue
            share = _SHARE_WORDS[w] * (count or 1)
            while b >= 1 and tokens[b - 1] in ("the", "lower", "upper"):
                b -= 1
        elif e >= 2 and tokens[e - 1].isdecimal() and tokens[e - 2].isdecimal() and 0 < int(tokens[e - 2]) < int(
                tokens[e - 1]) <= 4:
            b = e - 2
            share = int(tokens[e - 2]) / int(tokens[e - 1])
        if share is None or b is None:
            continue
        amount = "small" if share <= 0.25 else "moderate" if share <= 0.5 else "large"
        return [*tokens[:b], amount, *tokens[e:]]
    return tokens
#: what puts fluid in a hemithorax ("fluid in the right hemithorax", "fluid filling the left hemithorax")
_FLUID_IN = frozenset({"in", "within", "filling", "occupying", "throughout", "fills", "occupies"})


def _fluid_in_a_hemithorax(tokens: list[str]) -> list[str]:
    """"fluid in the right hemithorax", "a large amount of fluid filling the left hemithorax": fluid in one side of
    the chest lies in its pleural space (an effusion), read as "pleural space" (the lung word "hemithorax" took no
    fluid of its own)."""
    out: list[str] = []
    for k, tok in enumerate(tokens):
        j = k - 1
        while j >= 0 and tokens[j] in ("the", "right", "left", "a", "entire", "whole", "dependent", "lower", "r", "l"):
            j -= 1
        if tok in _HEMITHORAX and j >= 1 and tokens[j] in _FLUID_IN and "fluid" in tokens[max(0, j - 3):j]:
            out.extend(("pleural", "space"))
        else:
            out.append(tok)
    return out


def _side_labels(tokens: list[str]) -> list[str]:
    """"KIDNEYS: Right: 9 mm stone with hydronephrosis": a side written as a second label after a field's label, its
    colon after it, is the side of what it heads, read as the side before it ("KIDNEYS: right 9 mm stone ..."); a
    side labelling a sentence of its own ("Left: stone") is the field label read in ``extract``."""
    if ":" not in tokens:
        return tokens
    return [t for k, t in enumerate(tokens)
            if not (t == ":" and 0 < k < len(tokens) - 1 and tokens[k - 1] in ("right", "left")
                    and k >= 2 and tokens[k - 2] == ":")]


_JUNCTION_ENDS = frozenset({".", ",", ";", ":", "(", "with", "without", "and", "is", "are", "which"})


def _hash_fractures(tokens: list[str]) -> list[str]:
    """"Old healed R clavicle #", "3 L rib #s (5th-7th)", "NOF #": the hash sign dictated for a fracture (British
    shorthand); a hash before a number is the number sign ("image #45", "#2") and stays."""
    out = None
    for k, tok in enumerate(tokens):
        if tok != "#" or not k or not tokens[k - 1].isalpha() or (
                k + 1 < len(tokens) and tokens[k + 1][:1].isdigit()):
            continue
        out = out if out is not None else list(tokens)
        plural = tokens[k + 1:k + 2] == ["s"]
        out[k] = "fractures" if plural else "fracture"
        if plural:
            out[k + 1] = ""
    return tokens if out is None else [t for t in out if t]


#: the gases a hollow organ's wall may hold ("gas in the gallbladder wall": emphysematous cholecystitis)
_WALL_GASES = frozenset({"gas", "air"})
#: the hollow organs whose wall's gas is pneumatosis (the chest or abdominal wall's gas is subcutaneous emphysema)
_HOLLOW_WALL_WORDS = frozenset({"gallbladder", "bladder", "bowel", "colon", "colonic", "stomach", "gastric", "caecal",
                                "cecal", "caecum", "cecum", "ileum", "ileal", "jejunum", "jejunal", "duodenum",
                                "duodenal", "oesophagus", "esophagus", "oesophageal", "esophageal", "sigmoid",
                                "rectum", "rectal", "appendix", "appendiceal", "intestinal", "loop", "loops"})


def _gas_in_a_wall(tokens: list[str]) -> list[str]:
    """"Gas in the gallbladder wall", "air within the bladder wall", "no gas in the bowel wall or lumen": gas in an
    organ's wall is pneumatosis of it (emphysematous cholecystitis, cystitis; pneumatosis intestinalis), read as
    "pneumatosis of the ... wall"; gas in a lumen or beside an organ stays unread, and gas in the chest or abdominal
    wall is subcutaneous."""
    out = None
    for k, tok in enumerate(tokens):
        if tok not in _WALL_GASES or tokens[k + 1:k + 2] not in (["in"], ["within"], ["of"]):
            continue
        j = k + 2
        if tokens[j:j + 1] == ["the"]:
            j += 1
        if tokens[j:j + 2] in (["wall", "of"], ["walls", "of"]):  # "gas within the wall of the caecum"
            after = tokens[j + 2:j + 6]
            if not _HOLLOW_WALL_WORDS.intersection(after[:next(
                    (m for m, t in enumerate(after) if t in _JUNCTION_ENDS), len(after))]):
                continue
        else:
            end = next((m for m in range(j + 1, min(j + 4, len(tokens))) if tokens[m] in ("wall", "walls")), None)
            if end is None or not all(t.isalpha() and t not in _JUNCTION_ENDS for t in tokens[j:end]) or \
                    tokens[end - 1] not in _HOLLOW_WALL_WORDS:
                continue
        out = out if out is not None else list(tokens)
        out[k], out[k + 1] = "pneumatosis", "of"
    return tokens if out is None else out


#: a bowel undistended said with the words of a collapsed lung ("collapsed distal ileum and colon")
_UNDISTENDED_WORDS = frozenset({"collapsed", "decompressed"})
#: the bowel segments (and the stomach) that an SBO report calls collapsed downstream of the obstruction
_BOWEL_SEGMENT_WORDS = frozenset({"bowel", "colon", "ileum", "jejunum", "caecum", "cecum", "rectum", "sigmoid",
                                  "duodenum", "stomach", "loops", "loop", "small", "large", "ileal", "colonic",
                                  "jejunal"})
_BEFORE_A_SEGMENT = frozenset({"the", "distal", "proximal", "mid", "terminal", "remaining", "downstream", "more"})


def _undistended_bowel(tokens: list[str]) -> list[str]:
    """"Dilated small bowel, collapsed distal ileum and colon", "the colon is decompressed": a collapsed or
    decompressed bowel is one of normal calibre (downstream of an obstruction), read as "non dilated" so that the
    segment is no site of the obstruction named before it."""
    out = None
    for k, tok in enumerate(tokens):
        if tok not in _UNDISTENDED_WORDS:
            continue
        j = k + 1
        while j < len(tokens) and tokens[j] in _BEFORE_A_SEGMENT:
            j += 1
        after = j < len(tokens) and tokens[j] in _BOWEL_SEGMENT_WORDS
        before = k >= 1 and tokens[k - 1] in _BOWEL_SEGMENT_WORDS or (  # "colon decompressed" (telegraphic)
            k >= 2 and tokens[k - 1] in ("is", "are", "remains", "remain", "appears", "appear") and any(
                t in _BOWEL_SEGMENT_WORDS for t in tokens[max(0, k - 5):k - 1]))
        if after or before:
            out = out if out is not None else list(tokens)
            out[k] = "nondilated"
    return tokens if out is None else out


#: the infections of a hollow organ named "emphysematous" for the gas in its wall, with that wall
_EMPHYSEMATOUS_INFECTIONS = {"cholecystitis": ("gallbladder",), "cystitis": ("bladder",),
                             "gastritis": ("gastric",), "enteritis": ("bowel",), "colitis": ("colonic",),
                             "pyelonephritis": ("renal",)}
# words that deny what follows them in their clause: "no emphysematous cholecystitis" denies only the gas
_DENYING_WORDS = frozenset({"no", "not", "without", "nor", "neither", "negative", "absence", "lack", "free", "w/o"})
_CLAUSE_ENDS = frozenset({",", ";", ".", ":", "but", "however", "although", "though", "which", "and"})


_GLASS_NOUNS = frozenset({"density", "attenuation", "opacity", "appearance", "morphology", "type"})


def _nodules_of_ground_glass(tokens: list[str]) -> list[str]:
    """"a 4 mm nodule of ground glass density", "nodules of ground-glass attenuation": a ground-glass nodule, read
    as "ground glass nodule" (one nodule, its size and site its own, as the lexicon reads that name)."""
    for k in range(len(tokens) - 3):
        if tokens[k] in ("nodule", "nodules") and tokens[k + 1] == "of" \
                and tokens[k + 2:k + 4] == ["ground", "glass"]:
            end = k + 4 + (k + 4 < len(tokens) and tokens[k + 4] in _GLASS_NOUNS)
            return _nodules_of_ground_glass([*tokens[:k], "ground", "glass", tokens[k], *tokens[end:]])
    return tokens


#: what a clinical question asks of a device: its insertion, its place ("?PTX post CVC insertion", "?NGT position")
_PROCEDURE_WORDS = frozenset({"insertion", "placement", "position", "positioning", "siting", "insert", "positioned"})
_AFTER_WORDS = frozenset({"post", "following", "after"})


def _device_in_a_question(tokens: list[str]) -> list[str]:
    """A question ("?PTX post CVC insertion", "?NGT position") asks about a device named for its insertion or
    place; it does not doubt the device: "?PTX post CVC insertion" doubts the pneumothorax only (the history after
    "post" is out of the query's reach, read as "?PTX; CVC insertion"), "?NGT position" asks where the tube is (read
    as "NGT position"), so the device merges with the one the report states, not a second, doubted one."""
    q = next((k for k, t in enumerate(tokens) if t == "query"), None)
    if q is None or q > 3 or any(t in (",", ";") for t in tokens[:q]):
        return tokens
    for k in range(q + 1, min(len(tokens), q + 8)):
        if tokens[k] in (",", ";", ":"):
            return tokens
        if tokens[k] in _PROCEDURE_WORDS:
            after = next((j for j in range(q + 2, k) if tokens[j] in _AFTER_WORDS), None)
            if after is not None:
                return [*tokens[:after], ";", *tokens[after + 1:]]
            if k - q <= 4:
                return [*tokens[:q], *tokens[q + 1:]]
            return tokens
    return tokens


_BOTH_BILE_TREES = (("intra", "-"), ("intra",), ("intrahepatic",))


def _both_bile_trees(tokens: list[str]) -> list[str]:
    """"no intra- or extrahepatic biliary dilatation", "the intrahepatic and extrahepatic bile ducts are normal":
    both parts of the bile tree, read as the whole tree ("no biliary dilatation")."""
    for k in range(len(tokens) - 2):
        for first in _BOTH_BILE_TREES:
            j = k + len(first)
            if tuple(tokens[k:j]) == first and j + 1 < len(tokens) and tokens[j] in ("and", "or", "&", "/") \
                    and tokens[j + 1] == "extrahepatic":
                rest = tokens[j + 2:]
                return [*tokens[:k], *(() if rest and rest[0] in _BILE_WORDS else ("biliary",)), *rest]
    return tokens


_BILE_WORDS = frozenset({"biliary", "bile", "duct", "ducts", "ductal"})


def _denied_before(tokens: list[str], k: int, reach: int = 6) -> bool:
    """A denying word before token ``k`` in its own clause, at most ``reach`` words back."""
    for j in range(k - 1, max(-1, k - 1 - reach), -1):
        if tokens[j] in _CLAUSE_ENDS:
            return False
        if tokens[j] in _DENYING_WORDS:
            return True
    return False


def _emphysematous_infections(tokens: list[str]) -> list[str]:
    """"Emphysematous cholecystitis", "emphysematous cystitis": the infection with gas in the organ's wall (read as
    "cholecystitis with pneumatosis of the gallbladder wall"), no emphysema of the lungs."""
    out = None
    for k, tok in enumerate(tokens[:-1]):
        wall = _EMPHYSEMATOUS_INFECTIONS.get(tokens[k + 1])
        if tok == "emphysematous" and wall:
            out = out if out is not None else list(tokens)
            out[k] = ""
            # a denied emphysematous form ("no emphysematous cholecystitis", "no evidence of emphysematous
            # pyelonephritis") denies the gas in the wall, not the infection the report may state elsewhere
            out[k + 1] = ("pneumatosis", "of", "the", *wall, "wall") if _denied_before(tokens, k) else (
                tokens[k + 1], "with", "pneumatosis", "of", "the", *wall, "wall")
    if out is None:
        return tokens
    return [w for t in out for w in (t if isinstance(t, tuple) else (t,)) if w]


def _junction_of_two(tokens: list[str]) -> list[str]:
    """"at the junction of the descending and sigmoid colon": one place where two parts meet, read as "the
    descending sigmoid junction" (one site, not one finding in each part)."""
    if "junction" not in tokens:
        return tokens
    for k in range(len(tokens) - 3):
        if tokens[k] != "junction" or tokens[k + 1] != "of":
            continue
        j = k + 2 + (tokens[k + 2] == "the")
        if j + 2 < len(tokens) and tokens[j + 1] == "and" and tokens[j].isalpha():
            second = j + 2 + (tokens[j + 2] == "the")
            after = tokens[second + 1] if second + 1 < len(tokens) else "."
            # (a two-word part is a name of its own: "the junction of the SVC and right atrium")
            if second < len(tokens) and tokens[second].isalpha() and (
                    after in ("colon", "colons") or after in _JUNCTION_ENDS):
                end = second + 1 + (after in ("colon", "colons"))
                return [*tokens[:k], tokens[j], tokens[second], "junction", *tokens[end:]]
    return tokens


def _lobectomy_of_a_lobe(tokens: list[str]) -> list[str]:
    """"left upper lobectomy": the lobe taken out is named, read as "left upper lobe lobectomy" (as "LUL
    resection" is)."""
    if "lobectomy" not in tokens:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 1, 0, -1):
        if out[k] == "lobectomy" and out[k - 1] in ("upper", "middle", "lower"):
            out.insert(k, "lobe")
    return out


_ONE_SIDE_WORDS = frozenset({"left", "right", "l", "r", "lt", "rt"})


def _both_of_one_side(tokens: list[str]) -> list[str]:
    """"Both left chest tubes": "both" before one side counts two things on that side, it is no bilateral finding
    ("both right and left" still is); "right- and left-sided effusions": the dash of a side's shared suffix goes."""
    if "both" not in tokens and "-" not in tokens:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 2, -1, -1):
        if out[k] == "both" and out[k + 1] in _ONE_SIDE_WORDS and not (
                k + 3 < len(out) and out[k + 2] in ("and", "or", "&") and out[k + 3] in _ONE_SIDE_WORDS):
            out[k] = "two"
        elif out[k] == "-" and k > 0 and out[k - 1] in _ONE_SIDE_WORDS and out[k + 1] in ("and", "or", "&"):
            del out[k]
    return out


def normalised_tokens(tokens: list[str], lex: Lexicon) -> list[str]:
    """A sentence's tokens with every rewrite that needs no reading of the sentence, in order: dates, numbered
    grades, measured densities, prior sizes, parts of a set counted, abbreviations, comparisons, spelled-out sizes, numbered ribs (before and
    after the noun), liver segments numbered in brackets, vertebrae listed, numbered parts listed after one noun, the
    silhouette sign, bracketed and bare station codes, words split from the diaphragm by a side, an air-fluid level in a
    paranasal sinus, the bronchi of a lobe, vessels listed after "calcified", and words sharing one head noun."""
    # each rewrite is skipped on one set look-up when none of the words it starts from is a token (its own first
    # test): most sentences need few of them, and the calls alone were a twentieth of the reader
    words = set(tokens)
    for rewrite, triggers in _REWRITES:
        if triggers is not None and words.isdisjoint(triggers):
            continue
        rewritten = rewrite(tokens)
        if rewritten is not tokens:
            tokens, words = rewritten, set(rewritten)
    tokens = _words_glossed_in_brackets(_acute_inside_a_name(tokens, lex), lex)
    return _grades_listed_per_side(
        _shared_heads(_side_words(_side_before_part(_fluid_collections(tokens, lex), lex), lex), lex), lex)


def _words_glossed_in_brackets(tokens: list[str], lex: Lexicon) -> list[str]:
    """"the superior (apical) segment of the RLL", "segment IV (quadrate) lesion": a word's gloss in brackets inside a
    site's phrase says the same place again; the phrase is read without it (two words the lexicon names together)."""
    if "(" not in tokens:
        return tokens
    out = list(tokens)
    k = len(out) - 4
    while k >= 1:
        if out[k] == "(" and out[k + 2] == ")" and out[k + 1].isalpha() and k + 3 < len(out) \
                and {"SUB", "ANAT"} & lex.phrase_kinds.get((out[k - 1], out[k + 3]), {}).keys():
            del out[k:k + 3]
        elif out[k] == "(" and k + 4 < len(out) and ")" in out[k + 2:k + 5]:
            # "septal (Kerley B) lines": an eponym's gloss inside a finding's name, of words that name nothing
            close = out.index(")", k + 2)
            gloss = out[k + 1:close]
            if close + 1 < len(out) and all(w.isalpha() and (w,) not in lex.phrase_kinds for w in gloss) \
                    and tuple(gloss) not in lex.phrase_kinds \
                    and "OBS" in lex.phrase_kinds.get((out[k - 1], out[close + 1]), {}):
                del out[k:close + 1]
        k -= 1
    return out


def _fluid_collections(tokens: list[str], lex: Lexicon) -> list[str]:
    """"a pelvic fluid collection", "perisplenic fluid collections": the place and the word "fluid" are a name of
    free fluid ("pelvic fluid") only when no collection follows; a collection of fluid there is one collection, read
    as "a pelvic collection"."""
    if "fluid" not in tokens:
        return tokens
    out = list(tokens)
    for k in range(len(out) - 2, 0, -1):
        if out[k] == "fluid" and out[k + 1] in ("collection", "collections") \
                and "OBS" in lex.phrase_kinds.get((out[k - 1], "fluid"), {}):
            del out[k]
    return out


#: where along an organ, said before the side in "the proximal right ureter", "the upper right lobe"
_ALONG_WORDS = frozenset({"proximal", "distal", "mid", "middle", "upper", "lower"})


def _side_before_part(tokens: list[str], lex: Lexicon) -> list[str]:
    """"the proximal right ureter", "the distal left ureter", "the upper right lobe": a side between the word for
    where along the organ and the organ splits the lexicon's part ("proximal ureter", "upper lobe"); it is read as
    "the right proximal ureter" when the word and what follows the side name a part."""
    if _ALONG_WORDS.isdisjoint(tokens) or not {"left", "right", "l", "r"} & set(tokens):
        return tokens
    out = list(tokens)
    for k in range(len(out) - 2):
        if out[k] in _ALONG_WORDS and out[k + 1] in ("left", "right", "l", "r") and any(
                {"SUB", "ANAT"} & lex.phrase_kinds.get((out[k], *out[k + 2:k + 2 + n]), {}).keys()
                for n in (1, 2, 3) if k + 2 + n <= len(out)):
            out[k], out[k + 1] = out[k + 1], out[k]
    return out


_BOTH_BEFORE = frozenset({"ANAT", "SUB", "STATION", "OBS", "ENLARGE", "SEV", "ATTR", "COUNT", "LAT"})


def _both_is_a_side(tokens: list[str], k: int, lex: Lexicon) -> bool:
    """"both kidneys", "both lower lobes", "in both", "both sides": "both" says both sides before a site, a finding
    or its modifiers, or after a preposition; before a verb ("both terminating", "both measure 5 mm") it is
    a pronoun."""
    if k > 0 and tokens[k - 1] in ("in", "on", "at", "within", "involving", "of", "along", "across", "over",
                                   "throughout"):
        return True
    nxt = tokens[k + 1:k + 4]
    if nxt[:1] and nxt[0] in _BOTH_ASPECTS:  # "both lateral chest walls": the aspect of the sites
        nxt = tokens[k + 2:k + 5]
    return not nxt or nxt[0] in ("side", "sides") or any(
        _BOTH_BEFORE & lex.phrase_kinds.get(tuple(nxt[:n]), {}).keys() for n in range(1, len(nxt) + 1))


#: the aspect words that may stand between "both" and the paired sites it sides ("both lateral chest walls")
_BOTH_ASPECTS = frozenset({"lateral", "medial", "anterior", "posterior", "dependent", "peripheral"})


_DIRECTIONS = {"leftward": "left", "leftwards": "left", "rightward": "right", "rightwards": "right"}


_OTHER_SIDE_WORDS = frozenset({"other", "opposite", "both"})


def _side_words(tokens: list[str], lex: Lexicon) -> list[str]:
    """"the other kidney", "the opposite lung": the other of a paired organ is the contralateral one ("no other
    lesion" stays as it is); "leftward shift" names the side it is shifted to (after its noun, "the mediastinum
    pushed rightward", it is a direction, not a side of that organ)."""
    if _OTHER_SIDE_WORDS.isdisjoint(tokens) and _DIRECTIONS.keys().isdisjoint(tokens):
        return tokens
    out = []
    for k, t in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else ""
        if t == "both" and not _both_is_a_side(tokens, k, lex):
            continue  # "two catheters, both terminating in the SVC": each of them, not both sides
        if t in ("other", "opposite") and any(
                lex.is_paired(r.value) for r in lex.phrase_kinds.get((nxt,), {}).get("ANAT", ())):
            t = "contralateral"
        elif t in _DIRECTIONS and nxt.isalpha():
            t = _DIRECTIONS[t]
        elif t in _DIRECTIONS:  # "the mediastinum pushed rightward": shifted to the right
            out.extend(("to", "the", _DIRECTIONS[t]))
            continue
        out.append(t)
    return out


_SITE_KINDS = ("SUB", "ANAT", "STATION")
_ORGAN_LIST_JOINERS = frozenset({",", "and", "or", "/", "&", "nor"})


def _organs_sharing_a_finding(tokens: list[str], lex: Lexicon) -> list[str]:
    """"no hepatic, adrenal or osseous metastases": organ adjectives listed before a finding named with the last of
    them each name that finding ("hepatic metastases, adrenal metastases or osseous metastases"); so do "neither
    pleural nor pericardial effusion"'s."""
    out = list(tokens)
    for a in range(len(out) - 2, 1, -1):
        word = out[a]
        if "ANAT" not in lex.phrase_kinds.get((word,), {}) or out[a - 1] not in _ORGAN_LIST_JOINERS:
            continue
        b = next((b for b in range(min(len(out), a + 4), a + 1, -1)
                  if "OBS" in lex.phrase_kinds.get(tuple(out[a:b]), {})
                  and "OBS" in lex.phrase_kinds.get(tuple(out[a + 1:b]), {})), None)
        if b is None:
            continue
        head, k, organs = out[a + 1:b], a - 1, []
        while k >= 0:  # "hepatic, adrenal or", "hepatic adrenal or" (commas dropped)
            if out[k] in _ORGAN_LIST_JOINERS:
                k -= 1
            elif "ANAT" in lex.phrase_kinds.get((out[k],), {}):
                organs.append(k)
                k -= 1
            else:
                break
        for k in organs:  # right to left, so earlier positions stay valid
            out[k + 1:k + 1] = head
        return out
    return out


def _bare_or_organ_word(word: str, lex: Lexicon) -> bool:
    """A modifier that may share the next site's noun: a word the lexicon lacks ("middle"), or one read only as a
    site ("portal and hepatic veins": "portal" alone is the porta hepatis, with the noun the portal vein)."""
    kinds = lex.phrase_kinds.get((word,))
    return (word,) not in lex.phrases or bool(kinds) and all(k in _SITE_KINDS for k in kinds)


def _shared_heads(tokens: list[str], lex: Lexicon) -> list[str]:
    """"the middle and lower lobes", "upper and lower poles": two modifiers sharing one site noun are two sites
    ("middle lobe and lower lobes"), so each modifier gets the noun it shares."""
    if "and" not in tokens and "or" not in tokens and "nor" not in tokens:
        return tokens
    tokens = _severities_per_side(_organs_sharing_a_finding(tokens, lex), lex)
    out = list(tokens)
    k = len(out) - 4
    while k >= 0:
        first, joiner, second, head = out[k:k + 4]
        devices = [r for r in lex.phrase_kinds.get((second, head), {}).get("OBS", ()) if lex.is_device(r.value)]
        if joiner in ("and", "or", "/") and first.isalpha() and devices and devices[0].plural:
            # "endotracheal and nasogastric tubes" are one tube of each kind: the plural is the coordination's
            for noun in (head[:-1], head[:-2]):
                if noun and any(lex.is_device(r.value) for r in lex.phrase_kinds.get((first, noun), {}).get(
                        "OBS", ())) and (second, noun) in lex.phrases:
                    out[k:k + 4] = [first, noun, joiner, second, noun]
                    break
        elif joiner in ("and", "or", "/") and first.isalpha() and first not in _SIDES \
                and (shared := _device_shared_by_sites(out, k, lex)):
            out[k:k + len(shared[0])] = shared[1]
        elif joiner in ("and", "or", "/") and first.isalpha() and _bare_or_organ_word(first, lex) \
                and any(kind in lex.phrase_kinds.get((second, head), {}) for kind in _SITE_KINDS):
            for noun in (head, head[:-1], head[:-2]):
                if noun and any(kind in lex.phrase_kinds.get((first, noun), {}) for kind in _SITE_KINDS):
                    out.insert(k + 1, noun)
                    break
        elif joiner in ("and", "or") and second in _SIDES and first.isalpha() and _bare_or_organ_word(first, lex):
            out[k + 1:k + 1] = _head_shared_across_sides(out, k, lex)
        k -= 1
    return out


_SIDES = frozenset({"right", "left"})


def _device_shared_by_sites(out: list[str], k: int, lex: Lexicon) -> tuple[list[str], list[str]] | None:
    """"mediastinal and left pleural drains", "pleural and pericardial drains": two places sharing one plural
    device noun, the second with its side, are one device at each place ("mediastinal drain and left pleural
    drain"), not one device (of the second place) or one sideless set. Returns the words replaced and their
    rewrite, or None."""
    first, joiner = out[k], out[k + 1]
    j = k + 2 + (out[k + 2] in _SIDES)
    if j + 1 >= len(out):
        return None
    second, head = out[j], out[j + 1]
    if not (second.isalpha() and head.endswith("s")):
        return None
    noun = head[:-1]

    def device(*words: str) -> bool:
        return any(lex.is_device(r.value) for r in lex.phrase_kinds.get(words, {}).get("OBS", ()))

    def place(word: str) -> bool:
        return device(word, noun) or bool(kinds := lex.phrase_kinds.get((word,))) and all(
            kind in _SITE_KINDS for kind in kinds)

    if not (device(noun) and place(first) and place(second) and (device(first, noun) or device(second, noun))):
        return None
    return out[k:j + 2], [first, noun, joiner, *out[k + 2:j], second, noun]


def _severities_per_side(tokens: list[str], lex: Lexicon) -> list[str]:
    """"moderate right and small left pleural effusions": a grade said for each side is one finding per side, each
    with its grade ("moderate right pleural effusion and small left pleural effusion"), not one bilateral finding
    with the first grade; so is a count said for each side ("two right and one left renal cysts")."""
    if "right" not in tokens or "left" not in tokens:
        return tokens
    k = 0
    while k + 5 < len(tokens):
        # ("a moderate left and a trace right pleural effusion": an article may open each conjunct)
        first = k + (tokens[k] in _ARTICLES)
        second = first + 3 + (tokens[first + 3:first + 4] in (["a"], ["an"]))
        sev1, side1, joiner = (tokens[first:first + 3] + ["", "", ""])[:3]
        sev2, side2 = (tokens[second:second + 2] + ["", ""])[:2]
        if not (joiner == "and" and {side1, side2} == _SIDES and (
                (_is_severity(sev1, lex) and _is_severity(sev2, lex))
                or (_is_number_word(sev1, lex) and _is_number_word(sev2, lex)))):
            k += 1
            continue
        n = second + 2 - k
        noun = _finding_phrase_after(tokens, k + n, lex)
        if noun is None:
            k += 1
            continue
        tokens = [*tokens[:k], sev1, side1, *noun, "and", sev2, side2, *noun, *tokens[k + n + len(noun):]]
        k += 6 + 2 * len(noun)
    return tokens


_ARTICLES = frozenset({"a", "an"})


def _is_severity(word: str, lex: Lexicon) -> bool:
    return "SEV" in lex.phrase_kinds.get((word,), {})


def _is_number_word(word: str, lex: Lexicon) -> bool:
    """A count said in one word: "two", "one", "3" ("two right and one left renal cysts" is counted per side, as a
    grade per side is)."""
    return (word.isdecimal() and 0 < int(word) <= 20) or "COUNT" in lex.phrase_kinds.get((word,), {})


def _finding_phrase_after(tokens: list[str], start: int, lex: Lexicon) -> list[str] | None:
    """The words from ``start`` up to and including a finding's name within three words ("pleural effusions")."""
    for end in range(start + 1, min(len(tokens), start + 3) + 1):
        if any("OBS" in lex.phrase_kinds.get(tuple(tokens[i:end]), {}) for i in range(start, end)):
            return tokens[start:end]
    return None


def _is_site(words, lex: Lexicon) -> bool:
    return any(kind in lex.phrase_kinds.get(tuple(words), {}) for kind in _SITE_KINDS)


def _head_shared_across_sides(out: list[str], k: int, lex: Lexicon) -> list[str]:
    """"the right upper and left lower lobes", "the right main and left lower lobe pulmonary arteries": a side
    opening the second conjunct makes the first a site of its own side; the first modifier takes the longest
    trailing part of the second site's words that makes a site with it ("upper lobes", "main pulmonary
    arteries"). Returns the words to insert after the first modifier (none when no site is shared)."""
    first, start = out[k], k + 3
    for end in range(min(len(out), start + 5), start + 1, -1):
        if not _is_site(out[start:end], lex):
            continue
        for s in range(start + 1, end):
            noun = out[s:end]
            for cut in (0, 1, 2):  # the plural shared by both ("lobes") read in the singular as well
                word = noun[-1][:len(noun[-1]) - cut] if cut else noun[-1]
                if word and _is_site([first, *noun[:-1], word], lex):
                    return [*noun[:-1], word]
        return []
    return []


_STATION_CODE_RE = re.compile(r"^(?:(?:station|stn|level) )?\d{1,2}(?: ?[lr])?$")


#: the words of a descriptive liver segment name ("right posterior superior segment")
_SEGMENT_NAME_WORDS = frozenset({"right", "left", "anterior", "posterior", "superior", "inferior", "lateral", "medial",
                                 "posterosuperior", "anterosuperior", "posteroinferior", "anteroinferior"})
_SEGMENT_NUMBER_RE = re.compile(r"^(?:[1-8][ab]?|i|ii|iii|iv[ab]?|v|vi|vii|viii)$")


def _segments_numbered_in_brackets(tokens: list[str]) -> list[str]:
    """"the right posterior superior segment (8)", "anterior inferior segment (segment V)": a segment named in words
    and numbered in brackets is the numbered segment. The number is the standard (Couinaud's); the descriptive names
    are written in more than one convention, so where the two disagree the number is what the author meant."""
    if "(" not in tokens or "segment" not in tokens:
        return tokens
    for k, tok in enumerate(tokens):
        if tok != "segment" or k + 3 >= len(tokens) or tokens[k + 1] != "(":
            continue
        inner = tokens[k + 2:tokens.index(")", k + 2)] if ")" in tokens[k + 2:k + 6] else []
        if inner[:1] in (["segment"], ["seg"], ["s"]):
            inner = inner[1:]
        if len(inner) != 1 or not _SEGMENT_NUMBER_RE.match(inner[0]):
            continue
        start = k
        while start > 0 and tokens[start - 1] in _SEGMENT_NAME_WORDS:
            start -= 1
        if start == k:
            continue
        end = tokens.index(")", k + 2) + 1
        return [*tokens[:start], "segment", inner[0], *_segments_numbered_in_brackets(tokens[end:])]
    return tokens


#: the nouns a bare station code is said of ("4R LN", "10L nodes")
_NODE_NOUNS = frozenset({"ln", "lns", "node", "nodes", "lymph", "lymphadenopathy", "adenopathy"})


def _station_code_at(tokens: list[str], j: int) -> int:
    """How many tokens a station code at ``j`` takes ("4 r" two, "7" one), 0 for none."""
    if j >= len(tokens) or not tokens[j].isdigit() or not 1 <= int(tokens[j]) <= 14:
        return 0
    return 2 if j + 1 < len(tokens) and tokens[j + 1] in ("r", "l") else 1


_VESSEL_NOUNS = frozenset({"artery", "arteries", "vessels"})


def _calcified_vessels_listed(tokens: list[str]) -> list[str]:
    """"calcified aorta and iliac arteries", "calcified aorta, iliac and femoral arteries": "calcified" before a list
    of vessels is said of each, written out ("calcified aorta and calcified iliac arteries") since "calcified aorta"
    is read as one name."""
    if "calcified" not in tokens or _VESSEL_NOUNS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    k = out.index("calcified")
    j = k + 1
    while j < len(out) and j <= k + 3 and out[j] not in ("and", ","):
        j += 1
    if j >= len(out) or j == k + 1 or out[j] not in ("and", ",") or _VESSEL_NOUNS.union({"aorta"}).isdisjoint(
            out[k + 1:j]):
        return out
    end = next((q for q in range(j + 1, min(len(out), j + 6)) if out[q] in _VESSEL_NOUNS), None)
    if end is None or any(w in (".", ";", "with", "without", "no") for w in out[j + 1:end]):
        return out
    return [*out[:j + 1], "calcified", *out[j + 1:]]


#: the organs of the abdomen with a hilum of their own, by their adjective, and the findings only the spleen has
_HILUM_ORGANS = frozenset({"renal", "splenic"})
_SPLENULE_WORDS = frozenset({"splenule", "splenules", "splenunculus", "splenunculi"})


def _hilum_of_its_organ(tokens: list[str]) -> list[str]:
    """"hilar renal cyst", "a pair of hilar splenules": "hilar" said of a finding of the kidney or spleen is that
    organ's hilum ("renal hilar", "splenic hilar"), not the lung's hilum or its nodes."""
    out = list(tokens)
    for k in range(len(out) - 1):
        if out[k] != "hilar":
            continue
        nxt = out[k + 1]
        if nxt in _HILUM_ORGANS:
            out[k], out[k + 1] = nxt, "hilar"
        elif nxt in _SPLENULE_WORDS and not (k and out[k - 1] == "splenic"):
            out[k:k + 1] = ["splenic", "hilar"]
    return out if out != tokens else tokens


_WALL_WORDS = frozenset({"encapsulated", "organised", "organized"})


def _walls_denied(tokens: list[str]) -> list[str]:
    """"two non-encapsulated peripancreatic collections": a collection said to have no wall is the collection
    itself, not a denied pseudocyst (the wall word names the pseudocyst); read without the pair."""
    out: list[str] = []
    for t in tokens:
        if t in _WALL_WORDS and out and out[-1] in ("non", "un", "not"):
            out.pop()
            continue
        if t in ("unencapsulated", "nonencapsulated", "unorganised", "unorganized"):
            continue
        out.append(t)
    return out if len(out) != len(tokens) else tokens


_BRONCHUS_WORDS = {"bronchi": "segments", "bronchus": "segment", "airways": "segments", "airway": "segment"}
_LOBE_WORDS = frozenset({"lobe", "lobes", "rll", "rul", "rml", "lll", "lul", "lingula", "lingular"})


def _bronchi_of_a_lobe(tokens: list[str]) -> list[str]:
    """"mucus plugging of the segmental bronchi of the RLL", "bronchiectasis in the bronchi of both lower lobes": the
    airways of a lobe place a finding in that lobe (its segments where they are segmental), read as "of the
    segments of the RLL", "in both lower lobes", not in the central airways."""
    if _LOBE_WORDS.isdisjoint(tokens) or _BRONCHUS_WORDS.keys().isdisjoint(tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        tok = tokens[k]
        if tok in _BRONCHUS_WORDS and tokens[k + 1:k + 2] in (["of"], ["in"], ["within"]) \
                and not _LOBE_WORDS.isdisjoint(tokens[k + 2:k + 6]) and "," not in tokens[k + 2:k + 6]:
            if out and out[-1] in ("segmental", "subsegmental"):
                out[-1] = _BRONCHUS_WORDS[tok]
                out.append(tokens[k + 1])
                k += 2
                continue
            if out and out[-1] == "lobar":
                out.pop()
            k += 2  # "in the bronchi of the left lower lobe": "in the left lower lobe"
            if tokens[k:k + 1] == ["the"] and out and out[-1] == "the":
                k += 1
            continue
        out.append(tok)
        k += 1
    return out


_CLIP_WORDS = frozenset({"clips", "clip", "staples"})
_CLIPS_FROM = frozenset({"from", "of", "following", "after", "post"})
_CLIPS_FROM_FILLERS = frozenset({"prior", "previous", "the", "a", "remote", "old", "recent"})


def _operation_clips(tokens: list[str]) -> list[str]:
    """"surgical clips from cholecystectomy", "nephrectomy clips", "clips following prior splenectomy": clips named
    with the operation that left them are that operation's, one post-surgical state, not a device of their own."""
    if _CLIP_WORDS.isdisjoint(tokens) or not any(t.endswith(("ectomy", "ectomies")) for t in tokens):
        return tokens
    out = list(tokens)
    for k in range(len(out) - 1, -1, -1):
        if out[k] not in _CLIP_WORDS:
            continue
        if k and out[k - 1].endswith("ectomy"):  # "nephrectomy clips"
            del out[k]
            continue
        j = k + 1
        if j < len(out) and out[j] in _CLIPS_FROM:
            j += 1
            while j < len(out) and out[j] in _CLIPS_FROM_FILLERS:
                j += 1
            if j < len(out) and out[j].endswith("ectomy"):
                start = k - (k > 0 and out[k - 1] == "surgical")
                del out[start:k + 1]
    return out


_ARTERY_WORDS = frozenset({"artery", "arteries", "branch", "branches"})


#: the words of a lung segment's name before "segmental" ("posterior basal", "apicoposterior", "superior")
_LUNG_SEGMENT_WORDS = frozenset({"anterior", "posterior", "lateral", "medial", "basal", "superior", "apical",
                                 "apicoposterior", "anteromedial", "lingular", "inferior"})


def _arteries_of_a_lobe(tokens: list[str]) -> list[str]:
    """"emboli in the segmental arteries of the left lower lobe", "clot in two subsegmental branches of the RUL":
    the pulmonary arteries of a lobe place a finding in that lobe, read as the lobe's arteries named with the lobe
    first ("in the left lower lobe segmental arteries"), as the lobe is said before its arteries."""
    if _LOBE_WORDS.isdisjoint(tokens) or _ARTERY_WORDS.isdisjoint(tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        tok = tokens[k]
        if tok in _ARTERY_WORDS and out and out[-1] in ("segmental", "subsegmental", "lobar") \
                and tokens[k + 1:k + 2] in (["of"], ["in"], ["to"], ["supplying"]):
            j = k + 2 + (tokens[k + 2:k + 3] == ["the"])
            end = next((q for q in range(j, min(j + 4, len(tokens))) if tokens[q] in _LOBE_WORDS), None)
            if end is not None and "," not in tokens[j:end] and "and" not in tokens[j:end]:
                level = [out.pop()]
                # (with the segment's own name: "the posterior basal segmental artery of the right lower lobe")
                while out and out[-1] in _LUNG_SEGMENT_WORDS:
                    level.insert(0, out.pop())
                out.extend([*tokens[j:end + 1], *level, tok])
                k = end + 1
                continue
        out.append(tok)
        k += 1
    return out


#: the words that name a paranasal sinus ("maxillary sinus", "the paranasal sinuses", "the right antrum")
_PARANASAL_WORDS = frozenset({"maxillary", "frontal", "sphenoid", "sphenoidal", "ethmoid", "ethmoidal", "paranasal",
                              "antrum", "antra"})
_FLUID_LEVEL_AT = (("air", "fluid", "level"), ("air", "fluid", "levels"), ("gas", "fluid", "level"),
                   ("gas", "fluid", "levels"), ("fluid", "level"), ("fluid", "levels"))


def _sinus_fluid_levels(tokens: list[str]) -> list[str]:
    """"an air-fluid level in the left maxillary sinus", "right maxillary sinus air-fluid level": in a paranasal
    sinus an air-fluid level is fluid in the sinus (acute sinus disease), read as "fluid"; elsewhere (bowel loops, a
    hydropneumothorax, an abscess) it only describes the finding it is said of."""
    if _PARANASAL_WORDS.isdisjoint(tokens) or "level" not in tokens and "levels" not in tokens:
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        n = next((len(f) for f in _FLUID_LEVEL_AT if tuple(tokens[k:k + len(f)]) == f), 0)
        if n and (not _PARANASAL_WORDS.isdisjoint(tokens[k + n:k + n + 6]) and tokens[k + n:k + n + 1] and tokens[
                k + n] in ("in", "within", "of", "involving", "at") or not _PARANASAL_WORDS.isdisjoint(
                tokens[max(0, k - 4):k]) and k > 0 and tokens[k - 1] in ("sinus", "sinuses", "antrum", "antra")):
            out.append("fluid")
            k += n
            continue
        out.append(tokens[k])
        k += 1
    return out


#: what may follow a sided station code named without its node noun, in a sentence about nodes: its size
#: ("subcarinal 19 mm, 4R 11 mm"), or the end of a list item ("enlarged nodes at 10L and the AP window")
_CODE_ITEM_ENDS = frozenset({",", ";", ".", "and", "or", "("})
_CODE_ITEM_STARTS = frozenset({",", ";", ":", "and", "or", "at", "in"})


def _code_listed_alone(tokens: list[str], k: int, j: int, codes: list[list[str]]) -> bool:
    """"Enlarged nodes: subcarinal 19 mm, 4R 11 mm", "nodes at 10L and the AP window": a station code with its
    side, standing alone as an item of a list of node sites (after a comma, colon, conjunction or "at", and
    before a size or the item's end) is that station, though no node noun follows it."""
    if k == 0 or tokens[k - 1] not in _CODE_ITEM_STARTS or not any(len(c) == 2 for c in codes):
        return False
    if j >= len(tokens):
        return True
    nxt = tokens[j]
    return nxt in _CODE_ITEM_ENDS or (_is_number(nxt) and j + 1 < len(tokens) and tokens[j + 1] in ("mm", "cm"))


def _is_number(tok: str) -> bool:
    return tok.replace(".", "", 1).isdigit()


def _bare_station_codes(tokens: list[str]) -> list[str]:
    """"4R LN 1.8 cm", "10L node", "enlarged 4R and 7 nodes": station numbers, one at least with its side, before a
    node are those stations ("station 4 r and station 7"), not a count of nodes."""
    if _NODE_NOUNS.isdisjoint(tokens):
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        codes, j = [], k
        while width := _station_code_at(tokens, j):
            codes.append(tokens[j:j + width])
            j += width
            if j + 1 < len(tokens) and tokens[j] in (",", "and", "or", "/") and _station_code_at(tokens, j + 1):
                codes.append([tokens[j]])
                j += 1
                continue
            break
        if codes and j <= len(tokens) and (j < len(tokens) and tokens[j] in _NODE_NOUNS or _code_listed_alone(
                tokens, k, j, codes)) and any(len(c) == 2 for c in codes) \
                and (k == 0 or tokens[k - 1] not in ("station", "stations", "stn", "level", "levels")):
            out += [w for c in codes for w in (c if c[0] in (",", "and", "or", "/") else ["station", *c])]
            k = j
        else:
            out.append(tokens[k])
            k += 1
    return out


_METASTASIS_OF_NODE = {"node": "metastasis", "nodes": "metastases"}
_METASTASIS_NOUNS = frozenset({"metastasis", "metastases"})
#: words that end the phrase between "metastatic" and its node ("metastatic disease with a node")
_NODE_PHRASE_STOPS = frozenset({",", ".", ";", ":", "and", "or", "with", "in", "to", "of", "is", "are", "from",
                                "disease", "deposit", "deposits", "lesion", "lesions", "carcinoma", "melanoma"})


#: adjectives that name a kind of a disease or of a finding ("infective colitis", "metastatic nodes")
_KIND_WORDS = frozenset({"reactive", "metastatic", "infective", "infectious", "inflammatory", "ischaemic", "ischemic",
                         "neoplastic", "malignant", "benign", "degenerative", "traumatic", "pathological",
                         "osteoporotic", "viral", "bacterial", "haemorrhagic", "hemorrhagic", "lytic", "sclerotic",
                         "calculous", "acalculous", "septic", "aseptic", "embolic", "thrombotic", "obstructive"})
_ALTERNATIVE_WORDS = frozenset({"or", "versus", "vs"})
_DENIED_SLASHED_RE = re.compile(
    r"\b(?i:no|without|nor|neg for|negative for)\s+(?:[A-Za-z]+\s+){0,2}[A-Za-z]{3,}(?:/[A-Za-z]{3,})+\b")
_KINDS_SLASHED_RE = re.compile(r"\b(" + "|".join(sorted(_KIND_WORDS)) + r")\s*/\s*(" + "|".join(sorted(_KIND_WORDS))
                               + r")\b", re.I)
#: words that deny what follows: "no lytic or sclerotic lesion" denies both kinds, it offers no alternatives
#: words after which an alternative is hedged already
_HEDGE_BEFORE = frozenset({"possibly", "probably", "likely", "either", "?", "query", "perhaps", "presumably",
                           "suggesting", "suspect", "suspected", "favour", "favor", "of"})
#: words that end the noun named after two kinds ("infective or ischaemic colitis in the sigmoid")
_NOUN_ENDS = frozenset({",", ".", ";", ":", "(", ")", "in", "of", "with", "at", "and", "is", "are", "was", "were",
                        "which", "-", "measuring", "involving", "extending", "seen", "noted", "again", "without"})
#: words after two kinds that name no finding ("infective versus inflammatory aetiology")
_KIND_NOUNS = frozenset({"aetiology", "etiology", "origin", "cause", "causes", "nature", "process", "change",
                         "changes", "appearance", "appearances"})


#: words that deny the kinds named after them, each of them ("no sclerotic or lytic lesion")
_KIND_DENIALS = frozenset({"no", "without", "w/o", "nor", "neither"})


def _kinds_denied(out: list[str], k: int) -> bool:
    """"No sclerotic or lytic lesion", "without suspicious lytic or sclerotic lesion": two kinds after a denial are
    both denied, not offered as alternatives of a finding said to be there."""
    q = k - 1
    while q >= 0 and k - q <= 3 and out[q] not in _KIND_DENIALS and out[q] not in (",", ".", ";", ":", "or", "and"):
        q -= 1
    return q >= 0 and k - q <= 3 and out[q] in _KIND_DENIALS


def _kinds_as_alternatives(tokens: list[str]) -> list[str]:
    """"Infectious or ischaemic colitis", "reactive versus metastatic mediastinal nodes", "enlarged nodes, reactive
    or metastatic": two kinds offered as alternatives only make each kind possible, not the finding they qualify. A
    one-word noun closing the clause after the kinds is stated first ("colitis, possibly infectious or ischaemic");
    a longer one, or none, is hedged with "possibly" ("possibly reactive or metastatic mediastinal nodes")."""
    if _ALTERNATIVE_WORDS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    k = 0
    while k + 2 < len(out):
        if not (out[k] in _KIND_WORDS and out[k + 1] in _ALTERNATIVE_WORDS and out[k + 2] in _KIND_WORDS
                and out[k] != out[k + 2]) or _kinds_denied(out, k):
            k += 1
            continue
        after = out[k + 3] if k + 3 < len(out) else "."
        end = k + 4 if after not in _NOUN_ENDS else k + 3
        if after not in _NOUN_ENDS and after not in _KIND_NOUNS and (end == len(out) or out[end] in (",", ".", ";")):
            hedge = [] if k > 0 and out[k - 1] in _HEDGE_BEFORE else ["possibly"]
            out[k:end] = [after, ",", *hedge, out[k], "or", out[k + 2]]
            k += 5
            continue
        if k > 0 and out[k - 1] in _HEDGE_BEFORE:
            out[k + 1] = "or"
            k += 3
            continue
        # ("versus" between two kinds would hedge the finding before them too: "nodes, reactive versus metastatic")
        out[k:k + 3] = ["possibly", out[k], "or", out[k + 2]]
        k += 4
    return out


def _differential_in_brackets(tokens: list[str]) -> list[str]:
    """"6 mm nodule in the LLL (granuloma versus metastasis)": a differential in brackets after a finding reads as
    one after a comma, which keeps the finding at its site."""
    if "(" not in tokens or _ALTERNATIVE_WORDS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    k = 0
    while k < len(out):
        if out[k] == "(" and k > 0:
            close = next((j for j in range(k + 1, min(k + 10, len(out))) if out[j] in ("(", ")")), None)
            if close is not None and out[close] == ")" and close > k + 3 and any(
                    out[j] in _ALTERNATIVE_WORDS for j in range(k + 2, close - 1)) and not any(
                    out[j][:1].isdigit() for j in range(k + 1, close)):
                tail = [] if close + 1 == len(out) or out[close + 1] in (",", ".", ";") else [","]
                out[k:close + 1] = [",", *out[k + 1:close], *tail]
        k += 1
    return out


#: how a sentence says what a finding named before looks like ("the tumour is seen as mural thickening")
_SEEN_AS = (("is", "seen", "as"), ("are", "seen", "as"), ("appears", "as"), ("appear", "as"),
            ("is", "visible", "as"), ("are", "visible", "as"), ("manifests", "as"), ("is", "evident", "as"),
            ("presents", "as"), ("is", "demonstrated", "as"))


def _seen_as(tokens: list[str]) -> list[str]:
    """"The tumour is seen as mural thickening of the caecum": what the finding looks like gives it its site; read
    as "mural thickening of the caecum, in keeping with the tumour"."""
    if "as" not in tokens:
        return tokens
    for k in range(1, min(len(tokens), 8)):
        for verb in _SEEN_AS:
            if tuple(tokens[k:k + len(verb)]) == verb and not any(t in (",", ";", ":", "(") for t in tokens[:k]):
                rest = tokens[k + len(verb):]
                stop = rest[-1:] if rest and rest[-1] in (".", ";") else []
                body = rest[:len(rest) - len(stop)]
                if not body:
                    return tokens
                return [*body, ",", "in", "keeping", "with", *tokens[:k], *stop]
    return tokens


def _nodal_metastases(tokens: list[str]) -> list[str]:
    """"Subcarinal lymph node metastasis", "metastatic right hilar node": a node named as a metastasis's site is one
    finding, the node's metastasis, read as "subcarinal nodal metastasis" / "right hilar nodal metastasis" are."""
    if "metastatic" not in tokens and _METASTASIS_NOUNS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    k = 0
    while k < len(out):
        # "lymph node metastasis" / "node metastases" -> "nodal metastasis" / "nodal metastases"
        if out[k] in ("node", "nodes") and k + 1 < len(out) and out[k + 1] in _METASTASIS_NOUNS:
            start = k - 1 if k > 0 and out[k - 1] == "lymph" else k
            out[start:k + 1] = ["nodal"]
            k = start + 1
            continue
        # "metastatic [site words] (lymph) node(s)" -> "[site words] nodal metastasis/metastases"
        if out[k] == "metastatic":
            end = next((j for j in range(k + 1, min(k + 6, len(out))) if out[j] in _METASTASIS_OF_NODE
                        or out[j] in _NODE_PHRASE_STOPS), None)
            if end is not None and out[end] in _METASTASIS_OF_NODE:
                words = [w for w in out[k + 1:end] if w != "lymph"]
                out[k:end + 1] = [*words, "nodal", _METASTASIS_OF_NODE[out[end]]]
                k += len(words) + 2
                continue
        k += 1
    return out


#: a clot, named by itself ("thrombus", "tumour thrombus", "DVT")
_CLOT_WORDS = frozenset({"thrombus", "thrombosis", "thrombi", "clot", "dvt", "thrombosed"})
#: how a clot is said to reach on into a second vessel
_EXTENSION_PHRASES = (("which", "extends", "into"), ("that", "extends", "into"), ("with", "extension", "into"),
                      ("extending", "into"), ("extends", "into"), ("extension", "into"), ("propagating", "into"),
                      ("extending", "to"), ("extends", "to"))
_VEIN_WORDS = frozenset({"vein", "veins", "ivc", "svc", "vena", "smv", "ijv", "cava", "venous"})


_EXTENDING = frozenset({"extending", "extends", "extend", "extended", "tracking", "tracks", "spreading"})
_LENGTH_UNITS = frozenset({"mm", "cm"})


def _lengths_extending(tokens: list[str]) -> list[str]:
    """"thickening of the distal oesophagus extending 6 cm to the GOJ": the length said between the verb and
    "to"/"into" is the finding's; read as "... oesophagus, 6 cm, extending to the GOJ", so that the place it reaches
    stays a neighbour (as in "extending to the GOJ") and not its site."""
    if _EXTENDING.isdisjoint(tokens) or _LENGTH_UNITS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    for k in range(len(out) - 3):
        if out[k] in _EXTENDING and _is_number(out[k + 1]) and out[k + 2] in _LENGTH_UNITS \
                and out[k + 3] in ("to", "into", "up", "down", "towards", "toward", "across"):
            out[k:k + 3] = [",", out[k + 1], out[k + 2], ",", out[k]]
            break
    return out


def _clots_extending(tokens: list[str]) -> list[str]:
    """"Thrombus in the left renal vein extending into the IVC": a clot that reaches on into a second vein lies in
    both, as "thrombus in the left renal vein and the IVC" says; the second vein is a site of the clot, not its
    neighbour (a mass "extending into" an organ still only abuts or invades it)."""
    if _CLOT_WORDS.isdisjoint(tokens) or _VEIN_WORDS.isdisjoint(tokens):
        return tokens
    out = list(tokens)
    first_clot = next(k for k, t in enumerate(out) if t in _CLOT_WORDS)
    k = first_clot + 1
    while k < len(out):
        if out[k] in (".", ";"):
            break
        phrase = next((ph for ph in _EXTENSION_PHRASES if tuple(out[k:k + len(ph)]) == ph), None)
        if phrase and not _VEIN_WORDS.isdisjoint(out[k + len(phrase):k + len(phrase) + 5]):
            # (without the article after it: "and the" opens a clause of its own, which would end a scope
            # reaching back over it: "ovarian vein thrombosis extending to the IVC cannot be excluded")
            the = k + len(phrase) < len(out) and out[k + len(phrase)] == "the"
            out[k:k + len(phrase) + the] = ["and"]
        k += 1
    return out


#: plural nouns a bare bracketed number after them still labels: the station of nodes ("subcarinal nodes (7)"), a
#: level or segment
_LABELLED_PLURALS = frozenset({"nodes", "stations", "levels", "segments", "lns", "zones", "ribs", "vertebrae"})


#: sites a bracketed number after counts what is in them (no nodal station is named by these words)
_COUNTED_SITES = frozenset({"rul", "rml", "rll", "lul", "lll", "lingula", "lobe", "right", "left", "r", "l", "rt", "lt",
                            "kidney", "lung"})


def _count_in_brackets(tokens: list[str], k: int, close: int) -> bool:
    """"hepatic metastases (3)", "multiple (5) lesions": a bare number in brackets after a plural finding or a plural
    word counts, it labels no station."""
    code = tokens[k + 1:close]
    if len(code) != 1 or not code[0].isdigit() or k == 0:
        return False
    before = tokens[k - 1]
    # "nodules: RUL (3), LLL (2)", "renal cysts: right (2), left (1)": a lobe or a side counted, no nodal station
    if before in _COUNTED_SITES:
        return True
    return before in ("multiple", "several", "numerous", "many", "few") or (
        len(before) > 3 and before.endswith("s") and before.isalpha() and before not in _LABELLED_PLURALS)


def _without_station_codes(tokens: list[str]) -> list[str]:
    """"left hilar (10L) and aortopulmonary window (station 5) nodes": a bracketed station number restates the
    station just named; read without it, the stations are one list before their noun."""
    if "(" not in tokens:
        return tokens
    out: list[str] = []
    k = 0
    while k < len(tokens):
        if tokens[k] == "(" and ")" in tokens[k + 1:k + 5]:
            close = tokens.index(")", k + 1)
            if _STATION_CODE_RE.match(" ".join(tokens[k + 1:close])) and not _count_in_brackets(tokens, k, close):
                k = close + 1
                continue
        out.append(tokens[k])
        k += 1
    return out


#: a question mark that opens a phrase ("? L adrenal haemorrhage", "1.5 cm, ?neoplasm") is the dictation hedge
#: "query", not the end of a question
_QUERY_RE = re.compile(r"(?:^|(?<=[\s,;(:]))\?(?=\s?[A-Za-z0-9])")


#: the full stops of abbreviations inside a sentence ("i.e. enlarging", "approx. 5 mm", "max. 7 mm", "vs.
#: atelectasis", the sides "r. pleural effusion", "Lt. lower lobe") do not end it; before a capital letter they may
#: ("... lung ca. Ipsilateral nodes"), except "i.e."/"e.g.", which no sentence ends with ("(LI-RADS 5, i.e. HCC)")
_ABBREVIATION_STOP_RE = re.compile(
    r"\b((?i:i\.e|e\.g|approx|vs|cf|incl|esp|max|min|prev|meas|diam|rt|lt|r|l))\.(?=\s*[a-z0-9(,])|\b((?i:i\.e|e\.g))\.")


_ABBREVIATIONS_STOPPED = frozenset({"approx", "vs", "cf", "incl", "esp", "max", "min", "prev", "meas", "diam", "rt",
                                    "lt", "r", "l"})


#: a side's short forms: their stop ends the sentence where the side is the last word of a phrase ("shift to r.",
#: "effusions b/l.") - in lower-case text no capital after the stop tells so
_SIDE_ABBREVIATIONS = frozenset({"r", "l", "rt", "lt"})
_SIDE_OBJECT_WORDS = frozenset({"to", "the", "towards", "toward", "on", "both"})


def _side_ends_sentence(text: str, start: int) -> bool:
    """The side short form at ``start`` ends its phrase: part of a slashed pair ("b/l.", "r/l.") or after "to",
    "the", "on" ("mediastinal shift to r.", "effusion on the l.")."""
    if start and text[start - 1] == "/":
        return True
    before = text[max(0, start - 12):start].split()
    return bool(before) and before[-1].lower() in _SIDE_OBJECT_WORDS


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _without_abbreviation_stops(text: str) -> str:
    """``_ABBREVIATION_STOP_RE.sub`` (the full stops of the abbreviations it names dropped), found from the full
    stops instead: the pattern, tried at every word of every report, cost as much as tokenising it."""
    dot = text.find(".")
    if dot < 0:
        return text
    pieces: list[str] = []
    last = 0
    n = len(text)
    while dot >= 0:
        start = dot - 3
        if start >= last and text[dot - 2] == "." and text[start:dot].lower() in ("i.e", "e.g") \
                and (start == 0 or not _is_word_char(text[start - 1])):
            pieces += [text[last:start], text[start:dot].replace(".", "")]  # "i.e." before anything
            last = dot + 1
        else:
            # what follows the stop is tested first: most stops end a sentence before a capital or the text's end
            after = dot + 1
            while after < n and text[after].isspace():
                after += 1
            if after < n and text[after] in _AFTER_AN_ABBREVIATION:
                # the abbreviation is the whole word before the stop (at most six letters, a non-word character
                # before)
                start = dot
                while start > last and dot - start < 7 and text[start - 1].isalpha():
                    start -= 1
                if start < dot and (start == 0 or not _is_word_char(text[start - 1])) \
                        and text[start:dot].lower() in _ABBREVIATIONS_STOPPED \
                        and not (text[start:dot].lower() in _SIDE_ABBREVIATIONS and _side_ends_sentence(text, start)):
                    pieces += [text[last:start], text[start:dot]]
                    last = dot + 1
        dot = text.find(".", dot + 1)
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


_AFTER_AN_ABBREVIATION = frozenset("abcdefghijklmnopqrstuvwxyz0123456789(,")


#: "splenic v. thrombus", "L renal a. from the false lumen": after a vessel's adjective, "a."/"v." (plural "aa."/"vv.")
#: abbreviate artery/vein; their full stop ends no sentence, unless the next word opens one with a capital ("tip in R
#: brachiocephalic v. L PICC tip in SVC") or the text ends there
_VESSEL_ABBREVIATION_RE = re.compile(
    r"\b((?i:splenic|portal|renal|hepatic|iliac|femoral|popliteal|mesenteric|pulmonary|carotid|vertebral|subclavian"
    r"|jugular|gastric|gonadal|ovarian|testicular|cystic|brachial|axillary|tibial|peroneal|celiac|coeliac|basilar"
    r"|gastroduodenal|epigastric|umbilical|lumbar|intercostal|mammary|thoracic|saphenous|cephalic|basilic"
    # (a pulmonary artery's branches: "RLL posterior basal segmental a.", "lingular a.", "interlobar a.")
    r"|segmental|subsegmental|lobar|interlobar|lingular|basal|apical|apicoposterior|anterior|posterior|lateral"
    r"|medial|superior|inferior|descending|ascending|circumflex|coronary|innominate|brachiocephalic|azygos))"
    r"\s+((?i:aa|vv|a|v))\.(?=\s|$)")
_VESSEL_WORDS = {"a": "artery", "aa": "arteries", "v": "vein", "vv": "veins"}


def _vessel_word(m: re.Match) -> str:
    rest = m.string[m.end():].lstrip()
    stop = "." if not rest or rest[0].isupper() else ""
    return f"{m.group(1)} {_VESSEL_WORDS[m.group(2).lower()]}{stop}"
#: (" a.", " aa.", " v.", " vv.", in any case: the stop is looked for first, a pattern opening with it is not tried at
#: every character)
_VESSEL_ABBREVIATION_HINT_RE = re.compile(r"\.(?:(?<=\s[aAvV]\.)|(?<=\s[aA][aA]\.)|(?<=\s[vV][vV]\.))")


_NEW_FIELD_LINE_RE = re.compile(r"\n(?=[ \t]*(?:[A-Za-z][A-Za-z /&(),-]{0,40}:|\d{1,2}[.)][ \t]|[-*\u2022][ \t]))")


def _sentences(text: str) -> list[list[str]]:
    return [tokens for tokens, _ in _sentence_pieces(text)]


#: "small left effusion, none on the right": a comma before a denial of the finding on the other side
_ELLIPTIC_NONE_RE = re.compile(r"(?i),\s*(?=(?:none|nil)\s+(?:is\s+|are\s+)?(?:seen\s+|present\s+)?(?:on|in|at)\s+"
                               r"the\s+(?:left|right|other|opposite|contralateral)\b)")


#: the public corpora's tokenised form ("heart normal . lungs clear ."): its commas are gone, so a clause that
#: says what a finding is or how it changed ("opacity likely atelectasis", "wires fractured unchanged") gets the
#: comma back before its cue word (only in a text with no comma at all and its full stops set apart), unless the
#: word before makes the cue part of its predicate ("highly suggestive of", "is unchanged", "could be in keeping")
_CLAUSE_CUE_RE = re.compile(r"(\w+) (?=(?:likely|probably|possibly|consistent with|in keeping with|compatible with|"
                            r"suggestive of|suggesting|concerning for|suspicious for|c/w|unchanged|raising concern)\b)",
                            re.IGNORECASE)
_CUE_PREDICATE_WORDS = frozenset({"highly", "very", "most", "more", "less", "is", "are", "be", "was", "were", "been",
                                  "appears", "appear", "remains", "remain", "and", "or", "not", "also", "thus", "as",
                                  "findings", "appearances", "which", "that", "otherwise", "largely", "essentially"})


def _clause_comma(m: re.Match) -> str:
    word = m.group(1)
    return f"{word} " if word.lower() in _CUE_PREDICATE_WORDS else f"{word} , "


def _sentence_pieces(text: str) -> list[tuple[list[str], bool]]:
    """The sentences, each with whether it is a clause after a semicolon of the same sentence."""
    if " . " in text and "," not in text:
        text = _CLAUSE_CUE_RE.sub(_clause_comma, text)
    if "," in text and _ELLIPTIC_NONE_RE.search(text):
        # "small left effusion, none on the right" is read as "...; none on the right" is: the finding, and its
        # denial on the other side (the comma made "none" deny the finding itself)
        text = _ELLIPTIC_NONE_RE.sub("; ", text)
    if "?" in text:
        text = _QUERY_RE.sub(" query ", text)
    text = _without_abbreviation_stops(text)
    if "/" in text:  # "reactive/metastatic": two kinds offered as alternatives, as "reactive or metastatic" does
        text = _KINDS_SLASHED_RE.sub(r"\1 or \2", text)
        # "no pneumatosis/PVG", "without perf/abscess": a slash between two denied words lists two denied findings
        # (as "no pneumatosis or PVG"), not one name of two words; a stated "collapse/consolidation" stays as it is
        text = _DENIED_SLASHED_RE.sub(lambda m: m.group(0).replace("/", " or "), text)
    if _VESSEL_ABBREVIATION_HINT_RE.search(text):  # a cheap test first: the full pattern is a long alternation
        text = _VESSEL_ABBREVIATION_RE.sub(_vessel_word, text)
    # a line that opens with a field label, a list number or a bullet starts a new sentence ("...PROTOCOL)\nLeft
    # adrenal: 1.1 cm nodule"); other line breaks may be hard wraps inside a sentence and are kept
    if "\n" in text:
        text = _NEW_FIELD_LINE_RE.sub(". ", text)
    out: list[tuple[list[str], bool]] = []
    for block in _BLANK_LINE_RE.split(text) if "\n" in text else (text,):
        tokens = TOKEN_RE.findall(normalize(block))
        if "(" not in tokens:  # (no bracket opens: every stop ends a sentence)
            _pieces_without_brackets(tokens, out)
            continue
        cur: list[str] = []
        depth = 0  # open brackets: "(segment 6, 1.8 cm; segment 7, 2.5 cm)" is one list, not two sentences
        after_semicolon = False
        for tok in tokens:
            if tok == ";" and depth:
                cur.append(",")
            elif tok in SENTENCE_END:
                if cur:
                    out.append((cur, after_semicolon))
                    after_semicolon = tok == ";"
                cur = []
                depth = 0
            else:
                depth = depth + 1 if tok == "(" else max(0, depth - 1) if tok == ")" else depth
                cur.append(tok)
                if len(cur) >= MAX_SENTENCE_TOKENS:  # run-on text: bounded pieces keep the reader linear
                    out.append((cur, after_semicolon))
                    cur = []
                    after_semicolon = False
        if cur:
            out.append((cur, after_semicolon))
    return out


_BLANK_LINE_RE = re.compile(r"\n\s*\n")


def _pieces_without_brackets(tokens: list[str], out: list[tuple[list[str], bool]]) -> None:
    """``_sentence_pieces``'s loop over a block's tokens where no bracket opens (most blocks): the sentences are the
    runs between the stops, found in one pass instead of a test per token."""
    after_semicolon = False
    start = 0
    stops = [k for k, tok in enumerate(tokens) if tok in SENTENCE_END]
    for stop in (*stops, len(tokens)):
        cur = tokens[start:stop]
        while len(cur) >= MAX_SENTENCE_TOKENS:  # run-on text: bounded pieces keep the reader linear
            out.append((cur[:MAX_SENTENCE_TOKENS], after_semicolon))
            cur = cur[MAX_SENTENCE_TOKENS:]
            after_semicolon = False
        if cur:
            out.append((cur, after_semicolon))
            if stop < len(tokens):
                after_semicolon = tokens[stop] == ";"
        start = stop + 1


_RELATIVE_VERBS = frozenset({"is", "are", "measures", "measure", "measuring", "remains", "remain", "appears",
                             "appear", "was", "were"})


_MAX_ORGAN_TOKENS = 5


def _relative_clause(tokens: list[str], lex: Lexicon) -> tuple[list[str], list[str]] | None:
    """"a stone in the CBD, which is dilated (1.1 cm)", "no tumour in the portal vein, which is patent": a
    relative clause right after an organ, split off as a sentence about that organ (the caller keeps the split
    only when that sentence states something of the organ: in "a nodule in the right upper lobe, which is
    stable" the clause is the nodule's)."""
    for i, tok in enumerate(tokens):
        if tok != "which" or i + 1 >= len(tokens) or tokens[i + 1] not in _RELATIVE_VERBS:
            continue
        end = i - 1 if i > 0 and tokens[i - 1] == "," else i
        for start in range(max(0, end - _MAX_ORGAN_TOKENS), end):
            kinds = lex.phrase_kinds.get(tuple(tokens[start:end]), {})
            if ("ANAT" in kinds or "SUB" in kinds) and "OBS" not in kinds:
                return tokens[:end], tokens[start:end] + tokens[i + 1:]
        return None
    return None


#: a "sentence" longer than this (run-on dictation, garbage) is read in pieces of this many tokens, so that the
#: per-sentence analysis (quadratic in the worst case) keeps the whole reader linear in the text's length
MAX_SENTENCE_TOKENS = 150


#: a side said as a field label of its own ("Right:", "R:", "Lt:")
_SIDE_LABEL_WORDS = {"right": "right", "left": "left", "r": "right", "l": "left", "rt": "right", "lt": "left"}
#: what a side label may say of the finding named before it: that it is not on this side
_NONE_WORDS = frozenset({"none", "nil", "negative", "absent"})


_DASHES = frozenset({"-", "–", "—"})


def _side_dash_as_label(tokens: list[str]) -> list[str]:
    """"Right - small effusion.", "KIDNEYS: Left - 5 mm stone.": a dash after a side that opens the sentence (or
    follows its field label) sets the side as a label, as a colon does."""
    for k in (0, 2):
        if len(tokens) > k + 2 and tokens[k] in _SIDE_LABEL_WORDS and tokens[k + 1] in _DASHES \
                and (k == 0 or tokens[1] == ":") and tokens[k + 2] not in ("and", "or", "to", "&", ","):
            return [*tokens[:k + 1], ":", *tokens[k + 2:]]
    return tokens


def _side_labels_nested(pieces: list[tuple[list[str], bool]]) -> list[tuple[list[str], bool]]:
    """"Kidneys: Right: 2 cm cyst. Left: normal.", "Renal cysts: Right: 2 cm. Left: 1 cm.", "ADRENALS: R: nodule.
    L: normal.": a side label nested under an organ or finding label is that label on that side ("Right kidneys:
    2 cm cyst. Left kidneys: normal."), and so is each side label after it until a sentence without one. A side
    label that only says "none" ("Right: moderate hydronephrosis. Left: none.") denies the finding just named on
    that side ("none on the left")."""
    out: list[tuple[list[str], bool]] = []
    head: list[str] | None = None
    sided = False  # the sentence before opened with a side label
    for tokens, semi in pieces:
        tokens = _side_dash_as_label(tokens)
        t = tokens
        colon = t.index(":", 1, 5) if ":" in t[1:5] else None  # a colon among the second to fifth tokens
        if colon is not None and colon + 3 < len(t) and t[colon + 1] in _SIDE_LABEL_WORDS \
                and t[colon + 2] == ":" and all(w.isalpha() and w not in _SIDE_LABEL_WORDS for w in t[:colon]):
            head = t[:colon]
            t = [_SIDE_LABEL_WORDS[t[colon + 1]], *head, ":", *t[colon + 3:]]
        elif len(t) >= 3 and t[0] in _SIDE_LABEL_WORDS and t[1] == ":":
            side = _SIDE_LABEL_WORDS[t[0]]
            if sided and len(t) == 3 and t[2] in _NONE_WORDS:
                t = ["none", "on", "the", side]
            elif head:
                t = [side, *head, ":", *t[2:]]
        else:
            head = None
        sided = len(tokens) >= 3 and (tokens[0] in _SIDE_LABEL_WORDS and tokens[1] == ":" or t[:1] != tokens[:1])
        out.append((t, semi))
    return out


#: a grade said of a side that denies the finding there ("small on the left, none on the right")
_NO_GRADE_WORDS = frozenset({"none", "no", "nil", "absent"})
#: words before a finding named once for both sides, left out when it is split per side
_BOTH_SIDES_WORDS = frozenset({"bilateral", "bilaterally", "both"})
#: words that end the finding's name looking back from its label colon or comma
_NOT_IN_NAME = frozenset({"there", "is", "are", "a", "an", "the", "with", "and", "of", "in", "on", "noted", "seen"})


def _grade_on_side(tokens: list[str], k: int, lex: Lexicon) -> tuple[str, str, int] | None:
    """"small on the right", "trace right", "moderate on the left side", "none on the right", and the side first
    ("right small", "left none"): (grade, side, end)."""
    if k + 1 < len(tokens) and tokens[k] in _SIDES and (_is_severity(tokens[k + 1], lex)
                                                        or tokens[k + 1] in _NO_GRADE_WORDS):
        return ("no" if tokens[k + 1] in _NO_GRADE_WORDS else tokens[k + 1]), tokens[k], k + 2
    if k >= len(tokens) or not (_is_severity(tokens[k], lex) or tokens[k] in _NO_GRADE_WORDS):
        return None
    grade, j = tokens[k], k + 1
    if tokens[j:j + 2] == ["on", "the"]:
        j += 2
    elif tokens[j:j + 1] == ["on"]:
        j += 1
    if j >= len(tokens) or tokens[j] not in _SIDES:
        return None
    side, j = tokens[j], j + 1
    if tokens[j:j + 1] == ["side"]:
        j += 1
    return ("no" if grade in _NO_GRADE_WORDS else grade), side, j


def _grades_listed_per_side(tokens: list[str], lex: Lexicon) -> list[str]:
    """"Effusions: small on the right, moderate on the left.", "Pleural effusions: trace right, large left.",
    "bilateral pleural effusions, small on the right and moderate on the left": a finding named once and then
    graded side by side is one finding per side, each with its grade ("small right effusions and moderate left
    effusions"; "none on the right" denies it there)."""
    if "right" not in tokens or "left" not in tokens:
        return tokens
    for sep in range(1, len(tokens) - 4):
        if tokens[sep] not in (":", ","):
            continue
        first = _grade_on_side(tokens, sep + 1, lex)
        if first is None:
            continue
        j = first[2] + (tokens[first[2]:first[2] + 1] in ([","], ["and"]))
        j += tokens[j - 1:j + 1] == [",", "and"]
        second = _grade_on_side(tokens, j, lex)
        if second is None or second[1] == first[1] or (second[2] < len(tokens) and tokens[second[2]] not in
                                                        (",", ";", ".", "and")):
            continue
        start = next((i for i in range(max(0, sep - 4), sep) if all(
            w.isalpha() and w not in _SIDES and w not in _BOTH_SIDES_WORDS and w not in _NOT_IN_NAME
            for w in tokens[i:sep]) and _finding_phrase_after(tokens, i, lex) is not None
            and i + len(_finding_phrase_after(tokens, i, lex)) <= sep), None)
        if start is None:
            continue
        name = tokens[start:sep]
        if start and tokens[start - 1] in _BOTH_SIDES_WORDS:
            start -= 1
        return [*tokens[:start], first[0], first[1], *name, "and", second[0], second[1], *name,
                *tokens[second[2]:]]
    return tokens


#: whole body regions, no node station of their own: nodes denied or found "in the abdomen" are not placed
#: the node stations a region may be listed with ("abdominal or pelvic", "chest, abdomen or pelvis")
_NODE_STATIONS = frozenset({"pelvic", "pelvis", "retroperitoneal", "mediastinal", "axillary", "cervical", "neck",
                            "inguinal", "mesenteric", "hilar", "supraclavicular", "iliac"})
_NODE_REGIONS = frozenset({"abdominal", "abdomen", "abdominopelvic", "thoracic", "thorax", "intrathoracic",
                           "intraabdominal", "chest"})
_REGION_LIST_WORDS = frozenset({"or", "and", ",", "/", "the"})
_REGION_NODE_WORDS = frozenset({"lymphadenopathy", "adenopathy", "nodes", "node", "lymph"})


def _nodes_of_whole_regions(tokens: list[str]) -> list[str]:
    """"No abdominal or pelvic lymphadenopathy", "no lymphadenopathy in the chest, abdomen or pelvis": a list of
    sites with a whole region among them places the nodes nowhere narrower than everywhere it names; read without
    the list ("no lymphadenopathy"), not at the one station in it (the pelvis alone was read)."""
    out = list(tokens)
    changed = False
    for k in range(len(out) - 1, -1, -1):
        if k >= len(out) or out[k] not in _REGION_NODE_WORDS:
            continue
        # the list before the node word
        a = k
        while a > 0 and (out[a - 1] in _REGION_LIST_WORDS or out[a - 1] in _NODE_REGIONS or out[a - 1] in _NODE_STATIONS):
            a -= 1
        before = out[a:k]
        if any(w in _NODE_REGIONS for w in before) and any(w in ("or", "and", ",", "/") for w in before):
            out[a:k] = []
            changed = True
            continue
        # ... or after it ("lymphadenopathy in the chest, abdomen or pelvis")
        b = k + 1
        if b < len(out) and out[b] in ("in", "within", "of"):
            e = b + 1
            while e < len(out) and (out[e] in _REGION_LIST_WORDS or out[e] in _NODE_REGIONS or out[e] in _NODE_STATIONS):
                e += 1
            after = out[b + 1:e]
            if any(w in _NODE_REGIONS for w in after) and any(w in ("or", "and", ",", "/") for w in after):
                out[b:e] = []
                changed = True
    return out if changed else tokens


_LOWER_LOBE_WORDS = frozenset({"rll", "lll"})


def _apical_segment_of_a_lower_lobe(tokens: list[str]) -> list[str]:
    """"the apical segment of the right lower lobe", "RLL apical segment": a lower lobe's apical segment is its
    superior segment (segment 6), not the lung apex (read so, the finding was placed at the apex and in the lower
    lobe both)."""
    out = None
    for k, tok in enumerate(tokens):
        if tok != "apical" or tokens[k + 1:k + 2] != ["segment"]:
            continue
        after, before = tokens[k + 2:k + 8], tokens[max(0, k - 3):k]
        lower = (_LOWER_LOBE_WORDS.intersection(after) or any(
            after[j:j + 2] == ["lower", "lobe"] for j in range(len(after))) and after[:1] == ["of"]) or \
            _LOWER_LOBE_WORDS.intersection(before) or before[-2:] == ["lower", "lobe"]
        if lower:
            out = out or list(tokens)
            out[k] = "superior"
    return out if out is not None else tokens


#: the bare comparatives that, standing after a finding at the end of its phrase, say how it changed since the prior
_BARE_CHANGES = {"smaller": "smaller", "larger": "larger", "bigger": "larger",
                 "\u2191": "larger", "\u2193": "smaller"}  # "Bilat effs \u2191": the arrows of the shorthand
#: words before a bare comparative that make it no telegraphic change: a verb or adverb the lexicon reads with it
#: ("is smaller", "slightly larger"), an article ("the larger"), a side compared with the other ("left larger")
_NOT_BEFORE_BARE_CHANGES = frozenset({"is", "are", "was", "were", "now", "become", "slightly", "minimally", "mildly",
                                      "somewhat", "marginally", "much", "little", "no", "any", "none", "the", "a",
                                      "an", "left", "right", "l", "r", "lt", "rt", "one", "other", "far", "even",
                                      "significantly", "considerably", "substantially", "also", "not", "and", "or"})
_PHRASE_ENDS = frozenset({",", ";", ".", ":"})


def _bare_changes(tokens: list[str]) -> list[str]:
    """"CT vs March: mediastinal nodes smaller; effusion gone", "effusions larger, oedema worse": a bare comparative
    right after a finding, ending its phrase, is the finding's change since the prior study (read as "now smaller"),
    as "worse" is; before "than", after a side ("left larger") or a verb ("is smaller") it is read as before."""
    out: list[str] | None = None
    for k in range(1, len(tokens)):
        tok = tokens[k]
        if tok not in _BARE_CHANGES or not tokens[k - 1].isalpha() or tokens[k - 1] in _NOT_BEFORE_BARE_CHANGES:
            continue
        if k + 1 < len(tokens) and tokens[k + 1] not in _PHRASE_ENDS:
            continue
        if out is None:
            out = list(tokens)
        out[k + len(out) - len(tokens)] = "now"
        at = k + len(out) - len(tokens) + 1
        out.insert(at, _BARE_CHANGES[tok])
    return out if out is not None else tokens


#: the words of a technique line's "no prior study" ("no prior:", "no comparison studies available,")
_NO_PRIOR_WORDS = frozenset({"prior", "priors", "previous", "comparison", "comparisons", "comparative", "study",
                             "studies", "imaging", "films", "film", "exams", "examinations", "scans", "available",
                             "for", "old"})


def _no_prior_headers(tokens: list[str]) -> list[str]:
    """"Contrast CT A/P, no prior: mild fatty liver", "CT chest, no comparison; small effusion": a header's "no prior
    study" denies a comparison, not the finding after its colon; the words are left out."""
    out: list[str] | None = None
    k = 0
    while k < len(tokens):
        if tokens[k] == "no" and k + 1 < len(tokens) and tokens[k + 1] in _NO_PRIOR_WORDS - {"for", "old"}:
            end = k + 1
            while end < len(tokens) and end - k <= 4 and tokens[end] in _NO_PRIOR_WORDS:
                end += 1
            if end < len(tokens) and tokens[end] in (":", ";", ",") and end + 1 < len(tokens):
                out = out if out is not None else list(tokens)
                cut = len(tokens) - len(out)
                del out[k - cut:end - cut]
                k = end
                continue
        k += 1
    return out if out is not None else tokens


_SPLIT_LOBE_SIDES = {"r": "right", "rt": "right", "right": "right", "l": "left", "lt": "left", "left": "left"}
_SPLIT_LOBES = {"ul": ("upper", "lobe"), "ll": ("lower", "lobe"), "ml": ("middle", "lobe"),
                # and a kidney's poles dictated the same way ("2 mm L UP stone", "R LP cyst")
                "up": ("upper", "pole"), "lp": ("lower", "pole")}


def _split_lobe_abbreviations(tokens: list[str]) -> list[str]:
    """"R UL cavitary lesion", "L LL consolidation": a lobe's abbreviation written apart from its side is the lobe
    ("RUL", "LLL"); "ML" only after "R" (the left lung has none; "5 ml" is a volume). A kidney's pole ("L UP
    stone") likewise, after a side's letter and before a noun."""
    out: list[str] | None = None
    for k in range(len(tokens) - 1, 0, -1):
        lobe, side = _SPLIT_LOBES.get(tokens[k]), _SPLIT_LOBE_SIDES.get(tokens[k - 1])
        if lobe is None or side is None or (tokens[k] == "ml" and side != "right") \
                or (k > 1 and _number(tokens[k - 2])):
            continue
        if tokens[k] in ("up", "lp") and (tokens[k - 1] in ("left", "right") or k + 1 >= len(tokens)
                                          or not tokens[k + 1].isalpha() or tokens[k + 1] == "to"):
            continue  # a kidney's pole only as a letter side's, before a noun ("L UP stone"; not "left up to")
        out = out if out is not None else list(tokens)
        out[k - 1:k + 1] = [side, *lobe]
    return out if out is not None else tokens


#: the rewrites of ``normalised_tokens`` in order, each with the words one of which must be a token for it to change
#: anything (the test each makes first; None: always run)
_REWRITES = (
    (_hash_fractures, frozenset({"#"})), (_gas_in_a_wall, _WALL_GASES), (_undistended_bowel, _UNDISTENDED_WORDS),
    (_emphysematous_infections, frozenset({"emphysematous"})), (_nodules_of_ground_glass, frozenset({"glass"})),
    (_device_in_a_question, _PROCEDURE_WORDS), (_both_bile_trees, frozenset({"extrahepatic"})),
    (_junction_of_two, frozenset({"junction"})), (_lobectomy_of_a_lobe, frozenset({"lobectomy"})),
    (_both_of_one_side, frozenset({"both", "-"})), (_kinds_as_alternatives, _ALTERNATIVE_WORDS),
    (_differential_in_brackets, frozenset({"("})),
    (_seen_as, frozenset({"as"})), (_blood_and_air, _BLOOD_AND_AIR), (_fluid_in_a_hemithorax, _HEMITHORAX), (_thick_walled_gut, frozenset({"walled"})), (_share_of_a_hemithorax, _HEMITHORAX), (_side_labels, frozenset({":"})),
    (_no_prior_headers, frozenset({"prior", "priors", "previous", "comparison", "comparisons", "comparative"})),
    (_split_lobe_abbreviations, frozenset(_SPLIT_LOBES)),
    (_near_occlusions, frozenset({"subtotal", "subtotally", "near", "nearly", "almost"})),
    (_percent_stenoses, frozenset({"%", "percent"})), (_sizes_up_to, frozenset({"up"})), (_dates, None),
    (_numbered_grades, frozenset({"grade", "gr"})), (_without_densities, frozenset({"hu"})),
    (_size_changes, _SIZE_CHANGE_WORDS), (_bare_changes, frozenset(_BARE_CHANGES)), (_partitive_counts, _PARTITIVE_VERBS), (_counts_or_more, frozenset({"more"})),
    (_duct_of_the_pancreas, frozenset({"duct"})), (_abbreviated_words, None),
    (_valve_positions, frozenset({"valve", *_VALVE_OF_DEVICE})), (_comparisons, frozenset({"versus", "vs"})),
    (_ventricle_ratios, frozenset({"rv", "ventricle", "ventricular"})),
    (_air_bronchograms_alone, frozenset({"bronchogram", "bronchograms"})),
    (_spelled_sizes, frozenset(_NUMBER_WORDS)), (_ribs_named_by_vertebra, frozenset({"rib", "ribs"})),
    (_counted_ordinals, frozenset({"rib", "ribs"})),
    (_ribs_numbered_after, frozenset({"rib", "ribs"})), (_ribs_numbered_before, frozenset({"rib", "ribs"})),
    (_rib_parts, frozenset({"rib"})), (_poles_of_a_sided_lobe, frozenset({"pole"})),
    (_segments_numbered_in_brackets, frozenset({"("})), (_vertebrae_counted, frozenset({"c", "t", "l", "s"})),
    (_numbered_parts_listed, frozenset(_NUMBERED_PARTS)), (_without_silhouette_signs, _SIGN_VERBS | {"loss"}),
    (_without_station_codes, frozenset({"("})), (_bare_station_codes, _NODE_NOUNS),
    (_nodal_metastases, _METASTASIS_NOUNS | {"metastatic"}), (_lengths_extending, _EXTENDING),
    (_clots_extending, _CLOT_WORDS), (_tips_shunt, frozenset({"tips"})), (_full_hila, frozenset({"full"})),
    (_classification_in_brackets, frozenset({"stanford", "debakey"})),
    (_aortoiliac_atheroma, frozenset({"aortoiliac", "aorto"})),
    (_diaphragm_words, _DIAPHRAGM), (_displacing_the_mediastinum, _DISPLACING),
    (_midline_mediastinum, _MIDLINE_ORGANS),
    (_sinus_fluid_levels, _PARANASAL_WORDS), (_bronchi_of_a_lobe, frozenset(_BRONCHUS_WORDS)),
    (_arteries_of_a_lobe, _ARTERY_WORDS), (_operation_clips, _CLIP_WORDS),
    (_calcified_vessels_listed, frozenset({"calcified"})), (_hilum_of_its_organ, frozenset({"hilar"})),
    (_walls_denied, _WALL_WORDS | {"unencapsulated", "nonencapsulated", "unorganised", "unorganized"}),
    (_nodes_of_whole_regions, _NODE_REGIONS), (_apical_segment_of_a_lower_lobe, frozenset({"apical"})))
