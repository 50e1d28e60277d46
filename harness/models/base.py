"""The one contract every model backend implements: a batch of requests in, one text per request out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Mapping, Sequence

from harness.errors import HarnessError
from harness.schema import Request, Sampling


class ModelBackend(ABC):
    """Subclasses are registered under the ``harness.models`` entry-point group, keyed by the spec prefix
    (``baseline:oracle`` -> ``baseline``); a local checkpoint directory goes to ``transformers``."""

    #: stable identity of the model, part of every prediction's cache key
    model_id: str
    #: it sizes its own batches when the run asks for ``--batch-size auto``: the run passes it the option
    #: ``batch_size=auto`` (which it must accept) and hands it large chunks of requests
    sizes_own_batches: bool = False
    #: what follows ``prefix:`` in a --model spec, as `harness list` shows it
    spec_hint: str = "PATH"

    @classmethod
    @abstractmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "ModelBackend":
        """Build from the text after ``prefix:`` (or a path) and the CLI's backend options."""

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Refuse unknown or malformed ``--model-option``s with a one-line ``HarnessError``; called before any data
        or model is loaded, so a typo costs nothing. Backends that take no options say so by refusing any."""

    @classmethod
    def task_defaults(cls, spec: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Task settings this model brings, by setting group (a zoo card's box syntax: ``{"boxes": {...}}``); a task
        takes the groups it names in ``Task.model_settings``, under the user's own ``--task-option``s. Read from
        the spec alone (a card file), before any weights are loaded."""
        return {}

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


def fill_image_parts(messages: Sequence[Mapping[str, Any]], images: Sequence[Any], image_part: Callable[[Any], dict],
                     engine: str) -> list[dict[str, Any]]:
    """Harness messages (``{"type": "image"}`` placeholders) -> an engine's chat messages: each placeholder, in
    order, replaced by ``image_part(next image)``; text parts kept; any other part type refused, naming ``engine``."""
    pending = iter(images)
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            out.append({"role": message["role"], "content": content})
            continue
        parts: list[dict[str, Any]] = []
        for part in content:
            kind = part.get("type")
            if kind == "text":
                parts.append({"type": "text", "text": part["text"]})
            elif kind == "image":
                parts.append(image_part(next(pending)))
            elif kind == "volume":
                raise HarnessError(f"a volume cannot be sent to {engine}: volume models (M3D-LaMed) run on the "
                                   "transformers backend")
            else:
                raise HarnessError(f"message part of type '{kind}' cannot be sent to {engine} (known: text, image)")
        out.append({"role": message["role"], "content": parts})
    return out
