"""BLEU-1..4, ROUGE-L and CIDEr-D as pycocoevalcap computes them: the convention of most report-generation papers.

The R2Gen line of papers (and RadEval's BLEU) call pycocoevalcap's ``Bleu(4)``, ``Rouge()`` and ``Cider()``
scorers directly on lowercased, pre-tokenised reports (``"the heart is normal . no effusion ."``): BLEU is
corpus-level with the reference length closest to each candidate, ROUGE-L is an F-measure with beta 1.2 (recall
weighted) averaged over reports, CIDEr-D uses document frequencies of the scored set's references. The harness's
``bleu``/``rouge_l`` (sacrebleu, rouge-score) are other conventions and give other numbers on the same text
(ROUGE-L 0.254 vs 0.315 on one public IU X-ray test set), so these are separate metrics with separate names.

pycocoevalcap's PTBTokenizer needs Java; ``ptb_tokens`` is a Python re-implementation of what matters for the
scores (lowercasing, splitting punctuation and clitics off words), which leaves already-tokenised text unchanged,
so scoring R2Gen files gives pycocoevalcap's numbers exactly. The scorers themselves are re-implemented (tested
against pycocoevalcap 1.2) because ROUGE-L's pure-Python LCS is too slow for 100,000 reports and BLEU's corpus
statistics must stay per case for the bootstrap.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from harness.metrics.base import Metric, Row, resampled_sums
from harness.task import ScoredItem

BLEU_ORDER = 4
ROUGE_BETA = 1.2
CIDER_SIGMA = 6.0
# pycocoevalcap's own constants: they keep a zero count from zeroing the product and decide its last digits
_TINY, _SMALL = 1e-15, 1e-9

# Tokens pycocoevalcap's COCO pipeline drops after PTB tokenisation (tokenizer/ptbtokenizer.py). Its list spells
# the brackets "-LRB-" while the tokenizer runs with -lowerCase and writes "-lrb-": brackets are never dropped there,
# so they are not dropped here either.
PTB_PUNCTUATION = frozenset({"''", "'", "``", "`", ".", "?", "!", ",", ":", "-", "--", "...", ";"})
TOKENIZATIONS = ("ptb", "ptb_drop_punctuation", "whitespace")

_ABBREVIATION = re.compile(r"^(?:[a-z]\.(?:[a-z]\.)+|dr\.|mr\.|mrs\.|ms\.|vs\.|st\.|etc\.|e\.g\.|i\.e\.)$")
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}
_CLITICS = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")
_CLITIC = re.compile(r"^(.+?)(" + "|".join(_CLITICS) + r")$")
# punctuation split off a word wherever it stands, except inside numbers (1,000  10:30) handled below
_PLAIN = re.compile(r"(?!.*--)[a-z0-9/-]+")  # a word the full rules would leave whole: "mid-zone", "5mm", "and/or"
_SPLIT = re.compile(r"(\.\.\.|--|[?!]+|[()\[\]{}\";#$%&]|,(?!\d)|:(?!\d))")


def ptb_tokens(text: str, tokenization: str = "ptb") -> list[str]:
    """Lowercased Penn-Treebank-style tokens, as PTBTokenizer writes them (``-lowerCase``), in Python.

    ``ptb`` keeps punctuation as tokens (what the scorers see in R2Gen-style cleaned reports);
    ``ptb_drop_punctuation`` removes it as pycocoevalcap's COCO pipeline does; ``whitespace`` only splits on
    spaces (the scorers on raw text, as RadEval's BLEU calls them)."""
    if tokenization == "whitespace":
        return text.split()
    if tokenization not in TOKENIZATIONS:
        raise ValueError(f"unknown tokenization '{tokenization}' (one of {', '.join(TOKENIZATIONS)})")
    out: list[str] = []
    for chunk in text.lower().split():
        if _PLAIN.fullmatch(chunk):  # most words need no splitting: skip the regex split (4x faster on reports)
            out.append(chunk)
            continue
        for piece in _SPLIT.split(chunk):
            if piece:
                out.extend(_word_tokens(piece))
    if tokenization == "ptb_drop_punctuation":
        out = [t for t in out if t not in PTB_PUNCTUATION]
    return out


def _word_tokens(piece: str) -> list[str]:
    if piece in _BRACKETS:
        return [_BRACKETS[piece]]
    if piece == '"':
        return ["''"]
    tail: list[str] = []
    # a final period leaves the word unless the word is an abbreviation or a number such as "1." in a list
    while piece.endswith(".") and len(piece) > 1 and not _ABBREVIATION.match(piece) and piece != "...":
        piece = piece[:-1]
        tail.insert(0, ".")
    if piece in _CLITICS:
        return [piece, *tail]
    m = _CLITIC.match(piece)
    if m and m.group(1) != "'":
        return [m.group(1), m.group(2), *tail]  # PTB: "isn't" -> "is n't", "can't" -> "ca n't"
    if piece.startswith("'") and len(piece) > 1:
        return ["`", *_word_tokens(piece[1:]), *tail]
    if piece.endswith("'") and len(piece) > 1:  # a closing quote or a plural possessive
        return [*_word_tokens(piece[:-1]), "'", *tail]
    return [piece, *tail]


# -- BLEU ----------------------------------------------------------------------------------------------------
def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of every 1..n-gram (as tuples); zip builds them in C, several times faster than slicing."""
    counts: Counter = Counter()
    for k in range(1, n + 1):
        counts.update(zip(*(tokens[i:] for i in range(k))))
    return counts


def bleu_case_statistics(candidate: Sequence[str], references: Sequence[Sequence[str]]) -> list[int]:
    """[testlen, closest reflen, guess_1..4, correct_1..4] of one case, as pycocoevalcap's BleuScorer cooks them
    (clipped counts against the per-n-gram maximum over references; the reference length closest to the
    candidate's, the shorter one on ties)."""
    if len(references) == 1:  # the usual case: the reference's own counts are the maxima
        max_counts: Mapping[tuple[str, ...], int] = _ngrams(references[0], BLEU_ORDER)
    else:
        max_counts = {}
        for ref in references:
            for gram, c in _ngrams(ref, BLEU_ORDER).items():
                if c > max_counts.get(gram, 0):
                    max_counts[gram] = c
    testlen = len(candidate)
    reflen = min((abs(len(r) - testlen), len(r)) for r in references)[1]
    guess = [max(0, testlen - k) for k in range(BLEU_ORDER)]
    correct = [0] * BLEU_ORDER
    for gram, c in _ngrams(candidate, BLEU_ORDER).items():
        m = max_counts.get(gram)
        if m:  # most candidate n-grams of a report are in no reference
            correct[len(gram) - 1] += m if m < c else c
    return [testlen, reflen, *guess, *correct]


def bleu_from_counts(stats: np.ndarray) -> np.ndarray:
    """BLEU-1..4 from summed statistics, pycocoevalcap's formula; ``stats`` is (10,) or (k, 10) -> (4,) or (k, 4)."""
    s = np.asarray(stats, dtype=np.float64)
    testlen, reflen = s[..., 0], s[..., 1]
    guess, correct = s[..., 2:2 + BLEU_ORDER], s[..., 2 + BLEU_ORDER:]
    product = np.cumprod((correct + _TINY) / (guess + _SMALL), axis=-1)
    bleus = product ** (1.0 / np.arange(1, BLEU_ORDER + 1))
    ratio = (testlen + _TINY) / (reflen + _SMALL)
    with np.errstate(divide="ignore", over="ignore"):
        penalty = np.where(ratio < 1, np.exp(1 - 1 / ratio), 1.0)
    return bleus * penalty[..., None]


# -- ROUGE-L -------------------------------------------------------------------------------------------------
def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common subsequence of two token lists, bit-parallel (Hyyroe 2004): one big-integer step per token
    of ``a`` instead of a len(a) x len(b) table, which is what makes 100,000 reports fast in Python."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for j, tok in enumerate(b):
        masks[tok] = masks.get(tok, 0) | (1 << j)
    full = (1 << len(b)) - 1
    v = full
    for tok in a:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()


def rouge_l_beta(candidate: Sequence[str], references: Sequence[Sequence[str]], beta: float = ROUGE_BETA) -> float:
    """pycocoevalcap's ROUGE-L: best precision and best recall over references (each from its own reference),
    F = (1 + beta^2) P R / (R + beta^2 P). Tokens are split on single spaces there, so an empty text is one empty
    token; kept, so that two empty texts score 1 as they do there."""
    cand = list(candidate) or [""]
    precisions, recalls = [], []
    for ref in references:
        ref_tokens = list(ref) or [""]
        lcs = lcs_length(ref_tokens, cand)
        precisions.append(lcs / len(cand))
        recalls.append(lcs / len(ref_tokens))
    p, r = max(precisions), max(recalls)
    if p == 0 or r == 0:
        return 0.0
    return ((1 + beta ** 2) * p * r) / (r + beta ** 2 * p)


# -- CIDEr-D -------------------------------------------------------------------------------------------------
def cider_d_scores(candidates: Sequence[Sequence[str]], references: Sequence[Sequence[Sequence[str]]],
                   sigma: float = CIDER_SIGMA) -> list[float]:
    """pycocoevalcap's Cider (which is CIDEr-D: clipped tf-idf n-gram vectors, Gaussian length penalty, x10);
    document frequencies from the references of these cases. Same arithmetic, plain floats instead of numpy."""
    ref_counts = [[_ngrams(r, BLEU_ORDER) for r in refs] for refs in references]
    df: Counter = Counter()
    for counts in ref_counts:
        df.update({g for c in counts for g in c})
    log_n = float(np.log(float(len(references))))
    idf = {g: log_n - math.log(max(1.0, d)) for g, d in df.items()}

    def vector(counts: Counter):
        vec: list[dict] = [{} for _ in range(BLEU_ORDER)]
        norm = [0.0] * BLEU_ORDER
        length = 0
        for gram, tf in counts.items():
            n = len(gram) - 1
            w = float(tf) * idf.get(gram, log_n)  # an n-gram no reference has: df 0 -> log(max(1, 0)) = 0
            vec[n][gram] = w
            norm[n] += w * w
            if n == 1:  # pycocoevalcap counts bigrams as the "length" (a quirk kept for equal numbers)
                length += tf
        return vec, [math.sqrt(x) for x in norm], length

    scores = []
    for cand, refs in zip(candidates, ref_counts):
        vh, nh, lh = vector(_ngrams(cand, BLEU_ORDER))
        total = [0.0] * BLEU_ORDER
        for ref in refs:
            vr, nr, lr = vector(ref)
            penalty = math.e ** (-(float(lh - lr) ** 2) / (2 * sigma ** 2))
            for n in range(BLEU_ORDER):
                ref_n = vr[n]
                val = 0.0
                for g, w in vh[n].items():
                    r = ref_n.get(g)
                    if r is not None:
                        val += min(w, r) * r
                if nh[n] != 0 and nr[n] != 0:
                    val /= nh[n] * nr[n]
                total[n] += val * penalty
        scores.append(float(np.mean(total)) / len(refs) * 10.0)
    return scores


# -- metrics -------------------------------------------------------------------------------------------------
def references_of(item: ScoredItem) -> list[str]:
    """Every reference of a case: score-reports keeps all of a ``{id: [text, ...]}`` file in ``meta``."""
    refs = item.case.meta.get("references") if item.case.meta else None
    return list(refs) if refs else [item.case.reference_report]


class _Coco(Metric):
    def __init__(self, tokenization: str = "ptb"):
        if tokenization not in TOKENIZATIONS:
            raise ValueError(f"unknown tokenization '{tokenization}' (one of {', '.join(TOKENIZATIONS)})")
        self.tokenization = tokenization

    def _tokens(self, items: Sequence[ScoredItem]) -> tuple[list[list[str]], list[list[list[str]]]]:
        tok = _cached_tokens
        cands = [tok(it.answer.report or "", self.tokenization) for it in items]
        refs = [[tok(r, self.tokenization) for r in references_of(it)] for it in items]
        return cands, refs

    @property
    def _tokenization_text(self) -> str:
        return {"ptb": "lowercased PTB-style tokens, punctuation kept as tokens (R2Gen-style cleaned text passes "
                       "unchanged, so the numbers equal the scorers on such files)",
                "ptb_drop_punctuation": "lowercased PTB-style tokens, punctuation removed (pycocoevalcap's COCO "
                                        "pipeline with PTBTokenizer)",
                "whitespace": "text split on whitespace, as is (the scorers called on raw text)"}[self.tokenization]


@lru_cache(maxsize=8192)  # boilerplate reports repeat; a bigger cache costs more memory than it saves time
def _cached_tokens(text: str, tokenization: str) -> tuple[str, ...]:
    return tuple(ptb_tokens(text, tokenization))


class CocoBleuMetric(_Coco):
    """BLEU-1..4 as pycocoevalcap's Bleu(4) scorer computes them (the R2Gen/RadEval convention)."""

    name = "coco_bleu"
    per_case_independent = True
    outputs = ("coco_bleu1", "coco_bleu2", "coco_bleu3", "coco_bleu4")

    @property
    def variant(self) -> str:  # type: ignore[override]
        return (f"pycocoevalcap Bleu(4) re-implemented: corpus-level, reference length 'closest', counts clipped "
                f"by the maximum over references, +1e-15/1e-9 smoothing of each precision, brevity penalty; "
                f"{self._tokenization_text}; per-case rows hold the statistics, per-case values are the scorer's "
                f"per-image BLEU")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        cands, refs = self._tokens(items)
        rows = []
        for cand, ref in zip(cands, refs):
            stats = np.asarray(bleu_case_statistics(cand, ref), dtype=np.int64)
            row: dict[str, Any] = {"_coco_stats": stats}
            row.update(zip(self.outputs, (float(v) for v in bleu_from_counts(stats))))
            rows.append(row)
        return rows

    def applies(self, row: Row, output: str) -> bool:
        return "_coco_stats" in row

    def aggregate(self, rows: Sequence[Row]) -> dict[str, float | None]:
        if not rows:
            return {o: None for o in self.outputs}
        total = np.stack([r["_coco_stats"] for r in rows]).sum(axis=0)
        return dict(zip(self.outputs, (float(v) for v in bleu_from_counts(total))))

    def bootstrap_draws(self, rows: Sequence[Row], resamples: np.ndarray) -> dict[str, np.ndarray]:
        stats = self.rows_arrays(rows, "stats", lambda: np.stack([r["_coco_stats"] for r in rows]))
        # case multiplicities times statistics: no (resamples x cases x 10) array; integer sums, exact
        sums = resampled_sums(stats, resamples).reshape(-1, 10)
        values = bleu_from_counts(sums)
        return {o: values[:, k] for k, o in enumerate(self.outputs)}


class CocoRougeLMetric(_Coco):
    """ROUGE-L with beta 1.2 as pycocoevalcap's Rouge scorer computes it (the R2Gen convention), mean over reports."""

    name = "coco_rouge_l"
    per_case_independent = True
    outputs = ("coco_rouge_l",)

    @property
    def variant(self) -> str:  # type: ignore[override]
        return (f"pycocoevalcap Rouge re-implemented: LCS-based F-measure with beta {ROUGE_BETA} (recall-weighted), "
                f"best precision and best recall over references, mean over reports; {self._tokenization_text}")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        cands, refs = self._tokens(items)
        return [{"coco_rouge_l": rouge_l_beta(c, r)} for c, r in zip(cands, refs)]


class CocoCiderDMetric(_Coco):
    """CIDEr-D as pycocoevalcap's Cider scorer computes it, with document frequencies from the scored references."""

    name = "coco_cider_d"
    outputs = ("coco_cider_d",)

    @property
    def variant(self) -> str:  # type: ignore[override]
        return (f"pycocoevalcap Cider (CIDEr-D) re-implemented: n=1..4 tf-idf vectors with document frequencies "
                f"over the references of the scored cases, clipped, Gaussian length penalty sigma {CIDER_SIGMA}, "
                f"x10, mean over reports (0-10 scale, not 0-1); the bootstrap keeps the full set's document "
                f"frequencies; {self._tokenization_text}")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        cands, refs = self._tokens(items)
        return [{"coco_cider_d": s} for s in cider_d_scores(cands, refs)]
