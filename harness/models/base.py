"""The one contract every model backend implements: a batch of requests in, one text per request out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping, Sequence

from harness.schema import Request, Sampling


class ModelBackend(ABC):
    """Subclasses are registered under the ``harness.models`` entry-point group, keyed by the spec prefix
    (``baseline:oracle`` -> ``baseline``); a local checkpoint directory goes to ``transformers``."""

    #: stable identity of the model, part of every prediction's cache key
    model_id: str
    #: False for backends whose outputs do not depend on pixels (baselines): the runner then never renders
    needs_images: bool = True

    @classmethod
    @abstractmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "ModelBackend":
        """Build from the text after ``prefix:`` (or a path) and the CLI's backend options."""

    @abstractmethod
    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[str]:
        """One completion per request, in order."""

    def bind(self, task: Any) -> None:
        """Called once with the task before generating; only task-aware backends (baselines) use it."""

    def info(self) -> dict[str, Any]:
        """Provenance for results.json (backend name, dtype, chat template hash...)."""
        return {"backend": type(self).__name__, "model_id": self.model_id}

    def close(self) -> None:
        """Release engines, servers and GPU memory."""
