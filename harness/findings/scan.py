"""Tokens -> spans: the longest-match phrase scan against the lexicon, each span's category, and the scope of
every context trigger over the sentence (ConText with graded certainty; see ``extract``'s docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harness.findings.lexicon import Lexicon, Reading
from harness.findings.sentences import UNITS


CERTAINTY_ORDER = ("hyp", "possible", "improbable", "neg", "probable")  # which scope wins when several cover
_CERTAINTY_RANK = {k: i for i, k in enumerate(CERTAINTY_ORDER)}


CAT_ORDER = ("OBS", "ENLARGE", "LOC", "SEV", "TEMP", "POS", "ATTR", "COUNT")


@dataclass(slots=True)  # millions are made per benchmark run: slots make each cheaper to build and read
class Span:
    kind: str  # PHRASE, SIZE, NUM, WORD
    value: Any
    start: int
    end: int
    text: str
    cat: str = ""  # resolved category: OBS, ENLARGE, LOC, ATTR, COUNT, CTX:<kind>, SIZE, NUM, WORD

    #: (the scan passes _NO_KINDS itself to the spans it makes most of: the factory's call costs more than the span)
    by_kind: dict[str, list[Reading]] = field(default_factory=lambda: _NO_KINDS)

    def readings(self, kind: str) -> list[Reading]:
        return self.by_kind.get(kind, _NONE)


_NONE: list[Reading] = []
_NO_KINDS: dict[str, list[Reading]] = {}  # shared by every span that is no phrase; never written to


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
    size = max(d * (u if u is not None else last) for d, u in zip(dims, units))
    # (round to a tenth converts through a decimal string: a whole number of mm, the common case, is its own rounding)
    return size if size.is_integer() else round(size, 1), j


def _scan(tokens: list[str], lex: Lexicon) -> list[Span]:
    spans: list[Span] = []
    entries = lex.phrase_entries
    trie = lex.trie
    phrase_categories: list[tuple[Span, str, str | None]] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if _is_num(tok):
            size, j = _parse_size(tokens, i)
            if size is not None:
                spans.append(Span("SIZE", size, i, j, " ".join(tokens[i:j]), "SIZE", _NO_KINDS))
                i = j
            else:
                spans.append(Span("NUM", float(tok), i, i + 1, tok, "NUM", _NO_KINDS))
                i += 1
            continue
        if tok in trie:
            ends = _trigger_yields_to_finding(tokens, i, _phrase_ends(tokens, i, trie), lex)
            for j in reversed(ends):
                if j - i == 2 and _is_num(tokens[i + 1]) and j < n and tokens[j] in ("st", "nd", "rd", "th"):
                    continue  # "L 4th rib": a side and an ordinal, not the vertebra L4
                readings, text, kinds, cat, alternative = entries[tuple(tokens[i:j])]
                span = Span("PHRASE", readings, i, j, text, "", kinds)
                spans.append(span)
                phrase_categories.append((span, cat, alternative))
                i = j
                break
            else:
                spans.append(Span("WORD", tok, i, i + 1, tok, "WORD", _NO_KINDS))
                i += 1
            continue
        spans.append(Span("WORD", tok, i, i + 1, tok, "WORD", _NO_KINDS))
        i += 1
    _numbers_of_a_size_list(spans)
    _unitless_prior_sizes(spans)
    _bracketed_synonyms(spans, lex)
    named = False  # an observation named earlier in the sentence
    for s, cat, alternative in phrase_categories:
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
            nxt = next((q for q in spans[k + 1:k + 8] if q.cat not in ("SIZE", "POS", "SEV", "ATTR", "LAT", "LOC")
                        and q.text not in ("of", "in", "the", "a", "an", "known", "previously", "seen")), None)
            if nxt is not None and nxt.cat == "OBS":
                s.cat = "TEMP"
    _organ_size_increased(spans)
    _ectasia_short_of_aneurysm(spans)
    return spans


_DILATED_VESSEL = frozenset({"ectatic", "dilated", "prominent", "ectasia", "dilatation", "dilation"})


def _ectasia_short_of_aneurysm(spans: list[Span]) -> None:
    """"the iliac arteries are ectatic but not aneurysmal", "ectatic, non-aneurysmal iliac arteries": a vessel's
    dilatation said in the same breath to fall short of an aneurysm is no aneurysm; the denial is what is stated
    of the vessel (the lexicon reads a vessel's ectasia as its aneurysm)."""
    for k, s in enumerate(spans):
        if s.cat != "ENLARGE" or s.text not in _DILATED_VESSEL:
            continue
        q = k + 1
        while q < len(spans) and spans[q].text in (",", "but", "yet", "and", "though", "although"):
            q += 1
        if q + 1 < len(spans) and spans[q].text in ("not", "non", "no") and spans[q + 1].cat == "OBS" \
                and spans[q + 1].text.startswith("aneurysm"):
            for g in [s, *spans[k + 1:q]]:
                if g is s or g.cat == "CTX:termination":  # "ectatic but not aneurysmal": one statement
                    g.cat, g.kind, g.value, g.by_kind = "WORD", "WORD", g.text, _NO_KINDS


#: an organ whose size said to be increased is its enlargement ("heart size is increased", "increased cardiac size",
#: "the spleen has increased in size", "the liver is enlarging")
_SIZED_ORGANS = frozenset({"heart", "spleen", "liver", "thyroid", "prostate"})
_SIZE_UP = frozenset({"increased", "increased in size", "has increased", "have increased", "has increased in size",
                      "have increased in size", "enlarging", "has enlarged", "have enlarged", "increase in",
                      "interval increase in", "increasing"})
_SIZE_GAP = frozenset({"size", "is", "are", "has", "have", "the", "overall", "of", "in"})


def _organ_size_increased(spans: list[Span]) -> None:
    """A sentence that names no finding, only an organ with a sizable enlargement and its size increased ("heart
    size is increased", "increased size of the spleen"): the increase is the organ's enlargement (read with its
    change), as "interval enlargement of the spleen" is."""
    if any(s.cat in ("OBS", "ENLARGE") for s in spans):
        return
    for k, s in enumerate(spans):
        if s.cat != "TEMP" or s.text not in _SIZE_UP or s.readings("TEMP")[0].value != "increased":
            continue
        in_size = [g.text for g in spans[k + 1:k + 3]] == ["in", "size"]  # "has increased in size"
        for step in (-1, 1):
            q, said = k + step, in_size or "size" in s.text or s.text.startswith(("enlarg", "has enlarged",
                                                                                    "have enlarged"))
            while 0 <= q < len(spans) and spans[q].cat == "WORD" and spans[q].text in _SIZE_GAP:
                said = said or spans[q].text == "size"
                q += step
            if 0 <= q < len(spans) and spans[q].cat == "LOC" and (said or spans[q].text.endswith(" size")) and any(
                    r.value in _SIZED_ORGANS for r in spans[q].readings("ANAT")):
                s.cat = "ENLARGE"
                return


def _phrase_ends(tokens: list[str], p: int, trie: dict) -> list[int]:
    """The ends of every lexicon phrase starting at p, shortest first: a walk of the lexicon's word trie."""
    node, ends, j, n = trie, [], p, len(tokens)
    while j < n:
        node = node.get(tokens[j])
        if node is None:
            break
        j += 1
        if None in node:
            ends.append(j)
    return ends


def _trigger_yields_to_finding(tokens: list[str], i: int, ends: list[int], lex: Lexicon) -> list[int]:
    """"no focal nodular hyperplasia", "no acute respiratory distress syndrome": a trigger whose last words open a
    finding's longer name ("no focal" + "focal nodular hyperplasia") gives those words to the finding, and the
    shorter trigger ("no") scopes over it; the longest match alone would leave "nodular hyperplasia" unread. A trigger
    whose words end a finding's name no later than itself keeps them ("no focal lesion" reads as before)."""
    if len(ends) < 2:
        return ends
    j = ends[-1]
    key = tuple(tokens[i:j])
    if "CTX" not in lex.phrase_kinds[key] or len(lex.phrase_kinds[key]) != 1:
        return ends
    for p in range(i + 1, j):
        ends_here = _phrase_ends(tokens, p, lex.trie)
        end = ends_here[-1] if ends_here else None
        if end is not None and end > j and "OBS" in lex.phrase_kinds[tuple(tokens[p:end])]:
            shorter = [e for e in ends if e <= p]
            if shorter and "CTX" in lex.phrase_kinds[tuple(tokens[i:shorter[-1]])]:
                return shorter
            return ends
    return ends


def _bracketed_synonyms(spans: list[Span], lex: Lexicon) -> None:
    """"an enostosis (bone island) in L3", "HCC (hepatocellular carcinoma)": a finding's other name in brackets
    right after it names the same finding, not a second one (the site after the bracket is the first name's); a
    bracketed name that adds an organ ("a cyst (renal cyst)") is read as before."""
    for k in range(len(spans) - 3):
        a, o, b, c = spans[k:k + 4]
        if o.text == "(" and c.text == ")" and a.kind == b.kind == "PHRASE":
            ra, rb = a.readings("OBS"), b.readings("OBS")
            if ra and rb and ra[0].value == rb[0].value and rb[0].organ in (
                    None, ra[0].organ, lex.observations.get(ra[0].value, {}).get("default_anatomy")):
                spans[k + 2] = Span("WORD", b.text, b.start, b.end, b.text, cat="WORD")


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


#: the words that give a bare number after a measurement as the prior study's ("2.8 cm (prev 2.6)")
_UNITLESS_PRIOR_MARKERS = frozenset({"prev", "previously", "previous", "prior", "was", "were", "formerly"})


def _unitless_prior_sizes(spans: list[Span]) -> None:
    """"mass 2.8 cm (prev 2.6)", "node 14 mm, previously 11": a bare number after a prior-study marker that
    follows a measurement is that measurement's prior value, in its unit (read alone it would be a count)."""
    for k, s in enumerate(spans):
        if s.cat != "SIZE" or k + 3 >= len(spans):
            continue
        unit = UNITS.get(s.text.split()[-1])
        opener, marker, n = spans[k + 1:k + 4]
        if unit is None or opener.text not in ("(", ",") or marker.text not in _UNITLESS_PRIOR_MARKERS \
                or n.cat != "NUM":
            continue
        after = spans[k + 4].text if k + 4 < len(spans) else "."
        if after in (")", ",", ";", ".", "and") or (opener.text == "," and after == "."):
            spans[k + 3] = Span("SIZE", round(n.value * unit, 1), n.start, n.end, n.text, cat="SIZE")


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


#: words that join the members of one list, so a modifier after them may still belong to the list
_JOINERS = frozenset({",", "and", "or", "nor", "/", "&", "with", "without", "no", "of", "in", "on", "at", "than"})
_COPULA = frozenset({"is", "are", "was", "were", "appears", "appear", "remains", "remain", "measures", "measure"})


def _followed_by_finding(spans: list[Span], q: int) -> bool:
    """The modifier at q opens a finding's noun phrase: a finding follows after modifiers and sites alone."""
    k, n = q + 1, len(spans)
    while k < n and k - q <= 4 and spans[k].cat in ("SEV", "TEMP", "SIZE", "COUNT", "ATTR", "LOC", "WORD") \
            and spans[k].text not in _JOINERS and not spans[k].cat.startswith("CTX:"):
        k += 1
    return k < n and spans[k].cat in ("OBS", "ENLARGE")


def _unjoined_phrase_starts(spans: list[Span]) -> set[int]:
    """Where a new statement starts right after a finding, with no word joining the two (dictation with its commas
    and full stops dropped): "no pleural effusion or pneumothorax mild cardiomegaly", "no acute fracture old healed
    rib fractures", "no consolidation heart size is normal". A scope ends there."""
    starts: set[int] = set()
    n = len(spans)
    for q in range(1, n):
        prev, s = spans[q - 1], spans[q]
        if prev.cat not in ("OBS", "ENLARGE") and q >= 2 and spans[q - 2].cat in ("OBS", "ENLARGE", "LOC") \
                and prev.text in (",", "with", "and") and s.cat == "SEV" and _followed_by_finding(spans, q) \
                and s.readings("SEV")[0].value in ("minimal", "mild", "moderate"):
            # "no pneumothorax, small left effusion", "no pneumothorax with small apical pleural thickening": a
            # small amount is stated, not denied ("no effusion, significant pneumothorax or ..." still lists)
            starts.add(q - 1)
            continue
        if prev.text == "and" and q >= 2 and spans[q - 2].cat in ("OBS", "ENLARGE") \
                and s.cat in ("CTX:normal", "CTX:normal_size") and q + 1 < n and spans[q + 1].cat == "LOC":
            starts.add(q - 1)  # "no pericardial effusion and normal heart size": an organ called normal is not denied
            continue
        if prev.text == "the" and q >= 2 and spans[q - 2].cat in ("OBS", "ENLARGE") and s.cat in ("LOC", "OBS"):
            starts.add(q - 1)  # "no effusion the heart is enlarged", "no consolidation the lungs are clear"
            continue
        if prev.cat not in ("OBS", "ENLARGE"):
            continue
        if s.cat in ("SEV", "TEMP", "SIZE", "COUNT"):
            if _followed_by_finding(spans, q):  # a modifier opening another finding ("mild cardiomegaly")
                starts.add(q)
        elif s.cat == "LOC" and q + 1 < n and (spans[q + 1].text in _COPULA or spans[q + 1].cat.startswith(
                "CTX:normal")):
            starts.add(q)  # an organ as the subject of its own clause ("heart size is normal", "lungs clear")
    return starts


#: after a comma, words that open a clause of its own rather than the next member of a list
_CLAUSE_OPENERS = frozenset({"the", "this", "these", "its", "it", "there", "they"})


def _clause_after_comma(spans: list[Span]) -> set[int]:
    """"without wall thickening, containing gallstones", "without hydronephrosis, the left kidney contains a
    calculus": a comma before a participle or a clause's subject ends the clause before it (the members of a
    list after a comma are nouns: "no effusion, pneumothorax or consolidation")."""
    ends: set[int] = set()
    for q in range(len(spans) - 1):
        if spans[q].text != ",":
            continue
        nxt = spans[q + 1]
        if nxt.text in _CLAUSE_OPENERS or (nxt.cat == "WORD" and nxt.text.endswith("ing") and len(nxt.text) > 5):
            ends.add(q)
        elif nxt.text == "with" and any(s.text == "without" or s.cat == "CTX:negation_forward"
                                        for s in spans[max(0, q - 6):q]):
            # "mass without obstruction, with pericolic nodes", "laceration, no active bleeding, with a small
            # haemoperitoneum": the nodes and the blood are there
            ends.add(q)
        elif _denial_list_member_ends(spans, q):
            ends.add(q)
    return ends


def _is_denial(s: Span) -> bool:
    return s.cat == "CTX:negation_forward"


def _denial_list_member_ends(spans: list[Span], q: int) -> bool:
    """A comma after a denied finding that ends the denial, in two kinds of list:
    - each member denied in its own words ("no consolidation, no effusion, no pneumothorax, calcified granuloma
      in the right upper lobe"): a member after them that opens with no denial is stated, not denied;
    - one denied finding, then ", and" ("smooth pleura without nodularity, and partial atelectasis of the lower
      lobe"): a two-member list takes no comma before its "and", so what follows is a statement of its own (a list
      of three, "without A, B, and C", has its comma before B as well)."""
    nxt = spans[q + 1]
    if _is_denial(nxt) or nxt.cat.startswith("CTX:"):
        return False
    p = q - 1  # the denial whose scope reaches the comma
    while p >= 0 and not _is_denial(spans[p]):
        if spans[p].text in (".", ";", ":") or spans[p].cat == "CTX:termination":
            return False
        p -= 1
    if p < 0 or q - p < 2:
        return False
    if any(spans[k].text in (",", "or", "and", "nor", "/") for k in range(p + 1, q)):
        return False  # the comma ends a list that has begun ("no effusion or pneumothorax, consolidation")
    if nxt.text == "and":
        return True
    if nxt.text in ("or", "nor"):
        return False
    k = q + 1
    while k < len(spans) and spans[k].text not in (",", ".", ";") and spans[k].cat != "CTX:termination":
        if spans[k].text in ("or", "nor", "and", "/"):
            return False  # the list goes on to its last member ("no effusion, no pneumothorax, collapse or mass")
        k += 1
    return p > 0 and spans[p - 1].text == "," and any(
        spans[k].cat in ("OBS", "ENLARGE") or spans[k].cat.startswith("CTX:normal") for k in range(p - 1))


_EXCEPTION_WORDS = frozenset({"beyond", "other than", "apart from", "aside from", "except", "except for", "besides",
                              "save for", "with the exception of", "bar"})
_AMOUNT_WORDS = frozenset({"amount", "amounts", "volume", "quantity", "trace", "traces", "pocket", "focus", "foci"})


def _admit_exceptions(spans: list[Span], scope: dict[int, str]) -> None:
    """"no pneumoperitoneum beyond a small expected amount", "no free fluid apart from a trace in the pelvis": a
    denial with an exception that is an amount of the same thing says the finding is there, in that amount."""
    n = len(spans)
    for q in range(n - 2):
        if spans[q].cat != "OBS" or scope.get(q) != "neg" or spans[q + 1].text not in _EXCEPTION_WORDS:
            continue
        rest = spans[q + 2:q + 8]
        if any(r.cat in ("OBS", "ENLARGE") for r in rest):
            continue  # "no pneumothorax except a tiny apical pneumothorax": the finding named again is read there
        if any(r.cat == "SEV" for r in rest[:3]) and any(w in _AMOUNT_WORDS for r in rest for w in r.text.split()):
            del scope[q]


def _own_subject_after(spans: list[Span], comma: int, p: int) -> bool:
    """"small left effusion, pneumothorax is not seen", "a cyst, malignancy unlikely": a backward trigger that has
    its own finding after the comma says nothing of what is before it, unless that finding closes a list reaching
    back over the comma ("effusion, pneumothorax or consolidation is not seen")."""
    found = [k for k in range(comma + 1, p) if spans[k].cat in ("OBS", "ENLARGE")]
    if not found:
        return False  # "hiatal hernia, unlikely"
    return not any(spans[k].text in ("or", "and", "nor", "/") for k in range(found[0] + 1, found[-1]))


def _hedged_mimics(spans: list[Span], scope: dict[int, str]) -> None:
    """"nodule, possibly a nipple shadow", "a filling defect that likely represents mixing artefact": a hedged
    mimic says the finding named before it may not be there at all: possible when the mimic is possible,
    improbable when it is probable."""
    for m, s in enumerate(spans):
        if s.cat == "CTX:mimic" and m not in scope:
            _mimic_as_alternative(spans, scope, m)
        if s.cat != "CTX:mimic" or scope.get(m) not in ("possible", "probable"):
            continue
        found = next((k for k in range(m - 1, -1, -1) if spans[k].cat in ("OBS", "ENLARGE")), None)
        # the hedge stands between the finding and its mimic ("probable pneumonia with streak artefact" hedges
        # the pneumonia, not its look)
        hedged = found is not None and any(spans[k].cat.startswith(("CTX:possible", "CTX:probable"))
                                           for k in range(found + 1, m))
        # ("?widened mediastinum, likely projectional": a finding queried, then said to be probably a mimic, is
        # improbable)
        if hedged and (scope.get(found) in (None, "probable") or scope.get(found) == "possible" and scope[m] == "probable"):
            scope[found] = "possible" if scope[m] == "possible" else "improbable"


#: a finding's kind said after a hedge ("likely reactive", "probably benign"): no hedge of the finding itself
_HEDGED_KINDS = frozenset({"reactive", "benign", "degenerative", "postinflammatory", "incidental", "physiological",
                           "physiologic"})
_ALTERNATIVE_ARTICLES = frozenset({"a", "an", "the"})


def _mimic_as_alternative(spans: list[Span], scope: dict[int, str], m: int) -> None:
    """"filling defect, either pulmonary embolus or flow artefact", "a true nodule or a nipple shadow": a finding
    offered as one alternative to a mimic ("or" between them, an article at most after it) may not be there: it is
    possible (a finding hedged or denied already keeps its reading)."""
    q = m - 1
    while q > 0 and spans[q].text in _ALTERNATIVE_ARTICLES:
        q -= 1
    if q < 1 or spans[q].text != "or" or spans[q - 1].cat not in ("OBS", "ENLARGE") or (q - 1) in scope:
        return
    scope[q - 1] = "possible"


#: a hedge that says what a finding points to: denied with the finding ("no lesion suspicious for malignancy")
_EVIDENCE_HEDGES = frozenset({"suggest", "suggests", "suggesting", "suggestive of", "suspicious for", "concerning for",
                              "worrisome for", "worrying for", "indicative of", "typical of", "characteristic of",
                              "diagnostic of", "consistent with", "compatible with", "in keeping with",
                              "highly suggestive of", "suspicious features of", "concerning features of"})


#: the first words of a hedge that concludes what a finding is ("likely", "probably", "most likely"), not one that
#: says what it would have shown ("suggestive of"): after a denied feature it is no part of the denial
_CONCLUSION_HEDGE_WORDS = frozenset({"likely", "probably", "most", "presumably", "presumed"})


def _hedge_ahead(spans: list[Span], q: int, term: set[int]) -> bool:
    """A hedge that says what a denied finding would have shown follows the finding at ``q`` within its noun phrase
    ("no lesion suspicious for HCC", "no new sclerotic bony lesion worrisome for metastasis", "no mass to suggest
    malignancy")."""
    for r in range(q + 1, min(q + 5, len(spans))):
        if r in term or spans[r].text in (",", ";") or (spans[r].cat.startswith("CTX:")
                                                        and spans[r].text not in _EVIDENCE_HEDGES):
            return False
        if spans[r].text in _EVIDENCE_HEDGES or (
                spans[r].text == "to" and r + 1 < len(spans) and spans[r + 1].text in _EVIDENCE_HEDGES):
            return r == q + 1 or spans[r - 1].cat in ("OBS", "ENLARGE")
    return False


#: terminations that are a clause's verb: a scope over its subject alone may go on to the object
_CLAUSE_VERBS = frozenset({"shows", "show", "demonstrates", "demonstrate", "reveals", "reveal"})


_COPULA_WORDS = frozenset({"is", "are", "was", "were"})
_STUDY_REASONS = frozenset({"staging", "restaging", "surveillance", "workup"})


def _reason_for_study(spans: list[Span], q: int) -> bool:
    """The words at ``q`` name a study done for the disease just before them ("lymphoma staging", "Crohn's
    follow-up", "colon cancer surveillance", "RCC follow up")."""
    if q + 1 < len(spans) and spans[q].text == "'" and spans[q + 1].text == "s":
        q += 2
    if q < len(spans) and spans[q].text in _STUDY_REASONS:
        return True
    return q + 1 < len(spans) and spans[q].text in ("follow", "work") and spans[q + 1].text == "up"


def _names_next(spans: list[Span], p: int, term: set[int]) -> bool:
    """A finding follows the hedge at ``p`` within two words, with no comma or clause end between."""
    for q in range(p + 1, min(p + 4, len(spans))):
        if spans[q].cat in ("OBS", "ENLARGE"):
            return True
        if q in term or spans[q].text in (",", ";", ".") or spans[q].cat.startswith("CTX:"):
            return False
    return False


#: a trigger that tells the patient's past ("history of DVT", "h/o pneumothorax"): a hypothetical, no finding of this
#: study
PAST_HISTORY = frozenset({"history of", "a history of", "with a history of", "known history of", "prior history of",
                          "past history of", "previous history of", "hx of", "h o", "pmh of",
                          "past medical history of"})


#: where a past history's scope ends: the treatment or state that follows it
_PAST_ENDS = frozenset({",", "s", "status", "post", "with", "treated", "following", "after", "now"})


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
    for p in sorted(trig):
        # "could be consistent with pneumonia", "may be compatible with": a modal before a probable hedge
        # leaves the finding possible
        if trig[p][0] == "possible" and trig.get(p + 1, ("",))[0] == "probable":
            trig[p + 1] = ("possible", trig[p + 1][1])
    term |= _unjoined_phrase_starts(spans) | _clause_after_comma(spans)
    # "possible atelectasis and small effusion": a small amount joined by "and" is a statement of its own against a
    # denial ("no pneumothorax and small effusion"), but a hedge heading the list hedges it too
    hedged_on = {q for q in term if spans[q].text == "and" and q + 1 < len(spans) and spans[q + 1].cat == "SEV"
                 and spans[q - 1].cat in ("OBS", "ENLARGE", "LOC")}
    for p in sorted(trig):
        # "mediastinal nodes up to 11 mm, likely reactive", "adrenal nodule, probably benign": a hedge of the kind
        # alone, closing the clause, says what the finding is, not whether it is there
        if trig[p][0] in ("probable", "possible") and trig[p][1] in ("backward", "bidirectional") \
                and p + 1 < len(spans) and spans[p + 1].text in _HEDGED_KINDS \
                and (p + 2 == len(spans) or p + 2 in term or spans[p + 2].text in (",", ";", ".")):
            del trig[p]
    for p in sorted(trig):
        # "nothing to suggest a pneumothorax", "no features suggestive of appendicitis": a hedge between a denial
        # and its finding is denied with it
        # and so is one that says what the denied finding would have shown ("no lesion suspicious for HCC",
        # "no hyperenhancing observation to suggest HCC")
        if trig.get(p, ("",))[0] == "neg" and trig[p][1] == "forward":
            q = p + 1
            # (the hedge must be close: "without contrast, findings consistent with appendicitis" denies nothing)
            while q < len(spans) and q not in term and spans[q].text != "," and (
                    (spans[q].cat not in ("OBS", "ENLARGE") and q - p <= 3) or _hedge_ahead(spans, q, term)):
                # (but "likely" or "probably" after the denied feature begins a statement of its own: "lesion
                # without washout likely FNH", "nodule without calcification probably benign")
                if q in trig and trig[q][0] in ("possible", "probable") and not (
                        q > p + 1 and spans[q].text.split()[0] in _CONCLUSION_HEDGE_WORDS):
                    del trig[q]
                # the hedge that lets the denial reach past its finding is the denied finding's too, however far
                # the finding is ("no arterially enhancing liver lesion suspicious for HCC")
                for h in ((q + 1, q + 2) if spans[q].cat in ("OBS", "ENLARGE") else ()):
                    if h < len(spans) and spans[h].text in _EVIDENCE_HEDGES and h in trig \
                            and trig[h][0] in ("possible", "probable"):
                        del trig[h]
                        break
                q += 1
    scope: dict[int, str] = {}
    resolved: set[int] = set()
    rank = _CERTAINTY_RANK
    n = len(spans)

    def mark(q: int, pol: str) -> None:
        if pol == "resolved":
            resolved.add(q)
            pol = "neg"
        if q not in scope or rank[pol] < rank[scope[q]]:
            scope[q] = pol

    for p, (pol, direction) in trig.items():
        neither = pol == "neg" and spans[p].text == "neither"
        # a history opening the sentence ("in this patient with testicular cancer, ...") ends at its comma
        history = pol == "hyp" and spans[p].text.startswith("in ")
        # a past history ("h/o RCC s/p right nephrectomy", "history of DVT with IVC filter") ends where what was done
        # about it, and is still there, begins
        past = pol == "hyp" and spans[p].text in PAST_HISTORY

        def stop(q: int) -> bool:
            # a hedge inside a hypothetical is part of it: "performed for suspected AAA rupture", "to exclude
            # possible PE" state nothing
            # (and so is a change it asks about: "follow-up to document resolution of the pneumonia")
            # a hedge right before "with a" hedges what comes with it ("consolidation, possibly with a small
            # effusion", "probably with an associated abscess"): the "with" is the hedge's own, no new clause
            return (q in term and not (q in hedged_on and pol in ("possible", "probable", "improbable")
                                       and not any(g.text == "," for g in spans[p + 1:q]))
                    and not (q == p + 1 and pol in ("possible", "probable", "improbable")
                             and spans[q].text in ("with a", "with an", "and with"))) or (
                history and spans[q].text == ",") or (past and spans[q].text in _PAST_ENDS) or (q in trig and trig[q][0] != pol and not (
                pol == "hyp" and trig[q][0] in ("possible", "probable", "improbable", "resolved")))

        def stop_back(q: int) -> bool:  # "Appendicitis: negative." reaches back over the field label's colon
            return (q in term and spans[q].text != ":") or (q in trig and trig[q][0] != pol)

        if direction == "backward" and pol not in ("neg", "resolved") and not any(
                spans[q].cat in ("OBS", "ENLARGE") for q in range(p)):
            direction = "forward"  # "the heart is unlikely to be enlarged": nothing behind the hedge to qualify
        if direction == "backward" and pol in ("probable", "possible", "improbable") \
                and spans[p].text.split()[0] in _COPULA_WORDS and _names_next(spans, p, term):
            direction = "forward"  # "bibasilar opacities are likely atelectasis": the hedge names what they are
        if direction == "backward" and pol == "neg" and p == 0 and spans[p].text == "absent":
            direction = "forward"  # "absent hydronephrosis"
        if direction == "forward" and pol == "neg" and p == n - 1 and p > 0 and spans[p - 1].text == ":":
            direction = "backward"  # a template's answer: "Hydronephrosis: No."
        # a hedge inside a comma list ("LUL primary, possible N2 disease, indeterminate adrenal nodule") is its
        # member's alone; one heading the sentence ("possible consolidation, effusion or atelectasis") hedges all
        # ("differential includes PJP, viral pneumonia, or pulmonary edema" heads a list of its own: one closed
        # by "or"/"and")
        in_list = pol in ("possible", "probable", "improbable") and p > 0 and spans[p - 1].text == "," and any(
            spans[k].cat in ("OBS", "ENLARGE", "LOC") for k in range(p)) and not any(
            spans[k].text in ("or", "and", "nor", "versus", "vs") for k in range(p + 1, n))
        if direction in ("forward", "bidirectional"):
            q = p + 1
            named = False
            # "resolution of the abscess with drain in situ", "removal of the chest tube with residual effusion":
            # what comes with the resolved finding is still there
            # ("no pneumothorax following insertion of a central line": the procedure after it is no denial's)
            while q < n and (not stop(q) or neither and not named and spans[q].text in _CLAUSE_VERBS) \
                    and not (in_list and spans[q].text == ",") and not (pol == "resolved" and spans[q].text == "with") \
                    and not (pol in ("neg", "resolved") and spans[q].text in ("after", "following")):
                # "neither kidney shows hydronephrosis": the organs named after "neither" are the subject of the
                # verb, whose object it denies
                mark(q, pol)
                named = named or spans[q].cat in ("OBS", "ENLARGE")
                q += 1
            if neither and not named:
                direction = "backward"  # "hydronephrosis is seen in neither kidney"
        if direction == "bidirectional" and pol not in ("neg", "resolved") and (any(
                spans[q].cat in ("OBS", "ENLARGE") for q in range(p + 1, n) if not stop(q))
                or p > 0 and spans[p - 1].text in ("a", "an", "the")):
            direction = "forward"  # "opacity most likely atelectasis": the hedge names what the opacity is
            # ("thrombus, a possible septic source": after an article the hedge is its noun's adjective)
        if direction in ("backward", "bidirectional"):
            q = p - 1
            # a backward hedge reaches back only to the comma ("opacity, likely atelectasis") unless it closes
            # the sentence ("hiatal hernia, unlikely")
            # a recommendation ("..., repeat CT in three months advised") never reaches back over a comma
            hedge = pol == "hyp" or (pol not in ("neg", "resolved")
                                     and any(spans[q].cat in ("OBS", "ENLARGE") for q in range(p + 1, n)))
            # (nor over a dash that sets it apart: "nodule is indeterminate - washout CT advised")
            while q >= 0 and not stop_back(q) and not (hedge and spans[q].text in (",", "-", "–")) \
                    and not (spans[q].text == "," and _own_subject_after(spans, q, p)):
                mark(q, pol)
                q -= 1
        if spans[p].text in ("versus", "vs"):  # "atelectasis versus pneumonia": both are possible
            q = p - 1
            while q >= 0 and q not in term and spans[q].cat not in ("OBS", "ENLARGE"):
                q -= 1
            if q >= 0 and spans[q].cat in ("OBS", "ENLARGE"):
                mark(q, "possible")
    for q, s in enumerate(spans):  # "non-dilated aorta": "non" negates the word it is joined to, nothing further
        text = s.text
        if text in ("non", "negative", "none") and q + 1 < n and spans[q + 1].cat in ("OBS", "ENLARGE"):
            mark(q + 1, "neg")  # "negative CTPA", "none enlarged"
        if s.cat == "OBS":
            if text.startswith("nothing "):
                mark(q, "neg")  # "nothing acute in the chest"
            if _reason_for_study(spans, q + 1):
                mark(q, "hyp")  # "lymphoma staging", "renal cell carcinoma follow-up": why the study was done
        if text in ("removal", "removals") and q > 0 and spans[q - 1].cat == "OBS":
            mark(q - 1, "resolved")  # "following chest tube removal": the thing named before it, nothing further
    _admit_exceptions(spans, scope)
    _hedged_mimics(spans, scope)
    # "compatible with organizing pneumonia or viral infection", "atelectasis or pneumonia": each of two stated
    # alternatives is only possible
    obs_at = [q for q in range(n) if spans[q].cat == "OBS"]
    for a, b in zip(obs_at, obs_at[1:]):
        gap = spans[a + 1:b]
        # (a dash or colon sets the finding apart from a differential after it: "nodule - primary or metastasis")
        if any(g.text == "or" for g in gap) and all(g.cat in ("WORD", "ATTR", "LOC", "SEV") and g.text not in (
                ",", "and", "with", "without", "no", ":", ";") for g in gap) and scope.get(a) in (None, "probable") \
                and scope.get(b) in (None, "probable") and not _listed_as_unchanged(spans, a):
            # (a dash sets the alternatives apart from the finding they explain: "nodule with air trapping -
            # carcinoid or carcinoma" states the air trapping)
            dash = any(g.text in ("-", "\u2013") and any(h.text == "or" for h in gap[i + 1:])
                       for i, g in enumerate(gap))
            if not dash:
                scope[a] = "possible"
            scope[b] = "possible"
    if any(s.text in ("than", "over") for s in spans):
        _compared_likelihoods(spans, scope)
    return scope, resolved


def _listed_as_unchanged(spans: list[Span], a: int) -> bool:
    """"No interval change in the effusion or the nodule": the things a denied change is listed over are each
    there (and unchanged), not alternatives."""
    for k in range(a - 1, max(-1, a - 10), -1):
        if spans[k].text in (",", ";", ":", ".") or spans[k].cat == "OBS":
            return False
        if spans[k].cat == "TEMP" and spans[k].text.split()[0] in ("no", "without"):
            return True
    return False


#: hedges that rank two diagnoses: the first named is the likelier ("pneumonia more likely than atelectasis")
_MORE_LIKELY = frozenset({"more likely", "likelier", "more probable", "most likely", "favor", "favour", "favored",
                          "favoured", "favoring", "favouring", "preferred"})
_LESS_LIKELY = frozenset({"less likely", "less probable"})
_CLAUSE_ENDS = frozenset({".", ";", ":", "but", "however"})


def _ranking(text: str) -> str:
    """The ranking hedge a span states, without its verb ("is favoured"), or ""."""
    words = text.split()
    if words and words[0] in ("is", "are", "was", "were"):
        text = " ".join(words[1:])
    return text if text in _MORE_LIKELY or text in _LESS_LIKELY else ""


def _compared_likelihoods(spans: list[Span], scope: dict[int, str]) -> None:
    """"Pneumonia more likely than atelectasis", "favour infection over malignancy", "infection is favoured over
    tumour": the likelier diagnosis is probable and the other stays possible (a ranked differential rules nothing
    out); "atelectasis less likely than pneumonia" ranks them the other way."""
    n = len(spans)
    for p, s in enumerate(spans):
        if s.text not in ("than", "over"):
            continue
        start = p
        while start > 0 and spans[start - 1].text not in _CLAUSE_ENDS:
            start -= 1
        hedge = next((q for q in range(p - 1, start - 1, -1) if _ranking(spans[q].text)), None)
        if hedge is None or (s.text == "over") != _ranking(spans[hedge].text).startswith(("favo", "prefer")):
            continue
        end = p + 1
        while end < n and spans[end].text not in _CLAUSE_ENDS:
            end += 1
        # "favour infection over malignancy", "more likely pneumonia than atelectasis": the ranked one follows the
        # hedge; "RLL opacity, pneumonia more likely than atelectasis": it is the one just before the hedge
        first = [q for q in range(hedge + 1, p) if spans[q].cat in ("OBS", "ENLARGE")]
        if not first:
            comma = next((q for q in range(hedge - 1, start - 1, -1) if spans[q].text == ","), start - 1)
            first = [q for q in range(comma + 1, hedge) if spans[q].cat in ("OBS", "ENLARGE") and scope.get(q) != "neg"]
        second = [q for q in range(p + 1, end) if spans[q].cat in ("OBS", "ENLARGE")]
        if not first or not second:
            continue
        less = _ranking(spans[hedge].text) in _LESS_LIKELY
        for q in first:
            scope[q] = "possible" if less else "probable"
        for q in second:
            scope[q] = "probable" if less else "possible"


