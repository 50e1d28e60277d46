"""Metric meta-evaluation: clinical metrics must see single clinical errors, on the regression triplets (our
own phrasing) and on the dev and test splits (prose no one here wrote for the reader)."""

from __future__ import annotations

import json

import pytest

from harness.metrics.metacheck import (ERROR_TYPES, REGRESSION_ERROR_TYPES, check_splits, format_check,
                                       load_triplets, markdown_table, run_metric_check, tables_to_json)

STYLES = {"terse_impression", "narrative", "structured_template", "abbreviation_heavy", "british",
          "lowercase_tokenised"}


@pytest.fixture(scope="module")
def table():
    return run_metric_check(external=True)


@pytest.fixture(scope="module")
def splits():
    return check_splits(("dev", "test"), external=False)


def test_shipped_regression_triplets_cover_the_first_eight_error_types_in_ct_and_chest_xray():
    triplets = load_triplets()
    assert len({t["id"] for t in triplets}) == len(triplets)
    for error in REGRESSION_ERROR_TYPES:
        mine = [t for t in triplets if t["error_type"] == error]
        assert len(mine) >= 10, error
        assert {t["modality"] for t in mine} == {"ct", "cxr"}, error
        for t in mine:
            assert len({t["reference"], t["paraphrase"], t["corruption"]}) == 3


@pytest.mark.parametrize("split, n_min, per_type, share", [
    ("dev", 400, 15, 0.4), ("dev_b", 240, 15, 0.4), ("dev_c", 180, 15, 0.4),
    ("dev_d", 200, 15, 0.35),  # 61% CT: long practice CT reports are what it was written for
    ("dev_e", 240, 20, 0.45), ("dev_f", 240, 20, 0.45), ("dev_g", 240, 20, 0.45),
    ("dev_h", 240, 20, 0.45),
    ("dev_i", 240, 20, 0.45), ("dev_j", 240, 20, 0.45), ("dev_k", 240, 20, 0.45),
    ("dev_l", 240, 20, 0.45), ("dev_m", 240, 20, 0.45), ("dev_n", 240, 20, 0.45), ("dev_o", 240, 20, 0.45), ("dev_p", 240, 20, 0.45), ("dev_q", 240, 20, 0.45), ("dev_s", 240, 20, 0.45),
    ("test", 150, 13, 0.4), ("test_b", 240, 20, 0.45)])
def test_reader_splits_cover_twelve_error_types_six_styles_and_both_modalities(split, n_min, per_type, share):
    triplets = load_triplets(split=split)
    assert len(triplets) >= n_min and len({t["id"] for t in triplets}) == len(triplets)
    assert {t["split"] for t in triplets} == {split}
    assert {t["style"] for t in triplets} == STYLES
    for error in ERROR_TYPES:
        assert sum(t["error_type"] == error for t in triplets) >= per_type, error
    for modality in ("ct", "cxr"):
        assert sum(t["modality"] == modality for t in triplets) >= share * len(triplets), modality
    for t in triplets:
        assert len({t["reference"], t["paraphrase"], t["corruption"]}) == 3, t["id"]


def test_dev_and_test_files_say_which_split_they_are():
    from importlib import resources

    for split in ("dev", "dev_b", "dev_c", "dev_d", "dev_e", "dev_f", "dev_g", "dev_h", "dev_i", "dev_j", "dev_k", "dev_l", "dev_m", "dev_n", "dev_o", "dev_p", "dev_q", "dev_s", "test", "test_b"):
        first = resources.files("harness.data").joinpath(f"reader_eval/{split}.jsonl").read_text().splitlines()[0]
        header = json.loads(first)["header"]
        assert header["split"] == split
    test_header = json.loads(resources.files("harness.data").joinpath("reader_eval/test.jsonl")
                             .read_text().splitlines()[0])["header"]
    assert "never tune" in test_header["purpose"]


def test_finding_f1_and_entity_score_rank_paraphrase_above_corruption_on_the_regression_triplets(table):
    for metric in ("finding_f1", "entity_score"):
        for error in REGRESSION_ERROR_TYPES:
            assert table.loc[metric, error] >= 0.9, (metric, error, table.loc[metric].to_dict())


def test_clinical_metrics_beat_bleu_and_rouge_on_prose_no_one_here_wrote(splits):
    # a floor that catches a broken reader, not the target (the README reports the measured rates)
    for split, t in splits.items():
        for clinical in ("finding_f1", "entity_score"):
            assert t.loc[clinical, "all"] >= 0.6, (split, clinical)
            assert t.loc[clinical, "all"] > max(t.loc["bleu4", "all"], t.loc["rouge_l", "all"]) + 0.2, split


def test_bleu_and_rouge_do_worse_than_the_clinical_metrics(table):
    for overlap in ("bleu4", "rouge_l"):
        assert table.loc[overlap, "all"] < min(table.loc["finding_f1", "all"], table.loc["entity_score", "all"])
        assert table.loc[overlap, "all"] < 0.5


def test_table_shape_variants_and_not_run_reasons(table):
    assert list(table.columns) == [*REGRESSION_ERROR_TYPES, "all"]
    assert set(table.attrs["variants"]) == set(table.index)
    for name, why in table.attrs["not_run"].items():
        assert why.startswith("not run:") and name not in table.index  # never a number it did not compute
    text = format_check(table)
    assert "negation_flip" in text and "triplets per error type" in text


def test_split_tables_serialise_and_render_as_markdown(splits):
    record = tables_to_json(splits)
    assert set(record) == {"dev", "test"}
    assert set(record["dev"]["rates"]["finding_f1"]) == {*ERROR_TYPES, "all"}
    text = markdown_table(splits)
    assert "| severity_change |" in text and "dev finding_f1" in text and "test rouge_l" in text


def test_unknown_split_and_malformed_triplet_file_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown triplet split"):
        load_triplets(split="train")
    bad = tmp_path / "t.jsonl"
    bad.write_text('{"header": {}}\n{"id": "a", "reference": "x"}\n')
    with pytest.raises(ValueError, match=r"t.jsonl: line 2: missing field\(s\) error_type, paraphrase, corruption"):
        load_triplets(bad)
