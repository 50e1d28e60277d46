"""Re-score a submission from its predictions, against the references of the task's leaderboard split.

Nothing numeric in a submission is trusted: its raw answers are mapped onto the requests the task makes (by
case id and request kind, stage by stage, so a later stage's requests can depend on an earlier answer), given
their prediction keys afresh, and scored by ``harness.scoring.score`` with the task's ``default_metrics``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

import harness
from harness.errors import HarnessError
from harness.registry import METRICS, TASKS
from harness.runner import prediction_key
from harness.schema import Prediction, Sampling, stable_hash
from harness.scoring import score
from harness.task import Dataset, Task
from leaderboard import LEADERBOARD_SPLIT
from leaderboard.schema import Submission, load_submission


@dataclass(frozen=True)
class OutputInfo:
    """One number a metric reports (a table column)."""

    name: str
    metric: str  # the registered metric that reports it
    variant: str
    higher_is_better: bool
    description: str



def _variant_text(metric) -> str:
    """A metric's variant: a class attribute, or a property of an instance (entity score, coco metrics), whose
    class attribute would be the property object itself."""
    text = getattr(metric, "variant", "")
    if isinstance(text, str):
        return text
    try:
        return str(metric().variant)
    except Exception:  # a metric that cannot be built without arguments: its docstring stands in
        return (metric.__doc__ or "").strip()

@dataclass
class TaskContext:
    """A task as the leaderboard ranks it: default settings, the leaderboard split, the default metrics."""

    name: str
    task: Task
    dataset: Dataset
    metric_names: tuple[str, ...]
    outputs: dict[str, OutputInfo]
    primary_declared: str | None

    @classmethod
    def load(cls, name: str, cache_dir: Path | None = None) -> "TaskContext":
        task = TASKS.get(name)()
        dataset = task.load(split=LEADERBOARD_SPLIT, cache_dir=cache_dir)
        names = tuple(task.default_metrics)
        if not names:
            raise HarnessError(f"task '{name}' declares no default_metrics; the leaderboard has nothing to rank on")
        outputs: dict[str, OutputInfo] = {}
        for metric_name in names:
            metric = METRICS.get(metric_name)
            doc = (getattr(metric, "__doc__", None) or "").strip().splitlines()
            for out in metric.outputs:
                outputs[out] = OutputInfo(name=out, metric=metric_name, variant=_variant_text(metric),
                                          higher_is_better=metric.better_when_higher(out),
                                          description=doc[0] if doc else "")
        return cls(name=name, task=task, dataset=dataset, metric_names=names, outputs=outputs,
                   primary_declared=getattr(task, "primary_metric", None))

    @property
    def version(self) -> str:
        return self.task.version

    def primary_output(self, available: Sequence[str] = ()) -> str:
        """The column the ranking sorts on: the task's ``primary_metric`` (an output, or a metric whose first
        output is taken), else the first metric that ran."""
        declared = self.primary_declared
        if declared:
            if declared in self.outputs and (not available or declared in available):
                return declared
            firsts = [o.name for o in self.outputs.values() if o.metric == declared]
            if firsts and (not available or firsts[0] in available):
                return firsts[0]
        candidates = [o for o in self.outputs if not available or o in available]
        if not candidates:
            raise HarnessError(f"task '{self.name}': no metric ran for any submission")
        return candidates[0]


@dataclass
class Rescored:
    metrics: dict[str, dict[str, Any]]  # output -> MetricValue.to_dict(), as in results.json
    per_case: dict[str, list[float | None]]  # output -> one score per case, in the dataset's order
    answers: dict[str, dict[str, Any]]  # case_id -> parsed answer (report, fields, problems)
    case_ids: list[str] = field(default_factory=list)


def check_header(sub: Submission, ctx: TaskContext, source: str) -> None:
    """The submission is for this task, at its current version, on its leaderboard split and data."""
    if sub.task != ctx.name:
        raise HarnessError(f"{source}: field 'task': '{sub.task}' is not this task ('{ctx.name}')")
    if sub.task_version != ctx.version:
        raise HarnessError(f"{source}: field 'task_version': '{sub.task_version}' does not match the task's "
                           f"version '{ctx.version}' (re-run the model with the current harness and task defaults)")
    if sub.split != LEADERBOARD_SPLIT:
        raise HarnessError(f"{source}: field 'split': the leaderboard ranks the '{LEADERBOARD_SPLIT}' split, "
                           f"not '{sub.split}'")
    if sub.data_hash != ctx.dataset.data_hash:
        raise HarnessError(f"{source}: field 'data_hash': '{sub.data_hash}' is not the hash of the task's "
                           f"{LEADERBOARD_SPLIT} set ('{ctx.dataset.data_hash}')")
    if sub.n_cases != len(ctx.dataset.cases):
        raise HarnessError(f"{source}: field 'n_cases': {sub.n_cases} cases, but the {LEADERBOARD_SPLIT} split "
                           f"has {len(ctx.dataset.cases)}; a submission must answer every case")


def map_predictions(sub: Submission, ctx: TaskContext, source: str) -> dict[str, dict[str, Prediction]]:
    """{case_id: {kind: Prediction}} for every request the task makes; refuses gaps, extras and mismatches."""
    task, cases = ctx.task, ctx.dataset.cases
    check_header(sub, ctx, source)
    known = {c.case_id for c in cases}
    by_request = {(p.case_id, p.kind): p.text for p in sub.predictions}  # unique: the schema checked
    for i, p in enumerate(sub.predictions):
        if p.case_id not in known:
            raise HarnessError(f"{source}: field 'predictions.{i}.case_id': '{p.case_id}' is not a case of the "
                               f"{LEADERBOARD_SPLIT} split")
    sampling = Sampling(**sub.sampling.to_dict())
    preds: dict[str, dict[str, Prediction]] = {c.case_id: {} for c in cases}
    used: set[tuple[str, str]] = set()
    missing: list[str] = []
    for stage in task.stages:
        for case in cases:
            for req in task.requests(case, stage, preds[case.case_id]):
                text = by_request.get((case.case_id, req.kind))
                if text is None:
                    missing.append(f"{case.case_id}/{req.kind}")
                    continue
                used.add((case.case_id, req.kind))
                preds[case.case_id][req.kind] = Prediction(
                    key=prediction_key(task, req, sub.model.model_id, sampling), case_id=case.case_id,
                    kind=req.kind, model_id=sub.model.model_id, text=text, latency_s=0.0)
    if missing:
        raise HarnessError(f"{source}: field 'predictions': {len(missing)} requests have no prediction "
                           f"(first: {missing[0]})")
    extra = [f"{c}/{k}" for (c, k) in by_request if (c, k) not in used]
    if extra:
        raise HarnessError(f"{source}: field 'predictions': {len(extra)} predictions answer no request of the "
                           f"task (first: {extra[0]})")
    return preds


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def rescore(sub: Submission, ctx: TaskContext, source: str, n_boot: int = 1000, seed: int = 0) -> Rescored:
    preds = map_predictions(sub, ctx, source)
    scores = score(ctx.task, ctx.dataset.cases, preds, ctx.metric_names, n_boot=n_boot, seed=seed)
    metrics = {m.name: m.to_dict() for m in scores.metrics}
    for name, m in metrics.items():
        for k in ("value", "ci_low", "ci_high"):
            v = m.get(k)
            if v is not None and not math.isfinite(v):
                raise HarnessError(f"{source}: re-scoring gave {k}={v} for metric '{name}' (NaN or infinite); "
                                   "the submission is not ranked")
    per_case: dict[str, list[float | None]] = {o: [] for o in metrics}
    answers: dict[str, dict[str, Any]] = {}
    for sample in scores.samples:
        for o in metrics:
            per_case[o].append(_number(sample["scores"].get(o)))
        answers[sample["case_id"]] = sample["answer"]
    return Rescored(metrics=metrics, per_case=per_case, answers=answers,
                    case_ids=[s["case_id"] for s in scores.samples])


def claimed_discrepancies(sub: Submission, rescored: Rescored, tol: float = 1e-6) -> dict[str, tuple[float | None,
                                                                                                   float | None]]:
    """Metrics whose number in the file differs from the re-scored one: {name: (claimed, true)}."""
    out = {}
    for name, claimed in sub.claimed_metrics.items():
        true = rescored.metrics.get(name, {}).get("value")
        if claimed is None and true is None:
            continue
        if claimed is None or true is None or abs(claimed - true) > tol:
            out[name] = (claimed, true)
    return out


# -- paired significance ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PairedTest:
    metric: str
    n: int
    diff: float  # mean per-case difference, a - b
    p_value: float
    resamples: int
    method: str = "two-sided paired approximate randomization over per-case scores"


def paired_randomization(a: Sequence[float | None], b: Sequence[float | None], metric: str,
                         n_resamples: int = 10_000, seed: int = 0) -> PairedTest | None:
    """Swap each case's pair of scores with probability 1/2; p = share of swaps whose |mean diff| is at least the
    observed one (with the +1 correction). Cases where either score is missing are dropped."""
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if len(pairs) < 2:
        return None
    d = np.array([x - y for x, y in pairs], dtype=np.float64)
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    hits, done, block = 0, 0, max(1, min(n_resamples, 2_000_000 // len(d)))
    while done < n_resamples:
        m = min(block, n_resamples - done)
        signs = rng.integers(0, 2, size=(m, len(d)), dtype=np.int8) * 2 - 1
        stats = np.abs(signs @ d) / len(d)
        hits += int((stats >= observed - 1e-12).sum())
        done += m
    return PairedTest(metric=metric, n=len(d), diff=float(d.mean()), p_value=(hits + 1) / (n_resamples + 1),
                      resamples=n_resamples)


# -- scoring many submissions -------------------------------------------------------------------------------
@dataclass
class Outcome:
    path: Path
    task: str
    submission: Submission | None = None
    rescored: Rescored | None = None
    error: str | None = None
    cached: bool = False


_WORKER_CONTEXTS: dict[str, TaskContext] = {}
_WORKER_CACHE_DIR: Path | None = None


def _context(name: str, cache_dir: Path | None) -> TaskContext:
    if name not in _WORKER_CONTEXTS:
        _WORKER_CONTEXTS[name] = TaskContext.load(name, cache_dir)
    return _WORKER_CONTEXTS[name]


def _init_worker(cache_dir: Path | None, extra_tasks: Mapping[str, Any], extra_metrics: Mapping[str, Any]) -> None:
    global _WORKER_CACHE_DIR
    _WORKER_CACHE_DIR = cache_dir
    for name, obj in extra_tasks.items():  # run-time registrations (notebooks, benchmarks) reach the workers
        TASKS.register(name, obj)
    for name, obj in extra_metrics.items():
        METRICS.register(name, obj)


def score_file(path: Path, task: str, n_boot: int, seed: int, ctx: TaskContext | None = None) -> Outcome:
    """Load, validate and re-score one submission file; a problem with it becomes ``Outcome.error``."""
    try:
        sub = load_submission(path)
        ctx = ctx or _context(task, _WORKER_CACHE_DIR)
        return Outcome(path=path, task=task, submission=sub, rescored=rescore(sub, ctx, str(path), n_boot, seed))
    except HarnessError as exc:
        return Outcome(path=path, task=task, error=str(exc))


def _score_job(args: tuple[Path, str, int, int]) -> Outcome:
    return score_file(*args)


# -- the score cache ----------------------------------------------------------------------------------------
#: parts of the harness that cannot change a score (model backends, the command line)
_NOT_SCORING = ("models", "cli.py")
_SOURCE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".jsonl", ".txt", ".csv"}


def _source_files(folder: Path, skip: tuple[str, ...] = ()) -> set[Path]:
    return {p for p in folder.rglob("*") if p.suffix in _SOURCE_SUFFIXES and p.is_file()
            and "__pycache__" not in p.parts and not any(p.relative_to(folder).parts[0] == s for s in skip)}


def code_fingerprint(ctx: TaskContext) -> str:
    """A hash of the code and data that compute a task's scores: the harness package (less its model backends
    and CLI), the task's package and each metric's module. Any edit there makes every cached score stale."""
    files = _source_files(Path(harness.__file__).resolve().parent, _NOT_SCORING)
    files |= _source_files(Path(inspect.getfile(type(ctx.task))).resolve().parent)
    for name in ctx.metric_names:
        files.add(Path(inspect.getfile(METRICS.get(name))).resolve())
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


class ScoreCache:
    """Re-scored results of submission files the leaderboard scored itself, keyed by the file's bytes, the task's
    version and data, the metrics, the scoring code and the bootstrap settings. Holds nothing a submitter wrote
    except through that key, so a hit is exactly what re-scoring would give."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._fingerprints: dict[str, str] = {}

    def key(self, path: Path, ctx: TaskContext, n_boot: int, seed: int) -> str:
        if ctx.name not in self._fingerprints:
            self._fingerprints[ctx.name] = code_fingerprint(ctx)
        return stable_hash({"file": hashlib.sha256(Path(path).read_bytes()).hexdigest(), "task": ctx.name,
                            "version": ctx.version, "data": ctx.dataset.data_hash, "metrics": list(ctx.metric_names),
                            "code": self._fingerprints[ctx.name], "n_boot": n_boot, "seed": seed,
                            "split": LEADERBOARD_SPLIT}, length=32)

    def get(self, key: str) -> Rescored | None:
        path = self.directory / f"{key}.json"
        try:
            d = json.loads(path.read_text())
            return Rescored(metrics=d["metrics"], per_case=d["per_case"], answers=d["answers"],
                            case_ids=d["case_ids"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, rescored: Rescored) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"metrics": rescored.metrics, "per_case": rescored.per_case,
                                   "answers": rescored.answers, "case_ids": rescored.case_ids},
                                  default=_jsonable, allow_nan=False))
        tmp.replace(self.directory / f"{key}.json")


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def score_all(jobs: Sequence[tuple[Path, str]], contexts: Mapping[str, TaskContext], n_boot: int, seed: int,
              workers: int = 1, cache_dir: Path | None = None, score_cache: Path | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Re-score many submissions: cached results first, the rest in ``workers`` processes (spawned: safe when
    torch has started threads)."""
    cache = ScoreCache(score_cache) if score_cache is not None else None
    outcomes: list[Outcome | None] = [None] * len(jobs)
    keys: dict[int, str] = {}
    todo: list[int] = []
    for i, (path, task) in enumerate(jobs):
        if cache is not None:
            try:
                keys[i] = cache.key(path, contexts[task], n_boot, seed)
            except OSError as exc:
                outcomes[i] = Outcome(path=path, task=task, error=f"{path}: cannot be read ({exc.strerror})")
                continue
            hit = cache.get(keys[i])
            if hit is not None:
                try:
                    outcomes[i] = Outcome(path=path, task=task, submission=load_submission(path), rescored=hit,
                                          cached=True)
                except HarnessError as exc:
                    outcomes[i] = Outcome(path=path, task=task, error=str(exc))
                continue
        todo.append(i)
    done = len(jobs) - len(todo)
    if progress:
        progress(done, len(jobs))

    def finish(i: int, outcome: Outcome) -> None:
        nonlocal done
        outcomes[i] = outcome
        if cache is not None and outcome.rescored is not None and i in keys:
            cache.put(keys[i], outcome.rescored)
        done += 1
        if progress:
            progress(done, len(jobs))

    if workers <= 1 or len(todo) < 2:
        for i in todo:
            path, task = jobs[i]
            finish(i, score_file(path, task, n_boot, seed, contexts[task]))
    else:
        extra_tasks = {n: TASKS.get(n) for n in getattr(TASKS, "_extra", {})}
        extra_metrics = {n: METRICS.get(n) for n in getattr(METRICS, "_extra", {})}
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(cache_dir, extra_tasks, extra_metrics)) as pool:
            args = [(jobs[i][0], jobs[i][1], n_boot, seed) for i in todo]
            for i, outcome in zip(todo, pool.map(_score_job, args, chunksize=1)):
                finish(i, outcome)
    return [o for o in outcomes if o is not None]


def default_workers(n_jobs: int) -> int:
    """Processes are worth their start-up (a few seconds each) only for larger builds."""
    if n_jobs < 6:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))

