"""``zoo:NAME``: a zoo card's model, served by the card's backend behind the card's prompt adapter.

A thin :class:`~harness.models.base.ModelBackend` around the real backend (vLLM or transformers): every
request is rewritten by :class:`~baselines.zoo.adapter.PromptAdapter` and handed on. The runner keys its
predictions on the task's own request and this backend's ``model_id``, which joins the card, the adapter's
fingerprint and the real backend's model id (itself a hash of the checkpoint's files); so the cache and resume
work as for any backend, and a changed prompt or checkpoint never reuses old answers.

Options (``RunSpec.model_options``; the zoo CLI fills them):

- ``path``: the checkpoint directory (else it is looked for as :func:`~baselines.zoo.cards.find_weights` says,
  in ``weights_dirs`` and ``hub_cache``);
- ``backend``: ``vllm`` or ``transformers`` [the card's];
- ``options``: backend options that override the card's engine arguments (e.g. ``{"device": "cpu"}``);
- ``cards``: extra folders of cards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.models.base import ModelBackend
from harness.models.resolve import load_model
from harness.schema import Request, Sampling

from baselines.zoo.adapter import PromptAdapter
from baselines.zoo.cards import Card, Weights, find_weights, get_card

OPTIONS = ("path", "backend", "options", "cards", "weights_dirs", "hub_cache")


class ZooBackend(ModelBackend):
    """A zoo card: the card's real backend behind its prompt adapter."""

    spec_hint = "CARD_NAME"

    def __init__(self, card: Card, inner: ModelBackend, weights: Path, backend: str):
        self.card = card
        self.inner = inner
        self.weights = weights
        self.backend = backend
        self.adapter = PromptAdapter(card.prompt, card.name)
        self.model_id = f"zoo:{card.name}@{self.adapter.fingerprint()}+{inner.model_id}"

    @classmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "ZooBackend":
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise HarnessError(f"unknown zoo backend option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
        if not spec:
            raise HarnessError("name a zoo card: zoo:NAME (see `harness zoo list`)")
        card = get_card(spec, [Path(d) for d in options.get("cards") or ()])
        weights = resolve_weights(card, options)
        backend = options.get("backend") or card.backend
        inner_options = {**card.backend_options(backend), **dict(options.get("options") or {})}
        inner = load_model(str(weights.path), backend, inner_options)
        return cls(card, inner, weights.path, backend)

    @classmethod
    def task_defaults(cls, spec: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """The card's box syntax, for the grounding task (``--task-option boxes.format=...`` overrides it)."""
        if not spec:
            return {}
        card = get_card(spec, [Path(d) for d in options.get("cards") or ()])
        inner = options.get("options") or {}
        return {"boxes": card.box_settings(inner if isinstance(inner, Mapping) else {})}

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[str]:
        return self.inner.generate([self.adapter.adapt(r) for r in requests], sampling)

    def bind(self, task: Any) -> None:
        self.inner.bind(task)

    def info(self) -> dict[str, Any]:
        return {**self.inner.info(), "model_id": self.model_id, "inner_model_id": self.inner.model_id,
                "zoo": {"card": self.card.name, "display_name": self.card.display_name,
                        "hub_id": self.card.hub_id, "licence": self.card.licence, "weights": str(self.weights),
                        "backend": self.backend, "adapter_sha256": self.adapter.fingerprint(),
                        "prompt": self.card.prompt.model_dump(mode="json")}}

    def close(self) -> None:
        self.inner.close()


def resolve_weights(card: Card, options: Mapping[str, Any]) -> Weights:
    """The card's servable checkpoint, or a one-line error saying why there is none."""
    if card.status == "unsupported":
        raise HarnessError(f"zoo card '{card.name}' is unsupported: {card.notes}")
    path = options.get("path")
    weights = find_weights(card, [Path(d) for d in options.get("weights_dirs") or ()],
                           Path(options["hub_cache"]) if options.get("hub_cache") else None,
                           Path(path) if path else None)
    if not weights.found:
        raise HarnessError(f"zoo card '{card.name}': {weights.describe()}")
    return weights
