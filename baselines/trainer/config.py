"""One frozen training config, from a YAML file plus ``KEY=VALUE`` overrides.

The file's top-level keys are the fields of :class:`TrainConfig`; its ``trl:`` section is passed through to TRL's
``GRPOConfig`` (``harness train emrl``) or ``SFTConfig`` (``harness train sft``) and checked against that class's
fields, so any TRL knob (``use_vllm``, ``vllm_mode``, ``bf16``, ``gradient_checkpointing``, ``num_generations``...)
is set the way TRL documents it. Overrides use dotted paths into the same structure::

    rewards.text=1.0   trl.learning_rate=1e-5   task_options.views.n_axial=8   lora.r=8

Reward weights live under ``rewards:`` (one per reward, 0 switches it off) and become TRL's ``reward_weights``;
the rewards are those registered under ``harness.rewards`` and the registered metrics, by name.
Every mistake is a one-line :class:`~harness.errors.HarnessError`.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from baselines.trainer.rewards import ClinicalReward, TextReward, default_weights, is_reward, metric_class, reward_names
from harness.errors import HarnessError
from harness.registry import REWARDS
from harness.settings import nest, parse_value

SHIPPED_DIR = Path(__file__).parent / "configs"
MODES = ("sft", "emrl")
CLINICAL_METRICS = ("finding_f1", "entity_score")
#: set by the trainer itself: a ``trl:`` entry for one of these would be silently overwritten
RESERVED_TRL = {"output_dir": "output_dir", "seed": "seed", "reward_weights": "rewards"}
#: what differs from TRL's own defaults, and why
TRL_DEFAULTS: dict[str, dict[str, Any]] = {
    "emrl": {"report_to": "none", "logging_steps": 1},
    # max_length=None: truncating a multimodal prompt would cut image tokens and break the image/feature count
    "sft": {"report_to": "none", "logging_steps": 1, "max_length": None},
}


@dataclass(frozen=True)
class LoraSettings:
    """LoRA through peft; the final checkpoint is merged (a plain HF checkpoint) unless ``merge`` is false."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"
    merge: bool = True


@dataclass(frozen=True)
class TrainConfig:
    mode: str
    model: str
    output_dir: str
    task: str = "ct_tumor"
    split: str = "train"
    data: str | None = None  # a data set on disk instead of the built-in synthetic split
    limit: int | None = None  # train on the first N cases of the split
    seed: int = 0
    cache_dir: str | None = None
    task_options: Mapping[str, Any] = field(default_factory=dict)
    rewards: Mapping[str, float] = field(default_factory=default_weights)
    clinical_metrics: tuple[str, ...] = CLINICAL_METRICS
    text_metrics: tuple[str, ...] = ("bleu4", "rouge_l")
    probe_prompts: bool = True  # GRPO: add each case's adversarial probe as a prompt (for the rejection reward)
    sft_stages: tuple[str, ...] | None = None  # SFT: the stages whose oracle answers it trains on; None = all
    lora: LoraSettings | None = None
    plot: bool = True
    trl: Mapping[str, Any] = field(default_factory=dict)

    @property
    def active_rewards(self) -> tuple[str, ...]:
        """The weighted rewards, in TRL's order: the registered ones by their ``order``, then metrics by name."""
        return tuple(r for r in self.rewards if self.rewards[r] > 0)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["rewards"] = dict(self.rewards)
        d["task_options"] = _plain(self.task_options)
        d["trl"] = _plain(self.trl)
        return _plain(d)

    def trl_args(self) -> Any:
        """The TRL config object (``GRPOConfig`` or ``SFTConfig``) this config describes."""
        cls = trl_config_class(self.mode)
        kwargs = {**TRL_DEFAULTS[self.mode], **self.trl, "output_dir": self.output_dir, "seed": self.seed}
        if self.mode == "emrl":
            kwargs["reward_weights"] = [float(self.rewards[r]) for r in self.active_rewards]
        try:
            return cls(**kwargs)
        except (ValueError, TypeError) as exc:
            raise HarnessError(f"invalid TRL setting for {cls.__name__}: {_first_line(exc)}") from exc


def trl_config_class(mode: str) -> type:
    try:
        from trl import GRPOConfig, SFTConfig
    except ImportError as exc:
        raise HarnessError(f"training needs the 'train' extra ({exc}): pip install 'emrl-harness[train]'") from exc
    return GRPOConfig if mode == "emrl" else SFTConfig


def load_config(mode: str, path: str | Path | None = None, overrides: Iterable[str] = (),
                **explicit: Any) -> TrainConfig:
    """Defaults < YAML file < ``explicit`` keyword values (CLI options) < ``KEY=VALUE`` overrides."""
    if mode not in MODES:
        raise HarnessError(f"unknown training mode '{mode}' (modes: {', '.join(MODES)})")
    raw: dict[str, Any] = {}
    if path is not None:
        raw = read_yaml(Path(path))
    for key, value in explicit.items():
        if value is not None:
            raw = _merge(raw, {key: value})
    for item in overrides:
        key, value = parse_override(item)
        raw = _merge(raw, nest({key: value}))
    return from_mapping(mode, raw)


def shipped_configs() -> dict[str, Path]:
    """The configs under ``baselines/trainer/configs/``, by name (``emrl`` -> ``emrl.yaml``)."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.yaml"))}


def read_yaml(path: Path) -> dict[str, Any]:
    """A config file; a bare name (``emrl``, ``sft_cpu``) is one of the shipped configs."""
    if not path.is_file() and str(path) in shipped_configs():
        path = shipped_configs()[str(path)]
    if not path.is_file():
        raise HarnessError(f"config file '{path}' does not exist (shipped configs: "
                           f"{', '.join(shipped_configs())})")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise HarnessError(f"config file '{path}' is not valid YAML: {_first_line(exc)}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HarnessError(f"config file '{path}' must be a mapping of settings, not {type(data).__name__}")
    return data


def parse_override(item: str) -> tuple[str, Any]:
    """``a.b=value``; the value is read as JSON when it is JSON (numbers, true, null, lists, objects), else kept
    as a string (YAML would read ``save_strategy=no`` as false)."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise HarnessError(f"override '{item}' is not KEY=VALUE (e.g. trl.learning_rate=1e-5)")
    return key, parse_value(text)


def from_mapping(mode: str, raw: Mapping[str, Any]) -> TrainConfig:
    """Validate a plain mapping (a parsed YAML file) into a frozen :class:`TrainConfig`."""
    known = {f.name for f in dataclasses.fields(TrainConfig)} - {"mode"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise HarnessError(f"unknown setting '{unknown[0]}'{_hint(unknown[0], known)} (settings: "
                           f"{', '.join(sorted(known))})")
    d = dict(raw)
    if not d.get("model"):
        raise HarnessError("no model to train: set 'model:' in the config or pass --model CHECKPOINT_DIR")
    if not d.get("output_dir"):
        raise HarnessError("no output directory: set 'output_dir:' in the config or pass --out DIR")
    d["model"], d["output_dir"] = str(d["model"]), str(d["output_dir"])
    for key in ("data", "cache_dir"):
        if d.get(key) is not None:
            d[key] = str(d[key])
    d["seed"] = _int("seed", d.get("seed", 0), minimum=0)
    if d.get("limit") is not None:
        d["limit"] = _int("limit", d["limit"], minimum=1)
    d["task_options"] = _mapping("task_options", d.get("task_options", {}))
    d["rewards"] = _weights(d.get("rewards", {}))
    d["clinical_metrics"] = _names("clinical_metrics", d.get("clinical_metrics", CLINICAL_METRICS),
                                   tuple(ClinicalReward.METRICS))
    d["text_metrics"] = _names("text_metrics", d.get("text_metrics", ("bleu4", "rouge_l")), TextReward.METRICS)
    if d.get("sft_stages") is not None:
        d["sft_stages"] = _names("sft_stages", d["sft_stages"], None)
    for key in ("probe_prompts", "plot"):
        if key in d and not isinstance(d[key], bool):
            raise HarnessError(f"{key} must be true or false, not {d[key]!r}")
    d["lora"] = _lora(d.get("lora"))
    d["trl"] = _trl(mode, _mapping("trl", d.get("trl", {})))
    cfg = TrainConfig(mode=mode, **d)
    if mode == "emrl":
        if not cfg.active_rewards:
            raise HarnessError(f"every reward weight is 0: give at least one of {', '.join(reward_names())} a "
                               "weight > 0")
        if cfg.rewards.get("rejection", 0.0) > 0 and not cfg.probe_prompts:
            raise HarnessError("the rejection reward scores probe prompts: set probe_prompts: true or "
                               "rewards.rejection=0")
    return cfg


def dump(cfg: TrainConfig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"mode": cfg.mode, **cfg.to_dict()}, sort_keys=False))


# -- validation helpers --------------------------------------------------------------------------------------
def _weights(raw: Any) -> dict[str, float]:
    """The registered rewards' default weights with the config's; a metric weighted by name comes after them
    (in the config's order), checked now to be one a reward can be made of."""
    given = _mapping("rewards", raw)
    unknown = sorted(n for n in given if not is_reward(str(n)))
    if unknown:
        raise HarnessError(f"unknown reward '{unknown[0]}'{_hint(unknown[0], REWARDS.names())} (rewards: "
                           f"{', '.join(reward_names())}, or any metric of `harness list`)")
    out = default_weights()
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise HarnessError(f"reward weight rewards.{name} must be a number >= 0, not {value!r}")
        if name not in out and value > 0:
            metric_class(name)
        out[name] = float(value)
    return out


def _lora(raw: Any) -> LoraSettings | None:
    if raw is None or raw is False:
        return None
    if raw is True:
        return LoraSettings()
    given = _mapping("lora", raw)
    known = {f.name for f in dataclasses.fields(LoraSettings)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise HarnessError(f"unknown LoRA setting 'lora.{unknown[0]}' (settings: {', '.join(sorted(known))})")
    if "r" in given:
        given["r"] = _int("lora.r", given["r"], minimum=1)
    if "alpha" in given:
        given["alpha"] = _int("lora.alpha", given["alpha"], minimum=1)
    if "dropout" in given and not (isinstance(given["dropout"], (int, float)) and 0 <= given["dropout"] < 1):
        raise HarnessError(f"lora.dropout must be in [0, 1), not {given['dropout']!r}")
    if isinstance(given.get("target_modules"), list):
        given["target_modules"] = tuple(str(m) for m in given["target_modules"])
    return LoraSettings(**given)


def _trl(mode: str, given: dict[str, Any]) -> dict[str, Any]:
    cls = trl_config_class(mode)
    fields = {f.name for f in dataclasses.fields(cls)}
    for key in given:
        if key in RESERVED_TRL:
            raise HarnessError(f"trl.{key} is set by the trainer: use the top-level '{RESERVED_TRL[key]}:' "
                               "setting instead")
        if key not in fields:
            raise HarnessError(f"trl.{key} is not a {cls.__name__} field{_hint(key, fields)}")
    return given


def _names(key: str, raw: Any, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, (list, tuple)) or not values or not all(isinstance(v, str) for v in values):
        raise HarnessError(f"{key} must be a non-empty list of names, not {raw!r}")
    if allowed is not None:
        for v in values:
            if v not in allowed:
                raise HarnessError(f"{key}: unknown name '{v}'{_hint(v, allowed)} (known: {', '.join(allowed)})")
    return tuple(values)


def _mapping(key: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise HarnessError(f"{key} must be a mapping of settings, not {raw!r}")
    return dict(raw)


def _int(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise HarnessError(f"{key} must be an integer >= {minimum}, not {value!r}")
    return value


def _hint(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        elif isinstance(value, Mapping) and out.get(key) is True:  # `lora: true` then `lora.r=8`
            out[key] = dict(value)
        else:
            out[key] = value
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
