"""Text-overlap metrics through the reference libraries: BLEU-1..4 (sacrebleu) and ROUGE-L (rouge-score).

The field reports BLEU under several tokenizations that differ by up to 2x on the same pairs, so every result
carries the exact variant. Both are computed on the text inside ``<report>`` against the reference report.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from harness.metrics.base import Metric, Row, resampled_sums
from harness.task import ScoredItem

BLEU_TOKENIZE = "13a"


@lru_cache(maxsize=1)
def _bleu():
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=BLEU_TOKENIZE, lowercase=False, max_ngram_order=4)


def bleu_statistics(candidates: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """Per-pair sufficient statistics [sys_len, ref_len, correct_1..4, total_1..4] (sacrebleu's layout): sacrebleu's
    numbers, through ``sacrebleu_stats`` (several times faster) when every text is a string."""
    candidates, references = list(candidates), list(references)
    if candidates and len(candidates) == len(references) and all(isinstance(t, str) for t in candidates) \
            and all(isinstance(t, str) for t in references):
        from harness.metrics.sacrebleu_stats import corpus_statistics  # noqa: PLC0415

        return corpus_statistics(candidates, references)
    bleu = _bleu()
    return np.asarray(bleu._extract_corpus_statistics(list(candidates), [list(references)]), dtype=np.int64)


def bleu_from_statistics(stats: np.ndarray, order: int) -> float:
    """Corpus BLEU-``order`` in [0, 1] from summed statistics."""
    from sacrebleu.metrics import BLEU

    s = np.asarray(stats).sum(axis=0) if np.ndim(stats) == 2 else np.asarray(stats)
    correct, total = s[2:6].tolist(), s[6:10].tolist()
    score = BLEU.compute_bleu(correct[:order], total[:order], int(s[0]), int(s[1]), smooth_method="exp",
                              max_ngram_order=order).score
    return min(max(score / 100.0, 0.0), 1.0)  # sacrebleu can return 100.00000000000004


class BleuMetric(Metric):
    """BLEU-1..4, corpus-level, sacrebleu (13a tokenizer, case-sensitive, exp smoothing), scaled to 0-1."""

    name = "bleu"
    per_case_independent = True
    outputs = ("bleu1", "bleu2", "bleu3", "bleu4")
    variant = (f"sacrebleu {BLEU_TOKENIZE} tokenizer, cased, corpus-level, smooth=exp, cumulative n-gram "
               "orders 1..n, brevity penalty, 0-1 scale; per-case rows hold sufficient statistics")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        stats = bleu_statistics([it.answer.report for it in items], [it.case.reference_report for it in items])
        rows = []
        for s in stats:
            row: dict[str, Any] = {"_stats": s}
            row.update({f"bleu{n}": bleu_from_statistics(s, n) for n in range(1, 5)})  # sentence-level, for samples
            rows.append(row)
        return rows

    def applies(self, row: Row, output: str) -> bool:
        return "_stats" in row

    def bootstrap_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> dict[str, np.ndarray]:
        stats = self.rows_arrays(rows, "stats", lambda: np.stack([r["_stats"] for r in rows]))
        sums = resampled_sums(stats, resamples)  # (n_boot, 10) corpus statistics
        return {f"bleu{n}": np.array([bleu_from_statistics(s, n) for s in sums]) for n in range(1, 5)}

    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        if not rows:
            return {o: None for o in self.outputs}
        stats = np.stack([r["_stats"] for r in rows])
        return {f"bleu{n}": bleu_from_statistics(stats, n) for n in range(1, 5)}


def _rouge_tokens(text: str) -> list[str]:
    """rouge-score's default tokenizer without stemming (``RougeScorer(use_stemmer=False)`` calls exactly this).
    Imported from ``rouge_score.tokenize``, not through ``rouge_scorer``, whose ``import nltk`` (and with it
    scipy.stats) costs about 1.5 s of every `harness run` and `harness score`. Its steps (lowercase, every run of
    characters other than a-z0-9 to a space, split, drop empty tokens) leave exactly the runs of a-z0-9 of the
    lowercased text, which one ``findall`` gives three times faster (tests/test_text_metrics.py compares)."""
    return _ALNUM_RUN.findall(text.lower())


_ALNUM_RUN = re.compile(r"[a-z0-9]+")


def rouge_l(candidate: str, reference: str) -> float:
    """rouge-score's rougeL F-measure: its own tokenizer, and its formula on the LCS length. The LCS comes from the
    bit-parallel ``lcs_length`` instead of rouge-score's Python table, ten times faster on report-length texts with
    the same value (tests/test_text_metrics.py checks against rouge-score itself)."""
    from harness.metrics.coco import lcs_length  # noqa: PLC0415

    target, prediction = _rouge_tokens(reference), _rouge_tokens(candidate)
    if not target or not prediction:
        return 0.0
    lcs = lcs_length(target, prediction)
    precision, recall = lcs / len(prediction), lcs / len(target)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


class RougeLMetric(Metric):
    """ROUGE-L F-measure per report (rouge-score), averaged over cases."""

    name = "rouge_l"
    per_case_independent = True
    outputs = ("rouge_l",)
    variant = "rouge-score rougeL F-measure, default tokenizer (lowercase, alphanumeric tokens), no stemming, mean"

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        return [{"rouge_l": rouge_l(it.answer.report, it.case.reference_report)} for it in items]
