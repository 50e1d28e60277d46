"""Property-based tests of metric invariants (hypothesis); each test's name states its invariant.

Reports are written from random CT findings by the project's report writer, so every property is checked
across the writer's phrasings, units and sentence orders.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU

from harness.metrics.clinical import CheXpertF1Metric
from harness.metrics.matching import finding_f1, text_finding_f1
from harness.metrics.entity import LexiconSimilarity, text_entity_score
from harness.findings import extract_findings
from harness.reports_ct import write_report
from harness.schema import Case, Finding, Presence
from harness.task import Answer, ScoredItem

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEX = LexiconSimilarity()
EPS = 1e-9
SITES = {  # (organ, side) -> (sub-locations, observations)
    ("liver", None): (["right lobe", "left lobe"], ["mass", "cyst"]),
    ("spleen", None): ([None], ["mass"]),
    ("pancreas", None): (["head", "body", "tail"], ["mass"]),
    ("kidney", "right"): (["upper pole", "interpolar region", "lower pole"], ["mass", "cyst"]),
    ("kidney", "left"): (["upper pole", "interpolar region", "lower pole"], ["mass", "cyst"]),
    ("lung", "right"): (["upper lobe", "lower lobe"], ["nodule"]),
    ("lung", "left"): (["upper lobe", "lower lobe"], ["nodule"]),
}
SITE_KEYS = list(SITES)
BLEU4 = BLEU(tokenize="13a", effective_order=True)
ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def lesion(site, rng_draw) -> Finding:
    subs, kinds = SITES[site]
    obs = rng_draw(st.sampled_from(kinds))
    attrs = frozenset() if obs == "nodule" else frozenset({rng_draw(st.sampled_from(["hypodense", "hyperdense"]))})
    return Finding(obs, site[0], rng_draw(st.sampled_from(subs)), site[1], Presence.PRESENT,
                   float(rng_draw(st.integers(15, 28))), 1, attrs)


@st.composite
def findings_sets(draw, min_lesions=1):
    """1-3 lesions in distinct organs (sides), every other organ stated normal."""
    sites = draw(st.lists(st.sampled_from(SITE_KEYS), min_size=min_lesions, max_size=3, unique=True))
    out = [lesion(s, draw) for s in sites]
    out += [Finding("lesion", o, laterality=side, presence=Presence.ABSENT) for o, side in SITE_KEYS
            if (o, side) not in sites]
    return tuple(out)


seeds = st.integers(0, 2**31 - 1)


def write(findings, seed) -> str:
    return write_report(findings, np.random.default_rng(seed))


def clinical_scores(ref: str, cand: str) -> tuple[float, float]:
    return text_finding_f1(ref, cand), text_entity_score(ref, cand, LEX)


@SETTINGS
@given(findings_sets(min_lesions=0), seeds)
def test_identical_reports_score_the_maximum(findings, seed):
    text = write(findings, seed)
    assert clinical_scores(text, text) == (1.0, 1.0)
    assert abs(BLEU4.sentence_score(text, [text]).score / 100 - 1.0) < 1e-6
    assert ROUGE.score(text, text)["rougeL"].fmeasure == 1.0


@SETTINGS
@given(findings_sets(min_lesions=0), findings_sets(min_lesions=0), seeds, seeds)
def test_scores_stay_in_range_with_float_tolerance(a, b, s1, s2):
    ref, cand = write(a, s1), write(b, s2)
    for value in (*clinical_scores(ref, cand), BLEU4.sentence_score(cand, [ref]).score / 100,
                  ROUGE.score(ref, cand)["rougeL"].fmeasure):
        assert -EPS <= value <= 1.0 + EPS


@SETTINGS
@given(findings_sets(min_lesions=0), seeds, st.randoms(use_true_random=False))
def test_case_whitespace_and_sentence_order_do_not_change_finding_f1(findings, seed, rnd):
    ref = write(findings, seed)
    sentences = [s for s in re.split(r"(?<=\.)\s+", ref.replace("FINDINGS: ", "").replace("IMPRESSION: ", ""))
                 if s]
    rnd.shuffle(sentences)
    variant = ("\n  ".join(s.upper() if rnd.random() < 0.5 else s.lower() for s in sentences)).replace(" ", "   ")
    assert extract_findings(variant) == extract_findings(ref)
    assert text_finding_f1(ref, variant) == 1.0
    other = write(findings, seed + 1)
    assert text_finding_f1(other, variant) == text_finding_f1(other, ref)


def _one_change(findings, draw, kind):
    positives = [i for i, f in enumerate(findings) if f.presence is Presence.PRESENT]
    if kind == "presence":
        i = draw(st.sampled_from(range(len(findings))))
        f = findings[i]
        if f.presence is Presence.PRESENT:
            new = Finding("lesion", f.anatomy, laterality=f.laterality, presence=Presence.ABSENT)
        else:
            new = lesion((f.anatomy, f.laterality), draw)
        return findings[:i] + (new,) + findings[i + 1:]
    i = draw(st.sampled_from(positives))
    f = findings[i]
    if kind == "laterality":
        assume(f.laterality is not None)
        other = "left" if f.laterality == "right" else "right"
        rest = [g for g in findings if g is not f and (g.anatomy, g.laterality) != (f.anatomy, other)]
        return tuple(rest) + (dataclasses.replace(f, laterality=other),)
    if kind == "organ":
        used = {(g.anatomy, g.laterality) for g in findings if g.presence is Presence.PRESENT}
        free = [s for s in SITE_KEYS if s not in used and s[0] != f.anatomy]
        assume(free)
        site = draw(st.sampled_from(free))
        moved = dataclasses.replace(lesion(site, draw), size_mm=f.size_mm, count=f.count)
        rest = [g for g in findings if g is not f and (g.anatomy, g.laterality) != site]
        return tuple(rest) + (Finding("lesion", f.anatomy, laterality=f.laterality, presence=Presence.ABSENT), moved)
    if kind == "size":  # doubled: beyond the max(5 mm, 20%) tolerance for every size drawn
        return findings[:i] + (dataclasses.replace(f, size_mm=2 * f.size_mm),) + findings[i + 1:]
    raise ValueError(kind)


def _assert_strictly_lower(findings, changed, seed):
    ref, cand = write(findings, seed), write(changed, seed + 1)
    same = write(findings, seed + 1)
    assert clinical_scores(ref, same) == (1.0, 1.0)
    f1, ent = clinical_scores(ref, cand)
    assert f1 < 1.0 and ent < 1.0
    assert finding_f1(findings, extract_findings(cand)) < 1.0


@SETTINGS
@given(findings_sets(), seeds, st.data())
def test_flipping_one_findings_presence_strictly_lowers_clinical_scores(findings, seed, data):
    _assert_strictly_lower(findings, _one_change(findings, data.draw, "presence"), seed)


@SETTINGS
@given(findings_sets(), seeds, st.data())
def test_swapping_one_findings_laterality_strictly_lowers_clinical_scores(findings, seed, data):
    assume(any(f.laterality for f in findings if f.presence is Presence.PRESENT))
    findings = tuple(sorted(findings, key=lambda f: (f.presence is not Presence.PRESENT, f.laterality is None)))
    _assert_strictly_lower(findings, _one_change(findings, data.draw, "laterality"), seed)


@SETTINGS
@given(findings_sets(), seeds, st.data())
def test_moving_one_finding_to_another_organ_strictly_lowers_clinical_scores(findings, seed, data):
    _assert_strictly_lower(findings, _one_change(findings, data.draw, "organ"), seed)


@SETTINGS
@given(findings_sets(), seeds, st.data())
def test_changing_one_findings_size_beyond_tolerance_strictly_lowers_clinical_scores(findings, seed, data):
    _assert_strictly_lower(findings, _one_change(findings, data.draw, "size"), seed)


@SETTINGS
@given(findings_sets(min_lesions=0), seeds, seeds)
def test_synonyms_units_and_phrasing_do_not_change_clinical_scores(findings, s1, s2):
    assert clinical_scores(write(findings, s1), write(findings, s2)) == (1.0, 1.0)


@SETTINGS
@given(findings_sets(min_lesions=0), findings_sets(min_lesions=0), seeds, seeds)
def test_finding_f1_entity_score_and_chexpert_f1_are_symmetric(a, b, s1, s2):
    x, y = write(a, s1), write(b, s2)
    assert text_finding_f1(x, y) == text_finding_f1(y, x)
    assert abs(text_entity_score(x, y, LEX) - text_entity_score(y, x, LEX)) < 1e-12
    metric = CheXpertF1Metric()
    xy = metric.per_case([ScoredItem(Case("c", "cxr_report", None, None, x, ()), Answer(y), {})])[0]
    yx = metric.per_case([ScoredItem(Case("c", "cxr_report", None, None, y, ()), Answer(x), {})])[0]
    for out in metric.outputs:
        assert xy[out] == yx[out]
