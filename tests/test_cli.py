import json

import nibabel as nib
import numpy as np
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_oracle_run_then_rerun_does_no_model_work(tmp_path):
    out = tmp_path / "run"
    first = _run("run", "--model", "baseline:oracle", "--task", "ct_tumor", "--limit", "6", "--out", str(out),
                 "--bootstrap", "50")
    assert first.exit_code == 0, first.output
    assert "17 (0 from the cache, 17 generated)" in first.output  # 6 reports + 5 verifications + 6 probes
    second = _run("run", "--model", "baseline:oracle", "--task", "ct_tumor", "--limit", "6", "--out", str(out),
                  "--bootstrap", "50")
    assert second.exit_code == 0, second.output
    assert "17 from the cache, 0 generated" in second.output
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["bleu4"]["value"] == 1.0
    assert results["metrics"]["bleu4"]["variant"].startswith("sacrebleu 13a")
    for key in ("harness_version", "git_revision"):
        assert key in results["provenance"]
    assert results["data_hash"] and results["task_version"].startswith("1.0+")
    assert results["sampling"]["temperature"] == 0.0
    samples = [json.loads(l) for l in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 6 and all("bleu4" in s["scores"] for s in samples)


def test_score_rescores_without_the_model(tmp_path):
    out = tmp_path / "run"
    _run("run", "--model", "baseline:template", "--limit", "5", "--out", str(out), "--bootstrap", "20")
    before = json.loads((out / "results.json").read_text())["metrics"]["rouge_l"]["value"]
    res = _run("score", str(out), "--bootstrap", "20")
    assert res.exit_code == 0, res.output
    after = json.loads((out / "results.json").read_text())["metrics"]["rouge_l"]["value"]
    assert before == after < 1.0


def test_unknown_task_is_one_line_with_a_suggestion():
    res = _run("run", "--model", "baseline:oracle", "--task", "ct_tumour")
    assert res.exit_code == 2
    assert "unknown task 'ct_tumour'; did you mean 'ct_tumor'?" in res.output
    assert "Traceback" not in res.output


def test_unknown_model_is_one_line():
    res = _run("run", "--model", "baseline:oracel", "--limit", "2")
    assert res.exit_code == 2
    assert "did you mean 'oracle'" in res.output and "Traceback" not in res.output
    res = _run("run", "--model", "/does/not/exist", "--limit", "2")
    assert res.exit_code == 2 and "neither a local checkpoint" in res.output


def test_a_nan_volume_in_a_data_set_is_refused_at_load_and_skipped_with_skip_bad(tmp_path):
    """A NaN scan is named in one line before any model work, even for a baseline that draws no images (which
    would otherwise score it 1.0); --skip-bad leaves it out and counts it."""
    made = _run("data", "make", str(tmp_path / "set"), "--n", "3")
    assert made.exit_code == 0, made.output
    directory = next((tmp_path / "set").glob("ct_tumor-test-*"))
    victim = sorted((directory / "images").glob("*.nii.gz"))[1]
    arr = np.asanyarray(nib.load(victim).dataobj).astype(np.float32)
    arr[0, 0, 0] = np.nan
    nib.save(nib.Nifti1Image(arr, nib.load(victim).affine), victim)
    args = ("run", "--model", "baseline:oracle", "--data", str(directory), "--bootstrap", "10")
    res = _run(*args, "--out", str(tmp_path / "r"))
    assert res.exit_code == 2, res.output
    assert victim.name in res.output and "NaN" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r" / "predictions.jsonl").exists()  # refused before any model work
    res = _run(*args, "--out", str(tmp_path / "skip"), "--skip-bad")
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "skip" / "results.json").read_text())
    assert results["n_cases"] == 2 and results["data_info"]["skipped"] == 1
    assert victim.name in results["data_info"]["skipped_examples"][0]


def test_list_shows_tasks_metrics_models():
    res = _run("list")
    assert res.exit_code == 0
    for name in ("ct_tumor", "bleu", "rouge_l", "baseline:oracle", "baseline:template", "baseline:hallucinator",
                 "cross_view", "rejection", "ms_cxr", "cxr phrase_boxes records"):
        assert name in res.output
