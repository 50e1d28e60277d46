"""The reader's findings do not change under meaning-preserving rewrites of real report prose (units, short
forms, British/US spelling, lower case, the tokenised public-corpus form, headers, counts): on a fixed sample of
the development references (the first 25 of each dev split; never the test split), the share of rewritten
reports read exactly as before stays at or above what the reader reached (benchmarks/reader_invariance_probe.py
runs the same check on every dev reference)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PROBE = Path(__file__).resolve().parents[1] / "benchmarks" / "reader_invariance_probe.py"
_spec = importlib.util.spec_from_file_location("reader_invariance_probe", _PROBE)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)

#: per transformation, the least share of changed sample reports that must read the same (sets of findings)
FLOORS = {"cm_to_mm": 1.0, "mm_to_cm": 1.0, "abbr_expand": 1.0, "abbr_contract": 1.0, "uk_to_us": 1.0,
          "us_to_uk": 1.0, "lowercase": 1.0, "tokenised": 0.967, "header": 1.0, "impression": 1.0,
          "words_to_digits": 1.0, "digits_to_words": 1.0}


@pytest.fixture(scope="module")
def rates():
    refs = probe.dev_references(limit=25)
    return probe.summary(probe.probe(refs, list(probe.TRANSFORMS)))


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_findings_invariant_under_meaning_preserving_rewrite(rates, name):
    changed, same, _ = rates[name]
    assert changed > 0, f"{name} changed no sample report"
    assert same >= FLOORS[name] - 1e-9, f"{name}: {same:.1%} of {changed} rewritten reports read the same"


def test_test_split_is_not_probed():
    assert not any(i.startswith(("test", "regression")) for i, _ in probe.dev_references(limit=2))


@pytest.mark.parametrize("name, text, expected", [
    ("cm_to_mm", "Nodes of 1.8 and 1.4 cm; a 2.1 x 1.4 cm mass; <1 cm node.",
     "Nodes of 18 and 14 mm; a 21 x 14 mm mass; under 10 mm node."),
    ("cm_to_mm", "Largest 2.1 cm (prev 3.4).", "Largest 2.1 cm (prev 3.4)."),  # a bare prior size: left alone
    ("mm_to_cm", "A 15 mm nodule and a 3.5 mm nodule.", "A 1.5 cm nodule and a 3.5 mm nodule."),  # 0.35: inexact
    ("abbr_expand", "RLL consolidation, s/p CABG. R lung clear.",
     "Right lower lobe consolidation, status post CABG. Right lung clear."),
    ("abbr_contract", "Right upper lobe nodule.", "RUL nodule."),
    ("uk_to_us", "Oedema and haemorrhage.", "Edema and hemorrhage."),
    ("tokenised", "Heart normal, lungs clear.\nNo effusion.", "heart normal lungs clear .\nno effusion ."),
    ("words_to_digits", "Two nodules.", "2 nodules."),
    ("digits_to_words", "3 nodules, 5 mm and 2 views.", "Three nodules, 5 mm and 2 views."),
])
def test_rewrites_are_the_stated_ones(name, text, expected):
    assert probe.apply(name, text) == expected
