import sacrebleu
from hypothesis import given, settings, strategies as st

from harness.metrics.text import BleuMetric, bleu_from_statistics, bleu_statistics, rouge_l
from harness.scoring import bootstrap_cis

PAIRS = [("There is a 2.3 cm mass in the liver.", "A 23 mm hepatic mass is seen."),
         ("The spleen is normal.", "The spleen is unremarkable."),
         ("No focal lesion in the left kidney.", "No focal lesion in the left kidney.")]


def test_corpus_bleu_matches_sacrebleu_directly():
    cands, refs = zip(*PAIRS)
    ours = bleu_from_statistics(bleu_statistics(cands, refs), 4)
    theirs = sacrebleu.corpus_bleu(list(cands), [list(refs)], tokenize="13a").score / 100
    assert abs(ours - theirs) < 1e-9


def test_bleu_orders_are_cumulative():
    cands, refs = zip(*PAIRS)
    stats = bleu_statistics(cands, refs)
    values = [bleu_from_statistics(stats, n) for n in range(1, 5)]
    assert values == sorted(values, reverse=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abc de.", min_size=1, max_size=40), min_size=1, max_size=5))
def test_identical_texts_score_the_maximum_bleu_and_rouge(texts):
    texts = [t for t in texts if t.split()] or ["a"]
    stats = bleu_statistics(texts, texts)
    assert abs(bleu_from_statistics(stats, 1) - 1.0) < 1e-9
    for t in texts:
        if any(c.isalnum() for c in t):
            assert abs(rouge_l(t, t) - 1.0) < 1e-9


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="abcde .", max_size=60), st.text(alphabet="abcde .", max_size=60))
def test_bleu_and_rouge_stay_in_unit_range(a, b):
    stats = bleu_statistics([a], [b])
    for n in range(1, 5):
        assert 0.0 <= bleu_from_statistics(stats, n) <= 1.0
    assert 0.0 <= rouge_l(a, b) <= 1.0


def test_bleu_bootstrap_resamples_statistics_not_sentence_scores():
    rows = BleuMetric().per_case([_item(c, r) for c, r in PAIRS * 5])
    lo, hi = bootstrap_cis(BleuMetric(), rows, n_boot=200, seed=0)["bleu4"]
    value = BleuMetric().aggregate(rows)["bleu4"]
    assert lo <= value <= hi and lo < hi


def _item(cand, ref):
    from harness.schema import Case
    from harness.task import Answer, ScoredItem

    case = Case(case_id="c", task="t", image_path=None, label_path=None, reference_report=ref, findings=())
    return ScoredItem(case=case, answer=Answer(report=cand), predictions={})


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcde .,X1", max_size=80), st.text(alphabet="abcde .,X1", max_size=80))
def test_rouge_l_equals_rouge_score_itself(a, b):
    from rouge_score import rouge_scorer

    expected = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False).score(b, a)["rougeL"].fmeasure
    assert rouge_l(a, b) == expected
