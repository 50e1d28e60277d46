"""Name -> plug-in lookup through Python entry points.

Built-in tasks, metrics, models, loaders, rewards and outer commands register through the same entry-point groups
a third-party package uses (``harness.tasks``, ``harness.metrics``, ``harness.models``, ``harness.baselines``,
``harness.loaders``, ``harness.rewards``, ``harness.commands``), so adding one never needs a fork. Entries are
loaded only when used: listing names imports nothing. The core names no task: the task its commands use without
``--task`` is the ``harness.defaults`` entry ``task`` of the installed packages (:func:`default_task`).
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


class UnknownNameError(HarnessError):
    pass


@lru_cache(maxsize=None)
def _group(group: str) -> dict[str, Any]:
    """A group's entry points, scanned once per process: each scan reads every installed distribution's metadata
    (about 50 ms), and a run looks names up dozens of times."""
    return {ep.name: ep for ep in entry_points(group=group)}


@lru_cache(maxsize=None)
def _clashes(group: str) -> dict[str, list[str]]:
    """Names two installed distributions declare with different targets ("dist: module:attr" each): the dict of
    ``_group`` would keep one of them silently."""
    seen: dict[str, dict[str, str]] = {}
    for ep in entry_points(group=group):
        dist = getattr(getattr(ep, "dist", None), "name", None) or ep.value
        # one distribution met twice (its metadata beside the source tree of an editable install) is one package
        seen.setdefault(ep.name, {}).setdefault(dist, ep.value)
    return {name: [f"{dist}: {value}" for dist, value in by_dist.items()]
            for name, by_dist in seen.items() if len(set(by_dist.values())) > 1}


class Registry(Generic[T]):
    def __init__(self, group: str, kind: str):
        self.group = group
        self.kind = kind
        self._extra: dict[str, Any] = {}

    def register(self, name: str, obj: Any) -> None:
        """Register at run time (tests, notebooks); an entry point of the same name is shadowed."""
        self._extra[name] = obj

    def unregister(self, name: str) -> None:
        self._extra.pop(name, None)

    def _entry_points(self) -> dict[str, Any]:
        return _group(self.group)

    def names(self) -> list[str]:
        return sorted(set(self._entry_points()) | set(self._extra))

    def get(self, name: str) -> Any:
        if name in self._extra:
            return self._extra[name]
        eps = self._entry_points()
        clash = _clashes(self.group).get(name)
        if clash:
            raise HarnessError(f"{self.kind} '{name}' is declared by more than one installed package "
                               f"(entry point group {self.group}): {'; '.join(clash)}; uninstall one")
        if name not in eps:
            hint = difflib.get_close_matches(name, self.names(), n=1)
            msg = f"unknown {self.kind} '{name}'"
            msg += f"; did you mean '{hint[0]}'?" if hint else f"; known: {', '.join(self.names()) or 'none'}"
            raise UnknownNameError(msg)
        try:
            return eps[name].load()
        except ImportError as exc:  # a plug-in whose optional dependency is missing
            raise HarnessError(f"{self.kind} '{name}' could not be loaded: {exc}") from exc

    def describe(self, name: str) -> str:
        """First paragraph of the plug-in's docstring, on one line."""
        try:
            obj = self.get(name)
        except HarnessError as exc:
            return f"(unavailable: {exc})"
        doc = (getattr(obj, "__doc__", None) or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


TASKS: Registry[Any] = Registry("harness.tasks", "task")
METRICS: Registry[Any] = Registry("harness.metrics", "metric")
MODELS: Registry[Any] = Registry("harness.models", "model backend")
BASELINES: Registry[Any] = Registry("harness.baselines", "baseline")
#: dataset loaders (``harness.loaders.base.Loader`` subclasses), chosen by the modality and record shape a task reads
LOADERS: Registry[Any] = Registry("harness.loaders", "dataset")
#: ``harness`` sub-commands of the packages around the core (a Typer app, or a function that becomes one command)
COMMANDS: Registry[Any] = Registry("harness.commands", "command")
#: the trainer's reward functions (``baselines.trainer.rewards.Reward`` subclasses); a metric's name is one too
REWARDS: Registry[Any] = Registry("harness.rewards", "reward")
#: model families the transformers backend feeds a whole volume (keyed by the checkpoint config's ``model_type``)
VOLUME_MODELS: Registry[Any] = Registry("harness.volume_models", "volume model family")
#: defaults the packages around the core give the core's options (``task``: the task name ``--task`` means when
#: it is not given)
DEFAULTS: Registry[Any] = Registry("harness.defaults", "default")


def default_task() -> str:
    """The task a command uses without ``--task``: the installed ``harness.defaults`` entry ``task`` (the built-in
    tasks' package declares one); with none installed, ``--task`` is required."""
    if "task" not in DEFAULTS.names():
        raise HarnessError(f"no default task is installed: name one with --task ({', '.join(TASKS.names())})")
    return str(DEFAULTS.get("task"))
