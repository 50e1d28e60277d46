"""Runs never silently overwrite each other, seeds do one job each, and re-scoring keeps what the run measured."""

import json

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import HarnessError
from harness.evaluate import RunSpec, evaluate, rescore

runner = CliRunner()
REPORT_ONLY = {"evidence": {"verify": False, "probes": False}}


def _run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _spec(**kw):
    return RunSpec(**{"model": "baseline:template", "task": "ct_tumor", "limit": 5, "n_boot": 200,
                      "task_options": REPORT_ONLY, **kw})


@pytest.mark.parametrize("change", [{"limit": 3}, {"task_options": {**REPORT_ONLY, "views": {"n_axial": 16}}},
                                    {"model": "baseline:oracle"}, {"skip_bad": True}])
def test_a_different_run_in_the_same_directory_is_refused_without_overwrite(tmp_path, change):
    run_dir = tmp_path / "run"
    evaluate(_spec(), run_dir)
    before = (run_dir / "results.json").read_text()
    with pytest.raises(HarnessError, match=r"holds another run .* use another --out, or --overwrite"):
        evaluate(_spec(**change), run_dir)
    assert (run_dir / "results.json").read_text() == before
    replaced = evaluate(_spec(**change), run_dir, overwrite=True)
    lines = (run_dir / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == replaced.results["n_cases"] == change.get("limit", 5)  # the old answers are gone


def test_the_same_run_again_resumes_in_place(tmp_path):
    evaluate(_spec(), tmp_path / "run")
    again = evaluate(_spec(n_boot=50), tmp_path / "run")  # CI settings do not make another run
    assert again.results["requests"]["cached"] == 5


def test_compare_warns_when_case_sets_or_task_versions_differ(tmp_path):
    evaluate(_spec(), tmp_path / "a")
    evaluate(_spec(limit=3), tmp_path / "b")
    evaluate(_spec(task_options={**REPORT_ONLY, "views": {"n_axial": 16}}), tmp_path / "c")
    res = _run("compare", tmp_path / "a", tmp_path / "b")
    assert res.exit_code == 0 and "different case sets" in res.output and "n=5" in res.output and "n=3" in res.output
    res = _run("compare", tmp_path / "a", tmp_path / "c")
    assert "different task versions" in res.output and "different case sets" not in res.output
    res = _run("compare", tmp_path / "a", tmp_path / "a")
    assert "warning" not in res.output


def test_the_sampling_seed_leaves_the_data_and_the_bootstrap_alone(tmp_path):
    base = evaluate(_spec(), tmp_path / "s0").results
    other = evaluate(_spec(seed=7, sampling=_spec().sampling.__class__(seed=7)), tmp_path / "s7").results
    assert other["data_hash"] == base["data_hash"] and other["cases_hash"] == base["cases_hash"]
    assert other["metrics"]["rouge_l"]["ci_low"] == base["metrics"]["rouge_l"]["ci_low"]
    boot = evaluate(_spec(bootstrap_seed=3), tmp_path / "b3").results
    assert boot["bootstrap_seed"] == 3 and boot["data_hash"] == base["data_hash"]
    assert boot["metrics"]["rouge_l"]["value"] == base["metrics"]["rouge_l"]["value"]
    assert (boot["metrics"]["rouge_l"]["ci_low"], boot["metrics"]["rouge_l"]["ci_high"]) != \
        (base["metrics"]["rouge_l"]["ci_low"], base["metrics"]["rouge_l"]["ci_high"])


def test_score_keeps_the_runs_timings_and_request_counts(tmp_path):
    first = evaluate(_spec(), tmp_path / "run").results
    again = rescore(tmp_path / "run", n_boot=50).results
    assert again["requests"] == first["requests"] and again["requests"]["generated"] == 5
    for key in ("data_s", "model_s", "predict_total_s"):
        assert again["timings"][key] == first["timings"][key]
    assert "score_s" in again["timings"]
