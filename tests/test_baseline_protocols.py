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
    assert protocol_methods(FindingEdits) == ["format_answer", "invent_finding", "normal_report", "reference_answer",
                                              "reply", "state_finding", "suggested_finding"]


@pytest.mark.parametrize("baseline, task, missing", [
    ("hallucinator", "cxr_grounding", "'cxr_grounding' has no invent_finding, state_finding, suggested_finding"),
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


def test_the_text_baselines_answer_in_the_tasks_own_form():
    """No tag is the baselines': a task that answers in <findings> tags with its own yes and no gets them back."""
    from harness.schema import Case, Finding, Probe, Request
    from harness.task import edit_tag

    class Tagged:
        name = "tagged"

        def reference_answer(self, request):
            return "<findings>Normal.</findings>" if request.kind != "probe" else "nein"

        def format_answer(self, report, key_slice=None):
            return f"<findings>{report}</findings>"

        def normal_report(self):
            return "Normal."

        def reply(self, request, agree):
            return ("ja" if agree else "nein") if request.info.get("question") else None

        def invent_finding(self, case, rng):
            return Finding("mass", "liver"), "A liver mass."

        def suggested_finding(self, request):
            return (request.info["probe"].finding, "Known liver mass.") if "probe" in request.info else None

        def state_finding(self, request, answer, finding, sentence):
            return edit_tag(answer, "findings", lambda t: f"{t} {sentence}")

    case = Case(case_id="c1", task="tagged", image_path=None, label_path=None, reference_report="Normal.",
                findings=())
    report = Request(case=case, kind="report", messages=())
    question = Request(case=case, kind="probe", messages=(), info={"question": True})
    history = Request(case=case, kind="report", messages=(), info={"probe": Probe(
        style="history", true=False, kind="other_organ", finding=Finding("mass", "liver"), claim="a liver mass")})

    def answers(name):
        baseline = BASELINES.get(name)()
        return [baseline.answer(require(Tagged(), baseline.needs, name), r) for r in (report, question, history)]

    assert answers("template") == ["<findings>Normal.</findings>", "nein", "<findings>Normal.</findings>"]
    assert answers("hallucinator") == ["<findings>Normal. A liver mass.</findings>", "nein",
                                       "<findings>Normal. A liver mass.</findings>"]
    assert answers("acquiescent") == ["<findings>Normal.</findings>", "ja",
                                      "<findings>Normal. Known liver mass.</findings>"]
