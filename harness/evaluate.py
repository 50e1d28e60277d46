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
from harness.registry import TASKS
from harness.runner import PREDICTIONS, PredictionLog, predict, prediction_key
from harness.schema import Sampling
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
    seed: int = 0
    batch_size: int | str = 8  # or "auto": large chunks, and the backend backs off on out-of-memory
    sampling: Sampling = Sampling()
    metrics: tuple[str, ...] | None = None  # None: the task's defaults
    task_options: Mapping[str, Any] = field(default_factory=dict)
    model_options: Mapping[str, Any] = field(default_factory=dict)
    n_boot: int = 1000
    cache_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metrics"] = list(self.metrics) if self.metrics is not None else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunSpec":
        d = dict(d)
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
    return cls(spec.task_options) if spec.task_options else cls()


def load_cases(task: Task, spec: RunSpec) -> Dataset:
    if spec.limit is not None and spec.limit < 1:
        raise HarnessError(f"--limit must be at least 1, got {spec.limit}")
    ds = task.load(split=spec.split, data=Path(spec.data) if spec.data else None, seed=spec.seed,
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


def _check_run_dir(run_dir: Path, spec: RunSpec) -> None:
    """A run directory holds one run: refuse to mix a different model or task into its predictions."""
    path = run_dir / RUN_SPEC
    if not path.exists():
        return
    old = json.loads(path.read_text())
    for key in ("model", "task", "split", "data", "dataset"):
        if old.get(key) != spec.to_dict().get(key):
            raise HarnessError(f"{run_dir} holds a run with {key}={old.get(key)!r}, not {getattr(spec, key)!r}; "
                               "use another --out")


def evaluate(spec: RunSpec, run_dir: Path, progress: Callable[[int, int], None] | None = None) -> RunResult:
    t_start = time.perf_counter()
    task = make_task(spec)
    t0 = time.perf_counter()
    ds = load_cases(task, spec)
    t_data = time.perf_counter() - t0
    backend_name, _ = split_spec(spec.model, spec.backend)
    options = dict(spec.model_options)
    chunk = spec.batch_size
    if spec.batch_size == "auto":
        chunk = AUTO_CHUNK
        if backend_name == "transformers":
            options.setdefault("batch_size", "auto")
    model = load_model(spec.model, spec.backend, options)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_run_dir(run_dir, spec)
    (run_dir / RUN_SPEC).write_text(json.dumps(spec.to_dict(), indent=2, sort_keys=True))
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
    scores = score(task, ds.cases, preds, metric_names, n_boot=spec.n_boot, seed=spec.seed)
    timings = {**timings, "score_s": round(time.perf_counter() - t0, 3)}
    results = {
        "task": task.name, "task_version": task.version, "task_config": task.config(),
        "split": spec.split, "data_source": ds.source, "data_hash": ds.data_hash, "n_cases": len(ds.cases),
        "data_info": dict(ds.info),
        "model": model_info, "sampling": spec.sampling.to_dict(), "seed": spec.seed,
        "metrics": {m.name: m.to_dict() for m in scores.metrics},
        "requests": counts, "timings": timings,
        "provenance": {"harness_version": harness.__version__, "git_revision": git_revision(),
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
    ds = load_cases(task, spec)
    log = PredictionLog(run_dir / PREDICTIONS)
    model_info = {}
    old_results = run_dir / RESULTS
    if old_results.exists():
        model_info = json.loads(old_results.read_text()).get("model", {})
    model_id = model_info.get("model_id") or _model_id_from_log(log)
    preds: dict[str, dict] = {c.case_id: {} for c in ds.cases}
    missing = 0
    for stage in task.stages:
        for case in ds.cases:
            for req in task.requests(case, stage, preds[case.case_id]):
                key = prediction_key(task, req, model_id, spec.sampling)
                if key in log:
                    preds[case.case_id][req.kind] = log.by_key[key]
                else:
                    missing += 1
    if missing:
        raise HarnessError(f"{run_dir}: {missing} requests have no prediction; run `harness run` again to finish")
    counts = {"requests": sum(len(p) for p in preds.values()), "cached": 0, "generated": 0, "by_stage": {}}
    return _finish(spec, task, ds, preds, run_dir, model_info or {"model_id": model_id}, {}, counts)


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
