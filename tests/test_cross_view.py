"""Cross-view consistency as E-MRL defines it: the answer about the named slice, shown alone, against the truth in
that slice and the gold report. An empty slice said to be empty is credited only on a tumor-free case."""

from __future__ import annotations

import pytest

from baselines.trainer.rewards import RewardContext, build_rewards
from harness.metrics.evidence import CrossViewMetric, MultiPlanarMetric, set_f1
from harness.schema import Prediction
from harness.task import ScoredItem

NOTHING = "".join(f"<{p}>No tumor is seen.</{p}>" for p in ("axial", "coronal", "sagittal"))


def _item(task, case, report_text, verify_text):
    preds = {kind: Prediction(f"{case.case_id}/{kind}", case.case_id, kind, "m", text, 0.0)
             for kind, text in (("report", report_text), ("verify", verify_text))}
    return ScoredItem(case=case, answer=task.parse(case, preds), predictions=preds)


def _slice(task, case, with_tumor):
    """The 1-based number of a global-view slice that cuts (or cuts no) tumor."""
    for i, z in enumerate(task.slices_of(case), 1):
        if any(l.z_range[0] <= z <= l.z_range[1] for l in case.lesions) == with_tumor:
            return i
    pytest.skip("no such slice in this case's global view")


@pytest.fixture(scope="module")
def tumor_case(ct_test_set):
    return next(c for c in ct_test_set.cases if c.lesions)


@pytest.fixture(scope="module")
def clean_case(ct_test_set):
    return next(c for c in ct_test_set.cases if not c.lesions)


class Answers:
    """A verifier that answers every verification question with one fixed text."""

    lockstep = False

    def __init__(self, text):
        self.text, self.asked = text, 0

    def generate(self, requests):
        self.asked += len(requests)
        return [self.text] * len(requests)


def _reward(task, case, report_text, verify_text):
    verifier = Answers(verify_text)
    reward = build_rewards(["cross_view"], RewardContext.of(task, [case]), verifier)[0]
    value = reward(prompts=[[]], completions=[[{"role": "assistant", "content": report_text}]],
                   case_id=[case.case_id], kind=["report"])
    return value[0], verifier.asked


def test_empty_slice_said_empty_scores_zero_on_a_case_with_a_tumor(ct_task, tumor_case):
    """The report states the case's tumor, names a slice that shows none, then says "no tumor" there: truthful
    about that slice, but no evidence for the report (set_f1's old both-empty = 1 gave it 1.0)."""
    report = ct_task.format_answer(tumor_case.reference_report, _slice(ct_task, tumor_case, with_tumor=False))
    row = CrossViewMetric().per_case([_item(ct_task, tumor_case, report, NOTHING)])[0]
    assert row["local_vs_truth"] == 0.0 and row["local_vs_gold"] == 0.0 and row["local_supports_report"] == 0.0
    assert MultiPlanarMetric().per_case([_item(ct_task, tumor_case, report, NOTHING)])[0]["plane_vs_truth"] < 1.0
    value, asked = _reward(ct_task, tumor_case, report, NOTHING)
    assert asked == 1 and value == 0.0  # the trainer's reward re-queries, and gives no credit either


def test_empty_slice_said_empty_scores_one_on_a_tumor_free_case(ct_task, clean_case):
    report = ct_task.format_answer(clean_case.reference_report, 1)
    row = CrossViewMetric().per_case([_item(ct_task, clean_case, report, NOTHING)])[0]
    assert row["local_vs_truth"] == 1.0 and row["local_vs_gold"] == 1.0
    assert MultiPlanarMetric().per_case([_item(ct_task, clean_case, report, NOTHING)])[0]["plane_vs_truth"] == 1.0
    assert _reward(ct_task, clean_case, report, NOTHING) == (1.0, 1)


def test_slice_showing_the_reported_tumor_and_said_so_scores_one(ct_task, tumor_case):
    report = ct_task.format_answer(tumor_case.reference_report, _slice(ct_task, tumor_case, with_tumor=True))
    request = ct_task.requests(tumor_case, "verify", {"report": Prediction("k", tumor_case.case_id, "report", "m",
                                                                           report, 0.0)})[0]
    truthful = ct_task.reference_answer(request)
    row = CrossViewMetric().per_case([_item(ct_task, tumor_case, report, truthful)])[0]
    assert row["local_vs_truth"] == 1.0 and row["local_vs_gold"] == 1.0 and row["local_supports_report"] == 1.0
    assert _reward(ct_task, tumor_case, report, truthful) == (1.0, 1)
    # the same slice said to be empty: the tumor it shows is missed
    assert CrossViewMetric().per_case([_item(ct_task, tumor_case, report, NOTHING)])[0]["local_vs_truth"] == 0.0


def test_a_slice_showing_none_of_the_reports_tumors_scores_zero_against_the_slice(ct_task, tumor_case):
    """The report invents a tumor elsewhere and names a real tumor's slice: the slice shows none of what the
    report claims, so even a correct description of it earns nothing."""
    z_slice = _slice(ct_task, tumor_case, with_tumor=True)
    real = ct_task.format_answer(tumor_case.reference_report, z_slice)
    request = ct_task.requests(tumor_case, "verify", {"report": Prediction("k", tumor_case.case_id, "report", "m",
                                                                           real, 0.0)})[0]
    truthful = ct_task.reference_answer(request)
    organ = next(o for o in ("spleen", "pancreas", "liver") if o not in {l.finding.anatomy for l in tumor_case.lesions})
    invented = ct_task.format_answer(f"A 20 mm mass in the {organ}.", z_slice)
    row = CrossViewMetric().per_case([_item(ct_task, tumor_case, invented, truthful)])[0]
    assert row["local_vs_truth"] == 0.0 and row["local_vs_gold"] == 0.0 and row["local_supports_report"] == 0.0
    assert _reward(ct_task, tumor_case, invented, truthful) == (0.0, 1)


def test_set_f1_makes_the_caller_decide_what_two_empty_sets_mean():
    assert set_f1(set(), set(), empty_agrees=True) == 1.0
    assert set_f1(set(), set(), empty_agrees=False) == 0.0
    assert set_f1({("liver", None)}, {("liver", None), ("spleen", None)}, empty_agrees=False) == pytest.approx(2 / 3)
    with pytest.raises(TypeError):
        set_f1(set(), set())  # no default: a silent 1.0 is how the empty slice was credited
