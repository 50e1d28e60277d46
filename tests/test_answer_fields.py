"""The evidence fields of a parsed answer are a named schema (harness.schema.AnswerField) that every task writes and
the metrics, rewards and leaderboard read under the same names."""

from __future__ import annotations

import pytest

from baselines.text import OracleBaseline
from harness.registry import TASKS
from harness.schema import AnswerField, Prediction

EXPECTED = {
    "ct_tumor": {AnswerField.KEY_SLICE, AnswerField.KEY_SLICE_Z, AnswerField.VERIFY, AnswerField.PROBE},
    "cxr_report": {AnswerField.PROBE},
    "cxr_grounding": {AnswerField.BOXES, AnswerField.BOX_FORMAT},
}


def _oracle_answer(task, case):
    predictions = {}
    for stage in task.stages:
        for request in task.requests(case, stage, predictions):
            text = OracleBaseline().answer(task, request)
            predictions[request.kind] = Prediction(f"{case.case_id}/{request.kind}", case.case_id, request.kind,
                                                   "oracle", text, 0.0)
    return task.parse(case, predictions)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_task_writes_the_named_fields_of_its_steps(name, harness_cache):
    task = TASKS.get(name)()
    cases = task.load("test").cases
    case = next((c for c in cases if c.lesions), cases[0])
    answer = _oracle_answer(task, case)
    assert EXPECTED[name] <= set(answer.fields)
    if name == "ct_tumor":  # the oracle names a slice, is verified on it and answers its probe
        assert isinstance(answer.fields[AnswerField.KEY_SLICE_Z], int)
        assert answer.fields[AnswerField.VERIFY] and answer.fields[AnswerField.PROBE]["answer"]


def test_the_names_are_the_recorded_keys():
    """samples.jsonl and the leaderboard's stored answers keep these exact keys: renaming one breaks old runs."""
    assert (AnswerField.KEY_SLICE, AnswerField.KEY_SLICE_Z, AnswerField.VERIFY, AnswerField.PROBE,
            AnswerField.BOXES, AnswerField.BOX_FORMAT) == ("key_slice", "key_slice_z", "verify", "probe", "boxes",
                                                           "box_format")
