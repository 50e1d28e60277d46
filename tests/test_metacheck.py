"""Metric meta-evaluation on the shipped triplets: clinical metrics must see single clinical errors."""

from __future__ import annotations

import pytest

from harness.metrics.metacheck import ERROR_TYPES, format_check, load_triplets, run_metric_check


@pytest.fixture(scope="module")
def table():
    return run_metric_check(external=True)


def test_shipped_triplets_cover_every_error_type_in_ct_and_chest_xray():
    triplets = load_triplets()
    assert len({t["id"] for t in triplets}) == len(triplets)
    for error in ERROR_TYPES:
        mine = [t for t in triplets if t["error_type"] == error]
        assert len(mine) >= 10, error
        assert {t["modality"] for t in mine} == {"ct", "cxr"}, error
        for t in mine:
            assert t["reference"] and t["paraphrase"] and t["corruption"]
            assert len({t["reference"], t["paraphrase"], t["corruption"]}) == 3


def test_finding_f1_and_entity_score_rank_paraphrase_above_corruption_for_every_error_type(table):
    for metric in ("finding_f1", "entity_score"):
        for error in ERROR_TYPES:
            assert table.loc[metric, error] >= 0.9, (metric, error, table.loc[metric].to_dict())


def test_bleu_and_rouge_do_worse_than_the_clinical_metrics(table):
    for overlap in ("bleu4", "rouge_l"):
        assert table.loc[overlap, "all"] < min(table.loc["finding_f1", "all"], table.loc["entity_score", "all"])
        assert table.loc[overlap, "all"] < 0.5


def test_table_shape_variants_and_not_run_reasons(table):
    assert list(table.columns) == [*ERROR_TYPES, "all"]
    assert set(table.attrs["variants"]) == set(table.index)
    for name, why in table.attrs["not_run"].items():
        assert why.startswith("not run:") and name not in table.index  # never a number it did not compute
    text = format_check(table)
    assert "negation_flip" in text and "triplets per error type" in text
