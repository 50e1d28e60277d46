"""The trainer's rewards are the harness's metrics, and its config fails in one line (no model, no TRL run)."""

from __future__ import annotations

import re

import pytest

from baselines.text import AcquiescentBaseline, HallucinatorBaseline, OracleBaseline
from baselines.trainer.config import from_mapping, load_config, parse_override
from baselines.trainer.rewards import BackendVerifier, RewardContext, build_rewards, completion_text, reward_names
from harness.errors import HarnessError
from harness.models.baseline import BaselineBackend
from harness.schema import Prediction
from harness.scoring import score

N_CASES = 24
REWARDS = reward_names()


@pytest.fixture(scope="module")
def cases(ct_test_set):
    return ct_test_set.cases[:N_CASES]


def answers(task, cases, baseline, kind):
    return [baseline.answer(task, task.requests(c, kind, {})[0]) for c in cases]


def call(reward, cases, texts, kind):
    return reward(prompts=[[]] * len(texts), completions=[[{"role": "assistant", "content": t}] for t in texts],
                  case_id=[c.case_id for c in cases], kind=[kind] * len(texts))


def mean(values):
    vals = [v for v in values if v is not None]
    assert vals, "the reward applied to no completion"
    return sum(vals) / len(vals)


def rewards_with(task, cases, baseline, name):
    verifier = BackendVerifier(BaselineBackend(name, baseline), task)
    return {r.__name__: r for r in build_rewards(REWARDS, RewardContext.of(task, cases), verifier)}


def test_oracle_beats_hallucinated_answers_on_every_reward(ct_task, cases):
    oracle = rewards_with(ct_task, cases, OracleBaseline(), "oracle")
    halluc = rewards_with(ct_task, cases, HallucinatorBaseline(), "hallucinator")
    good = answers(ct_task, cases, OracleBaseline(), "report")
    bad = answers(ct_task, cases, HallucinatorBaseline(), "report")
    for name in ("clinical", "cross_view", "text"):  # the verifier hallucinates too: the policy answers both steps
        assert mean(call(oracle[name], cases, good, "report")) > mean(call(halluc[name], cases, bad, "report")), name
    # rejection: the acquiescent model accepts every false finding it is offered
    good_probe = answers(ct_task, cases, OracleBaseline(), "probe")
    yes_probe = answers(ct_task, cases, AcquiescentBaseline(), "probe")
    assert mean(call(oracle["rejection"], cases, good_probe, "probe")) == 1.0
    assert mean(call(oracle["rejection"], cases, yes_probe, "probe")) < 1.0
    # format: the same report without its tags; localization: the key slice moved off every tumor
    untagged = [re.sub(r"</?report>|<key_slice>.*?</key_slice>", "", t) for t in good]
    assert mean(call(oracle["format"], cases, good, "report")) == 1.0
    assert mean(call(oracle["format"], cases, untagged, "report")) < 1.0
    misplaced = [_off_tumor(ct_task, c, t) for c, t in zip(cases, good)]
    assert mean(call(oracle["localization"], cases, good, "report")) == 1.0
    assert mean(call(oracle["localization"], cases, misplaced, "report")) < 1.0


def _off_tumor(task, case, text):
    slices = task.slices_of(case)
    far = next((i + 1 for i, z in enumerate(slices)
                if not any(l.z_range[0] <= z <= l.z_range[1] for l in case.lesions)), 1)
    return re.sub(r"<key_slice>.*?</key_slice>", f"<key_slice>{far}</key_slice>", text)


def test_rewards_equal_the_metrics_of_a_scored_run(ct_task, cases):
    """The reward of a completion is the number `harness run` reports for the same answer."""
    texts = answers(ct_task, cases, HallucinatorBaseline(), "report")
    rewards = rewards_with(ct_task, cases, HallucinatorBaseline(), "hallucinator")
    verify = BaselineBackend("hallucinator", HallucinatorBaseline())
    verify.bind(ct_task)
    preds = {}
    for c, t in zip(cases, texts):
        p = {"report": Prediction("k", c.case_id, "report", "m", t, 0.0)}
        for req in ct_task.requests(c, "verify", p):
            p["verify"] = Prediction("k", c.case_id, "verify", "m", verify.generate([req], None)[0], 0.0)
        preds[c.case_id] = p
    run = score(ct_task, cases, preds, ("finding_f1", "entity_score", "localization", "cross_view", "format", "bleu",
                                        "rouge_l"), n_boot=0)
    by_case = [s["scores"] for s in run.samples]
    expected = {
        "clinical": [(s["finding_f1"] + s["entity_score"]) / 2 for s in by_case],
        "localization": [s["key_slice_hit"] for s in by_case],
        "text": [(s["bleu4"] + s["rouge_l"]) / 2 for s in by_case],
        "cross_view": [None if s.get("local_vs_truth") is None else (s["local_vs_truth"] + s["local_vs_gold"]) / 2
                       for s in by_case],
    }
    for name, values in expected.items():
        got = call(rewards[name], cases, texts, "report")
        for g, e in zip(got, values):
            assert (g is None and e is None) or g == pytest.approx(e), name


def test_rewards_apply_only_to_their_prompts(ct_task, cases):
    rewards = rewards_with(ct_task, cases, OracleBaseline(), "oracle")
    probe_texts = answers(ct_task, cases, OracleBaseline(), "probe")
    for name in ("format", "clinical", "localization", "cross_view", "text"):
        assert call(rewards[name], cases, probe_texts, "probe") == [None] * len(cases), name
    report_texts = answers(ct_task, cases, OracleBaseline(), "report")
    assert call(rewards["rejection"], cases, report_texts, "report") == [None] * len(cases)
    no_tumor = [c for c in cases if not c.lesions]
    assert no_tumor, "the fixture needs a case without tumor"
    assert call(rewards["localization"], no_tumor[:1], ["<report>x</report><key_slice>none</key_slice>"],
                "report") == [None]


def test_missing_key_slice_scores_zero_and_asks_nothing(ct_task, cases):
    tumor = [c for c in cases if c.lesions][:3]
    asked = []

    class Counting:
        lockstep = False

        def generate(self, requests):
            asked.extend(requests)
            return ["<axial>No tumor is seen.</axial>"] * len(requests)

    reward = build_rewards(["cross_view"], RewardContext.of(ct_task, tumor), Counting())[0]
    assert call(reward, tumor, ["<report>A liver mass.</report>"] * 3, "report") == [0.0, 0.0, 0.0]
    assert asked == []


def test_lockstep_verifier_asks_as_many_questions_as_completions(ct_task, cases):
    """Under several processes generation is collective: every rank asks one question per completion."""
    asked = []

    class Lockstep:
        lockstep = True

        def generate(self, requests):
            asked.append(len(requests))
            return ["<axial>No tumor is seen.</axial>"] * len(requests)

    tumor = [c for c in cases if c.lesions][:2]
    reward = build_rewards(["cross_view"], RewardContext.of(ct_task, tumor), Lockstep())[0]
    good = answers(ct_task, tumor[:1], OracleBaseline(), "report")
    call(reward, tumor, good + ["no tags at all"], "report")
    call(reward, tumor, ["Yes.", "No."], "probe")  # no report on this rank: still takes part
    assert asked == [2, 2]


def test_completion_text_forms():
    assert completion_text("plain") == "plain"
    assert completion_text([{"role": "assistant", "content": "chat"}]) == "chat"
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "blocks"}]}]) == "blocks"


# -- config -------------------------------------------------------------------------------------------------
def _cfg(**extra):
    return {"model": "m", "output_dir": "o", **extra}


@pytest.mark.parametrize("raw, message", [
    (_cfg(learning_rate=1e-5), "unknown setting 'learning_rate'"),
    (_cfg(rewards={"halucination": 1}), "unknown reward 'halucination'"),
    (_cfg(rewards={"format": -1}), "rewards.format must be a number >= 0"),
    (_cfg(rewards={r: 0 for r in REWARDS}), "every reward weight is 0"),
    (_cfg(trl={"learning_rte": 1e-5}), "trl.learning_rte is not a GRPOConfig field; did you mean 'learning_rate'"),
    (_cfg(trl={"reward_weights": [1]}), "trl.reward_weights is set by the trainer"),
    (_cfg(lora={"rank": 8}), "unknown LoRA setting 'lora.rank'"),
    (_cfg(clinical_metrics=["bleu"]), "clinical_metrics: unknown name 'bleu'"),
    (_cfg(probe_prompts=False), "the rejection reward scores probe prompts"),
    ({"output_dir": "o"}, "no model to train"),
])
def test_bad_config_is_one_line(raw, message):
    with pytest.raises(HarnessError, match=re.escape(message)) as err:
        from_mapping("emrl", raw)
    assert "\n" not in str(err.value)


def test_config_layers_and_trl_passthrough(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: a\noutput_dir: o\nrewards: {text: 0.5}\ntrl: {learning_rate: 1.0e-5, "
                    "save_strategy: 'no', use_cpu: true, bf16: false}\nlora: true\n")
    cfg = load_config("emrl", path, ["trl.learning_rate=2e-5", "rewards.cross_view=0", "lora.r=4",
                                     'task_options={"views": {"n_axial": 4}}'], model="b")
    assert cfg.model == "b" and cfg.lora.r == 4 and cfg.task_options == {"views": {"n_axial": 4}}
    assert cfg.active_rewards == ("format", "clinical", "localization", "rejection", "text")
    args = cfg.trl_args()
    assert args.learning_rate == 2e-5 and args.reward_weights == [1.0, 1.0, 1.0, 1.0, 0.5]
    assert args.output_dir == "o" and args.save_strategy == "no"
    assert parse_override("trl.save_strategy=no") == ("trl.save_strategy", "no")
    with pytest.raises(HarnessError, match="invalid TRL setting for GRPOConfig"):
        load_config("emrl", path, ["trl.num_generations=3", "trl.per_device_train_batch_size=4"]).trl_args()
    with pytest.raises(HarnessError, match="does not exist"):
        load_config("emrl", tmp_path / "missing.yaml")
    assert load_config("sft", "sft_cpu", model="m", output_dir="o").trl["use_cpu"] is True  # shipped, by name


def test_plot_of_a_log(tmp_path):
    from baselines.trainer.logs import plot_log, reward_names

    records = [{"step": s, "rewards/format/mean": s / 4, "rewards/clinical/mean": None, "reward": s / 2}
               for s in range(1, 5)]
    assert reward_names(records) == ["format", "clinical"]
    out = plot_log(records, tmp_path / "p.png", "t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_shipped_configs_validate():
    """Every config under baselines/trainer/configs names only real settings and TRL fields; the CPU ones build
    their TRL config here (the GPU ones ask for bf16, which TRL refuses without a GPU)."""
    from baselines.trainer.config import shipped_configs

    names = shipped_configs()
    assert {"sft", "emrl", "emrl_text_only", "sft_cpu", "emrl_cpu"} <= set(names)
    for name in names:
        cfg = load_config("sft" if name.startswith("sft") else "emrl", name, model="m", output_dir="o")
        if name.endswith("_cpu"):
            assert cfg.trl_args().use_cpu
    assert load_config("emrl", "emrl_text_only", model="m", output_dir="o").active_rewards == ("format", "text")


# -- the reward registry -------------------------------------------------------------------------------------
def test_rewards_come_from_the_registry_in_their_published_order():
    """The built-ins keep the order their runs summed them in; the config's defaults are the rewards' own."""
    from baselines.trainer.rewards import default_weights

    assert REWARDS[:6] == ("format", "clinical", "localization", "cross_view", "rejection", "text")
    assert from_mapping("emrl", _cfg()).rewards == default_weights()
    assert default_weights()["text"] == 0.0 and default_weights()["clinical"] == 1.0


def test_a_metric_is_a_reward_by_name(ct_task, cases):
    """A registered metric weighted by name trains on its headline per-case output, after the built-ins."""
    cfg = from_mapping("emrl", _cfg(rewards={"rouge_l": 0.5, "clinical": 0}))
    assert cfg.active_rewards[-1] == "rouge_l" and "clinical" not in cfg.active_rewards
    texts = answers(ct_task, cases, HallucinatorBaseline(), "report")
    (reward,) = build_rewards(["rouge_l"], RewardContext.of(ct_task, cases))
    rows = score(ct_task, cases, {c.case_id: {"report": Prediction("k", c.case_id, "report", "m", t, 0.0)}
                                  for c, t in zip(cases, texts)}, ("rouge_l",), n_boot=0).samples
    assert reward.__name__ == "rouge_l"
    assert call(reward, cases, texts, "report") == pytest.approx([r["scores"]["rouge_l"] for r in rows])


def test_a_plugin_reward_is_registered_like_the_built_ins(ct_task, cases):
    from baselines.trainer.rewards import Reward
    from harness.registry import REWARDS as REGISTRY

    class Length(Reward):
        name = "length"

        def score(self, case_ids, kinds, texts, log_metric=None):
            return [float(len(t)) for t in texts]

    REGISTRY.register("length", Length)
    try:
        cfg = from_mapping("emrl", _cfg(rewards={"length": 2.0}))
        assert cfg.active_rewards[-1] == "length" and cfg.rewards["length"] == 2.0
        assert from_mapping("emrl", _cfg()).rewards["length"] == 0.0  # a plug-in's reward is off until weighted
        (reward,) = build_rewards(["length"], RewardContext.of(ct_task, cases[:1]))
        assert call(reward, cases[:1], ["abc"], "report") == [3.0]
    finally:
        REGISTRY.unregister("length")


@pytest.mark.parametrize("rewards, message", [
    ({"hallucination": 1}, "metric 'hallucination' cannot be a reward: its headline output 'hallucination_rate' "
                           "is better when lower"),
    ({"finding_f": 1}, "unknown reward 'finding_f'"),
])
def test_bad_reward_names_are_one_line(rewards, message):
    with pytest.raises(HarnessError, match=re.escape(message)) as err:
        from_mapping("emrl", _cfg(rewards=rewards))
    assert "\n" not in str(err.value)
