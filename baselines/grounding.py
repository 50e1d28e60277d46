"""Non-neural grounding baselines. They calibrate the grounding metrics: the oracle (``baseline:oracle``, the
true boxes through ``task.reference_answer``) must top them, and a model that answers the whole image for
every phrase must score low IoU: its IoU is the true box's share of the image."""

from __future__ import annotations

from harness.schema import Request
from harness.task import BoxAnswers

WHOLE_IMAGE = (0.0, 0.0, 1.0, 1.0)


class WholeImageBaseline:
    """Answers the whole image as the box of every phrase (in the format the task asks for)."""

    needs = BoxAnswers

    def answer(self, task: BoxAnswers, request: Request) -> str:
        return task.format_boxes(request, [WHOLE_IMAGE])
