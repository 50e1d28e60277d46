"""The built-in tasks, one folder each (data builder, prompts, config, evidence protocol), registered through the
``harness.tasks`` entry points in ``pyproject.toml``. A new task is a folder here (or in a package of its own:
``tests/plugin_pkg``) with a ``harness.task.Task`` subclass and one entry point.

``DEFAULT_TASK`` is the task ``harness run`` and ``harness data make`` use without ``--task`` (the
``harness.defaults`` entry point ``task``): the core names no task of its own.
"""

DEFAULT_TASK = "ct_tumor"
