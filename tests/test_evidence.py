"""E-MRL evidence metrics calibrated by the baselines, and the protocol's call budget."""

import pytest

from harness.evaluate import RunSpec, evaluate


def _metrics(tmp_path, model, limit=30):
    result = evaluate(RunSpec(model=f"baseline:{model}", task="ct_tumor", limit=limit, n_boot=50),
                      tmp_path / model)
    return {k: v.get("value") for k, v in result.results["metrics"].items()}, result.results


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evidence")
    return {m: _metrics(tmp, m) for m in ("oracle", "hallucinator", "acquiescent", "template")}


EVIDENCE = ("key_slice_hit", "local_vs_truth", "local_vs_gold", "local_supports_report", "plane_vs_truth",
            "plane_agreement", "false_rejection", "true_acceptance", "balanced_accuracy")


def test_oracle_scores_the_top_of_every_evidence_metric(scores):
    oracle, _ = scores["oracle"]
    for name in EVIDENCE:
        assert oracle[name] == pytest.approx(1.0), name
    assert oracle["key_slice_distance_mm"] == 0.0 and oracle["key_slice_missing"] == 0.0
    assert oracle["history_repeat_rate"] == 0.0
    for other in ("hallucinator", "acquiescent", "template"):
        m, _ = scores[other]
        for name in EVIDENCE:
            if m[name] is not None:
                assert m[name] <= oracle[name] + 1e-12, (other, name)


def test_hallucinator_is_penalised_by_cross_view_consistency(scores):
    assert scores["hallucinator"][0]["local_vs_truth"] < 0.9
    assert scores["hallucinator"][0]["plane_vs_truth"] < 1.0


def test_a_baseline_that_accepts_every_probe_scores_half_balanced_accuracy(scores):
    m, _ = scores["acquiescent"]
    assert m["balanced_accuracy"] == pytest.approx(0.5)
    assert m["true_acceptance"] == 1.0 and m["false_rejection"] == 0.0
    assert m["history_repeat_rate"] == 1.0


def test_a_report_without_key_slice_scores_zero_localization_and_is_counted(scores):
    m, results = scores["template"]
    assert m["key_slice_hit"] == 0.0 and m["key_slice_missing"] == 1.0
    assert results["metrics"]["local_vs_truth"]["status"] == "not_run"


def test_evidence_adds_fewer_calls_than_twice_the_report_task(scores):
    _, results = scores["oracle"]
    by_stage = results["requests"]["by_stage"]
    assert by_stage["report"] == 30
    assert by_stage["verify"] + by_stage["probe"] < 2 * by_stage["report"]


def test_evidence_metrics_without_masks_say_not_run(tmp_path, ct_task):
    from harness.scoring import score
    from harness.schema import Case, Prediction

    ds = ct_task.load("test")
    cases = [Case(**{**c.__dict__, "label_path": None}) for c in ds.cases[:3]]
    preds = {c.case_id: {"report": Prediction("k", c.case_id, "report", "m", "<report>x</report><key_slice>3"
                                                                             "</key_slice>", 0.0)} for c in cases}
    s = score(ct_task, cases, preds, ["localization", "multiplanar"], n_boot=0)
    for m in s.metrics:
        assert m.status == "not_run" and "no masks" in m.reason and m.value is None


def test_hallucination_rate_separates_the_hallucinator(scores):
    assert scores["oracle"][0]["hallucination_rate"] == 0.0
    assert scores["template"][0]["hallucination_rate"] == 0.0
    assert scores["hallucinator"][0]["hallucination_rate"] == 1.0
