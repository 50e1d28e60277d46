"""Sets written by `harness data make`: accepted by --data as written, malformed rows skipped with --skip-bad."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def made_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("made") / "set"
    res = _run("data", "make", out, "--n", "3")
    assert res.exit_code == 0, res.output
    return out


def test_data_make_dir_is_what_data_accepts(made_set, tmp_path):
    res = _run("run", "--model", "baseline:oracle", "--data", made_set, "--out", tmp_path / "r", "--bootstrap", "10",
               "--task-option", "evidence.probes=false")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r" / "results.json").read_text())["n_cases"] == 3


def test_skip_bad_skips_a_malformed_manifest_row(made_set, tmp_path):
    directory = tmp_path / "set"
    shutil.copytree(next(made_set.glob("ct_tumor-test-*")), directory)
    lines = (directory / "cases.jsonl").read_text().splitlines()
    lines.insert(1, '{"case_id": "broken", "task": ')
    (directory / "cases.jsonl").write_text("\n".join(lines) + "\n")
    args = ("run", "--model", "baseline:oracle", "--data", directory, "--bootstrap", "10",
            "--task-option", "evidence.probes=false")
    strict = _run(*args, "--out", tmp_path / "strict")
    assert strict.exit_code == 2 and "cases.jsonl, line 2: malformed case record" in strict.output
    assert "Traceback" not in strict.output
    skipping = _run(*args, "--out", tmp_path / "skip", "--skip-bad")
    assert skipping.exit_code == 0, skipping.output
    results = json.loads((tmp_path / "skip" / "results.json").read_text())
    assert results["n_cases"] == 3 and results["data_info"]["skipped"] == 1
