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


_PIECES = list("abc 019.,-/&;:()[]'\"<>\n\t") + ["&amp;", "&quot;", "<skipped>", "-\n", "\u00e9", "\u00a0", "mm"]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


def _sacrebleu_statistics(cands, refs):
    from sacrebleu.metrics import BLEU

    bleu = BLEU(tokenize="13a", lowercase=False, max_ngram_order=4)
    return bleu._extract_corpus_statistics(list(cands), [list(refs)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_TEXTS, _TEXTS), min_size=1, max_size=4))
def test_fast_bleu_statistics_equal_sacrebleus(pairs):
    from harness.metrics.sacrebleu_stats import corpus_statistics

    cands, refs = zip(*pairs)
    assert corpus_statistics(cands, refs).tolist() == _sacrebleu_statistics(cands, refs)


def test_fast_bleu_statistics_equal_sacrebleus_on_reports():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_clinical_metrics import make_pairs

    refs, cands = make_pairs(300, 7)
    refs += [r for r, _ in PAIRS] + ["Heart size 12.5 cm, i.e. normal; 3-4 nodes (1,5 cm) & 2,000 HU -- see 'prior'."]
    cands += [c for _, c in PAIRS] + ["heart size 12.5cm , normal ; nodes 3 - 4 (1.5 cm) &amp; 2000 HU ."]
    assert bleu_statistics(cands, refs).tolist() == _sacrebleu_statistics(cands, refs)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_rouge_tokens_equal_rouge_scores_tokenizer(text):
    from rouge_score.tokenize import tokenize

    from harness.metrics.text import _rouge_tokens

    assert _rouge_tokens(text) == tokenize(text, None)
    assert _rouge_tokens(text.upper() + " İstanbul ǅ Ⅻ x²") == tokenize(text.upper() + " İstanbul ǅ Ⅻ x²", None)
