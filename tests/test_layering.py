"""The core does not depend on the packages around it: no module under ``harness/`` imports ``tasks``,
``baselines`` or ``leaderboard`` (at import time or inside a function), none names a built-in task in its code,
and ``harness.cli`` mounts the outer packages' commands on first use."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

OUTER = ("baselines", "leaderboard", "tasks")
CORE = Path(__file__).resolve().parents[1] / "harness"
#: the built-in tasks' names, as a string in code (a docstring's example may name one)
BUILT_IN_TASK = re.compile(r"\b(ct_tumor|cxr_report|cxr_grounding)\b")


def _core_modules() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(CORE.parent)), ast.parse(path.read_text(), str(path)))
            for path in sorted(CORE.rglob("*.py"))]


def _docstrings(tree: ast.Module) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def test_no_core_module_imports_an_outer_package():
    found = []
    for name, tree in _core_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
                  in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)):
                modules = [str(node.args[0].value)]
            else:
                continue
            found += [f"{name}:{node.lineno} {m}" for m in modules if m.split(".")[0] in OUTER]
    assert found == []


def test_no_core_module_names_a_built_in_task():
    found = []
    for name, tree in _core_modules():
        docs = _docstrings(tree)
        found += [f"{name}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                  and BUILT_IN_TASK.search(node.value)]
    assert found == []


def test_the_default_task_is_the_installed_packages_not_the_cores():
    from harness.registry import DEFAULTS, default_task

    import tasks

    assert default_task() == tasks.DEFAULT_TASK
    DEFAULTS.register("task", "plug_in_task")
    try:
        assert default_task() == "plug_in_task"
    finally:
        DEFAULTS.unregister("task")


def test_importing_the_cli_imports_no_outer_package():
    code = ("import json, sys, harness.cli; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {OUTER!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("command, said", [("submit", "pack its predictions"), ("leaderboard", "static site"),
                                           ("train", "E-MRL GRPO"), ("zoo", "model cards"),
                                           ("model", "make-tiny")])
def test_the_outer_commands_are_mounted_when_called(command, said):
    from harness.cli import app

    res = CliRunner().invoke(app, [command, "--help"], catch_exceptions=False)
    assert res.exit_code == 0 and said in " ".join(res.output.split()), res.output


def test_the_main_help_lists_the_outer_commands_after_the_core_ones():
    from harness.cli import app

    res = CliRunner().invoke(app, ["--help"], catch_exceptions=False)
    assert res.exit_code == 0
    listed = [line.strip("│ ").split(" ")[0] for line in res.output.splitlines() if line.startswith("│ ")]
    listed = [name for name in listed if name]
    assert listed.index("run") < listed.index("submit") < listed.index("train")
    assert {"leaderboard", "zoo"} <= set(listed)
    assert "baselines" not in listed  # the zoo's old name is a hidden alias


def test_the_zoo_old_name_still_runs_and_says_it_is_deprecated():
    from harness.cli import app

    new = CliRunner().invoke(app, ["zoo", "list", "--markdown"], catch_exceptions=False)
    old = CliRunner().invoke(app, ["baselines", "list", "--markdown"], catch_exceptions=False)
    assert new.exit_code == old.exit_code == 0
    notice = [line for line in old.output.splitlines() if "deprecated" in line]
    assert notice == ["`harness baselines` is deprecated: it is now `harness zoo`"]
    assert [line for line in old.output.splitlines() if line not in notice] == new.output.splitlines()


def test_a_registered_command_is_mounted_like_the_outer_packages():
    """Sub-commands are an entry-point group (harness.commands): a plug-in's is listed and run, and a core
    command's name stays the core's."""
    from harness.cli import app
    from harness.registry import COMMANDS

    def hello(name: str = typer.Option("world", "--name")) -> None:
        """Say hello."""
        typer.echo(f"hello {name}")

    COMMANDS.register("hello", hello)
    COMMANDS.register("run", hello)
    try:
        res = CliRunner().invoke(app, ["hello", "--name", "plug-in"], catch_exceptions=False)
        assert res.exit_code == 0 and res.output.strip() == "hello plug-in"
        assert "Say hello" in CliRunner().invoke(app, ["--help"]).output
        assert "--model" in CliRunner().invoke(app, ["run", "--help"]).output  # the core's run, not hello
    finally:
        COMMANDS.unregister("hello")
        COMMANDS.unregister("run")
