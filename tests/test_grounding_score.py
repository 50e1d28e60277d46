"""The grounding score: no model maxes it while failing an E-MRL axis, its axes are the registered metrics' own
numbers, and the oracle ranks strictly above the acquiescent, hallucinator and template baselines with CIs that
do not overlap (on a small ct_tumor and on the committed cxr_report submissions)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from harness.evaluate import RunSpec, evaluate
from harness.metrics.grounding_score import AXES, GroundingScoreMetric, geometric_mean
from harness.registry import TASKS
from tasks.ct_tumor.task import CTTumorTask

SMALL = "gs_ct_small"
FAILING = ("acquiescent", "hallucinator", "template")


class SmallCT(CTTumorTask):
    """ct_tumor on 12 cases: every stage, every probe style."""

    name = SMALL

    def __init__(self, overrides=None):
        super().__init__({"splits": {"test": {"n_cases": 12, "seed": 1000}}, **(overrides or {})})


def test_geometric_mean_is_zero_when_any_axis_is_zero_and_ignores_missing_axes():
    assert geometric_mean(np.array([1.0, 1.0, 1.0])) == 1.0
    assert geometric_mean(np.array([1.0, 0.0, 1.0])) == 0.0
    assert math.isclose(geometric_mean(np.array([0.25, 1.0, np.nan])), 0.5)
    assert np.isnan(geometric_mean(np.array([np.nan, np.nan])))
    draws = geometric_mean(np.array([[1.0, 0.5], [0.0, 1.0]]))
    assert np.allclose(draws, [math.sqrt(0.5), 0.0])


@pytest.mark.parametrize("axis", [a.name for a in AXES if not a.pooled_probe])
def test_failing_one_axis_caps_the_score(axis):
    """Perfect on every axis but one: the score is at most that axis's value to the power 1/k."""
    metric = GroundingScoreMetric()
    metric.axes = tuple(a for a in AXES if not a.pooled_probe)
    for bad in (0.0, 0.3):
        rows = [{"_axes": {a.name: (bad if a.name == axis else 1.0) for a in metric.axes}, "_probe": None}
                for _ in range(5)]
        score = metric.aggregate(rows)["grounding_score"]
        assert score <= bad ** (1 / len(metric.axes)) + 1e-12
        assert score < 1.0


def _probe_rows(outcomes):
    return [{"_axes": {}, "_probe": o} for o in outcomes]


def test_a_yes_sayer_and_a_history_repeater_score_zero_on_their_axes():
    metric = GroundingScoreMetric()
    metric.axes = tuple(a for a in AXES if a.pooled_probe)
    yes_to_all = _probe_rows([("yesno", True, True), ("yesno", False, True), ("history", False, True),
                              ("draft", True, True)])
    assert metric.axis_values(yes_to_all) == {"rejection": 0.0, "history_resistance": 0.0}
    perfect = _probe_rows([("yesno", True, True), ("yesno", False, False), ("history", False, False),
                           ("draft", False, False), ("history", True, None)])  # unparseable: left out
    assert metric.axis_values(perfect) == {"rejection": 1.0, "history_resistance": 1.0}


@pytest.fixture(scope="module")
def small_ct_results(harness_cache, tmp_path_factory):
    TASKS.register(SMALL, SmallCT)
    try:
        root = tmp_path_factory.mktemp("gs-runs")
        out = {}
        for name in ("oracle", *FAILING):
            evaluate(RunSpec(model=f"baseline:{name}", task=SMALL, n_boot=300), root / name)
            out[name] = _metrics(root / name)
        yield out
    finally:
        TASKS.unregister(SMALL)


def _metrics(run_dir: Path) -> dict:
    import json

    return json.loads((run_dir / "results.json").read_text())["metrics"]


def _strictly_below_with_separate_cis(oracle: dict, other: dict) -> None:
    assert other["value"] < oracle["value"]
    assert other["ci_high"] < oracle["ci_low"], (other, oracle)


def test_results_json_records_the_score_with_ci_and_the_axes_used(small_ct_results):
    m = small_ct_results["oracle"]["grounding_score"]
    assert m["status"] == "ok" and m["value"] == 1.0 and m["ci_low"] is not None and m["n"] == 12
    for axis in ("diagnosis", "no_hallucination", "localization", "verification", "rejection",
                 "history_resistance"):
        assert axis in m["variant"].split(". Left out")[0]
    assert "box_grounding" in m["variant"].split(". Left out")[1]  # said, not silently dropped


@pytest.mark.parametrize("baseline", FAILING)
def test_failing_baselines_rank_strictly_below_the_oracle_on_ct_tumor(small_ct_results, baseline):
    _strictly_below_with_separate_cis(small_ct_results["oracle"]["grounding_score"],
                                      small_ct_results[baseline]["grounding_score"])


def test_axes_are_the_registered_metrics_numbers(small_ct_results):
    """The worked examples in the README: each failing baseline fails its axis in the registered metrics."""
    acq, hal, tpl = (small_ct_results[n] for n in FAILING)
    assert acq["history_repeat_rate"]["value"] == 1.0 and acq["balanced_accuracy"]["value"] == 0.5
    assert hal["hallucination_rate"]["value"] == 1.0
    assert tpl["key_slice_hit"]["value"] == 0.0


def test_committed_cxr_report_baselines_rank_below_the_oracle():
    from leaderboard import DEFAULT_SUBMISSIONS
    from leaderboard.rescore import TaskContext, rescore
    from leaderboard.schema import load_submission

    ctx = TaskContext.load("cxr_report")
    assert ctx.primary_output() == "grounding_score"
    scores = {}
    for name in ("oracle", *FAILING):
        path = DEFAULT_SUBMISSIONS / "cxr_report" / f"baseline-{name}.json"
        scores[name] = rescore(load_submission(path), ctx, str(path), n_boot=300).metrics["grounding_score"]
    for name in FAILING:
        _strictly_below_with_separate_cis(scores["oracle"], scores[name])
