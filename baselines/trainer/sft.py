"""``harness train sft``: the cold start, TRL's SFTTrainer on the oracle's answers.

Each example is a real request of the task (report, verification on the oracle's key slice, probe) paired with
``task.reference_answer(request)``: the policy learns the answer format and the protocol's steps before GRPO.
The loss is on the completion only (TRL's default for prompt-completion data).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from baselines.trainer import checkpoint, logs
from baselines.trainer.config import TrainConfig, dump
from baselines.trainer.data import sft_dataset
from baselines.trainer.grpo import CONFIG_COPY, SUMMARY, TrainResult, run_summary, load_training_split


def train_sft(cfg: TrainConfig, on_trainer: Callable[[Any], None] | None = None) -> TrainResult:
    checkpoint.require_training_stack()
    checkpoint.check_checkpoint(cfg.model)
    from trl import SFTTrainer

    t0 = time.perf_counter()
    args = cfg.trl_args()
    split = load_training_split(cfg)
    dataset = sft_dataset(split, cfg.sft_stages)
    t_data = time.perf_counter() - t0
    processor = checkpoint.load_processor(cfg.model)
    out = Path(cfg.output_dir)
    dump(cfg, out / CONFIG_COPY)
    trainer = SFTTrainer(model=cfg.model, args=args, train_dataset=dataset, processing_class=processor,
                         peft_config=checkpoint.peft_config(cfg.lora),
                         callbacks=[logs.make_callback(out, f"SFT cold start · {cfg.task}", cfg.plot)])
    if on_trainer is not None:
        on_trainer(trainer)
    t1 = time.perf_counter()
    trainer.train()
    t_train = time.perf_counter() - t1
    final = checkpoint.save_final(trainer, processor, cfg.output_dir, cfg.lora)
    records = logs.read_log(out / logs.LOG_FILE) if (out / logs.LOG_FILE).exists() else []
    summary = run_summary(cfg, split, len(dataset), records, t_data, t_train, final)
    summary["stages"] = sorted(set(dataset["kind"]))
    if trainer.accelerator.is_main_process:
        (out / SUMMARY).write_text(json.dumps(summary, indent=2))
    return TrainResult(output_dir=out, checkpoint=final, log=records, summary=summary, trainer=trainer)
