"""``harness train emrl``: GRPO with the E-MRL rewards, on TRL's GRPOTrainer.

The policy writes a report for each training case's global view; each completion is scored by the rewards the
config weights (:mod:`baselines.trainer.rewards`), the cross-view one re-querying the policy on the slice the
completion named. Probe prompts (the task's adversarial false/true findings) are mixed in when the rejection
reward is on. Everything TRL offers for scale is a ``trl:`` setting: ``use_vllm`` with ``vllm_mode`` colocate or
server, ``bf16``, ``gradient_checkpointing``; LoRA is ``lora:``; several GPUs are ``accelerate launch
--config_file baselines/trainer/accelerate/<zero2|zero3|fsdp>.yaml -m baselines.trainer.cli emrl ...``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from baselines.trainer import checkpoint, logs
from baselines.trainer.config import TrainConfig
from baselines.trainer.data import grpo_dataset
from baselines.trainer.rewards import PolicyVerifier, RewardContext, Verifier, build_rewards
from baselines.trainer.run import TrainResult, load_training_split, prepare_output, train_and_save

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
    out = prepare_output(cfg)
    trainer = GRPOTrainer(model=cfg.model, reward_funcs=rewards, args=args, train_dataset=dataset,
                          processing_class=processor, peft_config=checkpoint.peft_config(cfg.lora),
                          callbacks=[logs.make_callback(out, f"E-MRL GRPO · {cfg.task}", cfg.plot)])
    if policy is not None:
        policy.bind(trainer)
    return train_and_save(trainer, processor, cfg, split, len(dataset), t_data, on_trainer=on_trainer, extra=lambda: {
        "rewards": list(cfg.active_rewards),
        "reward_weights": [float(cfg.rewards[r]) for r in cfg.active_rewards],
        "verification_questions": sum(getattr(r, "asked", 0) for r in rewards)})
