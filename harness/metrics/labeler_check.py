"""How well the findings reader labels real chest X-ray reports with the 14 CheXpert labels.

The reference is a hand-labelled sample of IU X-ray reports from the **train** split of the R2Gen
``annotation.json`` (``harness/data/reader_eval/iu_xray_train_chexpert.jsonl``; its header says where the text
comes from, who labelled it and with which conventions). The IU X-ray test split is never used here: it is kept
for judging. Labels are binarised as the CheXpert F1 metric does: positive or uncertain = 1 ("rrg" convention),
negative or not mentioned = 0; "No Finding" = 1 when the labeller marked it so.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from harness.fileio import jsonl_with_header
from harness.findings import extract_findings
from harness.metrics.clinical import CHEXPERT_LABELS, chexpert_vector
from harness.metrics.matching import f1

SAMPLE = "reader_eval/iu_xray_train_chexpert.jsonl"


def load_labelled_reports(path: str | Path | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records and the header of a labelled sample (the shipped IU X-ray train sample by default)."""
    if path is None:
        text, where = resources.files("harness.data").joinpath(SAMPLE).read_text(), f"harness/data/{SAMPLE}"
    else:
        text, where = Path(path).read_text(), str(path)
    records, header = jsonl_with_header(text, where)
    for record in records:
        labels, n = record.get("labels"), record["_line"]
        if not isinstance(record.get("report"), str) or not isinstance(labels, dict):
            raise ValueError(f"{where}: line {n}: needs a 'report' text and a 'labels' object")
        missing = [label for label in CHEXPERT_LABELS if label not in labels]
        if missing:
            raise ValueError(f"{where}: line {n}: labels missing {', '.join(missing)}")
    return records, header


def gold_vector(labels: dict[str, Any]) -> list[int]:
    """Positive or uncertain (1 or -1) = 1; negative (0) or unmentioned (null) = 0."""
    return [int(labels.get(label) in (1, -1)) for label in CHEXPERT_LABELS]


def labeler_table(records: Sequence[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Per-label support, precision, recall and F1 of the reader's CheXpert labels; rows ``micro`` and ``macro``.

    ``micro`` pools TP/FP/FN over the 14 labels and all reports; ``macro`` averages the per-label F1 over the
    labels positive in the reference or the reader's output (as the CheXpert F1 metric does)."""
    if records is None:
        records, _ = load_labelled_reports()
    gold = np.array([gold_vector(r["labels"]) for r in records], dtype=np.int64)
    read = np.array([chexpert_vector(extract_findings(r["report"])) for r in records], dtype=np.int64)
    rows = []
    for k, label in enumerate(CHEXPERT_LABELS):
        tp = int((gold[:, k] & read[:, k]).sum())
        fp = int(((1 - gold[:, k]) & read[:, k]).sum())
        fn = int((gold[:, k] & (1 - read[:, k])).sum())
        rows.append({"label": label, "support": int(gold[:, k].sum()), "predicted": int(read[:, k].sum()),
                     "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
                     "f1": f1(tp, fp, fn) if tp + fp + fn else None, "_tp": tp, "_fp": fp, "_fn": fn})
    table = pd.DataFrame(rows).set_index("label")
    tp, fp, fn = (int(table[c].sum()) for c in ("_tp", "_fp", "_fn"))
    used = table[table["f1"].notna()]
    table.loc["micro"] = {"support": int(gold.sum()), "predicted": int(read.sum()), "precision": tp / (tp + fp),
                          "recall": tp / (tp + fn), "f1": f1(tp, fp, fn), "_tp": tp, "_fp": fp, "_fn": fn}
    table.loc["macro"] = {"support": int(gold.sum()), "predicted": int(read.sum()), "precision": None,
                          "recall": None, "f1": float(used["f1"].mean()), "_tp": tp, "_fp": fp, "_fn": fn}
    table.attrs["n_reports"] = len(records)
    return table.drop(columns=["_tp", "_fp", "_fn"])


def format_labeler(table: pd.DataFrame, header: dict[str, Any] | None = None) -> str:
    lines = [f"CheXpert-14 labels read by harness.findings on {table.attrs.get('n_reports', '?')} hand-labelled "
             f"reports (positive or uncertain = 1):"]
    lines.append(table.to_string(float_format=lambda x: f"{x:.2f}", na_rep="-"))
    source = (header or {}).get("source", {})
    if source:
        lines.append(f"sample: {source.get('repo', '?')}:{source.get('path', '?')} (train split only)")
    return "\n".join(lines)
