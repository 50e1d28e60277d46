"""Score reports a model already wrote, without a task run: ``harness score-reports PREDICTIONS REFERENCES``.

The reports become cases and predictions of a text-only task, so every text and clinical metric is computed by
the same code as in a run, and the output directory has the same ``results.json`` and ``samples.jsonl`` (plus the
file hashes of both inputs). Everything is read and checked before anything is written: a malformed input leaves
the output directory as it was.
"""

from __future__ import annotations

import json
import os
import platform
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import harness
from harness.errors import DataError, HarnessError
from harness.reports_io import ReadOptions, ReportFile, read_reports
from harness.schema import FINDINGS_SCHEMA_VERSION, Case, Prediction, Request
from harness.scoring import Scores, load_metrics, score, score_streaming
from harness.task import Answer, Dataset, Task

RESULTS = "results.json"  # the names a run directory uses (harness.evaluate), so `harness compare` reads both
SAMPLES = "samples.jsonl"
RUN_SPEC = "run.json"
#: every metric that needs no image; CheXpert F1 says "not run" on CT, the model-based ones when not installed.
#: coco_cider_d is left out: it alone would take a third of the time on 100,000 reports (add it with --metrics)
DEFAULT_METRICS = ("finding_f1", "entity_score", "chexpert_f1", "bleu", "rouge_l", "coco_bleu", "coco_rouge_l",
                   "radgraph_f1", "ratescore", "bertscore")
MODALITIES = ("ct", "cxr")

# Words that only one of the two kinds of report uses; counted over the references to pick the CheXpert F1.
_CXR_CUES = re.compile(r"\b(cardiomediastinal|cardiac silhouette|heart size|costophrenic|pa and lateral|"
                       r"lateral views?|frontal|chest radiograph|chest x-?ray|cxr|hemidiaphragms?|lung volumes|"
                       r"pulmonary vascularity|cardiomegaly|mediastinal contours?|bony thorax|xxxx)\b")
_CT_CUES = re.compile(r"\b(ct|computed tomography|axial|hounsfield|hu|hypodense|hyperdense|hypoattenuating|"
                      r"attenuation|enhancing|contrast-enhanced|liver|hepatic|pancreas|pancreatic|spleen|splenic|"
                      r"kidneys?|renal|adrenal|bowel|segment [ivx]+|ground-glass|slice)\b")


class ReportsTask(Task):
    """Reports read from files: one request per case, the prediction is the report itself (no tags to parse)."""

    name = "reports"
    version = "1"
    stages = ("report",)

    def __init__(self, modality: str):
        self.modality = modality

    def load(self, *args: Any, **kwargs: Any) -> Dataset:
        raise HarnessError("reports are read from files: use harness.score_reports.score_reports")

    def requests(self, case: Case, stage: str, previous: Mapping[str, Prediction]) -> Sequence[Request]:
        return ()

    def parse(self, case: Case, predictions: Mapping[str, Prediction]) -> Answer:
        pred = predictions.get("report")
        return Answer(report=pred.text if pred else "", problems=() if pred else ("no prediction",))

    def config(self) -> Mapping[str, Any]:
        return {"modality": self.modality}


@dataclass(frozen=True)
class Pairing:
    ids: tuple[str, ...]  # scored, in the order of the references file
    missing: tuple[str, ...]  # references without a prediction
    extra: tuple[str, ...]  # predictions without a reference


def pair_ids(predictions: ReportFile, references: ReportFile, allow_missing: bool) -> Pairing:
    ids = tuple(i for i in references.texts if i in predictions.texts)
    missing = tuple(i for i in references.texts if i not in predictions.texts)
    extra = tuple(i for i in predictions.texts if i not in references.texts)
    if not ids:
        raise DataError(f"{predictions.path} and {references.path} share no id ({_some(predictions.texts)} vs "
                        f"{_some(references.texts)})")
    if (missing or extra) and not allow_missing:
        parts = []
        if missing:
            parts.append(f"{len(missing)} references of {references.path} have no prediction ({_some(missing)})")
        if extra:
            parts.append(f"{len(extra)} predictions of {predictions.path} have no reference ({_some(extra)})")
        raise DataError("ids do not match: " + " and ".join(parts) + f"; --allow-missing scores the {len(ids)} "
                        "in both")
    return Pairing(ids=ids, missing=missing, extra=extra)


def _some(ids: Sequence[str] | Mapping[str, Any], k: int = 5) -> str:
    ids = list(ids)
    shown = ", ".join(f"'{i}'" for i in ids[:k])
    return shown + (f", ... {len(ids) - k} more" if len(ids) > k else "")


def check_one_prediction(predictions: ReportFile, ids: Sequence[str]) -> None:
    """A case has one candidate report (pycocoevalcap asserts the same); references may have several."""
    for i in ids:
        if len(predictions.texts[i]) != 1:
            raise DataError(f"{predictions.path}: id '{i}': {len(predictions.texts[i])} texts, expected one "
                            "prediction per id")


def detect_modality(references: Sequence[str], sample: int = 2000) -> tuple[str, str]:
    """'cxr' or 'ct' from words only one kind of report uses, and how it was decided."""
    text = " ".join(references[:sample]).lower()
    cxr, ct = len(_CXR_CUES.findall(text)), len(_CT_CUES.findall(text))
    if cxr == ct == 0:
        return "ct", "assumed ct: the references use no chest X-ray or CT words (pass --modality)"
    modality = "cxr" if cxr > ct else "ct"
    return modality, f"detected from the references: {cxr} chest X-ray cues vs {ct} CT cues"


@dataclass(frozen=True)
class ReportSet:
    """Paired reports as the harness's cases and predictions."""

    cases: tuple[Case, ...]
    predictions: Mapping[str, Mapping[str, Prediction]]


def as_cases(pred_texts: Mapping[str, Sequence[str]], ref_texts: Mapping[str, Sequence[str]], ids: Sequence[str],
             model_id: str) -> ReportSet:
    cases, preds = [], {}
    for i in ids:
        refs = tuple(ref_texts[i])
        # every reference goes in meta for the metrics that take several (coco_*); the others use the first
        cases.append(Case(case_id=i, task=ReportsTask.name, image_path=None, label_path=None,
                          reference_report=refs[0], findings=(),
                          meta={"references": list(refs)} if len(refs) > 1 else {}))
        text = pred_texts[i][0]
        preds[i] = {"report": Prediction(key=f"{model_id}:{i}", case_id=i, kind="report", model_id=model_id,
                                         text=text, latency_s=0.0)}
    return ReportSet(cases=tuple(cases), predictions=preds)


@dataclass(frozen=True)
class ScoreRequest:
    predictions: Path
    references: Path
    out: Path
    modality: str | None = None
    metrics: tuple[str, ...] | None = None
    allow_missing: bool = False
    compare: Path | None = None
    test: str = "randomization"  # or "bootstrap"
    resamples: int = 1000
    n_boot: int = 1000
    seed: int = 0
    read_options: ReadOptions = ReadOptions()
    read_options_compare: ReadOptions | None = None
    workers: int | None = None  # processes scoring chunks of cases; None: ``default_workers``


@dataclass(frozen=True)
class ScoreOutcome:
    out: Path
    results: dict[str, Any]
    scores: Scores
    comparison: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Inputs:
    predictions: ReportFile
    references: ReportFile
    other: ReportFile | None
    pairing: Pairing
    modality: str
    modality_source: str
    metric_names: tuple[str, ...] = field(default=())


def read_inputs(req: ScoreRequest) -> "Inputs":
    """Read and check every input; nothing is written before this has passed."""
    if req.modality is not None and req.modality not in MODALITIES:
        raise HarnessError(f"--modality must be one of {', '.join(MODALITIES)}, got '{req.modality}'")
    if req.test not in ("randomization", "bootstrap"):
        raise HarnessError(f"--test must be 'randomization' or 'bootstrap', got '{req.test}'")
    if (req.out / RUN_SPEC).exists():
        raise HarnessError(f"{req.out} holds a `harness run` run; its results.json would be overwritten: use "
                           "another --out")
    metric_names = req.metrics or DEFAULT_METRICS
    load_metrics(metric_names)  # unknown names fail before any reading
    preds = read_reports(req.predictions, req.read_options)
    refs = read_reports(req.references, req.read_options)
    _same_kind(preds, refs)
    check_one_prediction(preds, list(preds.texts))
    pairing = pair_ids(preds, refs, req.allow_missing)
    other = None
    if req.compare is not None:
        other = read_reports(req.compare, req.read_options_compare or req.read_options)
        _same_kind(other, refs)
        check_one_prediction(other, list(other.texts))
        other_pairing = pair_ids(other, refs, req.allow_missing)
        common = set(other_pairing.ids)
        pairing = Pairing(ids=tuple(i for i in pairing.ids if i in common),
                          missing=tuple(dict.fromkeys(pairing.missing + other_pairing.missing)),
                          extra=pairing.extra)
        if not pairing.ids:
            raise DataError(f"{req.predictions}, {req.compare} and {req.references} share no id")
    if req.modality:
        modality, source = req.modality, "given (--modality)"
    else:
        modality, source = detect_modality([refs.texts[i][0] for i in pairing.ids])
    return Inputs(preds, refs, other, pairing, modality, source, tuple(metric_names))


def _same_kind(a: ReportFile, b: ReportFile) -> None:
    """Line numbers are ids only when both files are line-aligned text."""
    if (a.format == "lines") != (b.format == "lines"):
        plain, keyed = (a, b) if a.format == "lines" else (b, a)
        raise DataError(f"{plain.path} is plain text (one report per line, ids are line numbers) but {keyed.path} "
                        f"is {keyed.format} with ids; give both as text files or both with ids")


#: the most worker processes score-reports starts by itself (--workers sets any number)
MAX_DEFAULT_WORKERS = 2


def default_workers(n_cases: int) -> int:
    """One process per core this process may use, up to ``MAX_DEFAULT_WORKERS``, once there are at least two
    chunks of cases to share; one below that (starting processes costs more than it saves)."""
    from harness.scoring import CHUNK_SIZE  # noqa: PLC0415

    if n_cases < 2 * CHUNK_SIZE:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def score_reports(req: ScoreRequest, progress: Callable[[str, int, int], None] | None = None,
                  inputs: Inputs | None = None) -> ScoreOutcome:
    """Read (unless ``inputs`` were read already by ``read_inputs``), score and write.

    Cases are scored a chunk at a time (``harness.scoring.score_streaming``) and each case's line of samples.jsonl
    is written as its chunk is done, to a file beside its final name that is renamed with results.json at the end:
    memory holds the metrics' per-case statistics, not the samples, and a reader never sees half a file."""
    t0 = time.perf_counter()
    inputs = inputs or read_inputs(req)
    t_read = time.perf_counter() - t0
    task = ReportsTask(inputs.modality)
    model_id = inputs.predictions.path.name
    reports = as_cases(inputs.predictions.texts, inputs.references.texts, inputs.pairing.ids, model_id)
    t1 = time.perf_counter()
    workers = req.workers if req.workers is not None else default_workers(len(reports.cases))
    out = req.out
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    fd, samples_tmp = tempfile.mkstemp(prefix=f".{SAMPLES}.", dir=out)
    try:
        with os.fdopen(fd, "w") as fh:
            scores = score_streaming(task, reports.cases, reports.predictions, inputs.metric_names,
                                     lambda s: fh.write(json.dumps(s, sort_keys=True, default=_jsonable) + "\n"),
                                     n_boot=req.n_boot, seed=req.seed, progress=progress,
                                     keep_rows=inputs.other is not None, workers=workers)
        del reports
        comparison = None
        if inputs.other is not None:
            from harness.metrics.compare import compare_systems

            other_reports = as_cases(inputs.other.texts, inputs.references.texts, inputs.pairing.ids,
                                     inputs.other.path.name)
            other = score_streaming(task, other_reports.cases, other_reports.predictions, inputs.metric_names,
                                    lambda s: None, n_boot=0, seed=req.seed, keep_rows=True, workers=workers,
                                    progress=(lambda m, d, n: progress(f"{m} ({inputs.other.path.name})", d, n))
                                    if progress else None)
            comparison = compare_systems(load_metrics(inputs.metric_names), scores, other, method=req.test,
                                         resamples=req.resamples, seed=req.seed)
            comparison = {"other": inputs.other.describe(), **comparison}
        timings = {"read_s": round(t_read, 3), "score_s": round(time.perf_counter() - t1, 3)}
        results = _results(req, inputs, task, scores, timings, comparison)
        write_outputs(out, results, Path(samples_tmp))
    finally:
        if os.path.exists(samples_tmp):
            os.unlink(samples_tmp)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # scoring failed: leave no empty directory behind either
    return ScoreOutcome(out=out, results=results, scores=scores, comparison=comparison)


def _results(req: ScoreRequest, inputs: Inputs, task: ReportsTask, scores: Scores, timings: Mapping[str, float],
             comparison: Mapping[str, Any] | None) -> dict[str, Any]:
    from harness.evaluate import git_revision

    n_refs = max(len(inputs.references.texts[i]) for i in inputs.pairing.ids)
    data_info: dict[str, Any] = {
        "modality": inputs.modality, "modality_source": inputs.modality_source,
        "left_out": {"references_without_prediction": len(inputs.pairing.missing),
                     "predictions_without_reference": len(inputs.pairing.extra),
                     "ids": list(inputs.pairing.missing[:20]) + list(inputs.pairing.extra[:20])},
        "references_per_case_max": n_refs,
    }
    if n_refs > 1:
        data_info["multiple_references"] = "coco_* metrics use every reference; the others use the first"
    results: dict[str, Any] = {
        "task": task.name, "task_version": task.version, "task_config": dict(task.config()),
        "split": None, "data_source": str(inputs.references.path), "data_hash": inputs.references.sha256[:16],
        "n_cases": len(inputs.pairing.ids), "data_info": data_info,
        "model": {"model_id": inputs.predictions.path.name, "backend": "files",
                  "predictions_sha256": inputs.predictions.sha256},
        "sampling": None, "seed": req.seed,
        "metrics": {m.name: m.to_dict() for m in scores.metrics},
        "requests": {"requests": len(inputs.pairing.ids), "cached": 0, "generated": 0, "by_stage": {}},
        "timings": dict(timings),
        "provenance": {"harness_version": harness.__version__, "git_revision": git_revision(),
                       "findings_schema": FINDINGS_SCHEMA_VERSION,
                       "python": platform.python_version(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "command": "score-reports", "n_boot": req.n_boot,
                       "inputs": {"predictions": inputs.predictions.describe(),
                                  "references": inputs.references.describe()}},
    }
    if comparison is not None:
        results["comparison"] = dict(comparison)
    return results


def write_outputs(out: Path, results: Mapping[str, Any], samples: Path | Iterable[Mapping[str, Any]]) -> None:
    """Both files written beside their final names and renamed: a reader never sees half of either. ``samples`` is
    the samples (written here) or a file of them already written in ``out`` (renamed here)."""
    out.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        writers: list[tuple[str, Callable[[Any], Any]]] = [
            (RESULTS, lambda fh: fh.write(json.dumps(results, indent=2, default=_jsonable)))]
        if not isinstance(samples, Path):
            writers.append((SAMPLES, lambda fh: fh.writelines(json.dumps(s, sort_keys=True, default=_jsonable)
                                                              + "\n" for s in samples)))
        for name, write in writers:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            staged.append((tmp, out / name))
            with os.fdopen(fd, "w") as fh:
                write(fh)
        if isinstance(samples, Path):
            staged.append((str(samples), out / SAMPLES))
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def score_texts(predictions: Sequence[str], references: Sequence[str | Sequence[str]], metrics: Sequence[str],
                modality: str | None = None) -> dict[str, float | None]:
    """The metrics' values on lists of texts, computed exactly as ``harness score-reports`` computes them (the
    Python API behind the ``evaluate`` modules); a metric that did not run is None."""
    if len(predictions) != len(references):
        raise HarnessError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise HarnessError("no reports to score")
    ids = [str(i) for i in range(len(predictions))]
    refs = {i: (r,) if isinstance(r, str) else tuple(r) for i, r in zip(ids, references)}
    if modality is None:
        modality, _ = detect_modality([r[0] for r in refs.values()])
    reports = as_cases({i: (p,) for i, p in zip(ids, predictions)}, refs, ids, "texts")
    scores = score(ReportsTask(modality), reports.cases, reports.predictions, metrics, n_boot=0)
    return {m.name: m.value if m.status == "ok" else None for m in scores.metrics}


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # numpy values in per-case rows
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
