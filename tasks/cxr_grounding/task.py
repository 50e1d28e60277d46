"""cxr_grounding: the model sees a frontal chest X-ray and a finding phrase and answers its bounding box(es)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.metrics.grounding import true_boxes
from harness.phantoms.cxr import CXRPhantomConfig
from harness.paths import default_cache_dir
from harness.schema import AnswerField, Case, Prediction, Request, stable_hash
from harness.task import Answer, Dataset, Task
from tasks.cxr_grounding.boxes import FORMATS, BoxSettings, NormBox, format_boxes, parse_boxes
from tasks.cxr_grounding.prompts import grounding_prompt
from tasks.cxr_report.data import build_synthetic_set, load_cxr_image, read_cases, shown_size


def grounding_cases(report_cases: Sequence[Case]) -> list[Case]:
    """One grounding case per boxed finding of each report case (cases already for grounding pass through)."""
    out: list[Case] = []
    for case in report_cases:
        if case.task == "cxr_grounding":
            out.append(case)
            continue
        for k, group in enumerate(case.meta.get("boxes", ())):
            finding = case.findings[group["finding"]]
            out.append(Case(case_id=f"{case.case_id}-g{k}", task="cxr_grounding", image_path=case.image_path,
                            label_path=None, reference_report=group["phrase"], findings=(finding,),
                            meta={"phrase": group["phrase"], "boxes": group["boxes"],
                                  "image_size": case.meta["image_size"], "source_case": case.case_id}))
    return out


class CXRGroundingTask(Task):
    """Phrase -> box on chest X-rays: synthetic radiographs with exact boxes, or MS-CXR on disk."""

    name = "cxr_grounding"
    modality, records = "cxr", ("phrase_boxes",)
    config_package = "tasks.cxr_grounding"
    stages = ("grounding",)
    default_metrics = ("grounding", "grounding_score")
    primary_metric = "grounding_score"  # here the mean IoU alone: the task's one E-MRL axis
    model_settings = ("boxes",)  # a zoo card declares the box syntax its family emits; --task-option still wins

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        self.load_settings(overrides)
        self.phantom = CXRPhantomConfig(**self.cfg["phantom"])
        self.image_size = int(self.cfg["views"]["image_size"])
        self.boxes = BoxSettings(**self.cfg["boxes"])
        if self.boxes.format not in FORMATS:
            raise HarnessError(f"{self.name}: boxes.format '{self.boxes.format}' is not one of {', '.join(FORMATS)}")
        if self.boxes.plain_over_1 not in ("norm1000", "pixel"):
            raise HarnessError(f"{self.name}: boxes.plain_over_1 must be norm1000 or pixel, "
                               f"not '{self.boxes.plain_over_1}'")

    def config(self) -> Mapping[str, Any]:
        boxes = dict(self.cfg["boxes"])
        if boxes["format"] != "qwen2_5_vl":
            boxes.pop("qwen2_5_vl_resize")  # reads no answer then: leaves the version (and old runs) as they were
        return {"views": self.cfg["views"], "phantom": self.cfg["phantom"], "splits": self.cfg["splits"],
                "boxes": boxes}

    # -- data ---------------------------------------------------------------------------------------------
    def _synthetic_dir(self, split: str, seed: int, root: Path, n_images: int | None = None) -> tuple[Path, int]:
        spec = self.split_spec(split)
        seed = int(spec["seed"]) + seed
        return build_synthetic_set(root, split, int(n_images or spec["n_images"]), seed, self.phantom), seed

    def on_disk(self, ds: Dataset, *, skip_bad: bool, limit: int | None, cache_dir: Path | None) -> Dataset:
        cases = grounding_cases(ds.cases)
        if not cases:
            raise HarnessError(f"{ds.source}: no case has a phrase with a box to ground")
        return replace(ds, cases=tuple(cases), data_hash=stable_hash([ds.data_hash, self.name]))

    def load_synthetic(self, split: str, seed: int, cache_dir: Path | None) -> Dataset:
        directory, used_seed = self._synthetic_dir(split, seed, (cache_dir or default_cache_dir()) / "synthetic")
        report_cases, data_hash = read_cases(directory)
        return Dataset(cases=tuple(grounding_cases(report_cases)), data_hash=stable_hash([data_hash, self.name]),
                       source=f"synthetic:{directory}", info={"split": split, "seed": used_seed,
                                                              "n_images": len(report_cases)})

    def write_synthetic(self, out: Path, split: str = "test", n_cases: int | None = None,
                        seed: int = 0) -> tuple[Path, str, int]:
        """Writes the radiographs (``n_cases`` images); each boxed finding becomes one grounding case."""
        directory, _ = self._synthetic_dir(split, seed, Path(out), n_images=n_cases)
        report_cases, data_hash = read_cases(directory)
        return directory, stable_hash([data_hash, self.name]), len(grounding_cases(report_cases))

    # -- requests -----------------------------------------------------------------------------------------
    def shown(self, case: Case) -> tuple[int, int]:
        w, h = case.meta["image_size"]
        return shown_size(int(w), int(h), self.image_size)

    def max_images_per_request(self) -> int:
        return 1  # one radiograph per request, in every stage

    def requests(self, case: Case, stage: str, previous: Mapping[str, Prediction]) -> Sequence[Request]:
        if stage != "grounding":
            raise HarnessError(f"{self.name} has no stage '{stage}'")
        w, h = self.shown(case)
        prompt = grounding_prompt(case.meta["phrase"], self.boxes.format, w, h)
        if self.boxes.format == "maira2":
            content = [{"type": "text", "text": "Given the current frontal image"}, {"type": "image"},
                       {"type": "text", "text": " " + prompt}]
        else:
            content = [{"type": "image"}, {"type": "text", "text": prompt}]
        return [Request(case=case, kind="grounding", messages=({"role": "user", "content": content},),
                        load_images=lambda c=case: [load_cxr_image(c.image_path, self.image_size)],
                        info={"image_size": [w, h], "box_format": self.boxes.format})]

    # -- answers ------------------------------------------------------------------------------------------
    def parse(self, case: Case, predictions: Mapping[str, Prediction]) -> Answer:
        text = predictions["grounding"].text if "grounding" in predictions else ""
        w, h = self.shown(case)
        parsed = parse_boxes(text, w, h, self.boxes)
        fields = {AnswerField.BOXES: [list(b) for b in parsed.boxes] if parsed.parsed else None,
                  AnswerField.BOX_FORMAT: parsed.format, "box_notes": list(parsed.notes)}
        return Answer(report=text.strip(), fields=fields, problems=parsed.problems)

    def format_boxes(self, request: Request, boxes: Sequence[NormBox]) -> str:
        """Normalised boxes written the way the prompt asks (for baselines)."""
        w, h = self.shown(request.case)
        return format_boxes(boxes, w, h, self.boxes, phrase=request.case.meta.get("phrase", ""))

    def format_answer(self, report: str, key_slice: int | None = None) -> str:
        return report

    def reference_answer(self, request: Request) -> str:
        """What a perfect model answers: the true boxes, in the asked-for format."""
        truth = true_boxes(request.case.meta)
        if truth is None:
            raise HarnessError(f"case {request.case.case_id} has no true boxes")
        return self.format_boxes(request, truth)

    def normal_report(self) -> str:
        """What the template baseline answers: a statement with no box (scored as unparseable)."""
        return "No abnormality is seen."

    def reply(self, request: Request, agree: bool) -> str | None:
        """None: the task puts no probes."""
        return None
