"""The Hugging Face `evaluate` modules load from their local folders with the hub switched off and give the numbers
`harness score-reports` gives."""

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

evaluate = pytest.importorskip("evaluate")  # in the test extra; skipped only outside tox

from harness.evaluate_support import module_path  # noqa: E402

REFERENCE = json.loads((Path(__file__).parent / "data" / "coco_reference.json").read_text())
IDS = list(REFERENCE["references"])
PREDICTIONS = [REFERENCE["predictions"][i][0] for i in IDS]
REFERENCES = [REFERENCE["references"][i][0] for i in IDS]
MODULES = ("coco_bleu", "coco_rouge_l", "coco_cider_d", "finding_f1", "entity_score", "chexpert_f1")


@pytest.fixture(scope="module")
def score_reports_values(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scored")
    (tmp / "p.json").write_text(json.dumps(REFERENCE["predictions"]))
    (tmp / "r.json").write_text(json.dumps(REFERENCE["references"]))
    res = CliRunner().invoke(app, ["score-reports", str(tmp / "p.json"), str(tmp / "r.json"), "--out",
                                   str(tmp / "out"), "--bootstrap", "0", "--metrics", ",".join(MODULES)])
    assert res.exit_code == 0, res.output
    return {k: m["value"] for k, m in json.loads((tmp / "out" / "results.json").read_text())["metrics"].items()}


@pytest.fixture(scope="module")
def modules_cache(tmp_path_factory):
    """evaluate copies a module's script into its modules cache before importing it: one per test module, not the
    user's ~/.cache (one directory, since evaluate imports them all as one package)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluate.config, "HF_MODULES_CACHE", tmp_path_factory.mktemp("hf-modules"))
        yield


@pytest.fixture
def offline(monkeypatch, modules_cache):
    for var in ("HF_HUB_OFFLINE", "HF_EVALUATE_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(var, "1")

    def no_network(*args, **kwargs):
        raise AssertionError("evaluate tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)


@pytest.mark.parametrize("name", MODULES)
def test_module_loads_offline_and_equals_score_reports(offline, score_reports_values, name):
    metric = evaluate.load(module_path(name))
    values = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert values and set(values) <= set(score_reports_values)
    for key, value in values.items():
        assert value == pytest.approx(score_reports_values[key], abs=1e-12), key


def test_coco_modules_take_several_references(offline):
    metric = evaluate.load(module_path("coco_bleu"))
    single = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    listed = metric.compute(predictions=PREDICTIONS, references=[[r] for r in REFERENCES])
    assert single == listed
    assert single["coco_bleu4"] == pytest.approx(REFERENCE["scores"]["coco_bleu4"], abs=1e-12)


def test_unknown_module_names_the_known_ones():
    with pytest.raises(ValueError, match="coco_bleu"):
        module_path("bleu")
