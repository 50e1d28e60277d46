"""The TRL private API the trainer calls, checked against the TRL that is installed.

The cross_view reward re-queries the policy through ``GRPOTrainer._tokenize_prompts`` and
``GRPOTrainer._generate_single_turn`` (``rewards.py`` says why: they are the very engine that produced the
completion, vLLM weight sync and ZeRO-3 gathering included). TRL has no public API for one generation turn, and
the private signature changed: TRL 1.10 to 1.14.0 take ``(prompt_ids, images, multimodal_fields,
has_tool_images=False)``; 1.14.1 to 1.16 put ``num_generations`` before ``has_tool_images`` (read from the
released wheels). The ``hf`` and ``train`` extras pin :data:`SUPPORTED_TRL`; a TRL outside it that kept the
methods would fail with a TypeError at the first verification, so the signature is checked when the verifier
binds, with a one-line error naming the versions that work.
"""

from __future__ import annotations

import inspect
from typing import Any

from harness.errors import HarnessError

#: the TRL releases whose private signatures below the trainer calls (pyproject's extras pin the same range)
SUPPORTED_TRL = ">=1.14.1,<1.17"
#: method -> its leading parameters, in order, as the cross_view reward passes them
PRIVATE_API: dict[str, tuple[str, ...]] = {
    "_tokenize_prompts": ("self", "prompts"),
    "_generate_single_turn": ("self", "prompt_ids", "images", "multimodal_fields", "num_generations"),
}


def installed_trl() -> str:
    try:
        from importlib.metadata import version

        return version("trl")
    except Exception:  # noqa: BLE001 - a source checkout without metadata
        return "(unknown version)"


def check_trl_private_api(trainer_cls: Any = None) -> None:
    """Refuse, in one line, a GRPOTrainer whose private generation methods are not the ones the trainer calls."""
    if trainer_cls is None:
        from trl import GRPOTrainer as trainer_cls  # noqa: N813
    hint = f"install trl{SUPPORTED_TRL} (pip install 'emrl-harness[train]')"
    for method, expected in PRIVATE_API.items():
        fn = getattr(trainer_cls, method, None)
        if fn is None:
            raise HarnessError(f"TRL {installed_trl()}: GRPOTrainer has no {method}(), which the cross_view reward "
                               f"calls; {hint}")
        params = tuple(inspect.signature(fn).parameters)
        if params[:len(expected)] != expected:
            raise HarnessError(f"TRL {installed_trl()}: GRPOTrainer.{method}({', '.join(params)}) is not the "
                               f"signature the cross_view reward calls ({', '.join(expected)}, ...); {hint}")
