"""The core does not depend on the packages around it: ``harness.cli`` mounts their commands on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

OUTER = ("baselines", "leaderboard", "tasks")


def test_importing_the_cli_imports_no_outer_package():
    code = ("import json, sys, harness.cli; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {OUTER!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("command, said", [("submit", "pack its predictions"), ("leaderboard", "static site"),
                                           ("train", "E-MRL GRPO"), ("zoo", "model cards")])
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
