"""The span pre-passes of the reader (see ``extract``'s docstring): between the phrase scan (``scan``) and the
targets a sentence's findings are read into, these rename or drop spans whose first reading the sentence's wording
overturns, so that no later stage takes them at face value: a size of the prior study ("previously 1.8 cm"), a
comparison with a prior study that neither hedges nor denies ("CXR vs yesterday", "not present on the 2024 CT", "none at baseline"),
the bracketed reason in a study's title, a structure called normal ("nodes not enlarged"), a structure called
enlarged that has a name for it (lymphadenopathy), a finding word used as a predicate of another ("the nodule is
calcified"), and an organ's own measurement ("17 cm spleen").

``extract._analyse_sentence`` calls them in a fixed order (the prior sizes and comparisons before the context
scopes are read; the rest after), each on the span list in place; ``_sized_organs`` runs once the sites are read.
Nothing here imports ``extract``."""

from __future__ import annotations

from harness.findings.attach import _LINKING_VERBS, COPULAS, _gap_is_adjectives, _obs_name
from harness.findings.lexicon import Lexicon, Reading, lexicon
from harness.findings.scan import PAST_HISTORY, Span, _is_num
from harness.findings.sentences import _a_range
from harness.findings.sites import Location
from harness.schema import SEVERITY_GRADES

STUDY_WORDS = frozenset({"ct", "cta", "ctpa", "mri", "mr", "cxr", "radiograph", "radiographs", "xray", "x", "ray",
                         "film", "films", "study", "scan", "exam", "examination", "ultrasound", "us", "pet",
                         "angiogram", "angiography", "aortogram", "views", "view", "pa", "ap", "portable", "imaging"})
PRIOR_STUDY_WORDS = frozenset({"prior", "previous", "previously", "earlier", "yesterday", "last", "ct", "study",
                               "exam", "examination", "radiograph", "film", "scan", "mri", "cxr", "baseline",
                               "films", "radiographs", "scans", "studies", "exams",
                               # a public corpus's de-identified date ("not present on ___", "vs XXXX")
                               "_", "xxxx"})
_NEW_SINCE = Reading("TEMP", "new")
_PHRASE_ENDS = frozenset({",", "and", ";", "with", "which", "that"})
_INFLAMED_WORDS = frozenset({"inflamed", "infected"})
_ADVICE_WORDS = frozenset({":", "suggested", "recommended", "advised", "considered", "requested", "could", "should",
                           "may", "would"})
#: what opens the reason a study title gives ("CTA A/P r/o AAA rupture: ...", "CXR ?pneumonia: ...")
_TITLE_REASON_STARTS = frozenset({"for", "r o", "rule out", "to rule out", "query", "to exclude", "exclude", "re"})
#: what ends the reason a study title gives ("CT for PE: ...", "CT for HCC surveillance, no prior", "the CT for PE
#: shows ...")
_TITLE_REASON_ENDS = frozenset({":", ";", ",", "shows", "showed", "demonstrates", "demonstrated", "reveals",
                                "revealed", "with", "which"})


def _mark_prior_sizes(spans: list[Span], tokens: list[str], lex: Lexicon) -> None:
    """"previously 1.8 cm", "from 12 mm": a size of the prior study is no current size of a finding."""
    for p, s in enumerate(spans):
        if s.cat == "SIZE" and _is_prior_size(spans, p, tokens, lex):
            s.cat = "PRIOR_SIZE"
    _prior_severities(spans)


#: the words that mark a grade as the prior study's ("now small (previously moderate)")
_PRIOR_GRADE_MARKERS = frozenset({"previously", "prev", "formerly", "was", "were"})


def _prior_severities(spans: list[Span]) -> None:
    """"Right pleural effusion, now small (previously moderate)", "small effusion, previously moderate": a grade
    after "previously" is the prior study's. Against the one grade stated now it says the change (when no word
    says one), and it is no grade of the finding now."""
    if "SEV" not in {s.cat for s in spans}:
        return
    for p, s in enumerate(spans):
        if s.cat != "SEV" or p == 0:
            continue
        q = p - 1
        while q > 0 and spans[q].text in ("(", ","):
            q -= 1
        if spans[q].text not in _PRIOR_GRADE_MARKERS:
            continue
        now = [g for g in spans if g.cat == "SEV" and g is not s]
        if len(now) != 1 or any(g.cat == "TEMP" for g in spans):
            continue
        before, after = _grade_rank(s), _grade_rank(now[0])
        if before is None or after is None:
            continue
        change = [Reading("TEMP", "stable" if after == before else "increased" if after > before else "decreased")]
        spans[p] = Span("PHRASE", change, s.start, s.end, s.text, cat="TEMP", by_kind={"TEMP": change})
        return


def _grade_rank(s: Span) -> int | None:
    grades = [r.value for r in s.readings("SEV") if r.value in SEVERITY_GRADES]
    return SEVERITY_GRADES.index(grades[0]) if grades else None


def _is_prior_size(spans: list[Span], p: int, tokens: list[str], lex: Lexicon) -> bool:
    """A measurement of the prior study: "previously 1.8 cm", "from 12 mm", "1.8 cm on the prior"."""
    start, end = spans[p].start, spans[p].end
    if " to " in spans[p].text and tokens[start - 1:start] == ["from"] and _a_range(tokens, start - 1, end):
        return False  # "ranging from 3 to 7 mm": a range, not "from" a prior size
    before = [t for t in tokens[max(0, start - 4):start]
              if t not in ("(", ",", "measuring", "measured", "measures", "meas", ":")]
    # (a marker before the size ends with the word right before it, one after it starts with the word right after:
    # most sizes have neither, and are passed on one set look-up each)
    if before and before[-1] in lex.prior_before_last:
        for k in range(1, 4):
            if len(before) >= k and tuple(before[-k:]) in lex.prior_before:
                return True
    after = [t for t in tokens[end:end + 7] if t not in ("(", ",", ")")]
    # "54 mm (previously 49 mm)", "1.8 cm (previously measured 2.4 cm)": a marker followed by a number belongs to
    # that number
    return bool(after) and after[0] in lex.prior_after_first and any(
        tuple(after[:k]) in lex.prior_after and not _number_follows(after[k:]) for k in range(1, 6))


#: ("prev meas 6 mm": the verb abbreviated)
_MEASURE_VERBS = frozenset({"measured", "measuring", "measures", "measure", "meas", "at", "of"})


def _number_follows(words: list[str]) -> bool:
    """The words start with a number, perhaps behind a verb of measuring ("measured 2.4 cm", "at 18 mm")."""
    k = 0
    while k < len(words) and k < 2 and words[k] in _MEASURE_VERBS:
        k += 1
    return k < len(words) and _is_num(words[k])


def _attributes_denied_by_non(spans: list[Span]) -> None:
    """"non-enhancing collection", "non-calcified nodule", "non-solid nodule": "non" joined to a look denies that
    look (as "noncalcified" in one word states none); the look is not the finding's."""
    for p in range(len(spans) - 1):
        if spans[p].text == "non" and spans[p + 1].cat == "ATTR":
            a = spans[p + 1]
            spans[p + 1] = Span("WORD", a.text, a.start, a.end, a.text, cat="WORD")


def _read_comparisons(spans: list[Span]) -> None:
    """Comparison with a prior study is not a differential or a negation of the finding now: "CXR vs yesterday",
    "versus the film 3 days earlier" do not hedge; "not present on the 2024 CT" says the finding is new."""
    n = len(spans)
    for p, s in enumerate(spans):
        versus = s.text in ("versus", "vs")
        if not (versus or s.cat.startswith("CTX:negation")) or p + 1 >= n:
            continue
        after = [spans[q].text for q in range(p + 1, min(n, p + 6))]
        # ("CXR vs AM film", "vs this morning's radiograph": a time of day or an article before the study word)
        study = next((k for k, w in enumerate(after[:3]) if w in PRIOR_STUDY_WORDS), None)
        if versus and study is not None and not any(spans[q].cat in ("OBS", "ENLARGE") or spans[q].cat.startswith("CTX")
                                                    for q in range(p + 1, p + 1 + study)):
            spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")
        elif not versus and after[0] in ("on", "in", "at") and any(w in PRIOR_STUDY_WORDS for w in after[1:5]):
            spans[p] = Span("PHRASE", [_NEW_SINCE], s.start, s.end, s.text, cat="TEMP", by_kind={"TEMP": [_NEW_SINCE]})


def _hedge_study_title(spans: list[Span], scope: dict[int, str]) -> None:
    """"CT CHEST/ABDOMEN (LYMPHOMA FOLLOW-UP)", "Multiphase liver CT for HCC surveillance: ...", "CTA r/o AAA
    rupture: ...": what a study's title names in brackets, or after "for" (or "r/o", "?") up to the colon, comma or
    verb that ends the title, is why it was done."""
    reason = next((p for p, s in enumerate(spans[:12]) if s.text in _TITLE_REASON_STARTS), None)
    if reason is not None and any(s.text in STUDY_WORDS for s in spans[:reason]) and not any(
            s.cat == "OBS" or s.cat.startswith("CTX") or s.text in _ADVICE_WORDS for s in spans[:reason]):
        # ("bone scan suggested for the bony lesion" recommends a study: no title)
        for q in range(reason + 1, len(spans)):
            if spans[q].text in _TITLE_REASON_ENDS:
                break
            scope[q] = "hyp"
    _hedge_title_reason_after_comma(spans, scope)
    if spans and spans[0].text in STUDY_WORDS and "(" in [s.text for s in spans[:8]]:
        opening = next(p for p, s in enumerate(spans) if s.text == "(")
        if not any(s.cat == "OBS" for s in spans[:opening]):
            for q in range(opening + 1, len(spans)):
                if spans[q].text == ")":
                    break
                scope[q] = "hyp"


#: what makes a title's clause after its comma a statement of findings ("CT head, no acute abnormality", "CT chest,
#: the lungs are clear") rather than why the study was done ("CT A/P w/ con, RLQ pain", "CTA abdomen, lower GI bleed")
_STATED_WORDS = frozenset({"is", "are", "was", "were", "shows", "show", "showed", "demonstrates", "demonstrated",
                           "reveals", "revealed", "there", "seen", "noted", "identified", "present", "measures",
                           "measuring"})


_HISTORY_WORDS = frozenset({"history", "hx", "known", "previous", "prior", "post", "status"})


def _hedge_title_reason_after_comma(spans: list[Span], scope: dict[int, str]) -> None:
    """"CTA abd/pelvis, lower GI bleed.", "CT A/P w/ con, post ERCP, jaundice.": a study's title (its first word a
    study, no finding before the comma) and a verbless clause after it is the reason for the study, up to the colon
    that opens the findings; a denial, a normal, a grade or a size there states a finding, and a verb makes it a
    sentence."""
    if not spans or spans[0].text not in STUDY_WORDS:
        return
    comma = next((p for p, s in enumerate(spans) if s.text in (",", ":", ";")), None)
    if comma is None or spans[comma].text != "," or any(
            s.cat in ("OBS", "ENLARGE") or s.cat.startswith("CTX") for s in spans[:comma]):
        return
    end = next((p for p in range(comma + 1, len(spans)) if spans[p].text in (":", ";")), len(spans))
    clause = spans[comma + 1:end]
    lex = lexicon()
    # a history there ("h/o RCC s/p R nephrectomy", "post-op day 6 lap chole") is read as history is elsewhere
    if any(s.cat == "OBS" and lex.observations.get(_obs_name(s) or "", {}).get("post_surgical") for s in clause) \
            or any(s.text in _HISTORY_WORDS for s in clause) or any(
            a.text == "h" and b.text == "o" for a, b in zip(clause, clause[1:])):
        return
    if not any(s.cat in ("OBS", "ENLARGE") for s in clause) or any(
            s.text in _STATED_WORDS or s.cat.startswith(("CTX:negation", "CTX:normal", "CTX:termination"))
            or s.cat in ("SEV", "SIZE") for s in clause):  # "CT head, large left MCA infarct" grades what it saw
        return
    for q in range(comma + 1, end):
        scope[q] = "hyp"

def _unchanged_and(spans: list[Span], q: int) -> bool:
    """"unchanged and" / "stable and" before a normal statement ("the nodes are unchanged and normal in size"):
    the structure is normal now as before."""
    def stable(k: int) -> bool:
        return spans[k].cat == "TEMP" and spans[k].readings("TEMP")[0].value == "stable"
    return stable(q) or (spans[q].value == "and" and q > 0 and stable(q - 1))


def _deny_structures_called_normal(spans: list[Span], scope: dict[int, str], lex: Lexicon) -> None:
    """"lymph nodes are normal", "nodes not enlarged": a structure that is only a finding when abnormal, called
    normal, is absent."""
    _below_a_centimetre(spans, scope, lex)
    for p, s in enumerate(spans):
        split = s.text in ("centimetre", "centimeter") and p > 0 and spans[p - 1].text == "sub"  # "sub-centimetre"
        sub_cm = s.cat == "WORD" and (s.text in _SUBCENTIMETRE or split)
        if s.cat in ("CTX:normal", "CTX:normal_size") or sub_cm:
            q = p - 2 if split else p - 1
            while q >= 0 and ((spans[q].cat == "WORD" and spans[q].value in COPULAS)
                              or (spans[q].cat == "LOC" and q > 0 and spans[q - 1].value in ("and", ","))
                              or _unchanged_and(spans, q)):
                q -= 1  # "nodes and pleura normal": the list of subjects; "nodes are stable and normal in size"
            q = _before_measure(spans, q)
            if q >= 0 and spans[q].cat == "OBS" and scope.get(q) is None \
                    and lex.observations.get(_obs_name(spans[q]) or "", {}).get("normal_means_absent"):
                scope[q] = "neg"
            elif s.text in _NORMAL_SIZED or sub_cm or (s.text in _NORMAL_BEFORE and (p == 0 or spans[p - 1].text in (
                    ",", ";", ":", "and"))):
                # "normal-sized mediastinal nodes", "non-enlarged hilar nodes", "normal left hilar nodes"
                r = p + 1
                while r < len(spans) and (spans[r].cat == "LOC" or sub_cm and (
                        spans[r].cat in ("ATTR", "SEV") or spans[r].text in _NODE_ADJECTIVES)):
                    r += 1
                if r < len(spans) and spans[r].cat == "OBS" and scope.get(r) is None \
                        and lex.observations.get(_obs_name(spans[r]) or "", {}).get("normal_means_absent"):
                    scope[r] = "neg"


#: words that may stand between "subcentimetre" and its noun ("subcentimetre regional nodes")
_NODE_ADJECTIVES = frozenset({"regional", "locoregional", "local", "scattered", "small", "reactive"})
#: words that make a size an upper bound ("< 1 cm", "less than 10 mm", "under 1 cm")
_UPPER_BOUND = frozenset({"<", "under", "below"})
#: what may stand between a structure and its upper bound ("nodes all measure less than 1 cm")
_BOUND_GAP = frozenset({"measure", "measuring", "measures", "all", "each", "are", "is", "of", "(", ")", "small",
                        "in", "short", "axis", ","})


def _below_a_centimetre(spans: list[Span], scope: dict[int, str], lex: Lexicon) -> None:
    """"several small (<1 cm) peripancreatic nodes", "mediastinal nodes less than 1 cm": a structure that is only a
    finding when enlarged, stated below a centimetre, is normal-sized, as "subcentimetre nodes" are (and the bound
    is no size of it)."""
    for p, s in enumerate(spans):
        if s.cat != "SIZE" or p == 0:
            continue
        b = p - 1
        if spans[b].text == "than" and b > 0 and spans[b - 1].text in ("less", "smaller"):
            b -= 1
        elif spans[b].text not in _UPPER_BOUND:
            continue
        # (the value is read only after the bound's words: a size said plainly is not looked at, so that a sentence
        # differing from another only in its sizes keeps the other's reading, see ``sizefree``)
        if not isinstance(s.value, (int, float)) or s.value > 10:
            continue
        owner = None
        q = b - 1
        # ("mediastinal nodes reactive, <1 cm": an adjective of the nodes may stand before the bound, as before them)
        while q >= 0 and (spans[q].cat == "LOC" or spans[q].text in _BOUND_GAP or spans[q].text in _NODE_ADJECTIVES):
            q -= 1
        if q >= 0 and spans[q].cat == "OBS":
            owner = q
        else:
            r = p + 1
            while r < len(spans) and (spans[r].cat == "LOC" or spans[r].text in _BOUND_GAP):
                r += 1
            if r < len(spans) and spans[r].cat == "OBS":
                owner = r
        if owner is not None and scope.get(owner) is None \
                and lex.observations.get(_obs_name(spans[owner]) or "", {}).get("normal_means_absent"):
            scope[owner] = "neg"
            spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")


#: a normal look said before the noun opening its phrase ("Normal left hilar nodes.", "..., unremarkable nodes")
_NORMAL_BEFORE = frozenset({"normal", "nml", "nl", "unremarkable"})
#: a normal size said before its noun ("normal-sized nodes", "non-enlarged nodes")
_NORMAL_SIZED = frozenset({"normal sized", "nml sized", "nl sized", "non enlarged", "nonenlarged"})
#: a size below a centimetre said of a structure that is only a finding when enlarged ("several subcentimetre
#: peripancreatic nodes", "the mediastinal nodes are subcentimetre"): normal-sized, as "normal-sized nodes" are
_SUBCENTIMETRE = frozenset({"subcentimetre", "subcentimeter", "subcentimetric", "subcm"})
#: the words of a structure's measurement between it and what is said of its size ("subcarinal node of 9 mm, within
#: normal size limits", "mediastinal nodes measuring up to 8 mm in short axis, not pathological by size")
_MEASURE_WORDS = frozenset({"of", "measuring", "measures", "measure", "measured", "in", "short", "axis", "sa", "max",
                            "maximum", "at", "to", "which", "is", "are", ","})


def _before_measure(spans: list[Span], q: int) -> int:
    """The position before a measurement phrase that ends at ``q`` ("of 9 mm,", "measuring up to 8 mm in short
    axis,"), where it holds a size; else ``q``."""
    k, sized = q, False
    while k >= 0 and (spans[k].cat == "SIZE" or (spans[k].cat in ("WORD", "CTX:termination")
                                                 and spans[k].text in _MEASURE_WORDS)):
        sized = sized or spans[k].cat == "SIZE"
        k -= 1
    return k if sized else q


def _enlarged_names(spans: list[Span], lex: Lexicon) -> None:
    """"Enlarged subcarinal lymph node", "the lymph nodes are enlarged": a structure called enlarged that has a name
    for it (``enlarged`` in the lexicon: a lymph node is then lymphadenopathy) is named so, and "enlarged" is no
    second finding; so is one called inflamed (``inflamed``: "inflamed sigmoid diverticula" are diverticulitis)."""
    for p, s in enumerate(spans):
        denied = s.cat == "CTX:negation_backward" and s.text.split()[-1] == "enlarged"
        if s.cat == "ENLARGE" and not s.readings("TEMP") or denied:
            key = "enlarged"
        elif s.cat == "WORD" and s.text in _INFLAMED_WORDS and not (p and spans[p - 1].text in ("non", "not")):
            # "inflamed sigmoid diverticula" are diverticulitis ("non-inflamed diverticula" are not)
            key = "inflamed"
        else:
            continue
        # (a bracketed aside does not count: "enlarged paratracheal (18 mm short axis) and subcarinal nodes")
        reach = p + 7 + sum(1 for q in range(p + 1, min(p + 25, len(spans))) if _in_aside(spans, q))
        after = next((q for q in range(p + 1, min(reach, len(spans))) if spans[q].cat == "OBS"), None)
        if after is None:
            # "enlarged right hilar, paraaortic and left hilar lymph nodes": a longer list of sites before the noun
            far = next((q for q in range(p + 1, min(p + 16, len(spans))) if spans[q].cat != "LOC"
                        and spans[q].text not in (",", "and")), None)
            after = far if far is not None and spans[far].cat == "OBS" else None
        # "the nodes are enlarged", "subcarinal node mildly enlarged at 11 mm", "node is mildly enlarged"
        b = p - 1
        while b >= 0 and spans[b].cat == "SEV":
            b -= 1
        if b >= 0 and spans[b].text in _LINKING_VERBS:
            b -= 1
        # ("the nodes are not enlarged": the denial holds the linking verb; "right hilar node enlarged, now 15 mm":
        # a telegraphic predicate that ends its clause)
        telegraphic = b == p - 1 and (p + 1 == len(spans) or spans[p + 1].text in _GROWN_AFTER
                                      or spans[p + 1].cat == "SIZE")
        before = b if (b < p - 1 or denied or telegraphic) and b >= 0 else None
        if before is not None and b < p - 1 and spans[before].cat == "LOC":
            before = _subject_before_its_site(spans, before)
        # "mildly enlarged, reactive-appearing nodes": a comma between two adjectives of one noun, when "enlarged"
        # opens the phrase (not "the heart is enlarged, mediastinal nodes ...")
        gap_from = p + 2 if p + 1 < len(spans) and spans[p + 1].text == "," and (
            b < 0 or (spans[b].cat not in ("LOC", "OBS", "ENLARGE") and spans[b].text not in _LINKING_VERBS
                      and b == p - 1 - sum(1 for k in range(b + 1, p) if spans[k].cat == "SEV"))) else p + 1
        # (and a hedge of the second adjective is no break: "enlarged, probably reactive nodes")
        hedges = {k for k in range(gap_from, after or 0) if gap_from > p + 1
                  and spans[k].cat.startswith(("CTX:probable", "CTX:possible"))}
        for q in ((before,) if denied else (after, before)):
            if q is None or spans[q].cat != "OBS" or (q == after and not _gap_is_adjectives(spans, gap_from, q, hedges)):
                continue
            name = lex.observations.get(_obs_name(spans[q]) or "", {}).get(key)
            if name:
                plural = any(r.plural for r in spans[q].readings("OBS"))
                reading = Reading("OBS", name, plural=plural)
                spans[q] = Span("PHRASE", [reading], spans[q].start, spans[q].end, spans[q].text, cat="OBS",
                                by_kind={"OBS": [reading]})
                if not denied:  # the denial still denies the structure, now named enlarged
                    spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")
                break


_SUBJECT_SITE_WORDS = frozenset({"at", "in", "within", "the", "and", ","})


def _subject_before_its_site(spans: list[Span], q: int) -> int | None:
    """"lymph nodes at the porta hepatis are enlarged", "nodes at the left hilar and subcarinal stations are
    enlarged": the subject of the linking verb is the finding before its site phrase, not the site's organ."""
    k = q
    while k >= 0 and q - k <= 10 and (spans[k].cat == "LOC" or spans[k].text in _SUBJECT_SITE_WORDS):
        k -= 1
    if k < 0 or spans[k].cat != "OBS" or spans[k + 1].text not in ("at", "in", "within"):
        return None
    return k


#: what may follow a focal finding's telegraphic "enlarged" ("mass enlarged, now 3 cm", "nodule enlarged since May")
_GROWN_AFTER = frozenset({",", ";", ".", "now", "since", "from", "to", "compared", "at", "measuring", "and"})


def _focal_findings_grown(spans: list[Span], lex: Lexicon) -> None:
    """"LUL mass enlarged, now 3 cm", "the nodule is enlarged", "collection enlarged": a focal lesion (or a
    collection) has no size of its own to be called
    enlarged against; "enlarged" said of it after its name is its growth, as "has enlarged" says (a report's
    telegraphic style drops the verb). A structure with a name for it enlarged is left to ``_enlarged_names``."""
    key = ("has", "enlarged")
    if key not in lex.phrases:
        return
    for p in range(1, len(spans)):
        s = spans[p]
        if s.cat != "ENLARGE" or s.text != "enlarged" or s.readings("TEMP"):
            continue
        b = p - 1
        while b > 0 and (spans[b].cat == "SEV" or spans[b].text in _LINKING_VERBS):
            b -= 1
        if spans[b].cat != "OBS" or (p + 1 < len(spans) and spans[p + 1].text not in _GROWN_AFTER
                                     and spans[p + 1].cat not in ("SIZE", "TEMP")):
            continue
        spec = lex.observations.get(_obs_name(spans[b]) or "", {})
        # ("peripancreatic collection enlarged, now 9 cm": a collection, counted as a focal lesion is, has no normal
        # size either)
        if (spec.get("focal") or spec.get("countable") and spec.get("graded")) and not spec.get("enlarged"):
            spans[p] = Span("PHRASE", lex.phrases[key], s.start, s.end, "has enlarged", cat="TEMP",
                            by_kind=lex.phrase_kinds[key])


def _in_aside(spans: list[Span], q: int) -> bool:
    """The span at ``q`` is inside (or is a bracket of) a closed bracketed aside of at most eight spans."""
    opening = next((k for k in range(q, max(-1, q - 8), -1) if spans[k].text in ("(", ")")), None)
    if opening is None or (spans[opening].text == ")" and opening < q):
        return False
    if spans[opening].text == ")":  # q is the closing bracket
        return any(spans[k].text == "(" for k in range(max(0, q - 8), q))
    return any(spans[k].text == ")" for k in range(q, min(opening + 9, len(spans))))


#: what places a device's own part ("its catheter terminates in", "with catheter tip at"), not "catheter-associated"
_PART_PLACED = frozenset({"tip", "tips", "terminates", "terminating", "terminate", "ends", "ending", "lies", "in",
                          "at", "within", "projects", "projecting", "courses", "extends", "is", "into", "below",
                          "above", "beyond", "just", "sits"})


def _parts_of_devices(spans: list[Span], lex: Lexicon) -> None:
    """"Right JJ stent, upper coil in the right renal pelvis": a word that names a device's part after another device
    (``part_of_device``) is that device's part, not a second device; the sites after it are the device's position.
    So is a word the last device names as its own part (``own_parts``: "chest port; its catheter terminates in the
    SVC"), when no other device came between."""
    last: str | None = None
    for p, s in enumerate(spans):
        if s.cat != "OBS":
            continue
        name = _obs_name(s) or ""
        if last is not None and (s.text in (lex.observations.get(name, {}).get("part_of_device") or ())
                                 or s.text in (lex.observations.get(last, {}).get("own_parts") or ())
                                 and p + 1 < len(spans) and spans[p + 1].text in _PART_PLACED):
            spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")
        elif lex.is_device(name):
            last = name


def _solid_parts_described(spans: list[Span], scope: dict[int, str]) -> None:
    """"complex adnexal mass with enhancing solid components": a solid part stated with "with" after its finding,
    neither measured nor denied, describes that finding (as "mass with solid enhancing components" does); measured
    ("part-solid nodule with a 6 mm solid component") or denied ("cyst with no solid component") it is a finding of
    its own."""
    for p, s in enumerate(spans):
        if s.cat != "OBS" or _obs_name(s) != "solid component" or scope.get(p) is not None:
            continue
        q = p - 1
        while q >= 0 and (spans[q].cat == "ATTR" or spans[q].text in ("a", "an")):
            q -= 1
        if p + 1 < len(spans) and (spans[p + 1].cat in ("SIZE", "NUM") or spans[p + 1].text in (
                "measuring", "measures", "of", "(")) or (q >= 0 and spans[q].cat in ("SIZE", "NUM")):
            continue  # measured
        if q >= 1 and spans[q].text in ("with", "with a", "with an") and any(
                g.cat == "OBS" for g in spans[max(0, q - 8):q]):
            spans[p] = Span("PHRASE", None, s.start, s.end, s.text, cat="ATTR",
                            by_kind={"ATTR": [Reading("ATTR", "solid")]})


def _past_procedures(spans: list[Span], lex: Lexicon) -> None:
    """"History of right hemicolectomy", "h/o IVC filter placement": an operation or a device in the patient's history
    is still there to see (the organ is gone, the device in place): a history naming one states it."""
    for p, s in enumerate(spans):
        if s.cat != "CTX:hypothetical_forward" or s.text not in PAST_HISTORY:
            continue
        nxt = next((q for q in spans[p + 1:] if q.cat in ("OBS", "ENLARGE")), None)
        name = _obs_name(nxt) or "" if nxt is not None else ""
        if lex.observations.get(name, {}).get("post_surgical") or (name and lex.is_device(name)):
            spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")


#: what a tip-subject's denial says of the tip ("the tip of the NG tube is not included on this film")
_TIP_DENIALS = ("CTX:negation_forward", "CTX:negation_backward", "CTX:hypothetical_backward",
                "CTX:hypothetical_forward", "CTX:possible_backward")


def _tip_subject_denials(spans: list[Span], lex: Lexicon) -> None:
    """"The tip of the NG tube is not visualised / not included": denied or hedged is where the tip is, not the
    tube, which is there: a denial after a device that is the object of "tip of" is no denial of the device."""
    for p, s in enumerate(spans):
        if s.cat != "OBS" or not lex.is_device(_obs_name(s) or "") or p < 2:
            continue
        q = p - 1
        while q >= 0 and spans[q].text in ("the", "a", "an"):
            q -= 1
        if q < 1 or spans[q].text != "of" or spans[q - 1].text not in ("tip", "tips", "end"):
            continue
        for r in range(p + 1, len(spans)):
            if spans[r].cat == "OBS" or spans[r].text in (";", ".") or spans[r].cat == "CTX:termination":
                break
            if spans[r].cat in _TIP_DENIALS:
                spans[r] = Span("WORD", spans[r].text, spans[r].start, spans[r].end, spans[r].text, cat="WORD")


def _forms_said_of_organs(spans: list[Span], lex: Lexicon) -> None:
    """"The trachea is shifted to the right", "sigmoid tics": a bare word that names a finding only when said of an
    organ (``said_of``: form -> organs) is no finding in a sentence that names none of them ("the NG tube has
    shifted", "facial tics"). A word whose sense turns on the organ it is said of (``only_of``: form -> organs) names
    the finding in a sentence that speaks of one of those organs or of none, and is no finding in one that speaks only
    of others: collapsed bowel or bladder is undistended, not atelectatic; an infective colitis or an infected
    collection names its cause, not a pneumonia."""
    named: set[str] | None = None
    spoken: set[str] | None = None
    for p, s in enumerate(spans):
        if s.cat != "OBS":
            continue
        spec = lex.observations.get(_obs_name(s) or "", {})
        organs = (spec.get("said_of") or {}).get(s.text)
        if organs:
            if named is None:
                named = {r.value for q in spans for r in q.readings("ANAT")} | {
                    r.value.organ for q in spans for r in q.readings("SUB")}
            if not named.intersection(organs):
                spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")
            continue
        homes = (spec.get("only_of") or {}).get(s.text)
        if homes:
            if spoken is None:
                spoken = _organs_spoken_of(spans, lex)
            if spoken and not any(o in homes or any(lex.in_region(o, h) for h in homes) for o in spoken):
                # a word for a device of no fixed place ("pigtail catheter") said of other organs is the device of
                # theirs (``otherwise``: form -> observation): a pigtail catheter in an abdominal collection drains it
                other = (spec.get("otherwise") or {}).get(s.text)
                kinds = lex.phrase_kinds.get((other,), {}) if other else {}
                if "OBS" in kinds:
                    spans[p] = Span("PHRASE", lex.phrases[(other,)], s.start, s.end, s.text, cat="OBS", by_kind=kinds)
                else:
                    spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")


def _predicates_of_the_organ_spoken_of(spans: list[Span], lex: Lexicon) -> None:
    """"The kidneys are normal in size, free of stones and not obstructed": a bare predicate that names a finding by
    the organ it is said of (``subject_predicates``, read through ``in_organ``: an obstructed kidney is
    hydronephrotic) is that organ's finding when the sentence speaks of that organ and not of the predicate's own
    organ, however many other predicates stand between them."""
    spoken: set[str] | None = None
    for p, s in enumerate(spans):
        if s.cat != "OBS":
            continue
        spec = lex.observations.get(_obs_name(s) or "", {})
        if s.text not in (spec.get("subject_predicates") or ()):
            continue
        if spoken is None:
            spoken = _organs_spoken_of(spans, lex)
        own = spec.get("default_anatomy")
        targets = {spec["in_organ"][o] for o in spoken if o in (spec.get("in_organ") or {})}
        if own in spoken or len(targets) != 1:
            continue
        (other,) = targets
        kinds = lex.phrase_kinds.get((other,), {})
        if "OBS" in kinds:
            spans[p] = Span("PHRASE", lex.phrases[(other,)], s.start, s.end, s.text, cat="OBS", by_kind=kinds)


def _organs_spoken_of(spans: list[Span], lex: Lexicon) -> set[str]:
    """The organs a sentence speaks of: those it names, else the homes of the findings it names ("proctocolitis"
    speaks of the bowel; in "aspiration of a thyroid nodule" the nodule is the thyroid's, not the lung's); a word
    whose own sense depends on them (``only_of``) is not counted."""
    named: set[str] = set()
    homes: set[str] = set()
    for s in spans:
        named.update(r.value for r in s.readings("ANAT"))
        named.update(r.value.organ for r in s.readings("SUB"))
        # a node station speaks of its region ("mesenteric fat", "paratracheal soft tissue")
        named.update(lex.station_region.get(r.value.name, r.value.organ) for r in s.readings("STATION"))
        if s.cat == "OBS":
            name = _obs_name(s) or ""
            spec = lex.observations.get(name, {})
            if s.text in (spec.get("only_of") or {}) or lex.is_device(name):
                continue
            named.update(r.organ for r in s.readings("OBS") if r.organ)
            if spec.get("default_anatomy"):
                homes.add(spec["default_anatomy"])
    return named or homes


#: words that grade how well contrast fills a structure ("normal / suboptimal / limited opacification")
_FILLING_GRADES = frozenset({"normal", "normally", "suboptimal", "limited", "good", "adequate", "poor", "satisfactory",
                             "excellent", "homogeneous", "homogenous", "uniform", "optimal", "brisk", "prompt",
                             "symmetric", "symmetrical", "expected"})


def _contrast_filling(spans: list[Span]) -> None:
    """"Normal ureteric opacification", "patent, with normal opacification", "suboptimal opacification of the
    subsegmental arteries": opacification graded by how well it fills (an organ's name may stand between) is
    contrast filling a vessel, a stent or the urinary tract, not an opacity of the lung; the grade still says the
    organ is normal ("normal" stays)."""
    for p, s in enumerate(spans):
        if s.cat != "OBS" or s.text not in ("opacification", "opacified", "opacifying"):
            continue
        q = p - 1
        while q >= 0 and spans[q].cat == "LOC":
            q -= 1
        if q >= 0 and spans[q].text in _FILLING_GRADES:
            spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")


def _predicates_of_findings(spans: list[Span]) -> None:
    """"The aorta is calcified" states a calcification of the aorta; "the nodule is calcified" only describes the
    nodule: a finding phrase that is a predicate ("is calcified") said of a finding is no finding of its own."""
    for p in range(1, len(spans)):
        s = spans[p]
        if s.cat == "OBS" and s.text.split()[0] in _LINKING_VERBS and spans[p - 1].cat == "OBS":
            spans[p] = Span("WORD", s.text, s.start, s.end, s.text, cat="WORD")


#: what may end the clause of an organ said to be calcified in telegraphic style
_CALCIFIED_CLAUSE_ENDS = frozenset({".", ",", ";", "and", ":"})


def _organs_called_calcified(spans: list[Span], lex: Lexicon) -> None:
    """"Aortic knob calcified.", "Mitral annulus calcified, heart normal.": an organ with "calcified" after it and
    nothing more in its clause is said to be calcified, as "the aortic knob is calcified" says (a report's
    telegraphic style drops the verb)."""
    key = ("is", "calcified")
    if key not in lex.phrases:
        return
    for p in range(len(spans) - 1):
        # "Calcified mitral annulus.", "calcified pericardium, no effusion": "calcified" before an organ (or a part
        # of one) that ends its clause, with no finding named, is the organ's calcification
        s = spans[p]
        q = p + 1
        while q < len(spans) and spans[q].cat == "LOC":
            q += 1
        if s.cat == "ATTR" and s.text == "calcified" and q > p + 1 \
                and any(spans[k].readings("ANAT") or spans[k].readings("SUB") for k in range(p + 1, q)) \
                and (q == len(spans) or spans[q].text in _CALCIFIED_CLAUSE_ENDS) \
                and not (q + 1 < len(spans) and spans[q].text == "and" and spans[q + 1].cat == "LOC") \
                and not (p >= 1 and spans[p - 1].cat in ("OBS", "ENLARGE", "SIZE", "LOC")):
            spans[p] = Span("PHRASE", lex.phrases[key], s.start, s.end, "is calcified", cat="OBS",
                            by_kind=lex.phrase_kinds[key])
    for p in range(1, len(spans)):
        s = spans[p]
        if s.cat == "ATTR" and s.text == "calcified" and spans[p - 1].cat == "LOC" \
                and (p + 1 == len(spans) or spans[p + 1].text in _CALCIFIED_CLAUSE_ENDS) \
                and not (p >= 2 and spans[p - 2].cat in ("OBS", "ENLARGE", "ATTR", "SIZE")):
            spans[p] = Span("PHRASE", lex.phrases[key], s.start, s.end, "is calcified", cat="OBS",
                            by_kind=lex.phrase_kinds[key])


def _calcified_organs_named(spans: list[Span], lex: Lexicon) -> None:
    """"Heavily calcified bicuspid aortic valve.", "Calcified pericardium, no effusion.": "calcified" before an organ
    with no finding of its own in the phrase states the organ's calcification, as "the aortic valve is calcified"
    does ("calcified granuloma", "calcified lymph nodes" stay a finding with its attribute)."""
    key = ("is", "calcified")
    if key not in lex.phrases:
        return
    for p, s in enumerate(spans):
        if s.cat != "ATTR" or s.text != "calcified" or (p and spans[p - 1].cat in ("OBS", "LOC", "ENLARGE")):
            continue
        # (a list of sites runs on to its noun: "calcified right hilar and subcarinal lymph nodes")
        q, organ = p + 1, False
        while q < len(spans) and (spans[q].text not in _CALCIFIED_CLAUSE_ENDS or (
                spans[q].text in (",", "and") and q + 1 < len(spans) and spans[q + 1].cat == "LOC")) \
                and spans[q].text != "with" and spans[q].cat in ("LOC", "WORD"):
            organ = organ or spans[q].cat == "LOC"
            q += 1
        if organ and (q == len(spans) or spans[q].text in _CALCIFIED_CLAUSE_ENDS or spans[q].text == "with"
                      or spans[q].cat == "CTX:negation_forward"):  # ("calcified pericardium without effusion")
            spans[p] = Span("PHRASE", lex.phrases[key], s.start, s.end, "is calcified", cat="OBS",
                            by_kind=lex.phrase_kinds[key])


def _sized_organs(spans: list[Span], locs: list[Location], lex: Lexicon) -> list[tuple[int, Location]]:
    """"17 cm spleen, recanalised paraumbilical vein": a size right before an organ that has a normal size, the
    organ ending the phrase, is the organ's measurement; it is no finding's size and the organ no finding's site.
    So is a size right after such an organ that opens its clause ("gallbladder sludge, CBD 0.5 cm":
    ``_own_size_after``)."""
    out = []
    for loc in locs:
        p = loc.start - 1
        if loc.organ not in lex.upper_normal_mm:
            continue
        if p >= 0 and spans[p].cat == "SIZE" and loc.sub is None and _ends_phrase(spans, loc.end + 1) \
                and _may_measure_organ(spans[p].value, loc.organ, lex):
            loc.blocked = True  # "a 17 cm spleen, varices": the object of the size, no site of the varices
        else:  # "a 3 cm liver lesion": the size of the lesion
            p = _own_size_after(spans, loc, lex)
            if p is None or not _may_measure_organ(spans[p].value, loc.organ, lex):
                continue
        spans[p].cat = "ORGAN_SIZE"
        out.append((p, loc))
    return out


#: a size below this share of an organ's upper normal size is no measurement of the organ itself: "a lesion in the
#: liver which measures 1.4 x 1.1 cm" measures the lesion (a liver is never 14 mm), "the spleen measures 12 cm" the
#: spleen
_ORGAN_SIZE_MIN_SHARE = 0.25


def _may_measure_organ(size_mm: float, organ: str, lex: Lexicon) -> bool:
    upper = lex.upper_normal_mm[organ]
    least = min(upper.values()) if isinstance(upper, dict) else upper
    return size_mm >= _ORGAN_SIZE_MIN_SHARE * least


#: what may stand between an organ and its own size ("the spleen measures 15 cm", "spleen (16 cm)")
_SIZE_LINKS = frozenset({"measures", "measuring", "measured", "is", "at", "of", "(", "to"})


def _ends_phrase(spans: list[Span], q: int) -> bool:
    return q >= len(spans) or spans[q].cat == "WORD" and spans[q].text in _PHRASE_ENDS | {")", "("} \
        or spans[q].cat in ("CTX:termination", "PRIOR_SIZE")


def _own_size_after(spans: list[Span], loc: Location, lex: Lexicon) -> int | None:
    """"Spleen 15 cm, small varices", "the CBD measures 9 mm with a distal stone": a size right after an organ
    that has a normal size, the organ the subject of its clause and the size ending the phrase, is the organ's
    measurement, not the size of the finding named next ("a lesion in the liver measuring 2 cm" is the lesion's).
    The organ stays the site of what follows ("CBD 9 mm with a distal stone")."""
    if loc.sub is not None and not isinstance(lex.upper_normal_mm[loc.organ], dict):
        return None
    for b in range(loc.start - 1, -1, -1):  # the organ opens its clause (or a bracket: "(CBD 1.4 cm, ...)")
        if spans[b].text in (",", ";", ":", "("):
            break
        if spans[b].cat not in ("WORD", "LOC", "LAT"):
            return None
    q = loc.end + 1
    while q < len(spans) and spans[q].cat == "WORD" and spans[q].text in _SIZE_LINKS:
        q += 1
    # ("common bile duct 6 mm without choledocholithiasis": a denial after the size ends its phrase too)
    if q < len(spans) and spans[q].cat == "SIZE" and (_ends_phrase(spans, q + 1) or (
            q + 1 < len(spans) and spans[q + 1].cat == "CTX:negation_forward")):
        return q
    return None
