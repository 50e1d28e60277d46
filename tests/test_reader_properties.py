"""Hypothesis property tests of the findings reader and the two metrics built on it (finding F1, entity score),
with report text from ``tests/report_grammar.py``: a grammar independent of the project's report writer and of
the reader's lexicon (terse, narrative, structured, abbreviation-heavy, British and tokenised styles), so that
the properties can find what the reader misses. Each test's name states its invariant.

A mutation changes one field of one finding of a 1-3 finding report (side, sub-location, severity by two grades,
size beyond max(5 mm, 20%), certainty class, temporal change); a paraphrase renders the same findings again with
every word choice and the style drawn afresh. Scores are compared as score(ref, paraphrase) > score(ref, mutated),
or == 1.0 where the two texts state the same findings.
"""

from __future__ import annotations

import dataclasses
import random
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.findings import extract_findings
from harness.metrics.matching import text_finding_f1
from harness.metrics.entity import LexiconSimilarity, text_entity_score
from harness.schema import SEVERITY_GRADES, Finding, Presence

from report_grammar import (CERTAINTY_CLASS, GRADE_NAMES, KINDS, NEEDS, PAIRED_FAMILIES, STYLES, GFinding, finding_sets,
                            gfindings, less_specific, mutate, one_grade, reports)

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,  # CI sees the same examples each run
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
LEX = LexiconSimilarity()
EPS = 1e-9
assert GRADE_NAMES == SEVERITY_GRADES  # the grammar's grades index the schema's scale


def f1(ref: str, cand: str) -> float:
    return text_finding_f1(ref, cand)


def ent(ref: str, cand: str) -> float:
    return text_entity_score(ref, cand, LEX)


METRICS = {"finding_f1": f1, "entity_score": ent}


def explain(**texts: str) -> str:
    """Every text with what the reader made of it, for failure messages."""
    lines = []
    for name, text in texts.items():
        lines.append(f"{name}: {text!r}")
        for f in extract_findings(text):
            fields = {k: v for k, v in dataclasses.asdict(f).items() if v not in (None, frozenset())}
            fields["presence"] = f.presence.value
            lines.append(f"    -> {fields}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# triplets: reference, paraphrase, one-field mutation
# --------------------------------------------------------------------------------------------------------------

@st.composite
def triplets(draw, what: str):
    """(reference, paraphrase, mutated, structured findings, mutated findings)."""
    fs, i = draw(finding_sets(need=NEEDS[what]))
    target = fs[i]
    if what in ("severity", "size", "temporal", "one_grade"):
        assume(not target.absent)
    changed = draw({"less_specific": less_specific, "one_grade": one_grade}.get(what, lambda f: mutate(f, what))(
        target))
    mfs = fs[:i] + [changed] + fs[i + 1:]
    ref = draw(reports(fs))
    para = draw(reports(fs))
    mut = draw(reports(mfs))
    return ref, para, mut, fs, mfs


def _lowers(metric: str, what: str, t) -> None:
    ref, para, mut, fs, mfs = t
    score = METRICS[metric]
    s_para, s_mut = score(ref, para), score(ref, mut)
    assert s_para > s_mut + EPS, (
        f"{metric}(ref, paraphrase) = {s_para:.3f} should exceed {metric}(ref, {what}-mutated) = {s_mut:.3f}\n"
        f"findings: {fs}\nmutated:  {mfs}\n" + explain(ref=ref, paraphrase=para, mutated=mut))


# --------------------------------------------------------------------------------------------------------------
# the reader reads what the grammar states
# --------------------------------------------------------------------------------------------------------------

@st.composite
def single(draw, need: str | None = None, kinds=None):
    f = draw(gfindings(need, kinds))
    return f, draw(reports([f]))


@SETTINGS
@given(single())
def test_every_rendered_finding_is_read(case):
    f, text = case
    assert extract_findings(text), f"{f}\n" + explain(text=text)


def _has(text: str, pred) -> bool:
    return any(pred(g) for g in extract_findings(text))


@SETTINGS
@given(single(need="side", kinds=tuple(k for k, v in KINDS.items() if v.family in PAIRED_FAMILIES)))
def test_reader_reads_the_stated_side(case):
    f, text = case
    side = f.effective_side
    found = {g.laterality for g in extract_findings(text)}
    ok = side in found or (side == "bilateral" and {"left", "right"} <= found)
    assert ok, f"{f}: side {side!r}\n" + explain(text=text)


@SETTINGS
@given(single(need="severity"))
def test_reader_reads_the_stated_severity_grade(case):
    f, text = case
    assume(not f.absent)
    want = SEVERITY_GRADES[f.severity]
    assert _has(text, lambda g: g.severity == want), f"{f}: severity {want!r}\n" + explain(text=text)


_PRESENCE = {"present": Presence.PRESENT, "uncertain": Presence.UNCERTAIN, "absent": Presence.ABSENT}


@SETTINGS
@given(single(need="certainty"))
def test_reader_reads_the_stated_certainty_class(case):
    f, text = case
    want = _PRESENCE[CERTAINTY_CLASS[f.certainty]]
    assert _has(text, lambda g: g.presence is want), f"{f}: presence {want.value!r}\n" + explain(text=text)


@SETTINGS
@given(single(need="temporal"))
def test_reader_reads_the_stated_temporal_change(case):
    f, text = case
    assert _has(text, lambda g: g.temporal == f.temporal), f"{f}: temporal {f.temporal!r}\n" + explain(text=text)


@SETTINGS
@given(single(need="size"))
def test_reader_reads_the_stated_size(case):
    f, text = case
    assume(not f.absent)
    assert _has(text, lambda g: g.size_mm is not None and abs(g.size_mm - f.size_mm) < 0.51), \
        f"{f}: size {f.size_mm} mm\n" + explain(text=text)


# --------------------------------------------------------------------------------------------------------------
# paraphrases keep the score at 1
# --------------------------------------------------------------------------------------------------------------

@st.composite
def paraphrase_pairs(draw):
    fs, _ = draw(finding_sets())
    return fs, draw(reports(fs)), draw(reports(draw(st.permutations(fs))))


@SETTINGS
@given(paraphrase_pairs())
def test_identical_reports_score_one(pair):
    fs, ref, _ = pair
    assert (f1(ref, ref), ent(ref, ref)) == (1.0, 1.0), f"{fs}\n" + explain(ref=ref)


@SETTINGS
@given(paraphrase_pairs())
def test_synonym_or_abbreviation_does_not_change_finding_f1(pair):
    fs, ref, para = pair
    assert f1(ref, para) == pytest.approx(1.0), f"{fs}\n" + explain(ref=ref, paraphrase=para)


@SETTINGS
@given(paraphrase_pairs())
def test_synonym_or_abbreviation_does_not_change_entity_score(pair):
    fs, ref, para = pair
    assert ent(ref, para) == pytest.approx(1.0), f"{fs}\n" + explain(ref=ref, paraphrase=para)


@st.composite
def reordered(draw):
    fs, _ = draw(finding_sets())
    assume(len(fs) > 1)
    style = draw(st.sampled_from(STYLES))
    return fs, draw(reports(fs, style)), draw(reports(fs[::-1], style))


@SETTINGS
@given(reordered())
def test_reordering_sentences_does_not_change_finding_f1(pair):
    fs, ref, rev = pair
    assert f1(ref, rev) == pytest.approx(1.0), f"{fs}\n" + explain(ref=ref, reordered=rev)


@SETTINGS
@given(triplets("one_grade"))
def test_severity_one_grade_apart_lowers_both_scores_but_keeps_partial_credit(t):
    ref, _, near, fs, nfs = t
    for metric, score in METRICS.items():
        assert 0.0 < score(ref, near) < 1.0 - EPS, \
            f"{metric}: {score(ref, near):.3f}\n{fs}\none grade: {nfs}\n" + explain(ref=ref, one_grade=near)


@SETTINGS
@given(triplets("size"))
def test_scores_are_symmetric(t):
    ref, para, mut, fs, _ = t
    for a, b in ((ref, para), (ref, mut)):
        assert f1(a, b) == pytest.approx(f1(b, a)) and ent(a, b) == pytest.approx(ent(b, a)), explain(a=a, b=b)


# --------------------------------------------------------------------------------------------------------------
# one-field mutations lower both scores
# --------------------------------------------------------------------------------------------------------------

@SETTINGS
@given(triplets("side"))
def test_changing_side_lowers_finding_f1(t):
    _lowers("finding_f1", "side", t)


@SETTINGS
@given(triplets("side"))
def test_changing_side_lowers_entity_score(t):
    _lowers("entity_score", "side", t)


@SETTINGS
@given(triplets("sub"))
def test_changing_sub_location_lowers_finding_f1(t):
    _lowers("finding_f1", "sub", t)


@SETTINGS
@given(triplets("sub"))
def test_changing_sub_location_lowers_entity_score(t):
    _lowers("entity_score", "sub", t)


@SETTINGS
@given(triplets("severity"))
def test_changing_severity_by_two_grades_lowers_finding_f1(t):
    _lowers("finding_f1", "severity", t)


@SETTINGS
@given(triplets("severity"))
def test_changing_severity_by_two_grades_lowers_entity_score(t):
    _lowers("entity_score", "severity", t)


@SETTINGS
@given(triplets("size"))
def test_changing_size_beyond_tolerance_lowers_finding_f1(t):
    _lowers("finding_f1", "size", t)


@SETTINGS
@given(triplets("size"))
def test_changing_size_beyond_tolerance_lowers_entity_score(t):
    _lowers("entity_score", "size", t)


@SETTINGS
@given(triplets("certainty"))
def test_certainty_class_change_lowers_finding_f1(t):
    _lowers("finding_f1", "certainty", t)


@SETTINGS
@given(triplets("certainty"))
def test_certainty_class_change_lowers_entity_score(t):
    _lowers("entity_score", "certainty", t)


@SETTINGS
@given(triplets("temporal"))
def test_temporal_change_lowers_finding_f1(t):
    _lowers("finding_f1", "temporal", t)


@SETTINGS
@given(triplets("temporal"))
def test_temporal_change_lowers_entity_score(t):
    _lowers("entity_score", "temporal", t)


# --------------------------------------------------------------------------------------------------------------
# partial credit: a less specific statement scores between the paraphrase and the wrong one
# --------------------------------------------------------------------------------------------------------------

@st.composite
def specificity(draw):
    fs, i = draw(finding_sets(need="sub"))
    assume(not fs[i].absent)
    wider = draw(less_specific(fs[i]))
    wrong = draw(mutate(fs[i], "sub"))
    ref, para = draw(reports(fs)), draw(reports(fs))
    less = draw(reports(fs[:i] + [wider] + fs[i + 1:]))
    mut = draw(reports(fs[:i] + [wrong] + fs[i + 1:]))
    return ref, para, less, mut, fs[i], wider


@SETTINGS
@given(specificity())
def test_less_specific_sub_location_scores_between_other_sub_location_and_paraphrase(t):
    ref, para, less, mut, f, wider = t
    for name, score in METRICS.items():
        s_para, s_less, s_mut = score(ref, para), score(ref, less), score(ref, mut)
        upper_ok = s_less < s_para - EPS if name == "finding_f1" else s_less <= s_para + EPS
        assert s_mut + EPS < s_less and upper_ok, (
            f"{name}: other sub-location {s_mut:.3f} < less specific {s_less:.3f} < paraphrase {s_para:.3f}\n"
            f"{f} -> {wider}\n" + explain(ref=ref, paraphrase=para, less_specific=less, other_sub_location=mut))


@st.composite
def side_dropped(draw):
    kinds = tuple(k for k, v in KINDS.items() if v.family in PAIRED_FAMILIES)
    fs, i = draw(finding_sets(need="side"))
    f = fs[i]
    assume(f.k.key in kinds and f.certainty == "present" and f.sub is None and f.side != "bilateral")
    g = dataclasses.replace(f, side=None)
    wrong = dataclasses.replace(f, side={"left": "right", "right": "left"}[f.side])
    return (draw(reports(fs)), draw(reports(fs)), draw(reports(fs[:i] + [g] + fs[i + 1:])),
            draw(reports(fs[:i] + [wrong] + fs[i + 1:])), f)


@SETTINGS
@given(side_dropped())
def test_unstated_side_scores_between_other_side_and_paraphrase_in_finding_f1(t):
    ref, para, unsided, other, f = t
    s_para, s_none, s_other = f1(ref, para), f1(ref, unsided), f1(ref, other)
    assert s_other + EPS < s_none < s_para - EPS, (
        f"finding_f1: other side {s_other:.3f} < side unstated {s_none:.3f} < paraphrase {s_para:.3f}\n{f}\n"
        + explain(ref=ref, paraphrase=para, side_unstated=unsided, other_side=other))


# --------------------------------------------------------------------------------------------------------------
# robustness: the reader raises nothing on any text
# --------------------------------------------------------------------------------------------------------------

def _read_ok(text: str) -> None:
    out = extract_findings(text)
    assert isinstance(out, tuple) and all(isinstance(f, Finding) for f in out)
    for score in METRICS.values():
        assert 0.0 <= score(text, "Small left pleural effusion.") <= 1.0


@pytest.mark.parametrize("text", ["", " ", "\n\n\t", ".", "...", "IMPRESSION:", "1.", "No.", "-", "cm mm x 3.5"])
def test_reader_raises_nothing_on_empty_or_degenerate_text(text):
    _read_ok(text)


NON_ENGLISH = [
    "Kleiner linksseitiger Pleuraerguss. Kein Pneumothorax.",  # German
    "Petit épanchement pleural gauche. Pas de pneumothorax.",  # French
    "Pequeño derrame pleural izquierdo. No hay neumotórax.",  # Spanish
    "左侧少量胸腔积液。未见气胸。",  # Chinese
    "左側に少量の胸水。気胸なし。",  # Japanese
    "انصباب جنبي أيسر صغير. لا يوجد استرواح صدري.",  # Arabic
    "Небольшой левосторонний плевральный выпот. Пневмоторакса нет.",  # Russian
    "작은 좌측 흉막 삼출. 기흉 없음.",  # Korean
]


@pytest.mark.parametrize("text", NON_ENGLISH)
def test_reader_raises_nothing_on_non_english_text(text):
    _read_ok(text)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_reader_raises_nothing_on_any_unicode_text(text):
    _read_ok(text)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]))
def test_reader_raises_nothing_on_random_bytes_decoded_as_text(data, encoding):
    _read_ok(data.decode(encoding, errors="replace"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["No", "no", "left", "right", "small", "large", "effusion", "pleural", "mm", "cm",
                                 "x", "1.2", "3", ".", ",", "?", "segment", "VII", "S7", "RLL", "lobe", "new",
                                 "stable", "increased", "cannot", "be", "excluded", "possible", "likely", "unlikely",
                                 "nodule", "measuring", "up", "to", "the", "of", "in", ":", "\n", "(", ")", "1.",
                                 "kidney", "pole", "liver", "heart", "enlarged", "station", "4R", "without"]),
                max_size=60))
def test_reader_raises_nothing_on_word_salad_of_report_vocabulary(words):
    _read_ok(" ".join(words))


def test_reader_raises_nothing_on_a_megabyte_of_text():
    rnd = random.Random(0)
    sentences = ["Small left pleural effusion.", "There is a 12 x 8 mm nodule in the right lower lobe, new since "
                 "the prior study.", "LIVER: Segment VII cyst, 1.4 cm.", "No pneumothorax.", "? R PTX.",
                 "The heart is mildly enlarged.", "Moderate pulmonary oedema", "small left pleural effusion ."]
    parts, n = [], 0
    while n < 1_000_000:
        s = rnd.choice(sentences)
        parts.append(s)
        n += len(s) + 1
    text = " ".join(parts)
    t0 = time.perf_counter()
    out = extract_findings(text)
    assert isinstance(out, tuple)
    # one 1 MB line without any sentence break
    out = extract_findings(("small left pleural effusion " * 40_000)[:1_000_000])
    assert isinstance(out, tuple)
    assert time.perf_counter() - t0 < 60, "the reader took over a minute on 2 MB of text"


# -- the hand-written scanners that stand in for two regular expressions (for speed) keep their meaning -------------
_SECTION_TEXT = st.lists(st.one_of(
    st.sampled_from(["FINDINGS", "Impression", "comparison", "CLINICAL HISTORY", "findings", "x", "1", "e.g", "i.e",
                     "Approx", "vs", "R", "l", "rt", "max", "_", "\u00e9"]),
    st.sampled_from(["", " ", ":", " :", " \n :", ".", ". ", ": ", "x:", ".(", ".,", "..", ". A", ".5", "\t", "-"]),
    st.text(alphabet="abcLR .:,(\n\t5", max_size=6)), max_size=12).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True)  # cheap: many examples
@given(_SECTION_TEXT)
def test_section_split_from_colons_equals_the_section_pattern_split(text):
    from harness.findings.lexicon import lexicon  # noqa: PLC0415
    from harness.findings.sentences import _section_re, _split_at_section_names  # noqa: PLC0415

    lex = lexicon()
    assert _split_at_section_names(text, lex) == _section_re(id(lex)).split(text)


@settings(max_examples=400, deadline=None, derandomize=True)  # cheap: many examples
@given(_SECTION_TEXT)
def test_abbreviation_stops_found_from_full_stops_equal_the_pattern_substitution(text):
    from harness.findings.sentences import _ABBREVIATION_STOP_RE, _without_abbreviation_stops  # noqa: PLC0415

    expected = _ABBREVIATION_STOP_RE.sub(lambda m: (m.group(1) or m.group(2)).replace(".", ""), text)
    assert _without_abbreviation_stops(text) == expected
