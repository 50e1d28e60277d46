"""coco_bleu / coco_rouge_l / coco_cider_d against values pycocoevalcap 1.2 computed (tests/data/coco_reference.json,
written by tests/data/make_coco_reference.py), and the Python PTB tokenisation against Java PTBTokenizer's output."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from harness.cli import app
from harness.metrics.coco import (CocoBleuMetric, CocoRougeLMetric, lcs_length, ptb_tokens, rouge_l_beta)
from harness.metrics.text import rouge_l
from harness.schema import Case
from harness.scoring import bootstrap_cis
from harness.task import Answer, ScoredItem

REFERENCE = json.loads((Path(__file__).parent / "data" / "coco_reference.json").read_text())


def test_reference_values_were_computed_by_pycocoevalcap_1_2():
    assert REFERENCE["pycocoevalcap_version"] == "1.2"


def test_score_reports_on_r2gen_files_equals_pycocoevalcap(tmp_path):
    (tmp_path / "test_result.json").write_text(json.dumps(REFERENCE["predictions"]))
    (tmp_path / "test_refs.json").write_text(json.dumps(REFERENCE["references"]))
    out = tmp_path / "scored"
    result = CliRunner().invoke(app, ["score-reports", str(tmp_path / "test_result.json"),
                                      str(tmp_path / "test_refs.json"), "--out", str(out), "--bootstrap", "50"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    for name, expected in REFERENCE["scores"].items():
        if name == "coco_cider_d":
            continue  # not a default metric (see test_evaluate_modules)
        assert metrics[name]["value"] == pytest.approx(expected, abs=1e-9), name
    assert round(metrics["coco_bleu4"]["value"], 4) == round(REFERENCE["scores"]["coco_bleu4"], 4)
    assert round(metrics["coco_rouge_l"]["value"], 4) == round(REFERENCE["scores"]["coco_rouge_l"], 4)


@pytest.mark.parametrize("entry", REFERENCE["ptb"], ids=lambda e: e["text"][:30])
def test_ptb_tokens_equal_java_ptbtokenizer_with_coco_punctuation_removal(entry):
    assert " ".join(ptb_tokens(entry["text"], "ptb_drop_punctuation")) == entry["tokens"]


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(WORD, st.just(".")), max_size=40))
def test_r2gen_cleaned_text_passes_through_the_tokenizer_unchanged(tokens):
    # what makes the numbers equal to pycocoevalcap's scorers on R2Gen files, which split on spaces
    assert ptb_tokens(" ".join(tokens)) == tokens


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcde"), max_size=30), st.lists(st.sampled_from("abcde"), max_size=30))
def test_bit_parallel_lcs_equals_dynamic_programming(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(table[i - 1][j], table[i][j - 1])
    assert lcs_length(a, b) == table[-1][-1]


def test_rouge_beta_weights_recall_and_differs_from_rouge_score():
    cand, ref = "the heart is normal .", "the heart size is normal . the lungs are clear ."
    coco = rouge_l_beta(ptb_tokens(cand), [ptb_tokens(ref)])
    precision, recall = 5 / 5, 5 / 11
    assert coco == pytest.approx((1 + 1.2 ** 2) * precision * recall / (recall + 1.2 ** 2 * precision))
    assert coco != pytest.approx(rouge_l(cand, ref), abs=1e-3)  # rouge-score: F1, punctuation dropped


def test_best_precision_and_best_recall_come_from_any_reference():
    cand = ptb_tokens("a b c")
    assert rouge_l_beta(cand, [ptb_tokens("a b c d e f"), ptb_tokens("a")]) == pytest.approx(
        (1 + 1.44) * 1.0 * 1.0 / (1.0 + 1.44 * 1.0))


def test_empty_texts_score_as_pycocoevalcap_scores_them():
    assert rouge_l_beta([], [[]]) == 1.0  # "" split on " " is one empty token on both sides
    assert rouge_l_beta([], [["a"]]) == 0.0


def _item(cand: str, ref: str) -> ScoredItem:
    case = Case(case_id="c", task="t", image_path=None, label_path=None, reference_report=ref, findings=())
    return ScoredItem(case=case, answer=Answer(report=cand), predictions={})


def test_bleu_bootstrap_resamples_pooled_statistics():
    items = [_item(p[0], r[0]) for p, r in zip(REFERENCE["predictions"].values(), REFERENCE["references"].values())]
    metric = CocoBleuMetric()
    rows = metric.per_case(items)
    value = metric.aggregate(rows)["coco_bleu4"]
    lo, hi = bootstrap_cis(metric, rows, n_boot=200, seed=0)["coco_bleu4"]
    assert lo < value < hi
    assert value == pytest.approx(REFERENCE["scores"]["coco_bleu4"], abs=1e-12)


def test_several_references_use_every_one():
    case = Case(case_id="c", task="t", image_path=None, label_path=None, reference_report="x y z", findings=(),
                meta={"references": ["x y z", "a b c"]})
    item = ScoredItem(case=case, answer=Answer(report="a b c"), predictions={})
    assert CocoRougeLMetric().per_case([item])[0]["coco_rouge_l"] == pytest.approx(1.0)
