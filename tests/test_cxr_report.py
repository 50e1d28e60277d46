"""cxr_report: the synthetic set, requests, answer parsing, and the baselines end to end through the runner."""

import pytest

from harness.errors import HarnessError
from harness.evaluate import RunSpec, evaluate
from harness.models.resolve import load_model
from harness.schema import Prediction
from tasks.cxr_report.task import CXRReportTask, parse_report

SMALL = {"splits": {"test": {"n_cases": 30}}}


@pytest.fixture(scope="module")
def task():
    return CXRReportTask(SMALL)


@pytest.fixture(scope="module")
def dataset(task):
    return task.load("test")


def test_synthetic_set_is_cached_and_hashed(task, dataset):
    assert len(dataset.cases) == 30 and len({c.case_id for c in dataset.cases}) == 30
    assert task.load("test").data_hash == dataset.data_hash
    assert CXRReportTask({"splits": {"test": {"n_cases": 30, "seed": 1}}}).load("test").data_hash != \
        dataset.data_hash
    case = dataset.cases[0]
    assert case.label_path is None and case.meta["image_size"] == [512, 512]
    assert case.reference_report.startswith("FINDINGS:") and "IMPRESSION:" in case.reference_report


def test_request_is_one_image_and_the_prompt(task, dataset):
    (req,) = task.requests(dataset.cases[0], "report", {})
    parts = req.messages[0]["content"]
    assert [p["type"] for p in parts] == ["image", "text"]
    (img,) = req.load_images()
    assert img.mode == "RGB" and img.size == (512, 512)
    assert CXRReportTask({"views": {"image_size": 256}}).requests(dataset.cases[0], "report", {})[0] \
        .load_images()[0].size == (256, 256)


def test_answers_parse_with_or_without_tags():
    a = parse_report("<report>FINDINGS: No pneumothorax.</report>")
    assert a.well_formed and a.report == "FINDINGS: No pneumothorax."
    b = parse_report("FINDINGS: No pneumothorax.")
    assert b.report == "FINDINGS: No pneumothorax." and b.problems == ("no <report> tag",)
    assert "empty report" in parse_report("<report> </report>").problems


def test_unknown_setting_and_split_are_refused(task):
    with pytest.raises(HarnessError, match="no setting 'viewz'"):
        CXRReportTask({"viewz": {}})
    with pytest.raises(HarnessError, match="no split 'dev'"):
        task.load("dev")
    with pytest.raises(HarnessError, match="needs --data"):
        task.load("test", dataset="mimic_cxr")


def _run(tmp_path, model, task_name="cxr_report", options=SMALL):
    spec = RunSpec(model=model, task=task_name, task_options=options, n_boot=50)
    return evaluate(spec, tmp_path / model.replace(":", "_")).results["metrics"]




def test_oracle_tops_every_text_clinical_and_probe_metric(tmp_path):
    oracle = _run(tmp_path, "baseline:oracle")
    others = {m: _run(tmp_path, f"baseline:{m}") for m in ("template", "hallucinator", "acquiescent")}
    clinical = [k for k in oracle if k.startswith(("finding_f1", "chexpert_f1", "entity_score"))]
    assert {"finding_f1", "chexpert_f1_micro_14", "chexpert_f1_macro_14", "chexpert_f1_micro_5"} <= set(clinical)
    assert {"false_rejection", "true_acceptance", "balanced_accuracy"} <= set(oracle)
    for name, m in oracle.items():
        assert m["status"] == "ok", (name, m)
        assert m["value"] == pytest.approx(1.0 if m["higher_is_better"] else 0.0), name
    for baseline, metrics in others.items():
        for name, m in metrics.items():
            if m["status"] == "ok" and m["higher_is_better"]:
                assert m["value"] <= oracle[name]["value"] + 1e-9, (baseline, name)
    assert others["template"]["finding_f1"]["value"] < 0.9 and others["template"]["chexpert_f1_micro_5"]["value"] < 0.5
    assert others["hallucinator"]["finding_f1"]["value"] < 1.0
    assert others["acquiescent"]["balanced_accuracy"]["value"] == pytest.approx(0.5)
    assert others["acquiescent"]["history_repeat_rate"]["value"] == pytest.approx(1.0)


def test_probes_are_true_or_false_findings_at_free_sites(dataset):
    from harness.metrics.evidence import states
    from harness.schema import Presence
    from tasks.cxr_report.probes import draft_for, make_probe

    kinds = set()
    for case in dataset.cases:
        probe = make_probe(case)
        if probe is None:
            continue
        kinds.add((probe.style, probe.true))
        present = [f for f in case.findings if f.presence is Presence.PRESENT]
        assert states(present, probe.finding) == probe.true, (case.case_id, probe)
        if probe.style == "draft" and not probe.true:
            from harness.findings import extract_findings

            assert states(extract_findings(draft_for(case, probe)), probe.finding)
    assert {s for s, _ in kinds} == {"yesno", "history", "draft"} and {t for _, t in kinds} == {True, False}


def test_whole_image_baseline_is_for_grounding_tasks(task):
    model = load_model("baseline:whole_image")
    with pytest.raises(HarnessError, match="baseline:whole_image needs a task with format_boxes"):
        model.bind(task)  # refused before any request is answered


def test_parse_reads_the_report_prediction(task, dataset):
    case = dataset.cases[0]
    pred = Prediction(key="k", case_id=case.case_id, kind="report", model_id="m",
                      text=task.format_answer(case.reference_report), latency_s=0.0)
    assert task.parse(case, {"report": pred}).report == " ".join(case.reference_report.split())
