"""``--model`` spec -> backend: ``baseline:NAME``, ``openai:URL#name``, ``vllm:PATH``, or a checkpoint path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from harness.errors import HarnessError
from harness.models.base import ModelBackend
from harness.registry import MODELS


def split_spec(spec: str, backend: str | None = None) -> tuple[str, str]:
    """(backend name, the rest). ``backend`` overrides whatever the spec implies."""
    prefix, sep, rest = spec.partition(":")
    # "C:\\..." and "./x:y" are paths, not prefixes: a prefix is a bare registered-looking word.
    if sep and prefix.isidentifier() and not Path(spec).exists():
        return (backend or prefix), rest
    if backend:
        return backend, spec
    if Path(spec).is_dir():
        return "transformers", spec
    raise HarnessError(
        f"--model '{spec}' is neither a local checkpoint directory nor a 'backend:NAME' spec "
        f"(backends: {', '.join(MODELS.names())}; e.g. baseline:oracle)")


def load_model(spec: str, backend: str | None = None, options: Mapping[str, Any] | None = None) -> ModelBackend:
    name, rest = split_spec(spec, backend)
    cls = MODELS.get(name)
    return cls.from_spec(rest, dict(options or {}))
