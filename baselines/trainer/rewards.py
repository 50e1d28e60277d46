"""TRL reward functions built from the harness's own parser and metrics.

Each reward is a plain TRL reward function, ``reward(prompts, completions, **columns) -> list[float | None]``,
that turns each completion into the :class:`~harness.task.ScoredItem` a run would score (``task.parse`` on a
:class:`~harness.schema.Prediction`) and reads the number off the registered metric class itself: a reward and
the metric of the same name cannot disagree, because they are the same code. ``None`` means "does not apply to
this completion" (TRL leaves it out of that completion's sum), e.g. localization on a case without a tumor.

=================  ===========================================================  ==================================
reward             value per completion                                         metric it reads
=================  ===========================================================  ==================================
``format``         mean of format_ok and (tumor cases) key_slice_given          ``format`` (FormatMetric)
``clinical``       mean of the configured metrics (finding_f1, entity_score)    ``finding_f1``, ``entity_score``
``localization``   key_slice_hit (tumor cases with masks)                       ``localization``
``cross_view``     mean of local_vs_truth and local_vs_gold, after              ``cross_view`` (CrossViewMetric)
                   re-querying the policy on the slice it named; 0 when a
                   tumor case names no valid key slice or the slice shows
                   none of the report's tumors; an empty slice said to be
                   empty earns credit only on a tumor-free case
``rejection``      1 when the probe answer accepts a true / rejects a false     ``probes`` (``probe_accepted``)
                   finding, else 0 (probe prompts only)
``text``           mean of the configured BLEU-n / ROUGE-L (ablation only)      ``bleu``, ``rouge_l``
=================  ===========================================================  ==================================

The rewards are registered under the ``harness.rewards`` entry-point group (a plug-in adds one the same way), and
any registered metric is a reward by its name (:class:`MetricReward`: its headline per-case output). A config gives
each its weight; a reward it does not weight has its class's ``default_weight``.

Cross-view consistency needs a second model call per completion: the E-MRL verification step shows the policy
the slice it named, alone, and asks what it shows. We do it **in the reward**, through the trainer's own
generation engine (:class:`PolicyVerifier`), rather than with TRL's ``rollout_func``, because

1. only the report is trained on: the verification answer is evidence *about* the report, not a token sequence
   the policy gradient should move (it would need its own prompt, images and advantage), and ``rollout_func``
   exists to return the trained tokens and their log-probs;
2. ``rollout_func`` (experimental in TRL 1.16) replaces TRL's generation wholesale: the multimodal tokenization,
   vLLM weight syncing and ZeRO-3 parameter gathering would have to be re-implemented; the reward instead calls
   ``trainer._tokenize_prompts`` and ``trainer._generate_single_turn``, i.e. the very engine that produced the
   completion (transformers ``generate``, or vLLM in colocate or server mode), with the current weights (the
   optimizer steps only after every reward is computed);
3. the same reward runs unchanged with any harness model backend (:class:`BackendVerifier`): tests and the
   benchmark verify with the oracle and hallucinator baselines, no model needed.

Under several processes (accelerate, DeepSpeed, FSDP) generation is collective, so every rank asks the same
number of verification questions (padded with copies, whose answers are dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

from harness.errors import HarnessError
from harness.metrics.clinical import FindingF1Metric
from harness.metrics.entity import EntityScoreMetric
from harness.metrics.evidence import CrossViewMetric, LocalizationMetric, ProbeMetric
from harness.metrics.format import FormatMetric
from harness.metrics.text import BleuMetric, RougeLMetric, bleu_from_statistics, bleu_statistics, rouge_l
from harness.models.base import ModelBackend
from harness.registry import METRICS, REWARDS
from harness.schema import Case, Prediction, Request, Sampling, plain_messages
from harness.task import ScoredItem, Task

POLICY_MODEL_ID = "policy"
PARSE_CACHE_SIZE = 8192


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string (standard format) or ``[{"role": "assistant", "content": ...}]``."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], Mapping) else completion[-1]
        if isinstance(content, list):  # content blocks
            return "".join(p.get("text") or "" for p in content if isinstance(p, Mapping))
        return str(content or "")
    return ""


def prediction(case_id: str, kind: str, text: str) -> Prediction:
    return Prediction(key=f"{case_id}/{kind}", case_id=case_id, kind=kind, model_id=POLICY_MODEL_ID, text=text,
                      latency_s=0.0)


@dataclass
class RewardContext:
    """The task and the truth of every training case, shared by all rewards; parses each completion once."""

    task: Task
    cases: Mapping[str, Case]
    _parsed: dict[tuple, ScoredItem] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, task: Task, cases: Sequence[Case]) -> "RewardContext":
        return cls(task=task, cases={c.case_id: c for c in cases})

    @property
    def main_stage(self) -> str:
        return self.task.stages[0]

    def case(self, case_id: str) -> Case:
        try:
            return self.cases[case_id]
        except KeyError:
            raise HarnessError(f"reward asked about case '{case_id}', which is not in the training split") from None

    def item(self, case_id: str, kind: str, text: str, extra: Mapping[str, Prediction] | None = None) -> ScoredItem:
        """The ScoredItem a run would build from this completion (and, for verification, its answer)."""
        key = (case_id, kind, text, tuple((k, p.text) for k, p in (extra or {}).items()))
        hit = self._parsed.get(key)
        if hit is not None:
            return hit
        case = self.case(case_id)
        predictions = {kind: prediction(case_id, kind, text), **(extra or {})}
        item = ScoredItem(case=case, answer=self.task.parse(case, predictions), predictions=predictions)
        if len(self._parsed) >= PARSE_CACHE_SIZE:
            self._parsed.clear()
        self._parsed[key] = item
        return item


@dataclass(frozen=True)
class RewardSettings:
    """What the training config gives every reward it builds; each reward reads the part it needs."""

    verifier: "Verifier | None" = None
    clinical_metrics: tuple[str, ...] = ("finding_f1", "entity_score")
    text_metrics: tuple[str, ...] = ("bleu4", "rouge_l")


class Reward:
    """Base of the TRL reward functions: picks the completions of the kinds it scores, scores them in a batch.

    Subclasses are registered under the ``harness.rewards`` entry-point group; a registered metric's name is a
    reward too (:class:`MetricReward`)."""

    name = "reward"
    #: the request kinds it scores; None = the task's main stage (the report)
    kinds: tuple[str, ...] | None = None
    #: its weight when a config gives none: a reward from a plug-in is off until weighted
    default_weight: float = 0.0
    #: its place among the rewards TRL sums (and ``reward_weights``): the built-ins keep the order their runs
    #: were made with, so the same config sums the same floats in the same order; the others follow by name
    order: int = 100

    def __init__(self, ctx: RewardContext):
        self.ctx = ctx
        self.__name__ = self.name  # TRL names the logged column rewards/<__name__>/mean

    @classmethod
    def build(cls, ctx: RewardContext, settings: RewardSettings) -> "Reward":
        """The reward for a training run; a reward that takes settings reads them here."""
        return cls(ctx)

    def __call__(self, prompts: Any = None, completions: Sequence[Any] = (), case_id: Sequence[str] = (),
                 kind: Sequence[str] | None = None, **kwargs: Any) -> list[float | None]:
        texts = [completion_text(c) for c in completions]
        if len(case_id) != len(texts):
            raise HarnessError(f"reward '{self.name}' needs a case_id column with one id per completion "
                               f"(got {len(case_id)} for {len(texts)} completions)")
        kinds = list(kind) if kind is not None else [self.ctx.main_stage] * len(texts)
        wanted = self.kinds or (self.ctx.main_stage,)
        out: list[float | None] = [None] * len(texts)
        idx = [i for i, k in enumerate(kinds) if k in wanted]
        if idx:
            scores = self.score([case_id[i] for i in idx], [kinds[i] for i in idx], [texts[i] for i in idx],
                                log_metric=kwargs.get("log_metric"))
            for i, s in zip(idx, scores):
                out[i] = s
        return out

    def score(self, case_ids: list[str], kinds: list[str], texts: list[str],
              log_metric: Callable[[str, float], None] | None = None) -> list[float | None]:
        raise NotImplementedError

    def items(self, case_ids: list[str], kinds: list[str], texts: list[str]) -> list[ScoredItem]:
        return [self.ctx.item(c, k, t) for c, k, t in zip(case_ids, kinds, texts)]


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


class FormatReward(Reward):
    """The tagged answer parses with no problem, and a tumor case names a valid key slice."""

    name = "format"
    default_weight, order = 1.0, 0

    def score(self, case_ids, kinds, texts, log_metric=None):
        rows = FormatMetric().per_case(self.items(case_ids, kinds, texts))
        return [_mean([r["format_ok"], r["key_slice_given"]]) for r in rows]


class ClinicalReward(Reward):
    """Finding F1 and/or the entity score of the report against the case's truth."""

    name = "clinical"
    default_weight, order = 1.0, 1
    METRICS = {"finding_f1": FindingF1Metric, "entity_score": EntityScoreMetric}

    @classmethod
    def build(cls, ctx: RewardContext, settings: RewardSettings) -> "Reward":
        return cls(ctx, settings.clinical_metrics)

    def __init__(self, ctx: RewardContext, metrics: Sequence[str] = ("finding_f1", "entity_score")):
        super().__init__(ctx)
        unknown = [m for m in metrics if m not in self.METRICS]
        if unknown or not metrics:
            raise HarnessError(f"clinical reward: unknown metric '{unknown[0] if unknown else ''}' "
                               f"(known: {', '.join(self.METRICS)})")
        self.metrics = [(m, self.METRICS[m]()) for m in metrics]

    def score(self, case_ids, kinds, texts, log_metric=None):
        items = self.items(case_ids, kinds, texts)
        columns = [[row[name] for row in metric.per_case(items)] for name, metric in self.metrics]
        return [_mean(values) for values in zip(*columns)]


class LocalizationReward(Reward):
    """Key-slice hit: the named slice cuts a tumor whose organ and side the report states (tumor cases)."""

    name = "localization"
    default_weight, order = 1.0, 2

    def score(self, case_ids, kinds, texts, log_metric=None):
        return [r["key_slice_hit"] for r in LocalizationMetric().per_case(self.items(case_ids, kinds, texts))]


class TextReward(Reward):
    """BLEU-n (sentence-level sacrebleu, the bleu metric's per-case value) and/or ROUGE-L: the ablation's
    text-only reward, blind to whether a finding is true."""

    name = "text"
    order = 5  # off by default: the ablation's reward
    #: the per-case values it can average: the bleu metric's orders and ROUGE-L
    METRICS = BleuMetric.outputs + RougeLMetric.outputs

    @classmethod
    def build(cls, ctx: RewardContext, settings: RewardSettings) -> "Reward":
        return cls(ctx, settings.text_metrics)

    def __init__(self, ctx: RewardContext, metrics: Sequence[str] = ("bleu4", "rouge_l")):
        super().__init__(ctx)
        self.metrics = tuple(metrics)
        bad = [m for m in self.metrics if m not in self.METRICS]
        if bad or not self.metrics:
            raise HarnessError(f"text reward: unknown metric '{bad[0] if bad else ''}' "
                               f"(known: {', '.join(self.METRICS)})")

    def score(self, case_ids, kinds, texts, log_metric=None):
        items = self.items(case_ids, kinds, texts)
        reports = [it.answer.report for it in items]
        rows: list[dict[str, float]] = [{} for _ in items]
        orders = [int(m[4:]) for m in self.metrics if m.startswith("bleu")]
        if orders:  # the bleu metric's own per-case statistics, only the orders asked for
            stats = bleu_statistics(reports, [it.case.reference_report for it in items])
            for row, s in zip(rows, stats):
                row.update({f"bleu{n}": bleu_from_statistics(s, n) for n in orders})
        if "rouge_l" in self.metrics:
            for row, it, report in zip(rows, items, reports):
                row["rouge_l"] = rouge_l(report, it.case.reference_report)
        return [_mean([row[m] for m in self.metrics]) for row in rows]


class RejectionReward(Reward):
    """Adversarial probes: 1 when the answer accepts a true finding or rejects a false one, else 0 (an
    unparseable yes/no answer counts as wrong)."""

    name = "rejection"
    kinds = ("probe",)
    default_weight, order = 1.0, 4

    def __init__(self, ctx: RewardContext):
        super().__init__(ctx)
        if "probe" not in ctx.task.stages:
            raise HarnessError(f"the rejection reward needs a task with probes; '{ctx.task.name}' has stages "
                               f"{', '.join(ctx.task.stages)}")

    def score(self, case_ids, kinds, texts, log_metric=None):
        rows = ProbeMetric().per_case(self.items(case_ids, kinds, texts))
        out: list[float | None] = []
        for r in rows:
            if r.get("probe_true") is None:  # the task built no probe for this case
                out.append(None)
                continue
            accepted = r["probe_accepted"]
            out.append(float(accepted is not None and accepted == r["probe_true"]))
        return out


# -- the verification step -------------------------------------------------------------------------------------
class Verifier(Protocol):
    """Answers verification requests: one text per request, in order."""

    def generate(self, requests: Sequence[Request]) -> list[str]: ...

    @property
    def lockstep(self) -> bool:
        """True when every process must make the same number of calls (collective generation)."""
        ...


class BackendVerifier:
    """Verification answered by any harness model backend: a baseline (tests, benchmarks) or a served model."""

    lockstep = False

    def __init__(self, backend: ModelBackend, task: Task, sampling: Sampling | None = None):
        backend.bind(task)
        self.backend = backend
        self.sampling = sampling or Sampling()

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return self.backend.generate(list(requests), self.sampling) if requests else []


class PolicyVerifier:
    """Verification answered by the policy being trained, through the GRPO trainer's own generation engine
    (transformers or vLLM, with the trainer's sampling settings and ``max_completion_length``)."""

    def __init__(self) -> None:
        self.trainer: Any = None
        self.generated = 0

    def bind(self, trainer: Any) -> None:
        from baselines.trainer.trl_compat import check_trl_private_api

        check_trl_private_api(type(trainer))  # private methods: a one-line error, not a TypeError mid-training
        self.trainer = trainer

    @property
    def lockstep(self) -> bool:
        return self.trainer is not None and self.trainer.accelerator.num_processes > 1

    def generate(self, requests: Sequence[Request]) -> list[str]:
        if self.trainer is None:
            raise HarnessError("the cross_view reward's policy verifier is not bound to a trainer")
        if not requests:
            return []
        import torch
        from trl.data_utils import prepare_multimodal_messages

        prompts = [prepare_multimodal_messages(plain_messages(r.messages), images=list(r.load_images()))
                   for r in requests]
        with torch.no_grad():
            prompt_ids, images, fields = self.trainer._tokenize_prompts(prompts)
            completion_ids, _ = self.trainer._generate_single_turn(prompt_ids, images, fields, 1)
        self.generated += len(requests)
        return self.trainer.processing_class.batch_decode(completion_ids, skip_special_tokens=True)


class CrossViewReward(Reward):
    """E-MRL cross-view consistency: the policy is shown the slice it named, alone, and says what it shows; the
    answer is scored by the cross_view metric against the truth in that slice (masks) and against the gold
    report. A key slice that shows none of the tumors the report states scores 0 however the policy describes it,
    and "no tumor" about an empty slice earns credit only on a tumor-free case: it is no evidence for a report of
    a case with a tumor."""

    name = "cross_view"
    default_weight, order = 1.0, 3

    @classmethod
    def build(cls, ctx: RewardContext, settings: RewardSettings) -> "Reward":
        if settings.verifier is None:
            raise HarnessError("the cross_view reward needs a verifier (the policy, or a model backend)")
        return cls(ctx, settings.verifier)

    def __init__(self, ctx: RewardContext, verifier: Verifier):
        super().__init__(ctx)
        if "verify" not in ctx.task.stages:
            raise HarnessError(f"the cross_view reward needs a task with a verification stage; "
                               f"'{ctx.task.name}' has stages {', '.join(ctx.task.stages)}")
        self.verifier = verifier
        self.asked = 0  # verification questions asked (without lockstep padding)

    def __call__(self, prompts: Any = None, completions: Sequence[Any] = (), case_id: Sequence[str] = (),
                 kind: Sequence[str] | None = None, **kwargs: Any) -> list[float | None]:
        self._pad_to, self._asked_now = len(completions), False
        out = super().__call__(prompts, completions, case_id, kind, **kwargs)
        if self.verifier.lockstep and not self._asked_now and len(case_id):
            # no report completion on this rank (all probes): still take part in the collective generation
            self.verifier.generate([self._filler(case_id[0])] * len(completions))
        return out

    def score(self, case_ids, kinds, texts, log_metric=None):
        items = self.items(case_ids, kinds, texts)
        requests: list[tuple[int, Request]] = []
        out: list[float | None] = [None] * len(items)
        for i, it in enumerate(items):
            reqs = self.ctx.task.requests(it.case, "verify", dict(it.predictions))
            if reqs:
                requests.append((i, reqs[0]))
            elif it.case.lesions:
                out[i] = 0.0  # a tumor case with no valid key slice: nothing to verify scores 0
        batch = [r for _, r in requests]
        if self.verifier.lockstep:  # collective generation: every rank asks as many questions as it has completions
            filler = batch[0] if batch else self._filler(case_ids[0])
            batch = batch + [filler] * (max(getattr(self, "_pad_to", 0), len(items)) - len(batch))
        answers = self.verifier.generate(batch) if batch else []
        self._asked_now = bool(batch)
        self.asked += len(requests)
        verified = [self.ctx.item(items[i].case.case_id, kinds[i], texts[i],
                                  {"verify": prediction(items[i].case.case_id, "verify", answer)})
                    for (i, _), answer in zip(requests, answers)]
        for (i, _), row in zip(requests, CrossViewMetric().per_case(verified)):
            out[i] = cross_view_value(row)
        if log_metric is not None and items:
            log_metric("cross_view/verified_fraction", len(requests) / len(items))
        return out

    def _filler(self, case_id: str) -> Request:
        return self.ctx.task.requests(self.ctx.case(case_id), self.ctx.main_stage, {})[0]


def cross_view_value(row: Mapping[str, Any]) -> float | None:
    """The cross_view reward of one metric row: the local answer against the slice's truth and the gold report
    (local_supports_report, the model agreeing with itself, is reported but not rewarded: the metric already
    zeroes both parts when the key slice shows none of the report's tumors)."""
    return _mean([row["local_vs_truth"], row["local_vs_gold"]])


class MetricReward(Reward):
    """A registered metric used as a reward by its name: each completion earns the metric's first (headline)
    per-case output, so a plug-in metric trains a model with no code of its own. A metric whose headline is
    better when lower (a hallucination rate) is refused: the trainer maximises every reward."""

    def __init__(self, ctx: RewardContext, metric_name: str):
        super().__init__(ctx)
        self.name = self.__name__ = metric_name
        self.metric = metric_class(metric_name)()
        self.output = self.metric.outputs[0]

    def score(self, case_ids, kinds, texts, log_metric=None):
        return [row.get(self.output) for row in self.metric.per_case(self.items(case_ids, kinds, texts))]


def metric_class(name: str) -> type:
    """The registered metric ``name``, checked to be usable as a reward."""
    cls = METRICS.get(name)
    if not cls.outputs or not cls.better_when_higher(cls.outputs[0]):
        raise HarnessError(f"metric '{name}' cannot be a reward: its headline output "
                           f"'{cls.outputs[0] if cls.outputs else ''}' is better when lower")
    return cls


def reward_names() -> tuple[str, ...]:
    """The registered rewards, in the order TRL sums them (by ``order``, then name); a metric's name is a
    reward too but has no place here until a config weights it."""
    return tuple(sorted(REWARDS.names(), key=lambda n: (REWARDS.get(n).order, n)))


def is_reward(name: str) -> bool:
    return name in REWARDS.names() or name in METRICS.names()


def default_weights() -> dict[str, float]:
    """Each registered reward's weight when a config gives none, in TRL's order."""
    return {name: float(REWARDS.get(name).default_weight) for name in reward_names()}


def build_rewards(names: Sequence[str], ctx: RewardContext, verifier: Verifier | None = None,
                  clinical_metrics: Sequence[str] = ("finding_f1", "entity_score"),
                  text_metrics: Sequence[str] = ("bleu4", "rouge_l")) -> list[Reward]:
    """The reward functions ``names`` (in that order, the order of TRL's ``reward_weights``): registered rewards,
    or registered metrics by name."""
    unknown = [n for n in names if not is_reward(n)]
    if unknown:
        raise HarnessError(f"unknown reward '{unknown[0]}' (rewards: {', '.join(reward_names())}, or any metric "
                           f"of `harness list`)")
    settings = RewardSettings(verifier=verifier, clinical_metrics=tuple(clinical_metrics),
                              text_metrics=tuple(text_metrics))
    return [REWARDS.get(n).build(ctx, settings) if n in REWARDS.names() else MetricReward(ctx, n) for n in names]
