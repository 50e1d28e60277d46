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


def test_unknown_metric_is_refused_before_any_model_work(tmp_path):
    res = _run("run", "--model", "baseline:oracle", "--metrics", "bleu,finding_f2", "--out", str(tmp_path / "r"))
    assert res.exit_code == 2 and "unknown metric 'finding_f2'; did you mean 'finding_f1'?" in res.output
    assert not (tmp_path / "r").exists()  # no data loaded, no run directory written


def test_nested_task_options_are_checked_by_name_and_type(tmp_path):
    for option, said in (("views.nope=1", "ct_tumor has no setting 'views.nope'"),
                         ("views.n_axial=abc", "ct_tumor setting 'views.n_axial' takes a whole number, got 'abc'"),
                         ("evidence.verify=maybe", "'evidence.verify' takes true or false"),
                         ("views=3", "'views' is a group")):
        res = _run("run", "--model", "baseline:oracle", "--task-option", option, "--out", str(tmp_path / "r"))
        assert res.exit_code == 2, (option, res.output)
        assert said in res.output and "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_unknown_model_options_are_refused_before_any_model_work(tmp_path):
    res = _run("run", "--model", "baseline:oracle", "--model-option", "temperature=0.5", "--out", str(tmp_path / "r"))
    assert res.exit_code == 2 and "baselines take no --model-option (got temperature)" in res.output
    res = _run("run", "--model", str(tmp_path), "--model-option", "dvice=cpu", "--out", str(tmp_path / "r"))
    assert res.exit_code == 2 and "unknown transformers backend option(s) dvice" in res.output
    assert not (tmp_path / "r").exists()
