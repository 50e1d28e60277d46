"""Real 2-step TRL runs on CPU with the tiny offline Qwen2.5-VL: GRPO with every reward, and SFT through the CLI;
the checkpoints reload and are evaluated by the harness."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")
pytest.importorskip("datasets")

from typer.testing import CliRunner  # noqa: E402

from baselines.text import HallucinatorBaseline, OracleBaseline  # noqa: E402
from baselines.trainer.cli import app  # noqa: E402
from baselines.trainer.config import from_mapping  # noqa: E402
from baselines.trainer.grpo import train_emrl  # noqa: E402
from baselines.trainer.logs import LOG_FILE, PLOT_FILE  # noqa: E402
from baselines.trainer.rewards import PolicyVerifier, reward_names  # noqa: E402

REWARDS = reward_names()

# A 4-case training split and a 4-slice global view keep each step to seconds; evaluation uses the same view.
TASK_OPTIONS = {"splits": {"train": {"n_cases": 4, "seed": 2000}},
                "views": {"n_axial": 4, "image_size": 64, "reformats": False}}
CPU = {"use_cpu": True, "bf16": False, "gradient_checkpointing": False, "save_strategy": "no",
       "dataloader_num_workers": 0}


@pytest.fixture(scope="module")
def grpo_run(tiny_vlm_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("grpo")
    cfg = from_mapping("emrl", {
        "model": str(tiny_vlm_dir), "output_dir": str(out), "seed": 0, "task_options": TASK_OPTIONS,
        "rewards": {name: 1.0 for name in REWARDS},  # every reward, the text-only one included
        # 8 prompts (4 reports + 4 probes) = 2 steps of 4 prompts x 2 completions: both kinds are seen
        "trl": {**CPU, "max_steps": 2, "per_device_train_batch_size": 8, "num_generations": 2,
                "max_completion_length": 8, "learning_rate": 1e-4, "logging_steps": 1}})
    return train_emrl(cfg)


def test_grpo_two_steps_log_every_reward(grpo_run):
    steps = [r for r in grpo_run.log if "reward" in r]
    assert [r["step"] for r in steps] == [1, 2]
    for name in REWARDS:
        means = [r.get(f"rewards/{name}/mean") for r in steps]
        assert any(m is not None for m in means), f"reward {name} was never computed"
    assert (grpo_run.output_dir / LOG_FILE).exists()
    assert (grpo_run.output_dir / PLOT_FILE).read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((grpo_run.output_dir / "train_summary.json").read_text())
    assert summary["rewards"] == list(REWARDS) and summary["steps"] == 2


def test_trained_rewards_prefer_the_oracle_and_verify_with_the_policy(grpo_run, ct_task):
    """The reward functions GRPO trained with rank the oracle above a hallucinated report, and the cross-view one
    re-queries the trained policy through the trainer's generation engine."""
    trainer = grpo_run.trainer
    rewards = {r.__name__: r for r in trainer.reward_funcs}
    task, cases = rewards["clinical"].ctx.task, list(rewards["clinical"].ctx.cases.values())

    def call(name, baseline, kind="report"):
        texts = [baseline.answer(task, task.requests(c, kind, {})[0]) for c in cases]
        values = rewards[name](prompts=None, completions=[[{"role": "assistant", "content": t}] for t in texts],
                               case_id=[c.case_id for c in cases], kind=[kind] * len(cases))
        return [v for v in values if v is not None]

    for name in ("clinical", "text"):
        assert sum(call(name, OracleBaseline())) > sum(call(name, HallucinatorBaseline())), name
    verifier = rewards["cross_view"].verifier
    assert isinstance(verifier, PolicyVerifier) and verifier.trainer is trainer
    before = verifier.generated
    values = call("cross_view", OracleBaseline())
    n_tumor = sum(1 for c in cases if c.lesions)
    assert verifier.generated - before == n_tumor > 0
    assert all(0.0 <= v <= 1.0 for v in values)


def test_grpo_checkpoint_reloads_and_is_evaluated(grpo_run, tmp_path):
    from transformers import AutoModelForImageTextToText

    from harness.evaluate import RunSpec, evaluate
    from harness.schema import Sampling

    ckpt = grpo_run.checkpoint
    assert (ckpt / "config.json").exists() and (ckpt / "chat_template.jinja").exists()
    AutoModelForImageTextToText.from_pretrained(ckpt)
    spec = RunSpec(model=str(ckpt), task="ct_tumor", split="train", limit=2, task_options=TASK_OPTIONS, n_boot=10,
                   sampling=Sampling(max_new_tokens=8), metrics=("format", "finding_f1", "probes"))
    result = evaluate(spec, tmp_path / "run")
    assert result.results["n_cases"] == 2
    assert result.results["model"]["path"] == str(ckpt.resolve())
    assert result.results["metrics"]["format_ok"]["status"] == "ok"


def test_sft_two_steps_through_the_cli(tiny_vlm_dir, tmp_path):
    out = tmp_path / "sft"
    result = CliRunner().invoke(app, [
        "sft", "--model", str(tiny_vlm_dir), "--out", str(out), "--max-steps", "2",
        "--set", f"task_options={json.dumps(TASK_OPTIONS)}", "--set", f"trl={json.dumps(CPU)}",
        "--set", "trl.per_device_train_batch_size=2", "--set", "trl.learning_rate=1e-3"])
    assert result.exit_code == 0, result.output
    assert "checkpoint:" in result.output
    log = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["stages"] == ["probe", "report", "verify"]
    assert (out / "final" / "model.safetensors").exists()


def test_sft_with_lora_saves_a_merged_checkpoint(tiny_vlm_dir, tmp_path):
    from transformers import AutoModelForImageTextToText

    from baselines.trainer.config import load_config
    from baselines.trainer.sft import train_sft

    cfg = load_config("sft", None, ["lora.r=4", "lora.alpha=8", "trl.max_steps=1",
                                    "trl.per_device_train_batch_size=2", f"trl={json.dumps(CPU)}",
                                    f"task_options={json.dumps(TASK_OPTIONS)}"],
                      model=str(tiny_vlm_dir), output_dir=str(tmp_path / "lora"), limit=2)
    result = train_sft(cfg)
    assert not (result.checkpoint / "adapter_config.json").exists()
    model = AutoModelForImageTextToText.from_pretrained(result.checkpoint)
    assert not any("lora" in name for name, _ in model.named_parameters())


def test_cli_bad_config_is_one_red_line(tmp_path):
    result = CliRunner().invoke(app, ["emrl", "--model", str(tmp_path), "--out", str(tmp_path / "o"),
                                      "--set", "rewards.halucination=1"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "unknown reward 'halucination'" in result.output
    result = CliRunner().invoke(app, ["sft", "--model", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a local checkpoint directory" in result.output
