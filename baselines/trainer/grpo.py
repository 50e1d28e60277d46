"""``harness train emrl``: GRPO with the E-MRL rewards, on TRL's GRPOTrainer.

The policy writes a report for each training case's global view; each completion is scored by the rewards the
config weights (:mod:`baselines.trainer.rewards`), the cross-view one re-querying the policy on the slice the
completion named. Probe prompts (the task's adversarial false/true findings) are mixed in when the rejection
reward is on. Everything TRL offers for scale is a ``trl:`` setting: ``use_vllm`` with ``vllm_mode`` colocate or
server, ``bf16``, ``gradient_checkpointing``; LoRA is ``lora:``; several GPUs are ``accelerate launch
--config_file baselines/trainer/accelerate/<zero2|zero3|fsdp>.yaml -m baselines.trainer.cli emrl ...``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from baselines.trainer import checkpoint, logs
from baselines.trainer.config import TrainConfig, dump
from baselines.trainer.data import TrainingSplit, grpo_dataset, load_split, make_task
from baselines.trainer.rewards import PolicyVerifier, RewardContext, Verifier, build_rewards

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


def train_emrl(cfg: TrainConfig, verifier: Verifier | None = None,
               on_trainer: Callable[[Any], None] | None = None) -> TrainResult:
    """Run GRPO as ``cfg`` says. ``verifier`` replaces the policy in the verification step (tests only)."""
    checkpoint.require_training_stack()
    checkpoint.check_checkpoint(cfg.model)
    from trl import GRPOTrainer

    t0 = time.perf_counter()
    args = cfg.trl_args()
    split = load_training_split(cfg)
    dataset = grpo_dataset(split, probe_prompts=cfg.probe_prompts and "rejection" in cfg.active_rewards)
    t_data = time.perf_counter() - t0
    ctx = RewardContext.of(split.task, split.cases)
    policy = PolicyVerifier() if verifier is None else None
    rewards = build_rewards(cfg.active_rewards, ctx, verifier or policy, cfg.clinical_metrics, cfg.text_metrics)
    processor = checkpoint.load_processor(cfg.model)
    out = Path(cfg.output_dir)
    dump(cfg, out / CONFIG_COPY)
    trainer = GRPOTrainer(model=cfg.model, reward_funcs=rewards, args=args, train_dataset=dataset,
                          processing_class=processor, peft_config=checkpoint.peft_config(cfg.lora),
                          callbacks=[logs.make_callback(out, f"E-MRL GRPO · {cfg.task}", cfg.plot)])
    if policy is not None:
        policy.bind(trainer)
    if on_trainer is not None:
        on_trainer(trainer)
    t1 = time.perf_counter()
    trainer.train()
    t_train = time.perf_counter() - t1
    final = checkpoint.save_final(trainer, processor, cfg.output_dir, cfg.lora)
    records = logs.read_log(out / logs.LOG_FILE) if (out / logs.LOG_FILE).exists() else []
    summary = run_summary(cfg, split, len(dataset), records, t_data, t_train, final)
    summary["rewards"] = list(cfg.active_rewards)
    summary["reward_weights"] = [float(cfg.rewards[r]) for r in cfg.active_rewards]
    summary["verification_questions"] = sum(getattr(r, "asked", 0) for r in rewards)
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
