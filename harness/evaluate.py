"""One evaluation run: a frozen spec -> predictions (resumable) -> scores -> a run directory.

A run directory is all a user needs to share: ``run.json`` (the spec), ``predictions.jsonl`` (the model's raw
answers), ``samples.jsonl`` (per-case scores) and ``results.json`` (every metric with its CI and provenance).
``rescore(run_dir)`` recomputes the last two from the first two without touching the model.
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import harness
from harness.errors import HarnessError
from harness.models.resolve import load_model, split_spec
from harness.registry import METRICS, MODELS, TASKS
from harness.runner import PREDICTIONS, PredictionLog, predict, prediction_key
from harness.schema import FINDINGS_SCHEMA_VERSION, Sampling, stable_hash
from harness.scoring import Scores, score
from harness.task import Dataset, Task

RUN_SPEC = "run.json"
AUTO_CHUNK = 64  # requests handed to the backend at once with --batch-size auto
RESULTS = "results.json"
SAMPLES = "samples.jsonl"


@dataclass(frozen=True)
class RunSpec:
    model: str
    task: str
    backend: str | None = None
    split: str = "test"
    data: str | None = None
    dataset: str | None = None  # the layout of ``data`` (msd, kits, dicom, ...); detected when None
    skip_bad: bool = False
    limit: int | None = None
    seed: int = 0  # the sampling seed; the test set is fixed by the task version, the bootstrap by bootstrap_seed
    batch_size: int | str = 8  # or "auto": large chunks, and the backend backs off on out-of-memory
    sampling: Sampling = Sampling()
    metrics: tuple[str, ...] | None = None  # None: the task's defaults
    task_options: Mapping[str, Any] = field(default_factory=dict)
    model_options: Mapping[str, Any] = field(default_factory=dict)
    n_boot: int = 1000
    cache_dir: str | None = None
    bootstrap_seed: int = 0  # resampling for the CIs only: changing it never changes the data or the answers

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metrics"] = list(self.metrics) if self.metrics is not None else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunSpec":
        d = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}  # run.json also records what it ran on
        d["sampling"] = Sampling(**d.get("sampling", {}))
        d["metrics"] = tuple(d["metrics"]) if d.get("metrics") is not None else None
        return cls(**d)


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    results: dict[str, Any]
    scores: Scores


def make_task(spec: RunSpec) -> Task:
    cls = TASKS.get(spec.task)
    options = task_options_with_model_defaults(cls, spec)
    return cls(options) if options else cls()


def task_options_with_model_defaults(task_cls: type[Task], spec: RunSpec) -> Mapping[str, Any]:
    """``spec.task_options`` over the defaults the model brings for the groups the task lets models set (a zoo
    card's box format for cxr_grounding): the user's ``--task-option`` always wins."""
    groups = getattr(task_cls, "model_settings", ())
    if not groups:
        return spec.task_options
    backend_name, rest = split_spec(spec.model, spec.backend)
    defaults = MODELS.get(backend_name).task_defaults(rest, dict(spec.model_options))
    return _deep_merge({k: v for k, v in defaults.items() if k in groups}, spec.task_options)


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, Mapping) and isinstance(out.get(key), Mapping)
        out[key] = _deep_merge(out[key], value) if both else value
    return out


def load_cases(task: Task, spec: RunSpec) -> Dataset:
    if spec.limit is not None and spec.limit < 1:
        raise HarnessError(f"--limit must be at least 1, got {spec.limit}")
    # no seed: the evaluation split is fixed by the task version, whatever seed samples the answers
    ds = task.load(split=spec.split, data=Path(spec.data) if spec.data else None,
                   cache_dir=Path(spec.cache_dir) if spec.cache_dir else None, dataset=spec.dataset,
                   skip_bad=spec.skip_bad, limit=spec.limit)
    if spec.limit is not None:
        ds = Dataset(cases=ds.cases[:spec.limit], data_hash=ds.data_hash, source=ds.source, info=ds.info)
    return ds


def git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(harness.__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


#: what makes two runs the same run: a directory's predictions and results are reused only when all agree
SAME_RUN = ("model", "backend", "model_options", "task", "task_options", "task_version", "split", "data", "dataset",
            "data_hash", "skip_bad", "limit", "sampling")
RUN_FILES = (PREDICTIONS, SAMPLES, RESULTS, RUN_SPEC)


def run_record(spec: RunSpec, task: Task, ds: Dataset) -> dict[str, Any]:
    """``run.json``: the spec, and the task version and data hash it resolved to."""
    return {**spec.to_dict(), "task_version": task.version, "data_hash": ds.data_hash}


def check_run_dir(run_dir: Path, record: Mapping[str, Any], overwrite: bool = False) -> None:
    """A run directory holds one run: refuse to mix another model, task version, data, limit or sampling into its
    predictions and results (they would be overwritten and compared as if they were the same run), unless
    ``overwrite``, which removes the old run's files first."""
    path = run_dir / RUN_SPEC
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text())
    except ValueError:
        old = {}
    differs = [k for k in SAME_RUN if k in old and old.get(k) != record.get(k)]
    if not differs and old:
        return
    if not overwrite:
        detail = "; ".join(f"{k}={old.get(k)!r}, not {record.get(k)!r}" for k in differs[:3]) or "unreadable run.json"
        raise HarnessError(f"{run_dir} holds another run ({detail}); use another --out, or --overwrite to replace it")
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)


def validate(spec: RunSpec) -> Task:
    """Everything about a spec that can be wrong without data or a model, checked before either is loaded: the
    task and its settings, the metric names and the model's options. Returns the task."""
    task = make_task(spec)
    for name in spec.metrics if spec.metrics is not None else task.default_metrics:
        METRICS.get(name)
    backend_name, _ = split_spec(spec.model, spec.backend)
    MODELS.get(backend_name).check_options(dict(spec.model_options))
    return task


def evaluate(spec: RunSpec, run_dir: Path, progress: Callable[[int, int], None] | None = None,
             overwrite: bool = False) -> RunResult:
    t_start = time.perf_counter()
    task = validate(spec)
    t0 = time.perf_counter()
    ds = load_cases(task, spec)
    t_data = time.perf_counter() - t0
    record = run_record(spec, task, ds)
    check_run_dir(run_dir, record, overwrite)
    backend_name, _ = split_spec(spec.model, spec.backend)
    options = dict(spec.model_options)
    chunk = spec.batch_size
    if spec.batch_size == "auto":
        chunk = AUTO_CHUNK
        if MODELS.get(backend_name).sizes_own_batches:
            options.setdefault("batch_size", "auto")
    model = load_model(spec.model, spec.backend, options)
    run_dir.mkdir(parents=True, exist_ok=True)
    # replaced, never rewritten in place: a run killed mid-write would leave an empty run.json, and the rerun
    # would then refuse the directory as another run's
    tmp = run_dir / (RUN_SPEC + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    tmp.replace(run_dir / RUN_SPEC)
    try:
        preds, stats = predict(task, ds.cases, model, spec.sampling, run_dir, int(chunk), progress)
        model_info = model.info()
    finally:
        model.close()
    timings = {"data_s": round(t_data, 3), "model_s": round(stats.model_seconds, 3),
               "predict_total_s": round(time.perf_counter() - t_start, 3)}
    counts = {"requests": stats.requested, "cached": stats.cached, "generated": stats.generated,
              "by_stage": stats.by_stage}
    return _finish(spec, task, ds, preds, run_dir, model_info, timings, counts)


def _finish(spec, task, ds, preds, run_dir, model_info, timings, counts) -> RunResult:
    t0 = time.perf_counter()
    metric_names = spec.metrics if spec.metrics is not None else task.default_metrics
    scores = score(task, ds.cases, preds, metric_names, n_boot=spec.n_boot, seed=spec.bootstrap_seed)
    timings = {**timings, "score_s": round(time.perf_counter() - t0, 3)}
    results = {
        "task": task.name, "task_version": task.version, "task_config": task.config(),
        "split": spec.split, "data_source": ds.source, "data_hash": ds.data_hash, "n_cases": len(ds.cases),
        "cases_hash": stable_hash({"data": ds.data_hash, "cases": [c.case_id for c in ds.cases]}),
        "data_info": dict(ds.info),
        "model": model_info, "sampling": spec.sampling.to_dict(), "seed": spec.seed,
        "bootstrap_seed": spec.bootstrap_seed,
        "metrics": {m.name: m.to_dict() for m in scores.metrics},
        "requests": counts, "timings": timings,
        "provenance": {"harness_version": harness.__version__, "git_revision": git_revision(),
                       "findings_schema": FINDINGS_SCHEMA_VERSION,
                       "python": platform.python_version(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
    }
    _write_json_atomic(run_dir / RESULTS, results)
    tmp = run_dir / (SAMPLES + ".tmp")
    with open(tmp, "w") as fh:
        for s in scores.samples:
            fh.write(json.dumps(s, sort_keys=True, default=_jsonable) + "\n")
    tmp.replace(run_dir / SAMPLES)
    return RunResult(run_dir=run_dir, results=results, scores=scores)


def rescore(run_dir: Path, metrics: tuple[str, ...] | None = None, n_boot: int | None = None) -> RunResult:
    """Recompute scores from ``predictions.jsonl`` without running the model."""
    path = run_dir / RUN_SPEC
    if not path.exists():
        raise HarnessError(f"{run_dir}: no {RUN_SPEC}; not a run directory written by `harness run`")
    spec = RunSpec.from_dict(json.loads(path.read_text()))
    if metrics is not None or n_boot is not None:
        spec = RunSpec.from_dict({**spec.to_dict(), **({"metrics": list(metrics)} if metrics is not None else {}),
                                  **({"n_boot": n_boot} if n_boot is not None else {})})
    task = make_task(spec)
    for name in spec.metrics if spec.metrics is not None else task.default_metrics:
        METRICS.get(name)  # a typo fails before the data is loaded
    ds = load_cases(task, spec)
    log = PredictionLog(run_dir / PREDICTIONS)
    old: dict[str, Any] = {}
    if (run_dir / RESULTS).exists():
        old = json.loads((run_dir / RESULTS).read_text())
    model_info = old.get("model", {})
    model_id = model_info.get("model_id") or _model_id_from_log(log)
    preds, missing = cached_predictions(task, ds, log, model_id, spec.sampling)
    if missing:
        raise HarnessError(f"{run_dir}: {missing} requests have no prediction; run `harness run` again to finish")
    # the run's own timings and request counts describe how the predictions were made: re-scoring keeps them
    counts = old.get("requests") or {"requests": sum(len(p) for p in preds.values()), "cached": 0, "generated": 0,
                                     "by_stage": {}}
    timings = {k: v for k, v in old.get("timings", {}).items() if k != "score_s"}
    return _finish(spec, task, ds, preds, run_dir, model_info or {"model_id": model_id}, timings, counts)


def cached_predictions(task: Task, ds: Dataset, log: PredictionLog, model_id: str,
                       sampling: Sampling) -> tuple[dict[str, dict], int]:
    """Each case's predictions by request kind, replayed stage by stage from ``log`` (a later stage's requests
    depend on the earlier answers); and how many requests have no prediction there."""
    preds: dict[str, dict] = {c.case_id: {} for c in ds.cases}
    missing = 0
    for stage in task.stages:
        for case in ds.cases:
            for req in task.requests(case, stage, preds[case.case_id]):
                key = prediction_key(task, req, model_id, sampling)
                if key in log:
                    preds[case.case_id][req.kind] = log.by_key[key]
                else:
                    missing += 1
    return preds, missing


def _model_id_from_log(log: PredictionLog) -> str:
    ids = {p.model_id for p in log.by_key.values()}
    if len(ids) != 1:
        raise HarnessError(f"{log.path}: expected predictions of one model, found {sorted(ids) or 'none'}")
    return ids.pop()


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_jsonable))  # metrics keep the task's order
    tmp.replace(path)


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
