"""``harness train sft``: the cold start, TRL's SFTTrainer on the oracle's answers.

Each example is a real request of the task (report, verification on the oracle's key slice, probe) paired with
``task.reference_answer(request)``: the policy learns the answer format and the protocol's steps before GRPO.
The loss is on the completion only (TRL's default for prompt-completion data).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from baselines.trainer import checkpoint, logs
from baselines.trainer.config import TrainConfig
from baselines.trainer.data import sft_dataset
from baselines.trainer.run import TrainResult, load_training_split, prepare_output, train_and_save


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
    out = prepare_output(cfg)
    trainer = SFTTrainer(model=cfg.model, args=args, train_dataset=dataset, processing_class=processor,
                         peft_config=checkpoint.peft_config(cfg.lora),
                         callbacks=[logs.make_callback(out, f"SFT cold start · {cfg.task}", cfg.plot)])
    return train_and_save(trainer, processor, cfg, split, len(dataset), t_data, on_trainer=on_trainer,
                          extra=lambda: {"stages": sorted(set(dataset["kind"]))})
