"""`harness score-reports` scores large sets a chunk at a time and streams samples.jsonl to disk
(``harness.scoring.score_streaming``): the files it writes must be the ones the in-memory ``score`` gave."""

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import scoring
from harness.metrics.base import resampled_sums
from harness.metrics.text import bleu_statistics
from harness.score_reports import (RESULTS, SAMPLES, ReportsTask, ScoreRequest, _jsonable, as_cases, read_inputs,
                                   score_reports)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_clinical_metrics import make_pairs  # noqa: E402

METRICS = ("finding_f1", "entity_score", "chexpert_f1", "bleu", "rouge_l", "coco_bleu", "coco_rouge_l",
           "coco_cider_d", "hallucination", "radgraph_f1")


def _inputs(tmp: Path, n: int = 45, seed: int = 3) -> tuple[Path, Path, Path]:
    refs, cands = make_pairs(n, seed)
    _, others = make_pairs(n, seed + 1)
    cands[0], cands[1] = "", refs[1]  # an empty report and a verbatim copy
    paths = []
    for name, texts in (("refs", refs), ("pred", cands), ("other", others)):
        p = tmp / f"{name}.json"
        p.write_text(json.dumps({f"s{i}": [t] for i, t in enumerate(texts)}))
        paths.append(p)
    return tuple(paths)


def _in_memory(req: ScoreRequest) -> tuple[list[dict], list[str]]:
    """What score-reports wrote before it streamed: ``score`` over every case at once."""
    inputs = read_inputs(req)
    reports = as_cases(inputs.predictions.texts, inputs.references.texts, inputs.pairing.ids,
                       inputs.predictions.path.name)
    scores = scoring.score(ReportsTask(inputs.modality), reports.cases, reports.predictions, inputs.metric_names,
                           n_boot=req.n_boot, seed=req.seed)
    metrics = [json.loads(json.dumps(m.to_dict(), default=_jsonable)) for m in scores.metrics]
    return metrics, [json.dumps(s, sort_keys=True, default=_jsonable) + "\n" for s in scores.samples]


@pytest.mark.parametrize("modality,chunk,workers", [("cxr", 7, 1), ("ct", 1000, 1), ("cxr", 6, 2), ("ct", 10, 3)])
def test_streamed_outputs_equal_the_in_memory_ones(tmp_path, monkeypatch, modality, chunk, workers):
    refs, pred, _ = _inputs(tmp_path)
    req = ScoreRequest(predictions=pred, references=refs, out=tmp_path / "out", modality=modality,
                       metrics=METRICS, n_boot=200, seed=5, workers=workers)
    metrics, samples = _in_memory(req)
    monkeypatch.setattr(scoring, "CHUNK_SIZE", chunk)
    score_reports(req)
    written = json.loads((tmp_path / "out" / RESULTS).read_text())
    assert list(written["metrics"].values()) == metrics
    assert (tmp_path / "out" / SAMPLES).read_text() == "".join(samples)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [RESULTS, SAMPLES]  # no staged file left


def test_streamed_comparison_equals_the_in_memory_one(tmp_path, monkeypatch):
    monkeypatch.setattr(scoring, "CHUNK_SIZE", 10)
    from harness.metrics.compare import compare_systems

    refs, pred, other = _inputs(tmp_path)
    req = ScoreRequest(predictions=pred, references=refs, out=tmp_path / "out", compare=other, n_boot=50,
                       resamples=100, metrics=("finding_f1", "bleu", "coco_rouge_l", "entity_score"), workers=2)
    inputs = read_inputs(req)
    task = ReportsTask(inputs.modality)
    a = as_cases(inputs.predictions.texts, inputs.references.texts, inputs.pairing.ids, "a")
    b = as_cases(inputs.other.texts, inputs.references.texts, inputs.pairing.ids, "b")
    sa = scoring.score(task, a.cases, a.predictions, inputs.metric_names, n_boot=50, keep_rows=True)
    sb = scoring.score(task, b.cases, b.predictions, inputs.metric_names, n_boot=0, keep_rows=True)
    expected = compare_systems(scoring.load_metrics(inputs.metric_names), sa, sb, method="randomization",
                               resamples=100, seed=0)
    outcome = score_reports(req)
    assert {k: v for k, v in outcome.comparison.items() if k != "other"} == json.loads(json.dumps(expected))


def test_a_failed_scoring_leaves_no_directory_and_no_staged_file(tmp_path, monkeypatch):
    refs, pred, _ = _inputs(tmp_path, n=5)

    def boom(*args, **kwargs):
        raise RuntimeError("metric failed")

    monkeypatch.setattr(scoring.METRICS.get("bleu"), "per_case", boom)
    with pytest.raises(RuntimeError):
        score_reports(ScoreRequest(predictions=pred, references=refs, out=tmp_path / "new", metrics=("bleu",)))
    assert not (tmp_path / "new").exists()
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "note.txt").write_text("mine")
    with pytest.raises(RuntimeError):
        score_reports(ScoreRequest(predictions=pred, references=refs, out=tmp_path / "kept", metrics=("bleu",)))
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["note.txt"]


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_resampled_sums_equal_indexing(dtype):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 40, size=(300, 7)).astype(dtype)
    if dtype is np.float64:
        values = values * 0.25  # credits: binary fractions, summed exactly in any order
    for shape in ((13, 300), (4, 600), (1, 1)):
        idx = rng.integers(300, size=shape)
        got = resampled_sums(values, idx)
        assert got.dtype == values.dtype
        assert np.array_equal(got, values[idx].sum(axis=1))


def test_bootstrap_arrays_made_once_give_the_numbers_made_per_block(tmp_path, monkeypatch):
    """bootstrap_cis hands every block the same tuple of rows, and metrics keep the arrays they make from it."""
    refs, pred, _ = _inputs(tmp_path, n=40)
    inputs = read_inputs(ScoreRequest(predictions=pred, references=refs, out=tmp_path / "o", modality="cxr"))
    reports = as_cases(inputs.predictions.texts, inputs.references.texts, inputs.pairing.ids, "m")
    items = scoring._items(ReportsTask("cxr"), reports.cases, reports.predictions)
    for metric in scoring.load_metrics(("finding_f1", "chexpert_f1", "bleu", "coco_bleu", "rouge_l",
                                        "entity_score")):
        rows = metric.per_case(items)
        one_block = scoring.bootstrap_cis(metric, rows, 300, 1)
        monkeypatch.setattr(scoring, "BOOTSTRAP_BLOCK", 40 * 7)  # 43 blocks of 7 resamples, one tuple of rows
        assert scoring.bootstrap_cis(type(metric)(), rows, 300, 1) == one_block
        draws = [metric.bootstrap_draws(list(rows), np.random.default_rng(2).integers(40, size=(5, 40)))
                 for _ in range(2)]  # a list: arrays made afresh
        assert all(np.array_equal(draws[0][o], draws[1][o]) for o in metric.outputs)
        monkeypatch.undo()
