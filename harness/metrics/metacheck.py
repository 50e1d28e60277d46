"""Metric meta-evaluation (``harness metrics check``): does a metric prefer a correct paraphrase to a report
with one clinical error?

A triplet holds a reference report, a clinically equivalent paraphrase (other words, order, units,
abbreviations, another reporting style) and a corruption that differs from the reference by one error of a
named type (``ERROR_TYPES``). For each metric and error type we report the fraction of triplets where
score(reference, paraphrase) > score(reference, corruption), strictly: a tie counts as a failure, since a
metric that cannot tell the two apart has not ranked them.

The shipped sets (``SPLITS``):

- ``regression``: ``harness/data/metric_triplets.jsonl``, written with this project's phrasing while the first
  reader was built; the first eight error types. A regression check, not an evaluation.
- ``dev``: ``harness/data/reader_eval/dev.jsonl``, 432 triplets in six reporting styles and twelve error types,
  written from radiology knowledge without reading the reader; the reader is tuned on it.
- ``dev_b``: ``harness/data/reader_eval/dev_b.jsonl``, 252 triplets by another author, written later to find what
  tuning on ``dev`` did not generalise to; the reader is tuned on it too.
- ``dev_c``: ``harness/data/reader_eval/dev_c.jsonl``, 204 triplets by a third author in practice-style prose (long
  multi-organ CT reports, comparison language, hedging); held out until commit 1baeb91 (0.667 / 0.672), tuned on
  since then.
- ``dev_d``: ``harness/data/reader_eval/dev_d.jsonl``, 216 triplets by a fourth author (long practice-style CT reports,
  a wide clinical vocabulary, public-corpus chest X-ray style); first read at commit 5234aae (0.523 / 0.495, CT
  0.371 / 0.303), tuned on since then.
- ``dev_e``: ``harness/data/reader_eval/dev_e.jsonl``, 240 triplets by a fifth author (12 error types x 20, six
  styles x 40, CT 121 / chest X-ray 119); first read at commit d1715e7 (0.800 / 0.754, CT 0.702 / 0.636), tuned on
  since then.
- ``dev_f``: ``harness/data/reader_eval/dev_f.jsonl``, 240 triplets by a sixth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120); first read at commit 4f92c8b (0.792 / 0.787, CT 0.750 / 0.758), tuned on
  since then.
- ``dev_g``: ``harness/data/reader_eval/dev_g.jsonl``, 240 triplets by a seventh author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120, CT of the head, neck and spine among them); first read at commit c6929fd
  (0.858 / 0.817, CT 0.808 / 0.758), tuned on since then.
- ``dev_h``: ``harness/data/reader_eval/dev_h.jsonl``, 240 triplets by an eighth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120, CT-angiography, trauma, oncology and post-operative CT among them); first
  read at commit 7fa75d6 (0.879 / 0.875, CT 0.825 / 0.833), tuned on since then.
- ``dev_i``: ``harness/data/reader_eval/dev_i.jsonl``, 240 triplets by a ninth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120, emergency and outpatient abdominal CT, nodule follow-up and staging CT, ICU
  films with several devices); first read at commit d9c8642, before any tuning on it.
- ``dev_j``: ``harness/data/reader_eval/dev_j.jsonl``, 240 triplets by a tenth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120, in the manner of public corpora: MIMIC-CXR / IU X-ray films, CT-RATE-style
  systematic chest CT, organ-by-organ abdominal templates); first read at commit c37e81a, before any tuning on it.
- ``dev_k``: ``harness/data/reader_eval/dev_k.jsonl``, 240 triplets by an eleventh author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: oncology response CT, interstitial lung disease, CT pulmonary angiography,
  cardiothoracic ICU films, chronic chest disease); first read at commit 8e417df, before any tuning on it.
- ``dev_l``: ``harness/data/reader_eval/dev_l.jsonl``, 240 triplets by a twelfth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: trauma pan-scan CT, CT KUB, the acute abdomen, overnight preliminary
  reports, outpatient and nursing-home films); first read at commit 22c2eb8, before any tuning on it.
- ``dev_m``: ``harness/data/reader_eval/dev_m.jsonl``, 240 triplets by a thirteenth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: hepatobiliary, pancreatic, adrenal, renal and pelvic CT, ICU and paediatric
  chest films with tube and line tips); first read at commit e54dd91, before any tuning on it.
- ``dev_n``: ``harness/data/reader_eval/dev_n.jsonl``, 240 triplets by a fourteenth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: lung-cancer screening and nodule follow-up CT, nodes by station, pleural
  and vascular CT, public-corpus chest films, films with devices); first read at commit 2c620ba, before any tuning
  on it.
- ``dev_o``: ``harness/data/reader_eval/dev_o.jsonl``, 240 triplets by a fifteenth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: oncology restaging and emergency CT, ICU and post-operative films with many
  devices, outpatient and musculoskeletal chest findings); first read at commit cb30ed5, before any tuning on it.
- ``dev_p``: ``harness/data/reader_eval/dev_p.jsonl``, 240 triplets by a sixteenth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: outpatient follow-up chest CT, CT for the acute abdomen, CT urography and
  liver protocols, films from surgical and cardiac wards; reports with headers, numbered impressions, addenda and
  image references); first read at commit 64a98c0, before any tuning on it.
- ``dev_q``: ``harness/data/reader_eval/dev_q.jsonl``, 240 triplets by a seventeenth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: the everyday mix of a general department, with technique lines, comparisons,
  incidental findings and recommendations); held out while the reader was tuned on the other splits, first read at
  commit 64a98c0 and again after that tuning, before any tuning on it.
- ``dev_s``: ``harness/data/reader_eval/dev_s.jsonl``, 240 triplets by a nineteenth author (12 error types x 20, six
  styles x 40, CT 120 / chest X-ray 120: subspecialty thoracic and abdominal reporting at an academic centre, TNM and
  RECIST wording, ILD patterns, pancreatic and renal protocols, ICU and post-operative films); first read at commit
  582a94e, before any tuning on it.
- ``test``: ``harness/data/reader_eval/test.jsonl``, 190 triplets written separately; never tuned on.
- ``test_b``: ``harness/data/reader_eval/test_b.jsonl``, a second test split: 240 triplets by an eighteenth author
  (12 error types x 20, six styles x 40, CT 120 / chest X-ray 120: teleradiology emergency CT, CT pulmonary
  angiography, sepsis and post-operative CT, films from emergency departments, wards, ICUs and nursing homes), written
  and first read at commit 64a98c0 while the reader was tuned on the dev splits; never tuned on.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from harness.fileio import jsonl_with_header

ERROR_TYPES = ("negation_flip", "laterality_swap", "wrong_organ", "size_change", "omission", "hallucination",
               "count_change", "uncertainty_flip", "severity_change", "wrong_sub_location", "temporal_change",
               "device_position")
#: the reader-evaluation splits shipped in harness/data/reader_eval (see its README): dev, dev_b ... dev_s for
#: tuning, test is reported and never tuned on (dev_c was held out too, until commit 1baeb91)
SPLITS = {"regression": "metric_triplets.jsonl", "dev": "reader_eval/dev.jsonl", "dev_b": "reader_eval/dev_b.jsonl",
          "dev_c": "reader_eval/dev_c.jsonl", "dev_d": "reader_eval/dev_d.jsonl", "dev_e": "reader_eval/dev_e.jsonl",
          "dev_f": "reader_eval/dev_f.jsonl", "dev_g": "reader_eval/dev_g.jsonl", "dev_h": "reader_eval/dev_h.jsonl",
          "dev_i": "reader_eval/dev_i.jsonl", "dev_j": "reader_eval/dev_j.jsonl",
          "dev_k": "reader_eval/dev_k.jsonl", "dev_l": "reader_eval/dev_l.jsonl",
          "dev_m": "reader_eval/dev_m.jsonl", "dev_n": "reader_eval/dev_n.jsonl", "dev_o": "reader_eval/dev_o.jsonl",
          "dev_p": "reader_eval/dev_p.jsonl",
          "dev_q": "reader_eval/dev_q.jsonl",
          "dev_s": "reader_eval/dev_s.jsonl",
          "test": "reader_eval/test.jsonl", "test_b": "reader_eval/test_b.jsonl"}
REGRESSION_ERROR_TYPES = ERROR_TYPES[:8]
Scorer = Callable[[Sequence[str], Sequence[str]], list[float]]  # (references, candidates) -> scores


def load_triplets(path: str | Path | None = None, split: str | None = None) -> list[dict[str, Any]]:
    """Triplets from ``path``, from a shipped split ("dev", "test"), or the shipped regression triplets.

    A first line ``{"header": ...}`` (which split it is, and who wrote it) is skipped."""
    if path is None:
        if split is not None and split not in SPLITS:
            raise ValueError(f"unknown triplet split '{split}' (one of {', '.join(SPLITS)})")
        name = SPLITS[split or "regression"]
        text = resources.files("harness.data").joinpath(name).read_text()
        where = f"harness/data/{name}"
    else:
        text = Path(path).read_text()
        where = str(path)
    records, _ = jsonl_with_header(text, where)
    for record in records:
        missing = [k for k in ("id", "error_type", "reference", "paraphrase", "corruption") if k not in record]
        if missing:
            raise ValueError(f"{where}: line {record['_line']}: missing field(s) {', '.join(missing)}")
    return records


# -- scorers: batch functions so corpus libraries run once ---------------------------------------------------
def bleu_scorer() -> tuple[Scorer, str]:
    """Sentence BLEU-4 through the harness's BLEU (sacrebleu 13a, cased, exp smoothing)."""
    try:
        from harness.metrics.text import bleu_from_statistics, bleu_statistics  # noqa: PLC0415

        def score(refs, cands):
            return [bleu_from_statistics(s, 4) for s in bleu_statistics(cands, refs)]

        return score, "harness.metrics.text BLEU-4 (sacrebleu 13a, cased, sentence-level, exp smoothing)"
    except ImportError:
        from sacrebleu.metrics import BLEU  # noqa: PLC0415

        bleu = BLEU(tokenize="13a", effective_order=True)

        def score(refs, cands):
            return [bleu.sentence_score(c, [r]).score / 100 for r, c in zip(refs, cands)]

        return score, "sacrebleu sentence BLEU-4 (13a, cased, effective order)"


def rouge_scorer() -> tuple[Scorer, str]:
    try:
        from harness.metrics.text import rouge_l  # noqa: PLC0415

        return (lambda refs, cands: [rouge_l(c, r) for r, c in zip(refs, cands)]), \
            "harness.metrics.text ROUGE-L F (rouge-score, no stemmer)"
    except ImportError:
        from rouge_score import rouge_scorer as rs  # noqa: PLC0415

        scorer = rs.RougeScorer(["rougeL"], use_stemmer=False)
        return (lambda refs, cands: [scorer.score(r, c)["rougeL"].fmeasure for r, c in zip(refs, cands)]), \
            "rouge-score ROUGE-L F (no stemmer)"


def clinical_scorers() -> dict[str, tuple[Scorer, str]]:
    from harness.metrics.clinical import FindingF1Metric  # noqa: PLC0415
    from harness.metrics.matching import text_finding_f1  # noqa: PLC0415
    from harness.metrics.entity import (EntityScoreMetric, LexiconSimilarity, default_similarity,  # noqa: PLC0415
                                        published_entity_score, text_entities, text_entity_score)

    out: dict[str, tuple[Scorer, str]] = {
        "finding_f1": (lambda refs, cands: [text_finding_f1(r, c) for r, c in zip(refs, cands)],
                       "per-report finding F1, both sides extracted from text; matching as in "
                       f"{FindingF1Metric.name}"),
    }
    sim = default_similarity()
    lexical = LexiconSimilarity()
    out["entity_score"] = (lambda refs, cands: [text_entity_score(r, c, lexical) for r, c in zip(refs, cands)],
                           EntityScoreMetric(lexical).variant)
    out["entity_score_published_params"] = (
        lambda refs, cands: [published_entity_score(text_entities(r), text_entities(c), lexical)
                             for r, c in zip(refs, cands)],
        "for comparison: published RaTEScore weights (long matrix) and penalty 0.8717 on bare entities "
        "(no organ/side/size/count on findings, no uncertainty), lexicon similarity")
    if sim.name != lexical.name:
        out["entity_score_embedding"] = (
            lambda refs, cands: [text_entity_score(r, c, sim) for r, c in zip(refs, cands)],
            EntityScoreMetric(sim).variant)
    return out


def external_scorers() -> tuple[dict[str, tuple[Scorer, str]], dict[str, str]]:
    """The external metrics that can run here (as scorers), and the reasons of those that cannot."""
    from types import SimpleNamespace  # noqa: PLC0415

    from harness.metrics.external import EXTERNAL_METRICS  # noqa: PLC0415
    from harness.schema import Case  # noqa: PLC0415
    from harness.task import Answer, ScoredItem  # noqa: PLC0415

    runnable: dict[str, tuple[Scorer, str]] = {}
    reasons: dict[str, str] = {}
    for cls in EXTERNAL_METRICS:
        metric = cls()
        why = metric.unavailable(SimpleNamespace(name="metric_check"), [])  # type: ignore[arg-type]
        if why:
            reasons[metric.name] = why
            continue

        def score(refs, cands, metric=metric):
            items = [ScoredItem(Case(f"t{i}", "metric_check", None, None, r, ()), Answer(c), {})
                     for i, (r, c) in enumerate(zip(refs, cands))]
            return [row[metric.outputs[-1]] for row in metric.per_case(items)]

        runnable[metric.name] = (score, metric.variant)
    return runnable, reasons


def default_scorers(external: bool = True) -> tuple[dict[str, tuple[Scorer, str]], dict[str, str]]:
    scorers = {"bleu4": bleu_scorer(), "rouge_l": rouge_scorer()}
    scorers.update(clinical_scorers())
    reasons: dict[str, str] = {}
    if external:
        ext, reasons = external_scorers()
        scorers.update(ext)
    return scorers, reasons


def score_triplets(triplets: Sequence[Mapping[str, Any]] | None = None,
                   scorers: Mapping[str, tuple[Scorer, str]] | None = None) -> pd.DataFrame:
    """One row per (triplet, metric): the paraphrase's and the corruption's score and whether it ranked them."""
    triplets = list(triplets) if triplets is not None else load_triplets()
    if scorers is None:
        scorers, _ = default_scorers()
    refs = [t["reference"] for t in triplets]
    rows = []
    for name, (scorer, _) in scorers.items():
        para = scorer(refs, [t["paraphrase"] for t in triplets])
        corr = scorer(refs, [t["corruption"] for t in triplets])
        for t, p, c in zip(triplets, para, corr):
            rows.append({"metric": name, "id": t["id"], "error_type": t["error_type"], "modality": t["modality"],
                         "paraphrase": float(p), "corruption": float(c), "ranked": bool(p > c)})
    return pd.DataFrame(rows)


def run_metric_check(triplets: Sequence[Mapping[str, Any]] | None = None,
                     scorers: Mapping[str, tuple[Scorer, str]] | None = None,
                     external: bool = True) -> pd.DataFrame:
    """Metric x error type -> fraction of triplets where the paraphrase scores strictly above the corruption.

    Columns: the error types present, then ``all``. ``df.attrs`` holds ``n`` (triplets per error type),
    ``variants`` (how each metric was computed) and ``not_run`` (external metrics that could not run, with why).
    """
    reasons: dict[str, str] = {}
    if scorers is None:
        scorers, reasons = default_scorers(external=external)
    detail = score_triplets(triplets, scorers)
    table = detail.pivot_table(index="metric", columns="error_type", values="ranked", aggfunc="mean")
    order = [e for e in ERROR_TYPES if e in table.columns] + [e for e in table.columns if e not in ERROR_TYPES]
    table = table[order]
    table["all"] = detail.groupby("metric")["ranked"].mean()
    table = table.reindex(list(scorers))
    table.columns.name = None
    table.attrs["n"] = detail[detail.metric == next(iter(scorers))].groupby("error_type").size().to_dict()
    table.attrs["variants"] = {k: v for k, (_, v) in scorers.items()}
    table.attrs["not_run"] = reasons
    return table


def format_check(table: pd.DataFrame) -> str:
    """The table as text, with the triplet counts and the not-run metrics under it."""
    lines = [table.to_string(float_format=lambda x: f"{x:.2f}")]
    n = table.attrs.get("n", {})
    if n:
        lines.append("triplets per error type: " + ", ".join(f"{k}={v}" for k, v in n.items()))
    for name, why in table.attrs.get("not_run", {}).items():
        lines.append(f"{name}: {why}")
    return "\n".join(lines)


def check_splits(splits: Sequence[str] = tuple(SPLITS), external: bool = True) -> dict[str, pd.DataFrame]:
    """``run_metric_check`` on each shipped split, with the same scorers."""
    scorers, reasons = default_scorers(external=external)
    out = {}
    for split in splits:
        table = run_metric_check(load_triplets(split=split), scorers)
        table.attrs["not_run"] = reasons
        table.attrs["split"] = split
        out[split] = table
    return out


def tables_to_json(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The check as a JSON-able record (``--json``), the source of the README's table."""
    out: dict[str, Any] = {}
    for split, table in tables.items():
        out[split] = {"rates": {m: {k: (None if pd.isna(v) else round(float(v), 4)) for k, v in row.items()}
                                for m, row in table.iterrows()},
                      "n": {k: int(v) for k, v in table.attrs.get("n", {}).items()},
                      "variants": table.attrs.get("variants", {}), "not_run": table.attrs.get("not_run", {})}
    return out


def markdown_table(tables: Mapping[str, pd.DataFrame], metrics: Sequence[str] = ("finding_f1", "entity_score",
                                                                                   "bleu4", "rouge_l")) -> str:
    """Error type x (split, metric) as a Markdown table."""
    cols = [(split, m) for split in tables for m in metrics if m in tables[split].index]
    head = "| error type | " + " | ".join(f"{split} {m}" for split, m in cols) + " |"
    lines = [head, "|---|" + "---|" * len(cols)]
    errors = [e for e in (*ERROR_TYPES, "all") if any(e in t.columns for t in tables.values())]
    for e in errors:
        cells = []
        for split, m in cols:
            v = tables[split].loc[m, e] if e in tables[split].columns else float("nan")
            cells.append("-" if pd.isna(v) else f"{v:.2f}")
        lines.append(f"| {e} | " + " | ".join(cells) + " |")
    n = " · ".join(f"{split}: {sum(t.attrs.get('n', {}).values())} triplets" for split, t in tables.items())
    return "\n".join(lines + ["", n])


#: the README's table: the never-tuned test splits (test with the n-gram metrics beside the clinical ones), then the
#: tuning splits from the newest to the oldest
README_COLUMNS = (("test", ("finding_f1", "entity_score", "bleu4", "rouge_l")),
                  ("test_b", ("finding_f1", "entity_score")),
                  ("dev_h", ("finding_f1", "entity_score")),
                  ("dev_i", ("finding_f1", "entity_score")),
                  ("dev_j", ("finding_f1", "entity_score")),
                  ("dev_k", ("finding_f1", "entity_score")),
                  ("dev_l", ("finding_f1", "entity_score")),
                  ("dev_m", ("finding_f1", "entity_score")),
                  ("dev_n", ("finding_f1", "entity_score")),
                  ("dev_o", ("finding_f1", "entity_score")),
                  ("dev_p", ("finding_f1", "entity_score")),
                  ("dev_q", ("finding_f1", "entity_score")),
                  ("dev_s", ("finding_f1", "entity_score")),
                  ("dev_g", ("finding_f1", "entity_score")), ("dev_f", ("finding_f1", "entity_score")),
                  ("dev_e", ("finding_f1", "entity_score")),
                  ("dev_d", ("finding_f1", "entity_score")), ("dev_c", ("finding_f1", "entity_score")),
                  ("dev", ("finding_f1", "entity_score")), ("dev_b", ("finding_f1", "entity_score")))
_METRIC_TITLES = {"finding_f1": "finding_f1", "entity_score": "entity_score", "bleu4": "BLEU-4", "rouge_l": "ROUGE-L"}


def readme_table(record: Mapping[str, Any]) -> str:
    """The README's reader table from a ``--json`` record (``benchmarks/results/reader_eval.json``): error type x
    (split, metric), the all row in bold for the clinical metrics."""
    cols = [(split, m) for split, metrics in README_COLUMNS if split in record for m in metrics
            if m in record[split]["rates"]]
    lines = ["| error type | " + " | ".join(f"{split} {_METRIC_TITLES[m]}" for split, m in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for error in (*ERROR_TYPES, "all"):
        cells = []
        for split, m in cols:
            v = record[split]["rates"][m].get(error)
            cell = "-" if v is None else f"{v:.2f}"
            cells.append(f"**{cell}**" if error == "all" and m in ("finding_f1", "entity_score") else cell)
        name = f"**{error}**" if error == "all" else error.replace("_", " ").replace("sub location", "sub-location")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

