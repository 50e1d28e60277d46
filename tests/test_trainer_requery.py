"""The E-MRL re-query runs inside GRPO: report completions that name a valid key slice make the cross_view reward
ask the policy itself, through the trainer's generation engine, what that slice shows; the reward GRPO trained
with equals a direct evaluation of the same completions and answers by the cross_view metric.

The tiny random-weight model never writes a tagged answer by itself, so the fixture forces the report
completions (a fixed report and a valid key slice, cycling over the global view); the verification answers
are the policy's own, generated for real."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")
pytest.importorskip("datasets")

from baselines.trainer.config import from_mapping  # noqa: E402
from baselines.trainer.grpo import train_emrl  # noqa: E402
from baselines.trainer.rewards import PolicyVerifier, cross_view_value  # noqa: E402
from harness.metrics.evidence import CrossViewMetric  # noqa: E402
from harness.schema import Prediction  # noqa: E402
from harness.task import ScoredItem  # noqa: E402

N_AXIAL = 4
TASK_OPTIONS = {"splits": {"train": {"n_cases": 4, "seed": 2000}},
                "views": {"n_axial": N_AXIAL, "image_size": 64, "reformats": False}}
CPU = {"use_cpu": True, "bf16": False, "gradient_checkpointing": False, "save_strategy": "no",
       "dataloader_num_workers": 0}
FORCED = [f"<report>A 20 mm mass in the right lobe of the liver.</report><key_slice>{k}</key_slice>"
          for k in range(1, N_AXIAL + 1)]


def force_report_completions(trainer, texts):
    """Replace what the policy generates for the training prompts by ``texts`` (cycled), token for token. Only
    the rollout is forced: generation outside ``_generate`` (the verifier's re-query) stays the policy's own."""
    tokenizer = getattr(trainer.processing_class, "tokenizer", trainer.processing_class)
    forced = [tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for t in texts]
    real_generate, real_single_turn = trainer._generate, trainer._generate_single_turn

    def forced_single_turn(prompt_ids, *args, **kwargs):
        completion_ids, logprobs = real_single_turn(prompt_ids, *args, **kwargs)
        assert logprobs is None  # the transformers engine: no sampling logprobs to keep consistent
        return [list(forced[i % len(forced)]) for i in range(len(completion_ids))], None

    def generate(prompts):
        trainer._generate_single_turn = forced_single_turn
        try:
            return real_generate(prompts)
        finally:
            trainer._generate_single_turn = real_single_turn

    trainer._generate = generate


@pytest.fixture(scope="module")
def requery_run(tiny_vlm_dir, tmp_path_factory):
    calls = []  # one per reward call: the report completions, the policy's verification answers, the rewards

    def on_trainer(trainer):
        force_report_completions(trainer, FORCED)
        reward = next(r for r in trainer.reward_funcs if r.__name__ == "cross_view")
        real_score, real_generate = reward.score, reward.verifier.generate

        def generate(requests):
            answers = real_generate(requests)
            calls[-1]["answers"] = list(answers)
            return answers

        def score(case_ids, kinds, texts, log_metric=None):
            calls.append({"case_ids": list(case_ids), "texts": list(texts), "answers": []})
            calls[-1]["rewards"] = real_score(case_ids, kinds, texts, log_metric=log_metric)
            return calls[-1]["rewards"]

        reward.verifier.generate, reward.score = generate, score

    cfg = from_mapping("emrl", {
        "model": str(tiny_vlm_dir), "output_dir": str(tmp_path_factory.mktemp("requery")), "seed": 0,
        "task_options": TASK_OPTIONS,
        "rewards": {"format": 0, "clinical": 0, "localization": 0, "rejection": 0, "text": 0, "cross_view": 1.0},
        # 4 report prompts = 2 steps of 2 prompts x 2 completions
        "trl": {**CPU, "max_steps": 2, "per_device_train_batch_size": 4, "num_generations": 2,
                "max_completion_length": 8, "learning_rate": 1e-4, "logging_steps": 1}})
    return train_emrl(cfg, on_trainer=on_trainer), calls


def test_valid_key_slices_make_grpo_requery_the_policy(requery_run):
    result, calls = requery_run
    reward = next(r for r in result.trainer.reward_funcs if r.__name__ == "cross_view")
    assert isinstance(reward.verifier, PolicyVerifier) and reward.verifier.trainer is result.trainer
    n_completions = sum(len(c["texts"]) for c in calls)
    assert [c["texts"][0] for c in calls[:1]] == FORCED[:1]  # the forced rollout reached the reward
    assert result.summary["verification_questions"] == n_completions == reward.verifier.generated > 0
    assert all(len(c["answers"]) == len(c["texts"]) for c in calls)  # one re-query per completion
    logged = [r for r in result.log if "rewards/cross_view/mean" in r]
    assert [r["step"] for r in logged] == [1, 2]
    assert all(r.get("cross_view/verified_fraction", 1.0) == 1.0 for r in logged)


def test_the_trained_reward_equals_the_metric_on_the_same_completions(requery_run, ct_task):
    result, calls = requery_run
    reward = next(r for r in result.trainer.reward_funcs if r.__name__ == "cross_view")
    task = reward.ctx.task
    for call, logged in zip(calls, [r for r in result.log if "rewards/cross_view/mean" in r]):
        direct = []
        for case_id, text, answer in zip(call["case_ids"], call["texts"], call["answers"]):
            case = reward.ctx.case(case_id)
            preds = {kind: Prediction(f"{case_id}/{kind}", case_id, kind, "policy", t, 0.0)
                     for kind, t in (("report", text), ("verify", answer))}
            row = CrossViewMetric().per_case([ScoredItem(case=case, answer=task.parse(case, preds),
                                                         predictions=preds)])[0]
            direct.append(cross_view_value(row))
        assert call["rewards"] == pytest.approx(direct)
        assert logged["rewards/cross_view/mean"] == pytest.approx(sum(direct) / len(direct))
