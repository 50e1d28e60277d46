"""The prediction phase: every request of every stage, batched through the model, appended as it comes.

``predictions.jsonl`` is a write-ahead log: each finished prediction is written and flushed (and fsynced) before
the next batch starts, so a killed run loses nothing it finished. A rerun reads the log and skips every
request whose key is already there; the key hashes the task version, case, request kind, model and sampling.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from harness.errors import HarnessError
from harness.models.base import ModelBackend
from harness.schema import Case, Prediction, Request, Sampling, stable_hash
from harness.task import Task

PREDICTIONS = "predictions.jsonl"


def prediction_key(task: Task, request: Request, model_id: str, sampling: Sampling) -> str:
    return stable_hash({"task": task.name, "task_version": task.version, "case": request.case.case_id,
                        "kind": request.kind, "messages": _text_of(request.messages), "model": model_id,
                        "sampling": sampling.to_dict()}, length=24)


def _text_of(messages: Sequence[Mapping]) -> list:
    """The messages without pixels: what identifies a prompt."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = [part.get("text", f"<{part.get('type')}>") for part in content]
        out.append([m.get("role"), content])
    return out


class PredictionLog:
    """Append-only JSONL of predictions, keyed for resume."""

    def __init__(self, path: Path):
        self.path = path
        self.by_key: dict[str, Prediction] = {}
        self._torn_at: int | None = None  # byte offset of a torn last line, cut off before the next append
        if path.exists():
            self._read()

    def _read(self) -> None:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        offset = 0
        for lineno, line in enumerate(lines, 1):
            start, offset = offset, offset + len(line) + 1
            if not line.strip():
                continue
            try:
                p = Prediction.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError):
                # The last line of a run killed mid-write can be cut short: remember where it starts, so that the
                # next append cuts it off instead of burying the fragment mid-file. Anything else is corruption.
                if lineno == len(lines) or (lineno == len(lines) - 1 and not lines[-1]):
                    self._torn_at = start
                    continue
                raise HarnessError(f"{self.path}, line {lineno}: not a prediction record") from None
            self.by_key[p.key] = p

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def append(self, predictions: Iterable[Prediction]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as fh:
            if self._torn_at is not None:
                fh.truncate(self._torn_at)  # drop the torn tail of a killed run; "a" mode then writes at the end
                self._torn_at = None
            elif fh.tell() and not self._ends_with_newline():
                fh.write(b"\n")  # a complete last record whose newline was lost
            for p in predictions:
                fh.write((p.to_json() + "\n").encode())
                self.by_key[p.key] = p
            fh.flush()
            os.fsync(fh.fileno())

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"


@dataclass
class PredictStats:
    requested: int = 0
    cached: int = 0
    generated: int = 0
    model_seconds: float = 0.0
    by_stage: dict[str, int] = field(default_factory=dict)


def predict(task: Task, cases: Sequence[Case], model: ModelBackend, sampling: Sampling, run_dir: Path,
            batch_size: int = 8, progress: Callable[[int, int], None] | None = None) -> tuple[dict, PredictStats]:
    """Run every stage for every case; returns {case_id: {kind: Prediction}} and counts."""
    log = PredictionLog(run_dir / PREDICTIONS)
    model.bind(task)
    stats = PredictStats()
    per_case: dict[str, dict[str, Prediction]] = {c.case_id: {} for c in cases}
    for stage in task.stages:
        pending: list[tuple[Request, str]] = []
        for case in cases:
            for req in task.requests(case, stage, per_case[case.case_id]):
                key = prediction_key(task, req, model.model_id, sampling)
                stats.requested += 1
                if key in log:
                    per_case[case.case_id][req.kind] = log.by_key[key]
                    stats.cached += 1
                else:
                    pending.append((req, key))
        if progress:
            progress(stats.cached + stats.generated, stats.requested)
        for start in range(0, len(pending), max(1, batch_size)):
            batch = pending[start:start + batch_size]
            t0 = time.perf_counter()
            texts = model.generate([r for r, _ in batch], sampling)
            elapsed = time.perf_counter() - t0
            if len(texts) != len(batch):
                raise HarnessError(f"model {model.model_id} returned {len(texts)} answers for {len(batch)} requests")
            preds = [Prediction(key=key, case_id=req.case.case_id, kind=req.kind, model_id=model.model_id,
                                text=text, latency_s=round(elapsed / len(batch), 6))
                     for (req, key), text in zip(batch, texts)]
            log.append(preds)
            for p in preds:
                per_case[p.case_id][p.kind] = p
            stats.generated += len(preds)
            stats.model_seconds += elapsed
            stats.by_stage[stage] = stats.by_stage.get(stage, 0) + len(preds)
            if progress:
                progress(stats.cached + stats.generated, stats.requested)
    return per_case, stats
