"""Benchmark: score 10,000 report pairs with BLEU, ROUGE-L, finding F1 and the entity score (lexicon similarity).

Target: under 30 s on the project machine (2 cores). Also times sacrebleu and rouge-score alone on the same pairs
and prints the ratio, so the cost of the clinical metrics is read against the text-overlap baseline.

    python benchmarks/bench_clinical_metrics.py [--pairs 10000] [--seed 0]

Pairs: a reference written by the report writer from random CT findings, and a candidate that is the same
findings in other words, or with one finding changed (presence, side, organ, size), removed or invented.
Both sides of finding F1 are extracted from text (the harder case; with truth findings only the candidate is).
Last, the findings reader alone (caches cleared) in reports per second: target at least 2,000.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from harness.reports_ct import write_report
from harness.schema import Case, Finding, Presence
from harness.task import Answer, ScoredItem

SITES = {("liver", None): (["right lobe", "left lobe"], ["mass", "cyst"]),
         ("spleen", None): ([None], ["mass"]),
         ("pancreas", None): (["head", "body", "tail"], ["mass"]),
         ("kidney", "right"): (["upper pole", "interpolar region", "lower pole"], ["mass", "cyst"]),
         ("kidney", "left"): (["upper pole", "interpolar region", "lower pole"], ["mass", "cyst"]),
         ("lung", "right"): (["upper lobe", "lower lobe"], ["nodule"]),
         ("lung", "left"): (["upper lobe", "lower lobe"], ["nodule"])}
KEYS = list(SITES)


def _lesion(site, rng) -> Finding:
    subs, kinds = SITES[site]
    obs = kinds[rng.integers(len(kinds))]
    attrs = frozenset() if obs == "nodule" else frozenset({("hypodense", "hyperdense")[rng.integers(2)]})
    return Finding(obs, site[0], subs[rng.integers(len(subs))], site[1], Presence.PRESENT,
                   float(rng.integers(15, 50)), 1, attrs)


def _findings(rng) -> list[Finding]:
    sites = [KEYS[i] for i in rng.permutation(len(KEYS))[:rng.integers(0, 4)]]
    return [_lesion(s, rng) for s in sites] + [Finding("lesion", o, laterality=s, presence=Presence.ABSENT)
                                               for o, s in KEYS if (o, s) not in sites]


def _perturb(findings: list[Finding], rng) -> list[Finding]:
    out = list(findings)
    kind = rng.integers(6)
    i = int(rng.integers(len(out)))
    f = out[i]
    if kind == 1:  # presence
        out[i] = (Finding("lesion", f.anatomy, laterality=f.laterality, presence=Presence.ABSENT)
                  if f.presence is Presence.PRESENT else _lesion((f.anatomy, f.laterality), rng))
    elif kind == 2 and f.laterality:  # side
        out[i] = dataclasses.replace(f, laterality="left" if f.laterality == "right" else "right")
    elif kind == 3 and f.size_mm:  # size
        out[i] = dataclasses.replace(f, size_mm=f.size_mm * 2)
    elif kind == 4:  # omission
        out.pop(i)
    elif kind == 5:  # hallucination
        out.append(_lesion(KEYS[rng.integers(len(KEYS))], rng))
    return out


def make_pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    refs, cands = [], []
    for _ in range(n):
        f = _findings(rng)
        refs.append(write_report(f, rng))
        cands.append(write_report(_perturb(f, rng), rng))
    return refs, cands


def time_libraries(refs, cands) -> tuple[float, float]:
    from rouge_score import rouge_scorer  # noqa: PLC0415
    from sacrebleu.metrics import BLEU  # noqa: PLC0415

    bleu = BLEU(tokenize="13a", effective_order=True)
    t = time.perf_counter()
    for r, c in zip(refs, cands):
        bleu.sentence_score(c, [r])
    t_bleu = time.perf_counter() - t
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    t = time.perf_counter()
    for r, c in zip(refs, cands):
        scorer.score(r, c)
    return t_bleu, time.perf_counter() - t


def harness_metrics():
    from harness.metrics.clinical import FindingF1Metric  # noqa: PLC0415
    from harness.metrics.entity import EntityScoreMetric, LexiconSimilarity  # noqa: PLC0415

    metrics = []
    try:
        from harness.metrics.text import BleuMetric, RougeLMetric  # noqa: PLC0415

        metrics += [BleuMetric(), RougeLMetric()]
    except ImportError:  # the text metrics module is not there: the libraries alone stand in
        pass
    return metrics + [FindingF1Metric(), EntityScoreMetric(LexiconSimilarity())]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t = time.perf_counter()
    refs, cands = make_pairs(args.pairs, args.seed)
    print(f"generated {args.pairs} pairs in {time.perf_counter() - t:.1f} s")
    items = [ScoredItem(Case(f"b{i}", "bench", None, None, r, ()), Answer(c), {})
             for i, (r, c) in enumerate(zip(refs, cands))]

    t_bleu, t_rouge = time_libraries(refs, cands)
    baseline = t_bleu + t_rouge
    print(f"sacrebleu alone (sentence BLEU): {t_bleu:.2f} s; rouge-score alone (ROUGE-L): {t_rouge:.2f} s; "
          f"together {baseline:.2f} s")

    total = 0.0
    cpu0 = time.process_time()
    metrics = harness_metrics()
    if not any(m.name == "bleu" for m in metrics):
        total += baseline
        print("harness.metrics.text not importable: counting sacrebleu + rouge-score alone for BLEU and ROUGE-L")
    for m in metrics:
        t = time.perf_counter()
        agg = m.aggregate(m.per_case(items))
        dt = time.perf_counter() - t
        total += dt
        shown = ", ".join(f"{k}={v:.3f}" for k, v in agg.items() if v is not None)
        print(f"{m.name:>14}: {dt:6.2f} s  ({shown})")
    cpu = time.process_time() - cpu0
    verdict = "PASS" if total < 30 else "FAIL"
    print(f"total: {total:.2f} s for {args.pairs} pairs (BLEU, ROUGE-L, finding F1, entity score) "
          f"[target < 30 s: {verdict}]")
    print(f"ratio to sacrebleu + rouge-score alone: {total / baseline:.2f}x "
          f"(CPU time of the harness metrics: {cpu:.2f} s; wall time above varies with machine load)")
    reader_speed(refs + cands)


def reader_speed(texts: list[str]) -> None:
    """The findings reader alone, caches cleared: reports per second (target >= 2,000), on these synthetic
    reports and on the reader-evaluation dev split (prose written by others)."""
    from harness.findings.extract import _sentence_findings, parse_report  # noqa: PLC0415
    from harness.metrics.metacheck import load_triplets  # noqa: PLC0415

    dev = [t[k] for t in load_triplets(split="dev") for k in ("reference", "paraphrase", "corruption")]
    for name, batch in (("benchmark pairs", texts), ("dev-split reports", dev)):
        parse_report.cache_clear()
        _sentence_findings.cache_clear()
        t = time.process_time()
        for text in batch:
            parse_report(text)
        dt = time.process_time() - t
        verdict = "PASS" if len(batch) / dt >= 2000 else "FAIL"
        print(f"reader alone on {len(batch)} {name} ({sum(map(len, batch)) / len(batch):.0f} characters on "
              f"average): {len(batch) / dt:,.0f} reports/s CPU [target >= 2,000: {verdict}]")


if __name__ == "__main__":
    main()
