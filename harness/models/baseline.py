"""``baseline:NAME``: the non-neural baselines as a model backend, looked up in the ``harness.baselines`` group."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.models.base import ModelBackend
from harness.registry import BASELINES
from harness.schema import Request, Sampling
from harness.task import require


class BaselineBackend(ModelBackend):
    """Non-neural baselines (template, oracle, hallucinator...) that calibrate every metric."""

    def __init__(self, name: str, baseline: Any):
        self.name = name
        self.baseline = baseline
        self.model_id = f"baseline:{name}"
        self.task = None

    @classmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "BaselineBackend":
        if not spec:
            raise HarnessError(f"name a baseline: baseline:NAME with NAME one of {', '.join(BASELINES.names())}")
        return cls(spec, BASELINES.get(spec)())

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        if options:
            raise HarnessError(f"baselines take no --model-option (got {', '.join(sorted(options))})")

    def bind(self, task: Any) -> None:
        """Checks the task has what the baseline declares it needs (its ``needs`` protocol), before any request."""
        needs = getattr(self.baseline, "needs", None)
        self.task = require(task, needs, self.model_id) if needs is not None else task

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[str]:
        if self.task is None:
            raise HarnessError("a baseline needs the task: call bind(task) first")
        return [self.baseline.answer(self.task, r) for r in requests]

    def info(self) -> dict[str, Any]:
        return {"backend": "baseline", "model_id": self.model_id, "baseline": self.name}
