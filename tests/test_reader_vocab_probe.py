"""benchmarks/reader_vocab_probe.py: the reader on external term lists (CheXpert labeler phrases, CT-RATE, Merlin,
TotalSegmentator organs; harness/data/reader_eval/vocab_terms.yaml). Every term list is read, every source is
probed in its frames, and the coverage measured when the lists were added does not fall."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import reader_vocab_probe  # noqa: E402


def test_the_probe_covers_every_source_and_keeps_its_coverage():
    rows = reader_vocab_probe.probe()
    n, ok = Counter(r["source"] for r in rows), Counter(r["source"] for r in rows if r["ok"])
    assert set(n) == {"chexpert_mention", "chexpert_unmention", "chexpert_other", "ct_rate", "merlin", "totalseg",
                      "anatomy_extra", "fleischner", "ctpa", "ct_extra"}
    # a sentence per frame: the six frames of a finding term, a size-and-side frame where the list gives one
    assert {r["frame"] for r in rows if r["source"] == "ct_rate"} == {
        "bare", "there_is", "no", "no_evidence", "possible", "unchanged", "sized"}
    floors = {"chexpert_mention": 0.97, "ct_rate": 1.0, "merlin": 1.0, "totalseg": 1.0, "anatomy_extra": 1.0,
              "ctpa": 1.0, "ct_extra": 1.0}
    for source, floor in floors.items():
        assert ok[source] / n[source] >= floor, (source, ok[source], n[source])
    # a phrase the labeler lists as "not this label" sets no label on its own reading
    assert any(r["ok"] and r["term"] == "massive pleural effusion" for r in rows)
