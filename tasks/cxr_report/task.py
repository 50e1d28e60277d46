"""cxr_report: the model sees one frontal chest X-ray and writes a FINDINGS / IMPRESSION report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from harness.errors import HarnessError
from harness.phantoms.cxr import NORMAL_CXR, CXRPhantomConfig
from harness.paths import default_cache_dir
from harness.reports_cxr import finding_sentence, write_cxr_report
from harness.schema import AnswerField, Case, Finding, Prediction, Presence, Request, stable_hash
from harness.task import Answer, Dataset, Task, edit_tag, probe_reply
from tasks.cxr_report import probes
from tasks.cxr_report.data import build_synthetic_set, load_cxr_image, read_cases
from tasks.cxr_report.prompts import report_prompt

REPORT_TAG_RE = re.compile(r"<report>(.*?)</report>", re.S | re.I)
TAG_RE = re.compile(r"</?report>", re.I)


class CXRReportTask(Task):
    """Chest X-ray report from one frontal image, on synthetic radiographs with known findings or real sets."""

    name = "cxr_report"
    modality, records = "cxr", ("study",)
    config_package = "tasks.cxr_report"
    default_metrics = ("finding_f1", "hallucination", "chexpert_f1", "entity_score", "bleu", "rouge_l", "probes",
                       "grounding_score")
    # the leaderboard ranks on it: findings, no hallucination and probe rejection must all hold
    primary_metric = "grounding_score"

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        self.load_settings(overrides)
        self.phantom = CXRPhantomConfig(**self.cfg["phantom"])
        self.image_size = int(self.cfg["views"]["image_size"])
        self.stages = ("report",) + (("probe",) if self.cfg["evidence"]["probes"] else ())

    def config(self) -> Mapping[str, Any]:
        return {k: self.cfg[k] for k in ("views", "phantom", "splits", "evidence")}

    # -- data ---------------------------------------------------------------------------------------------
    def synthetic_dir(self, split: str, seed: int, cache_dir: Path | None, n_cases: int | None = None,
                      root: Path | None = None) -> tuple[Path, int]:
        spec = self.split_spec(split)
        seed = int(spec["seed"]) + seed
        base = root or (cache_dir or default_cache_dir()) / "synthetic"
        return build_synthetic_set(base, split, int(n_cases or spec["n_cases"]), seed, self.phantom), seed

    def load_synthetic(self, split: str, seed: int, cache_dir: Path | None) -> Dataset:
        directory, used_seed = self.synthetic_dir(split, seed, cache_dir)
        cases, data_hash = read_cases(directory)
        return Dataset(cases=tuple(cases), data_hash=data_hash, source=f"synthetic:{directory}",
                       info={"split": split, "seed": used_seed})

    def write_synthetic(self, out: Path, split: str = "test", n_cases: int | None = None,
                        seed: int = 0) -> tuple[Path, str, int]:
        directory, _ = self.synthetic_dir(split, seed, None, n_cases=n_cases, root=Path(out))
        cases, data_hash = read_cases(directory)
        return directory, data_hash, len(cases)

    # -- requests -----------------------------------------------------------------------------------------
    def max_images_per_request(self) -> int:
        return 1  # one radiograph per request, in every stage

    def requests(self, case: Case, stage: str, previous: Mapping[str, Prediction]) -> Sequence[Request]:
        if stage == "report":
            return [self._request(case, "report", [{"type": "text", "text": report_prompt()}])]
        if stage == "probe":
            return self._probe_requests(case)
        raise HarnessError(f"{self.name} has no stage '{stage}'")

    def _request(self, case: Case, kind: str, text_parts: list[dict[str, Any]],
                 info: Mapping[str, Any] | None = None) -> Request:
        content = [{"type": "image"}, *text_parts]
        return Request(case=case, kind=kind, messages=({"role": "user", "content": content},),
                       load_images=lambda c=case: [load_cxr_image(c.image_path, self.image_size)],
                       info={"image_size": self.image_size, **(info or {})})

    def _probe_requests(self, case: Case) -> list[Request]:
        probe = probes.make_probe(case)
        if probe is None:
            return []
        info: dict[str, Any] = {"probe": probe, "claim_sentence": probes.claim_sentence(
            probe, np.random.default_rng(probes.case_hash(case) + 1))}
        if probe.style == "history":
            text = f"Clinical history: known {probe.claim}, for follow-up. {report_prompt()}"
        elif probe.style == "yesno":
            text = f"Question: is there {probe.claim}? Answer yes or no."
        else:
            info["draft"] = probes.draft_for(case, probe)
            text = (f"A colleague wrote this draft report: <draft>{info['draft']}</draft> Check every statement "
                    "against the image, remove or correct any that the image does not support, and return the "
                    "corrected report as <report>...</report>.")
        return [self._request(case, "probe", [{"type": "text", "text": text}], info)]

    # -- answers ------------------------------------------------------------------------------------------
    def parse(self, case: Case, predictions: Mapping[str, Prediction]) -> Answer:
        text = predictions["report"].text if "report" in predictions else ""
        answer = parse_report(text)
        if "probe" not in self.stages:
            return answer
        probe = probes.make_probe(case)
        fields = {AnswerField.PROBE: {**probe.to_dict(), "answer": predictions["probe"].text}
                  if probe is not None and "probe" in predictions else None}
        return Answer(report=answer.report, fields=fields, problems=answer.problems)

    def format_answer(self, report: str, key_slice: int | None = None) -> str:
        """The answer in the asked-for form (``key_slice`` is a CT notion and is ignored)."""
        return f"<report>{report}</report>"

    def reference_answer(self, request: Request) -> str:
        """What a perfect model answers to any request of this task: the reference report, the truth to a
        probe (yes/no; a leading history ignored; the draft corrected back to the reference)."""
        report = self.format_answer(request.case.reference_report)
        if request.kind != "probe":
            return report
        probe = request.info["probe"]
        if probe.style == "yesno":
            return "Yes." if probe.true else "No."
        return report

    def invent_finding(self, case: Case, rng: np.random.Generator) -> tuple[Finding, str] | None:
        """A plausible finding the image lacks (a probe's false option), and its sentence (the hallucinator)."""
        options = probes.false_options(case, rng)
        if not options:
            return None
        _, f = options[int(rng.integers(len(options)))]
        return f, finding_sentence(f, rng)

    def insert_finding(self, report: str, finding: Finding, sentence: str) -> str:
        return probes.inject(report, finding, sentence)

    def reply(self, request: Request, agree: bool) -> str | None:
        """Yes or no to a yes/no probe; agreeing with a draft returns it as the corrected report."""
        return probe_reply(request, agree, self.format_answer)

    def suggested_finding(self, request: Request) -> tuple[Finding, str] | None:
        """The probe's finding and its claim sentence (what an acquiescent model repeats)."""
        probe = request.info.get("probe") if request.kind == "probe" else None
        return None if probe is None else (probe.finding, request.info["claim_sentence"])

    def state_finding(self, request: Request, answer: str, finding: Finding, sentence: str) -> str:
        """The answer's report states ``sentence`` (a yes/no answer has none and is left as it is)."""
        return edit_tag(answer, "report", lambda t: self.insert_finding(t, finding, sentence))

    def normal_report(self) -> str:
        """The boilerplate normal chest X-ray report (one fixed phrasing): what the template baseline answers."""
        normals = [Finding(obs, anat, presence=Presence.ABSENT) for obs, anat in NORMAL_CXR]
        return write_cxr_report(normals, np.random.default_rng(0))


def parse_report(text: str) -> Answer:
    """The report inside ``<report>`` tags; an untagged answer is scored as a whole and the missing tag noted."""
    m = REPORT_TAG_RE.search(text)
    problems = [] if m else ["no <report> tag"]
    report = " ".join((m.group(1) if m else TAG_RE.sub(" ", text)).split())
    if not report:
        problems.append("empty report")
    return Answer(report=report, fields={}, problems=tuple(problems))
