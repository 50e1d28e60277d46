"""Errors a user meets before any model work: one line each, printed as written."""

from typer.testing import CliRunner

from harness.cli import app
from harness.cli_support import friendly_errors
from harness.errors import HarnessError

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_error_text_is_not_read_as_rich_markup(capsys):
    @friendly_errors
    def fails():
        raise HarnessError("install it with: pip install 'emrl-harness[hf]' (see [bold]docs[/bold])")

    try:
        fails()
    except BaseException:
        pass
    err = capsys.readouterr().err
    assert "pip install 'emrl-harness[hf]'" in err and "[bold]docs[/bold]" in err


def test_a_not_run_reason_keeps_its_brackets():
    from harness.cli import results_table
    from rich.console import Console

    results = {"task": "t", "model": {"model_id": "m"}, "n_cases": 1,
               "metrics": {"radgraph_f1": {"status": "not_run", "reason": "pip install 'emrl-harness[metrics]'"}}}
    console = Console(record=True, width=200)
    console.print(results_table(results))
    assert "emrl-harness[metrics]" in console.export_text()
