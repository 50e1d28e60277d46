"""A toy plug-in: name the colour of a flat swatch. Everything here is reached through entry points."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from baselines.trainer.rewards import Reward
from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Loader
from harness.metrics.base import Metric
from harness.schema import Case, Prediction, Request
from harness.task import Answer, ScoredItem, Task

INDEX = "swatches.txt"  # one swatch a line: "<id> <colour>"


class ColourTask(Task):
    """Toy plug-in task: name the colour of a flat swatch."""

    name = "toy_colour"
    version = "1"
    modality, records = "swatch", ("study",)
    default_metrics = ("toy_says_colour",)

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        if overrides:
            raise HarnessError(f"toy_colour has no settings (got {', '.join(overrides)})")

    def requests(self, case: Case, stage: str, previous: Mapping[str, Prediction]) -> Sequence[Request]:
        from PIL import Image

        colour = case.meta["colour"]
        content = [{"type": "image"}, {"type": "text", "text": "What colour is this? Answer <report>...</report>."}]
        return [Request(case=case, kind="report", messages=({"role": "user", "content": content},),
                        load_images=lambda: [Image.new("RGB", (64, 64), colour)])]

    def parse(self, case: Case, predictions: Mapping[str, Prediction]) -> Answer:
        text = predictions["report"].text if "report" in predictions else ""
        return Answer(report=text.replace("<report>", "").replace("</report>", "").strip())

    def reference_answer(self, request: Request) -> str:
        return f"<report>{request.case.reference_report}</report>"


class SaysColourMetric(Metric):
    """Toy plug-in metric: 1 when the answer names the swatch's colour."""

    name = "toy_says_colour"
    outputs = ("says_colour",)
    per_case_independent = True

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        return [{"says_colour": float(it.case.meta["colour"] in it.answer.report.lower())} for it in items]


class SwatchLoader(Loader):
    """Toy plug-in loader: a folder holding swatches.txt."""

    name, title = "toy_swatches", "toy swatches (swatches.txt)"
    modality, record = "swatch", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return (path / INDEX).is_file()

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list, dict]:
        cases = []
        for n, line in enumerate((path / INDEX).read_text().splitlines(), 1):
            parts = line.split()
            if len(parts) != 2:
                bad.fail(f"{path / INDEX}: line {n} is not '<id> <colour>'")
                continue
            cases.append(Case(case_id=parts[0], task=self.task, image_path=None, label_path=None,
                              reference_report=f"The swatch is {parts[1]}.", findings=(),
                              meta={"colour": parts[1]}))
        if not cases:
            raise DataError(f"{path / INDEX}: no swatch")
        return cases[:limit] if limit else cases, {}


class BrevityReward(Reward):
    """Toy plug-in reward: the shorter the answer, the more it earns."""

    name = "toy_brevity"

    def score(self, case_ids, kinds, texts, log_metric=None):
        return [1.0 / (1 + len(t)) for t in texts]
