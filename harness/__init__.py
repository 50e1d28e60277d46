"""emrl-harness: evaluation harness and reference trainer for grounded radiology report generation.

This package is the core: it names no task and imports none of the packages around it (``tasks``, ``baselines``,
``leaderboard``; ``tests/test_layering.py`` checks). Everything else plugs in through the entry-point groups of
:mod:`harness.registry`, the built-ins as a third-party package would (``tests/plugin_pkg`` is one to copy):

- a task: a :class:`harness.task.Task` subclass with a ``config.yaml`` beside it, declaring its ``modality`` and
  the data ``records`` it reads, in its own folder (``tasks/<name>/``), entry point ``harness.tasks``;
- a metric: a :class:`harness.metrics.base.Metric` (``harness.metrics``; by its name it is a reward too);
- a dataset loader: a :class:`harness.loaders.base.Loader` declaring the modality and record shape it gives
  (``harness.loaders``);
- a model backend: a :class:`harness.models.base.ModelBackend` (``harness.models``); a non-neural baseline: a
  class with ``needs`` (a protocol of :mod:`harness.task`) and ``answer`` (``harness.baselines``);
- a training reward: a ``baselines.trainer.rewards.Reward`` (``harness.rewards``);
- a ``harness`` sub-command: a Typer app or a function (``harness.commands``, mounted on first use).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emrl-harness")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
