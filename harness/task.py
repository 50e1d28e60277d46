"""The contract a task implements: its cases, the requests of each protocol stage, and how answers parse."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from harness.errors import HarnessError
from harness.schema import Case, Dataset, Finding, Prediction, Request, stable_hash
from harness.settings import merge_settings, packaged_settings


@dataclass(frozen=True)
class Answer:
    """A model's answer for one case, parsed; malformed answers parse too, with ``problems`` saying how."""

    report: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def well_formed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ScoredItem:
    """What a metric sees of one case: the truth, every prediction of every stage, and the parsed answer."""

    case: Case
    answer: Answer
    predictions: Mapping[str, Prediction]


class Task(ABC):
    """A benchmark task. Subclasses are registered under the ``harness.tasks`` entry-point group."""

    name: str
    stages: tuple[str, ...] = ("report",)
    default_metrics: tuple[str, ...] = ()
    #: what it reads from a data set on disk: the images' modality (``ct``, ``cxr``) and the record shapes
    #: (``harness.loaders.base.RECORD_SHAPES``); every registered loader that produces them can serve it
    modality: str = ""
    records: tuple[str, ...] = ()
    #: setting groups a model may set defaults for (``ModelBackend.task_defaults``), e.g. the box syntax it emits
    model_settings: tuple[str, ...] = ()
    #: the package whose ``config.yaml`` holds the task's default settings [the package of the first class in
    #: the task's MRO that is defined inside a package]
    config_package: str | None = None
    #: the settings read by :meth:`load_settings`: the packaged defaults with ``--task-option`` overrides
    cfg: Mapping[str, Any]

    def load_settings(self, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
        """Sets and returns ``self.cfg``: the packaged ``config.yaml`` with ``overrides`` merged in, every key and
        type checked against the defaults (``harness.settings.merge_settings``)."""
        package = self.config_package or next(
            (p for p in (c.__module__.rpartition(".")[0] for c in type(self).__mro__) if p), "")
        if not package:
            raise HarnessError(f"task {self.name} has no config_package (the package holding its config.yaml)")
        self.cfg = merge_settings(self.name, packaged_settings(package), overrides)
        return self.cfg

    @cached_property
    def version(self) -> str:
        """The config's ``version`` and a hash of :meth:`config`, so that a changed setting is a new version; a
        task without settings sets ``version`` as a class attribute instead."""
        return f"{self.cfg['version']}+{stable_hash(self.config(), 8)}"

    def split_spec(self, split: str) -> Mapping[str, Any]:
        """The settings of ``split`` under the config's ``splits``; an unknown split is refused, naming the known."""
        splits = self.cfg["splits"]
        if split not in splits:
            raise HarnessError(f"{self.name} has no split '{split}' (splits: {', '.join(splits)})")
        return splits[split]

    def load(self, split: str = "test", data: Path | None = None, seed: int = 0, cache_dir: Path | None = None,
             dataset: str | None = None, skip_bad: bool = False, limit: int | None = None) -> Dataset:
        """The cases of a split: the built-in synthetic set when ``data`` is None (:meth:`load_synthetic`), else
        the data set at ``data`` read by its loader (``dataset`` names its layout, ``skip_bad`` skips and counts
        malformed records, ``limit`` keeps the first N cases), then passed through :meth:`on_disk`."""
        if data is not None:
            from harness.loaders import load_data  # imported on use: the loaders pull in their readers

            ds = load_data(Path(data), self, dataset=dataset, skip_bad=skip_bad, split=split,
                           cache_dir=cache_dir, limit=limit)
            return self.on_disk(ds, skip_bad=skip_bad, limit=limit, cache_dir=cache_dir)
        if dataset is not None:
            raise HarnessError(f"--dataset {dataset} needs --data PATH (the dataset's folder on disk)")
        return self.load_synthetic(split, seed, cache_dir)

    def load_synthetic(self, split: str, seed: int, cache_dir: Path | None) -> Dataset:
        """The task's built-in synthetic set of ``split`` (``seed`` offsets the split's own seed)."""
        raise HarnessError(f"{self.name} has no built-in synthetic set: pass --data PATH")

    def on_disk(self, ds: Dataset, *, skip_bad: bool, limit: int | None, cache_dir: Path | None) -> Dataset:
        """A set read from disk by its loader, as the task evaluates it (checked, regrouped); as it is by default."""
        return ds

    @abstractmethod
    def requests(self, case: Case, stage: str, previous: Mapping[str, Prediction]) -> Sequence[Request]:
        """The model calls of ``stage`` for ``case``; ``previous`` holds the earlier stages' predictions by kind."""

    @abstractmethod
    def parse(self, case: Case, predictions: Mapping[str, Prediction]) -> Answer:
        """The main answer of a case from its predictions."""

    def config(self) -> Mapping[str, Any]:
        """Everything that changes what the model sees; recorded in results and part of the cache key."""
        return {}

    def max_images_per_request(self) -> int | None:
        """The most images one request of any stage carries (None: unknown). Engines that reserve memory per image
        (vLLM's ``limit_mm_per_prompt``) size themselves by it, not by whichever batch happens to come first: on
        resume that is a later stage's."""
        return None


# -- what non-neural baselines and the trainer need from a task, beyond the contract above -------------------------
class ReferenceAnswers(Protocol):
    """A task that writes the true answer to any of its requests: the oracle's answers, SFT's targets."""

    def reference_answer(self, request: Request) -> str: ...


class ReportAnswers(ReferenceAnswers, Protocol):
    """A report task that can write any report in its answer form, an all-normal one (the template), and the
    answers a probe fixes by itself."""

    def format_answer(self, report: str, key_slice: int | None = None) -> str: ...

    def normal_report(self) -> str: ...

    def reply(self, request: Request, agree: bool) -> str | None:
        """The answer agreeing (or not) with what a probe ``request`` puts to the model, where the request alone
        fixes it (yes or no to a question; agreeing with a draft keeps it); None where the answer is a report
        (see :func:`probe_reply`)."""
        ...


class FindingEdits(ReportAnswers, Protocol):
    """A report task whose answers can gain a finding: an invented one (the hallucinator) or one suggested to the
    model (the acquiescent baseline)."""

    def invent_finding(self, case: Case, rng: Any) -> tuple[Finding, str] | None:
        """A plausible finding absent from the case's truth and its sentence; None when none is left to invent."""
        ...

    def suggested_finding(self, request: Request) -> tuple[Finding, str] | None:
        """The finding a probe ``request`` suggests and the sentence stating it; None when it suggests none."""
        ...

    def state_finding(self, request: Request, answer: str, finding: Finding, sentence: str) -> str:
        """``answer`` (to ``request``, in the task's answer form) also stating ``finding`` in ``sentence``, where
        that step's answer states findings (its report, the view it describes)."""
        ...


def edit_tag(answer: str, tag: str, edit: Callable[[str], str]) -> str:
    """``answer`` with the text of its first ``<tag>...</tag>`` replaced by ``edit(text)`` (unchanged without one):
    how a task edits its tagged answers for the baselines."""
    pattern = re.compile(rf"(<{re.escape(tag)}>)(.*?)(</{re.escape(tag)}>)", re.S)
    return pattern.sub(lambda m: m.group(1) + edit(m.group(2)) + m.group(3), answer, count=1)


def probe_reply(request: Request, agree: bool, report_answer: Callable[[str], str]) -> str | None:
    """``ReportAnswers.reply`` for a task whose probes are ``harness.schema.Probe`` in ``request.info["probe"]``
    (a draft probe's draft in ``info["draft"]``): "Yes." / "No." to a yes/no question, agreeing with a draft
    answers it unchanged (``report_answer`` puts a report in the form the probe asks for); None otherwise."""
    probe = request.info.get("probe") if request.kind == "probe" else None
    if probe is None:
        return None
    if probe.style == "yesno":
        return "Yes." if agree else "No."
    if probe.style == "draft" and agree:
        return report_answer(request.info["draft"])
    return None


class BoxAnswers(ReferenceAnswers, Protocol):
    """A grounding task that writes boxes (normalised x0, y0, x1, y1) the way its prompt asks."""

    def format_boxes(self, request: Request, boxes: Sequence[tuple[float, float, float, float]]) -> str: ...


def protocol_methods(protocol: type) -> list[str]:
    """The methods a protocol declares, its bases' included."""
    return sorted({name for cls in protocol.__mro__ if getattr(cls, "_is_protocol", False) and cls is not Protocol
                   for name, value in vars(cls).items() if callable(value) and not name.startswith("_")})


def require(task: Any, protocol: type, user: str) -> Any:
    """``task``, checked to have every method of ``protocol``; else a one-line error naming what ``user`` (e.g.
    ``baseline:oracle``) needs and what the task lacks."""
    missing = [m for m in protocol_methods(protocol) if not callable(getattr(task, m, None))]
    if missing:
        raise HarnessError(f"{user} needs a task with {', '.join(protocol_methods(protocol))} "
                           f"({protocol.__name__}); '{getattr(task, 'name', type(task).__name__)}' has no "
                           f"{', '.join(missing)}")
    return task
