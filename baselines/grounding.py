"""Non-neural grounding baselines. They calibrate the grounding metrics: the oracle (``baseline:oracle``, the
true boxes through ``task.reference_answer``) must top them, and a model that answers the whole image for
every phrase must score low IoU: its IoU is the true box's share of the image."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.schema import Request

WHOLE_IMAGE = (0.0, 0.0, 1.0, 1.0)


class WholeImageBaseline:
    """Answers the whole image as the box of every phrase (in the format the task asks for)."""

    def answer(self, task, request: Request) -> str:
        if not hasattr(task, "format_boxes"):
            raise HarnessError(f"baseline:whole_image answers grounding tasks only; '{task.name}' asks for no box")
        return task.format_boxes(request, [WHOLE_IMAGE])
