"""Loading the model to train and saving the final checkpoint in plain Hugging Face format.

The final checkpoint (``OUTPUT_DIR/final``) is a directory ``harness run --model OUTPUT_DIR/final`` evaluates as
is: config, weights, processor, chat template. LoRA adapters are merged into it (``lora.merge: false`` keeps the
adapter only, which ``harness run`` cannot load by itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError

FINAL = "final"


def require_training_stack() -> None:
    missing = []
    for module in ("torch", "transformers", "trl", "datasets"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise HarnessError(f"training needs {', '.join(missing)}: pip install 'emrl-harness[train]'")


def check_checkpoint(path: str) -> None:
    """Fail in one line on a path that is not a local checkpoint (no download is ever attempted)."""
    p = Path(path)
    if not p.is_dir():
        raise HarnessError(f"model '{path}' is not a local checkpoint directory (the trainer downloads nothing)")
    if not (p / "config.json").is_file():
        raise HarnessError(f"'{path}' is not a Hugging Face checkpoint: it has no config.json")


def load_processor(path: str) -> Any:
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(path)
    except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad directory
        raise HarnessError(f"could not load the processor of '{path}': {str(exc).splitlines()[0]}") from exc
    tokenizer = getattr(processor, "tokenizer", processor)
    tokenizer.padding_side = "left"  # TRL generates from left-padded batches
    return processor


def peft_config(lora: Any) -> Any:
    if lora is None:
        return None
    try:
        from peft import LoraConfig
    except ImportError as exc:
        raise HarnessError(f"LoRA needs peft ({exc}): pip install 'emrl-harness[train]'") from exc
    targets = lora.target_modules if isinstance(lora.target_modules, str) else list(lora.target_modules)
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets,
                      task_type="CAUSAL_LM")


def save_final(trainer: Any, processor: Any, output_dir: str, lora: Any) -> Path:
    """Save the trained model and its processor to ``output_dir/final`` and return that directory."""
    final = Path(output_dir) / FINAL
    if lora is not None and lora.merge:
        from baselines.trainer.lora_merge import save_merged

        trainer.accelerator.wait_for_everyone()
        # gathered on every rank first: under ZeRO-3 / FSDP the main process's own parameters are only shards
        if save_merged(trainer.accelerator, trainer.model, final):
            processor.save_pretrained(final)
        trainer.accelerator.wait_for_everyone()
        return final
    trainer.save_model(str(final))  # gathers ZeRO-3 / FSDP shards; saves the processor too
    if trainer.accelerator.is_main_process:
        processor.save_pretrained(final)
    return final
