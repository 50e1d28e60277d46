"""What SFT and GRPO runs share: loading the training split, and training then saving a run the same way
(the HF checkpoint in ``OUT/final``, the config copy, the reward/loss log and a summary)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from baselines.trainer import checkpoint, logs
from baselines.trainer.config import TrainConfig, dump
from baselines.trainer.data import TrainingSplit, load_split, make_task

SUMMARY = "train_summary.json"
CONFIG_COPY = "train_config.yaml"


@dataclass(frozen=True)
class TrainResult:
    output_dir: Path
    checkpoint: Path  # the final HF checkpoint: `harness run --model <checkpoint>`
    log: list[dict[str, Any]]
    summary: dict[str, Any]
    trainer: Any = None  # the TRL trainer (in-process use: tests, notebooks)


def load_training_split(cfg: TrainConfig) -> TrainingSplit:
    task = make_task(cfg.task, cfg.task_options)
    return load_split(task, cfg.split, cfg.data, cfg.limit, cfg.seed, cfg.cache_dir)


def prepare_output(cfg: TrainConfig) -> Path:
    out = Path(cfg.output_dir)
    dump(cfg, out / CONFIG_COPY)
    return out


def train_and_save(trainer: Any, processor: Any, cfg: TrainConfig, split: TrainingSplit, n_examples: int,
                   t_data: float, extra: Callable[[], dict[str, Any]] | None = None,
                   on_trainer: Callable[[Any], None] | None = None) -> TrainResult:
    """Train, save the final checkpoint, and write the summary (``extra()`` adds the mode's own fields)."""
    out = Path(cfg.output_dir)
    if on_trainer is not None:
        on_trainer(trainer)
    t1 = time.perf_counter()
    trainer.train()
    t_train = time.perf_counter() - t1
    final = checkpoint.save_final(trainer, processor, cfg.output_dir, cfg.lora)
    records = logs.read_log(out / logs.LOG_FILE) if (out / logs.LOG_FILE).exists() else []
    summary = run_summary(cfg, split, n_examples, records, t_data, t_train, final)
    if extra is not None:
        summary.update(extra())
    if trainer.accelerator.is_main_process:
        (out / SUMMARY).write_text(json.dumps(summary, indent=2))
    return TrainResult(output_dir=out, checkpoint=final, log=records, summary=summary, trainer=trainer)


def run_summary(cfg: TrainConfig, split: TrainingSplit, n_examples: int, records: list[dict[str, Any]],
                t_data: float, t_train: float, final: Path) -> dict[str, Any]:
    import torch
    import transformers
    import trl

    last = records[-1] if records else {}
    return {
        "mode": cfg.mode, "model": cfg.model, "task": cfg.task, "task_version": split.task.version,
        "split": cfg.split, "data_source": split.source, "data_hash": split.data_hash, "n_cases": len(split.cases),
        "n_examples": n_examples, "seed": cfg.seed, "steps": last.get("step", 0),
        "final_log": last, "timings": {"data_s": round(t_data, 2), "train_s": round(t_train, 2)},
        "checkpoint": str(final), "evaluate": f"harness run --model {final} --task {cfg.task}",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__},
    }
