"""The reader's CheXpert-14 labels against a hand-labelled sample of real IU X-ray train reports."""

from __future__ import annotations

import pytest

from harness.metrics.clinical import CHEXPERT_LABELS
from harness.metrics.labeler_check import format_labeler, gold_vector, labeler_table, load_labelled_reports


@pytest.fixture(scope="module")
def sample():
    return load_labelled_reports()


def test_sample_is_from_the_iu_xray_train_split_only_and_fully_labelled(sample):
    records, header = sample
    assert len(records) >= 250 and len({r["id"] for r in records}) == len(records)
    assert {r["split"] for r in records} == {"train"}
    assert "train" in header["split"] and header["source"]["repo"]
    for r in records:
        assert set(CHEXPERT_LABELS) <= set(r["labels"]) and r["report"].strip()


def test_uncertain_counts_as_positive_and_unmentioned_as_negative():
    labels = {label: None for label in CHEXPERT_LABELS} | {"Edema": -1, "Cardiomegaly": 1, "Pneumothorax": 0}
    vec = gold_vector(labels)
    assert vec[CHEXPERT_LABELS.index("Edema")] == 1 and vec[CHEXPERT_LABELS.index("Cardiomegaly")] == 1
    assert vec[CHEXPERT_LABELS.index("Pneumothorax")] == 0 and sum(vec) == 2


def test_labeler_micro_f1_on_real_reports_stays_above_a_floor(sample):
    records, header = sample
    table = labeler_table(records)
    # the floor catches a broken reader; the measured figure is in the README (harness metrics check)
    assert table.loc["micro", "f1"] >= 0.85
    assert table.loc["No Finding", "f1"] >= 0.9
    assert "train split only" in format_labeler(table, header)


def test_malformed_sample_is_a_one_line_error(tmp_path):
    bad = tmp_path / "s.jsonl"
    bad.write_text('{"id": "x", "report": "Clear lungs.", "labels": {"Edema": 0}}\n')
    with pytest.raises(ValueError, match="s.jsonl: line 1: labels missing Enlarged Cardiomediastinum"):
        load_labelled_reports(bad)
