"""The training rows are the evaluation requests: same messages, their images checked against the placeholders."""

from __future__ import annotations

import dataclasses

import pytest

from baselines.trainer.data import TrainingSplit, example, grpo_rows
from harness.errors import HarnessError


def test_grpo_rows_are_the_requests_with_their_images(ct_task, ct_test_set):
    case = ct_test_set.cases[0]
    split = TrainingSplit(task=ct_task, cases=(case,), data_hash="h", source="test")
    rows = grpo_rows(split, probe_prompts=True)
    assert [r["kind"] for r in rows] == ["report", "probe"]
    request = ct_task.requests(case, "report", {})[0]
    assert len(rows[0]["images"]) == request.count_parts("image") > 0
    assert [m["role"] for m in rows[0]["prompt"]] == [m["role"] for m in request.messages]


def test_a_request_whose_images_do_not_match_is_refused_by_id(ct_task, ct_test_set):
    case = ct_test_set.cases[0]
    request = dataclasses.replace(ct_task.requests(case, "report", {})[0], load_images=lambda: [])
    with pytest.raises(HarnessError, match=rf"request {case.case_id}/report has \d+ image placeholder"):
        example(request)
