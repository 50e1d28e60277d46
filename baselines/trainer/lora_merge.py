"""LoRA merged into the base weights from a *gathered* state dict, so that the final checkpoint is right under
DeepSpeed ZeRO-3 and FSDP.

Under ZeRO-3 and FSDP each rank holds a shard of every weight: the module ``accelerator.unwrap_model`` returns
on the main process has empty (or partial) parameters, and merging the adapter into it (PEFT's
``merge_and_unload``) then saving it writes those shards, not the model. ``accelerator.get_state_dict(model)``
is the collective that gathers the full weights (ZeRO-3's 16-bit consolidation, FSDP's full state dict,
offloaded to the CPU of rank 0; the plain state dict without sharding); every rank must call it. The merge is
then done on that state dict, on the main process only, with PEFT's own rule for a linear layer,
``W + scale * (B @ A)`` with ``scale = alpha / r`` (``alpha / sqrt(r)`` with rsLoRA), and the base model saves it
(``save_pretrained(state_dict=...)``), never reading its own sharded parameters.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from harness.errors import HarnessError

PEFT_PREFIX = "base_model.model."
_LORA_KEY = re.compile(r"^(?P<module>.+)\.lora_(?P<which>[AB])\.(?P<adapter>[^.]+)\.weight$")
_SAVED_KEY = re.compile(r"^(?P<module>.+)\.modules_to_save\.(?P<adapter>[^.]+)\.(?P<param>.+)$")


def lora_scale(config: Any) -> float:
    """PEFT's scaling of an adapter's update; per-module rank or alpha patterns are refused (not merged here)."""
    if getattr(config, "rank_pattern", None) or getattr(config, "alpha_pattern", None):
        raise HarnessError("merging LoRA with per-module rank_pattern/alpha_pattern is not supported; "
                           "set lora.merge: false and merge the saved adapter yourself")
    if getattr(config, "use_dora", False):
        raise HarnessError("merging a DoRA adapter from a gathered state dict is not supported; set lora.merge: false")
    r, alpha = int(config.r), float(config.lora_alpha)
    return alpha / math.sqrt(r) if getattr(config, "use_rslora", False) else alpha / r


def merge_lora_state_dict(state: Mapping[str, Any], config: Any, adapter: str = "default") -> dict[str, Any]:
    """The base model's state dict with adapter ``adapter`` merged in: PEFT's key prefixes and ``base_layer``
    removed, ``lora_A``/``lora_B`` folded into their layer's weight, ``modules_to_save`` copies in place of the
    originals. Raises a one-line error on LoRA weights it cannot fold (embeddings, convolutions, DoRA)."""
    import torch

    scale = lora_scale(config)
    fan_in_fan_out = bool(getattr(config, "fan_in_fan_out", False))
    plain = {(k[len(PEFT_PREFIX):] if k.startswith(PEFT_PREFIX) else k): v for k, v in state.items()}
    out: dict[str, Any] = {}
    pairs: dict[str, dict[str, Any]] = {}
    saved: dict[str, Any] = {}
    for key, value in plain.items():
        lora = _LORA_KEY.match(key)
        if lora:
            if lora["adapter"] == adapter:
                pairs.setdefault(lora["module"], {})[lora["which"]] = value
            continue
        if ".lora_" in key:
            raise HarnessError(f"cannot merge LoRA weight '{key}' (only linear layers' lora_A/lora_B are merged); "
                               "set lora.merge: false")
        kept = _SAVED_KEY.match(key)
        if kept:
            if kept["adapter"] == adapter:
                saved[f"{kept['module']}.{kept['param']}"] = value
            continue
        if ".original_module." in key:
            continue  # replaced by its modules_to_save copy
        out[key.replace(".base_layer.", ".")] = value
    out.update(saved)
    for module, ab in pairs.items():
        weight_key = f"{module}.weight"
        if set(ab) != {"A", "B"} or weight_key not in out:
            raise HarnessError(f"LoRA module '{module}' has no complete lora_A/lora_B pair over a base weight in "
                               "the gathered state dict; was it gathered in full?")
        weight = out[weight_key]
        delta = ab["B"].to(torch.float32) @ ab["A"].to(torch.float32)
        if fan_in_fan_out:
            delta = delta.T
        if delta.shape != weight.shape:
            raise HarnessError(f"LoRA module '{module}': update {tuple(delta.shape)} does not fit weight "
                               f"{tuple(weight.shape)} (a sharded weight? gather before merging)")
        out[weight_key] = (weight.to(torch.float32) + scale * delta).to(weight.dtype)
    return out


def save_merged(accelerator: Any, model: Any, directory: Any) -> bool:
    """Gather (on every rank: a collective), merge and save on the main process. Returns whether this process
    saved. ``model`` is the trainer's (wrapped) model."""
    state = accelerator.get_state_dict(model)  # every rank: ZeRO-3 / FSDP gather the shards here
    if not accelerator.is_main_process:
        return False
    unwrapped = accelerator.unwrap_model(model)
    configs = getattr(unwrapped, "peft_config", None)
    if not configs:
        unwrapped.save_pretrained(directory, state_dict=dict(state))  # no adapter: the gathered weights as they are
        return True
    adapter = getattr(unwrapped, "active_adapter", "default")
    adapter = adapter if isinstance(adapter, str) else adapter[0]
    merged = merge_lora_state_dict(state, configs[adapter], adapter)
    base = unwrapped.get_base_model() if hasattr(unwrapped, "get_base_model") else unwrapped
    base.save_pretrained(directory, state_dict=merged)
    return True
