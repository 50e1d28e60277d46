"""A task's training split as a ``datasets.Dataset`` in TRL's conversational vision format.

Every example comes from the task's own ``requests(case, stage, previous)``: the prompt a policy is trained on is
byte for byte the prompt ``harness run`` sends at evaluation. Columns:

- ``prompt``: the chat messages, ``{"type": "image"}`` placeholders in place (TRL fills them, in order, from
  ``images``);
- ``images``: the PIL images of those placeholders (TRL's GRPO takes images, not video);
- ``case_id`` and ``kind`` (the request's protocol step: report, verify, probe): what the rewards need to find
  the case's truth and to know which reward applies;
- ``completion`` (SFT only): the oracle's answer to that request (``task.reference_answer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.registry import TASKS
from harness.schema import Case, Prediction, Request
from harness.task import ReferenceAnswers, Task, require

ORACLE_MODEL_ID = "oracle"


@dataclass(frozen=True)
class TrainingSplit:
    task: Task
    cases: tuple[Case, ...]
    data_hash: str
    source: str


def make_task(name: str, options: Mapping[str, Any] | None = None) -> Task:
    cls = TASKS.get(name)
    return cls(dict(options)) if options else cls()


def load_split(task: Task, split: str = "train", data: str | None = None, limit: int | None = None,
               seed: int = 0, cache_dir: str | None = None) -> TrainingSplit:
    ds = task.load(split=split, data=Path(data) if data else None, seed=seed,
                   cache_dir=Path(cache_dir) if cache_dir else None)
    cases = ds.cases[:limit] if limit is not None else ds.cases
    if not cases:
        raise HarnessError(f"{task.name} split '{split}' has no cases to train on")
    return TrainingSplit(task=task, cases=tuple(cases), data_hash=ds.data_hash, source=ds.source)


def example(request: Request, **extra: Any) -> dict[str, Any]:
    """One row: the request's messages as plain JSON-like data, its images, and what the rewards need."""
    messages = [{"role": m["role"], "content": m["content"] if isinstance(m["content"], str)
                 else [_part(p) for p in m["content"]]} for m in request.messages]
    return {"prompt": messages, "images": request.checked_images(), "case_id": request.case.case_id, "kind": request.kind, **extra}


def _part(part: Mapping[str, Any]) -> dict[str, Any]:
    # Arrow stores a list of structs with one schema: every part gets a text field (None on image parts)
    return {"type": part["type"], "text": part.get("text")}


def grpo_rows(split: TrainingSplit, probe_prompts: bool) -> list[dict[str, Any]]:
    """The main stage's prompt of every case, and its probe prompt when the task has probes and they are wanted.

    The verification step is not a prompt here: it is asked during training, on the slice each completion names
    (see :class:`baselines.trainer.rewards.CrossViewReward`).
    """
    task = split.task
    main = task.stages[0]
    rows = []
    for case in split.cases:
        rows += [example(r) for r in task.requests(case, main, {})]
        if probe_prompts and "probe" in task.stages:
            rows += [example(r) for r in task.requests(case, "probe", {})]
    return rows


def sft_rows(split: TrainingSplit, stages: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Prompt -> oracle answer pairs for every stage, each stage's requests built on the oracle's earlier answers
    (so verification examples show the slice the oracle named), exactly as the runner chains stages."""
    task = split.task
    reference = require(task, ReferenceAnswers, "SFT (it trains on the oracle's answers)").reference_answer
    wanted = tuple(stages) if stages is not None else tuple(task.stages)
    unknown = [s for s in wanted if s not in task.stages]
    if unknown:
        raise HarnessError(f"sft_stages: task '{task.name}' has no stage '{unknown[0]}' "
                           f"(stages: {', '.join(task.stages)})")
    rows = []
    for case in split.cases:
        previous: dict[str, Prediction] = {}
        for stage in task.stages:
            for request in task.requests(case, stage, previous):
                answer = reference(request)
                previous[request.kind] = Prediction(key=f"{case.case_id}/{request.kind}", case_id=case.case_id,
                                                    kind=request.kind, model_id=ORACLE_MODEL_ID, text=answer,
                                                    latency_s=0.0)
                if stage in wanted:
                    rows.append(example(request, completion=[{"role": "assistant", "content": answer}]))
    return rows


def to_dataset(rows: list[dict[str, Any]]) -> Any:
    try:
        from datasets import Dataset
    except ImportError as exc:
        raise HarnessError(f"training needs the 'train' extra ({exc}): pip install 'emrl-harness[train]'") from exc
    if not rows:
        raise HarnessError("no training examples: the split gave no requests")
    return Dataset.from_list(rows)


def grpo_dataset(split: TrainingSplit, probe_prompts: bool = True) -> Any:
    return to_dataset(grpo_rows(split, probe_prompts))


def sft_dataset(split: TrainingSplit, stages: Sequence[str] | None = None) -> Any:
    return to_dataset(sft_rows(split, stages))

