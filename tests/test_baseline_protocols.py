"""What a baseline needs from a task is a declared protocol (harness.task), checked when the baseline is bound:
a baseline on a task that cannot serve it is a one-line error naming what is missing, before any request."""

from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.models.baseline import BaselineBackend
from harness.registry import BASELINES, TASKS
from harness.task import BoxAnswers, FindingEdits, protocol_methods, require


@pytest.mark.parametrize("task, protocol", [("ct_tumor", FindingEdits), ("cxr_report", FindingEdits),
                                            ("cxr_grounding", BoxAnswers)])
def test_the_built_in_tasks_keep_their_protocols(task, protocol):
    require(TASKS.get(task)(), protocol, "test")


def test_every_baseline_declares_what_it_needs():
    for name in BASELINES.names():
        assert protocol_methods(BASELINES.get(name).needs), name
    assert protocol_methods(FindingEdits) == ["format_answer", "insert_finding", "invent_finding", "normal_report",
                                              "reference_answer"]


@pytest.mark.parametrize("baseline, task, missing", [
    ("hallucinator", "cxr_grounding", "'cxr_grounding' has no insert_finding, invent_finding"),
    ("whole_image", "ct_tumor", "'ct_tumor' has no format_boxes"),
])
def test_a_baseline_on_a_task_it_cannot_serve_is_one_line(baseline, task, missing):
    backend = BaselineBackend.from_spec(baseline, {})
    with pytest.raises(HarnessError, match=f"baseline:{baseline} needs a task with") as err:
        backend.bind(TASKS.get(task)())
    assert missing in str(err.value) and "\n" not in str(err.value)


def test_sft_needs_reference_answers():
    from baselines.trainer.data import TrainingSplit, sft_rows

    class NoOracle:
        name, stages = "no_oracle", ("report",)

    with pytest.raises(HarnessError, match="SFT .* needs a task with reference_answer .*'no_oracle' has no "
                                           "reference_answer"):
        sft_rows(TrainingSplit(task=NoOracle(), cases=(), data_hash="h", source="s"))
