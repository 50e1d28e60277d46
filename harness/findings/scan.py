"""Tokens -> spans: the longest-match phrase scan against the lexicon, each span's category, and the scope of
every context trigger over the sentence (ConText with graded certainty; see ``extract``'s docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harness.findings.lexicon import Lexicon, Reading
from harness.findings.sentences import UNITS


CERTAINTY_ORDER = ("hyp", "possible", "improbable", "neg", "probable")  # which scope wins when several cover


CAT_ORDER = ("OBS", "ENLARGE", "LOC", "SEV", "TEMP", "POS", "ATTR", "COUNT")


@dataclass
class Span:
    kind: str  # PHRASE, SIZE, NUM, WORD
    value: Any
    start: int
    end: int
    text: str
    cat: str = ""  # resolved category: OBS, ENLARGE, LOC, ATTR, COUNT, CTX:<kind>, SIZE, NUM, WORD

    by_kind: dict[str, list[Reading]] = field(default_factory=dict)

    def readings(self, kind: str) -> list[Reading]:
        return self.by_kind.get(kind, _NONE)


_NONE: list[Reading] = []


def _is_num(tok: str) -> bool:
    return tok[0].isdecimal()  # not isdigit: "³" is a digit but not a number float() reads


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
        # a range ("3-4 mm", "3 to 4 mm", hyphen dropped by the tokeniser): its bound without a unit is not a
        # count ("two 3-4 mm nodules" are two); the upper bound is the size, as for the largest dimension
        if unit is None and j < n and _is_num(tokens[j]):
            continue
        if unit is None and j + 1 < n and tokens[j] in ("to", "-") and _is_num(tokens[j + 1]):
            j += 1
            continue
        break
    last = next((u for u in reversed(units) if u is not None), None)
    if last is None:
        return None, i
    return round(max(d * (u if u is not None else last) for d, u in zip(dims, units)), 1), j


def _scan(tokens: list[str], lex: Lexicon) -> list[Span]:
    spans: list[Span] = []
    phrases = lex.phrases
    trie = lex.trie
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
        if tok in trie:
            # longest phrase from here: walk the lexicon's word trie, remembering the phrase ends passed
            node, ends, j = trie, [], i
            while j < n:
                node = node.get(tokens[j])
                if node is None:
                    break
                j += 1
                if None in node:
                    ends.append(j)
            for j in reversed(ends):
                if j - i == 2 and _is_num(tokens[i + 1]) and j < n and tokens[j] in ("st", "nd", "rd", "th"):
                    continue  # "L 4th rib": a side and an ordinal, not the vertebra L4
                key = tuple(tokens[i:j])
                spans.append(Span("PHRASE", phrases[key], i, j, " ".join(key), by_kind=lex.phrase_kinds[key]))
                i = j
                break
            else:
                spans.append(Span("WORD", tok, i, i + 1, tok, cat="WORD"))
                i += 1
            continue
        spans.append(Span("WORD", tok, i, i + 1, tok, cat="WORD"))
        i += 1
    _numbers_of_a_size_list(spans)
    named = False  # an observation named earlier in the sentence
    for s in spans:
        if s.kind != "PHRASE":
            continue
        cat, alternative = _phrase_category(tuple(r for r in s.value))
        # "Appendicitis: negative." denies what precedes it; "Lungs: negative." calls the lungs normal
        s.cat = cat if named or alternative is None else alternative
        named = named or "OBS" in s.by_kind
    # "borderline heart size", "heart size is borderline": a hedge with no finding to hedge says the organ's size is
    # at the limit of normal
    if not any(s.cat in ("OBS", "ENLARGE") for s in spans):
        for s in spans:
            if s.kind == "PHRASE" and s.cat.startswith("CTX:") and any(
                    r.kind == "CTX" and r.value == "borderline_size" for r in s.value):
                s.cat = "CTX:borderline_size"
    # "interval enlargement of the aneurysm": enlargement of a finding, not of an organ, is its growth
    for k, s in enumerate(spans):
        if s.cat == "ENLARGE" and s.readings("TEMP"):
            nxt = next((q for q in spans[k + 1:k + 8] if q.cat not in ("SIZE", "POS", "SEV", "ATTR", "LAT")
                        and q.text not in ("of", "in", "the", "a", "an", "known", "previously", "seen")), None)
            if nxt is not None and nxt.cat == "OBS":
                s.cat = "TEMP"
    return spans


#: words between the members of a list of measurements ("11 and 13 mm", "4, 6 and 9 mm")
SIZE_LIST_JOINERS = frozenset({",", "and", "or"})


def _numbers_of_a_size_list(spans: list[Span]) -> None:
    """"11 and 13 mm", "4, 6 and 9 mm": bare numbers listed before a measurement share its unit, so each is a
    size of its own (read alone, "11" would be a count or nothing)."""
    for k, s in enumerate(spans):
        if s.cat != "SIZE":
            continue
        unit = UNITS.get(s.text.split()[-1])
        q = k - 1
        while unit is not None and q >= 1 and spans[q].text in SIZE_LIST_JOINERS and spans[q - 1].cat == "NUM" \
                and (q < 2 or spans[q - 2].text not in ("x", "by")):  # not the first dimension of "2 x 3 and"
            n = spans[q - 1]
            spans[q - 1] = Span("SIZE", round(n.value * unit, 1), n.start, n.end, n.text, cat="SIZE")
            q -= 2


@lru_cache(maxsize=16384)
def _phrase_category(readings: tuple[Reading, ...]) -> tuple[str, str | None]:
    """A phrase's category, once per distinct phrase; and, for a phrase that negates what was named before it
    but calls an organ normal otherwise ("negative"), the category to use when nothing was named."""
    kinds = {r.kind for r in readings}
    if "CTX" in kinds:
        ctx = [r.value for r in readings if r.kind == "CTX"]
        kind = ctx[0]
        alternative = None
        if ("normal" in ctx or "normal_size" in ctx) and kind not in ("normal", "normal_size"):
            alternative = "CTX:" + next(k for k in ctx if k in ("normal", "normal_size"))
        # a phrase that triggers both ways ("likely": "likely atelectasis", "atelectasis is likely")
        base = kind.rsplit("_", 1)[0]
        if f"{base}_forward" in ctx and f"{base}_backward" in ctx:
            kind = f"{base}_bidirectional"
        return "CTX:" + kind, alternative
    if kinds & {"ANAT", "SUB", "STATION", "LAT"}:
        kinds = kinds | {"LOC"}
    return next((c for c in CAT_ORDER if c in kinds), "WORD"), None


def _scopes(spans: list[Span]) -> tuple[dict[int, str], set[int]]:
    """The context each position is under ("neg", "possible", "probable", "improbable", "hyp"; the strongest
    by ``CERTAINTY_ORDER`` when several scopes cover it), and the positions under a "resolved" trigger."""
    trig: dict[int, tuple[str, str]] = {}
    term: set[int] = set()
    limited = any(s.cat == "CTX:limitation" for s in spans)
    for p, s in enumerate(spans):
        c = s.cat
        if not c.startswith("CTX:"):
            continue
        kind = c[4:]
        if kind == "termination":
            # a field label's colon ("Possible pancreatic head: low-attenuation tumour") does not end a scope
            label = s.text == ":" and p <= 9 and not any(q.cat in ("OBS", "ENLARGE") for q in spans[:p])
            if not label:
                term.add(p)
        elif kind == "evaluation":
            if limited:  # "evaluation for pneumothorax is limited": no statement about a pneumothorax
                trig[p] = ("hyp", "forward")
        elif "_" in kind:
            base, direction = kind.rsplit("_", 1)
            if direction in ("forward", "backward", "bidirectional"):
                pol = {"negation": "neg", "resolved": "resolved", "hypothetical": "hyp"}.get(base, base)
                trig[p] = (pol, direction)
    scope: dict[int, str] = {}
    resolved: set[int] = set()
    rank = {k: i for i, k in enumerate(CERTAINTY_ORDER)}
    n = len(spans)

    def mark(q: int, pol: str) -> None:
        if pol == "resolved":
            resolved.add(q)
            pol = "neg"
        if q not in scope or rank[pol] < rank[scope[q]]:
            scope[q] = pol

    for p, (pol, direction) in trig.items():
        def stop(q: int) -> bool:
            return q in term or (q in trig and trig[q][0] != pol)

        def stop_back(q: int) -> bool:  # "Appendicitis: negative." reaches back over the field label's colon
            return (q in term and spans[q].text != ":") or (q in trig and trig[q][0] != pol)

        if direction == "backward" and pol not in ("neg", "resolved") and not any(
                spans[q].cat in ("OBS", "ENLARGE") for q in range(p)):
            direction = "forward"  # "the heart is unlikely to be enlarged": nothing behind the hedge to qualify
        if direction in ("forward", "bidirectional"):
            q = p + 1
            # "resolution of the abscess with drain in situ", "removal of the chest tube with residual effusion":
            # what comes with the resolved finding is still there
            while q < n and not stop(q) and not (pol == "resolved" and spans[q].text == "with"):
                mark(q, pol)
                q += 1
        if direction == "bidirectional" and pol not in ("neg", "resolved") and any(
                spans[q].cat in ("OBS", "ENLARGE") for q in range(p + 1, n) if not stop(q)):
            direction = "forward"  # "opacity most likely atelectasis": the hedge names what the opacity is
        if direction in ("backward", "bidirectional"):
            q = p - 1
            # a backward hedge reaches back only to the comma ("opacity, likely atelectasis") unless it closes
            # the sentence ("hiatal hernia, unlikely")
            # a recommendation ("..., repeat CT in three months advised") never reaches back over a comma
            hedge = pol == "hyp" or (pol not in ("neg", "resolved")
                                     and any(spans[q].cat in ("OBS", "ENLARGE") for q in range(p + 1, n)))
            while q >= 0 and not stop_back(q) and not (hedge and spans[q].text == ","):
                mark(q, pol)
                q -= 1
        if spans[p].text in ("versus", "vs"):  # "atelectasis versus pneumonia": both are possible
            q = p - 1
            while q >= 0 and q not in term and spans[q].cat not in ("OBS", "ENLARGE"):
                q -= 1
            if q >= 0 and spans[q].cat in ("OBS", "ENLARGE"):
                mark(q, "possible")
    for q in range(n):  # "non-dilated aorta": "non" negates the word it is joined to, nothing further
        if q + 1 < n and spans[q].text in ("non", "negative", "none") and spans[q + 1].cat in ("OBS", "ENLARGE"):
            mark(q + 1, "neg")  # "negative CTPA", "none enlarged"
        if spans[q].cat == "OBS" and spans[q].text.startswith("nothing "):
            mark(q, "neg")  # "nothing acute in the chest"
    # "compatible with organizing pneumonia or viral infection", "atelectasis or pneumonia": each of two stated
    # alternatives is only possible
    obs_at = [q for q in range(n) if spans[q].cat == "OBS"]
    for a, b in zip(obs_at, obs_at[1:]):
        gap = spans[a + 1:b]
        if any(g.text == "or" for g in gap) and all(g.cat in ("WORD", "ATTR", "LOC", "SEV") and g.text not in (
                ",", "and", "with", "without", "no") for g in gap) and scope.get(a) in (None, "probable") \
                and scope.get(b) in (None, "probable"):
            scope[a] = scope[b] = "possible"
    return scope, resolved


