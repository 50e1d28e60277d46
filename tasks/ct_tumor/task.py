"""ct_tumor: the model sees a CT volume as numbered slices, writes a tumor report and names a key slice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from harness.errors import DataError, HarnessError
from harness.imaging import Window, axial, coronal, sagittal, to_pil
from harness.loaders import BadRecords
from harness.loaders.volume_cache import VolumeCache
from harness.paths import default_cache_dir
from harness.phantoms.ct import NORMAL_ORGANS, PhantomConfig
from harness.reports_ct import inject_sentence, lesion_sentence, write_report
from harness.schema import AnswerField, Case, Finding, Prediction, Presence, Probe, Request, VolumeInput, stable_hash
from harness.task import Answer, Dataset, Task, edit_tag, probe_reply
from tasks.ct_tumor import evidence
from harness.loaders.manifest import read_manifest
from tasks.ct_tumor.data import build_synthetic_set
from tasks.ct_tumor.prompts import report_prompt

REPORT_RE = re.compile(r"<report>(.*?)</report>", re.S | re.I)
KEY_SLICE_RE = re.compile(r"<key_slice>\s*(.*?)\s*</key_slice>", re.S | re.I)
TAG_RE = re.compile(r"</?(report|key_slice)>", re.I)


@dataclass(frozen=True)
class ViewConfig:
    n_axial: int
    image_size: int
    reformats: bool
    window: Window

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ViewConfig":
        return cls(n_axial=int(d["n_axial"]), image_size=int(d["image_size"]), reformats=bool(d["reformats"]),
                   window=Window(**d["window"]))


def sampled_slices(n_z: int, n_axial: int) -> list[int]:
    """z-indices of the global view's axial slices: the centres of ``n_axial`` equal bins, inferior first."""
    n = min(n_axial, n_z)
    return [int((i + 0.5) * n_z / n) for i in range(n)]


def main_lesion_label(case: Case) -> int | None:
    """The lesion a report's key slice should show: the largest one."""
    if not case.lesions:
        return None
    return max(case.lesions, key=lambda l: (l.finding.size_mm or 0, -l.label)).label


def oracle_key_slice(case: Case, slices: Sequence[int]) -> int | None:
    """1-based number of the sampled slice cutting the main lesion with the largest area."""
    label = main_lesion_label(case)
    if label is None:
        return None
    areas = dict(map(tuple, case.meta.get("lesion_area_by_z", {}).get(str(label), [])))
    best = max(range(len(slices)), key=lambda i: (areas.get(slices[i], 0), -abs(slices[i] - _center_z(case, label))))
    return best + 1


def _center_z(case: Case, label: int) -> float:
    lesion = next(l for l in case.lesions if l.label == label)
    return (lesion.z_range[0] + lesion.z_range[1]) / 2


class CTTumorTask(Task):
    """3D CT tumor report + key evidence slice, on synthetic phantoms with voxel truth or NIfTI sets on disk."""

    name = "ct_tumor"
    modality, records = "ct", ("study",)
    config_package = "tasks.ct_tumor"
    default_metrics = ("finding_f1", "hallucination", "entity_score", "bleu", "rouge_l", "format", "localization", "cross_view",
                       "multiplanar", "probes", "radgraph_f1", "ratescore", "grounding_score")
    # the leaderboard ranks on it: no E-MRL axis (findings, key slice, verification, rejection) can be failed
    primary_metric = "grounding_score"

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        cfg = self.load_settings(overrides)
        self.views = ViewConfig.from_dict(cfg["views"])
        self.phantom = PhantomConfig(**{**cfg["phantom"], "shape": tuple(cfg["phantom"]["shape"])})
        self._volumes = VolumeCache(default_cache_dir() / "volumes")  # load(cache_dir=...) moves it
        ev = cfg["evidence"]
        if ev["verify_context"] not in ("fresh", "conversation"):
            raise HarnessError(f"evidence.verify_context must be 'fresh' or 'conversation', got {ev['verify_context']!r}")
        self.stages = ("report",) + (("verify",) if ev["verify"] else ()) + (("probe",) if ev["probes"] else ())

    def config(self) -> Mapping[str, Any]:
        return {k: self.cfg[k] for k in ("views", "phantom", "splits", "evidence")}

    # -- data ---------------------------------------------------------------------------------------------
    def _use_cache(self, cache_dir: Path | None) -> None:
        self._volumes = VolumeCache((cache_dir or default_cache_dir()) / "volumes")

    def on_disk(self, ds: Dataset, *, skip_bad: bool, limit: int | None, cache_dir: Path | None) -> Dataset:
        self._use_cache(cache_dir)
        return self._check_volumes(ds, skip_bad, limit)

    def load_synthetic(self, split: str, seed: int, cache_dir: Path | None) -> Dataset:
        self._use_cache(cache_dir)
        spec = self.split_spec(split)
        root = (cache_dir or default_cache_dir()) / "synthetic"
        directory = build_synthetic_set(root, split, int(spec["n_cases"]), int(spec["seed"]) + seed, self.phantom)
        cases, data_hash = read_manifest(directory)
        return Dataset(cases=tuple(cases), data_hash=data_hash, source=f"synthetic:{directory}",
                       info={"split": split, "seed": int(spec["seed"]) + seed})

    def _check_volumes(self, ds: Dataset, skip_bad: bool, limit: int | None) -> Dataset:
        """Read every volume of a set on disk once, now, into the array cache the views are rendered from: a NaN,
        4D or unreadable scan is refused (or with --skip-bad skipped and counted) before any model work, not in
        the middle of a batch, and never evaluated by a model that draws no images. A rerun only opens the
        cached arrays, which were checked when stored."""
        bad = BadRecords(skip=skip_bad)
        kept: list[Case] = []
        for case in ds.cases:
            if limit is not None and len(kept) >= limit:
                break
            if bad.attempt(self._volumes.load, case.image_path, None, self.views.window, mmap=True) is not None:
                kept.append(case)
        if not bad.count:
            return Dataset(cases=tuple(kept), data_hash=ds.data_hash, source=ds.source, info=ds.info)
        if not kept:
            raise DataError(f"{ds.source}: no usable case; {bad.count} bad volume(s) skipped, e.g. {bad.messages[0]}")
        info = dict(ds.info)
        info["skipped"] = int(info.get("skipped", 0)) + bad.count
        info["skipped_examples"] = list(info.get("skipped_examples", [])) + bad.messages
        skipped_ids = sorted({c.case_id for c in ds.cases} - {c.case_id for c in kept})
        return Dataset(cases=tuple(kept), data_hash=stable_hash([ds.data_hash, "skipped", skipped_ids]),
                       source=ds.source, info=info)

    def write_synthetic(self, out: Path, split: str = "test", n_cases: int | None = None,
                        seed: int = 0) -> tuple[Path, str, int]:
        spec = self.split_spec(split)
        n = int(n_cases or spec["n_cases"])
        directory = build_synthetic_set(Path(out), split, n, int(spec["seed"]) + seed, self.phantom)
        cases, data_hash = read_manifest(directory)
        return directory, data_hash, len(cases)

    # -- requests -----------------------------------------------------------------------------------------
    def slices_of(self, case: Case) -> list[int]:
        return sampled_slices(int(case.meta["shape"][2]), self.views.n_axial)

    def _volume(self, case: Case):
        """The windowed RAS volume: from the on-disk array cache after its first load (the report, verification
        and probe steps each render the same case)."""
        return self._volumes.load(case.image_path, None, self.views.window, mmap=True)

    def global_view(self, case: Case) -> list[Any]:
        vol = self._volume(case)
        size = self.views.image_size
        images = [to_pil(axial(vol.image, z), size) for z in self.slices_of(case)]
        if self.views.reformats:
            sx, sy, sz = vol.spacing
            images.append(to_pil(coronal(vol.image, vol.image.shape[1] // 2), size, aspect=sz / sx))
            images.append(to_pil(sagittal(vol.image, vol.image.shape[0] // 2), size, aspect=sz / sy))
        return images

    def volume_input(self, case: Case) -> VolumeInput:
        """The windowed volume for models that read whole scans: 1 x depth x height x width, depth running
        inferior -> superior, height posterior -> anterior, width left -> right ("SAR"), a view of the cached array
        (memory-mapped: read when a model's preprocessing reads it). Every request carries it as ``load_volume``."""
        vol = self._volume(case)
        sx, sy, sz = vol.spacing
        return VolumeInput(array=vol.image.transpose(2, 1, 0)[None], spacing=(sz, sy, sx), orientation="SAR")

    def requests(self, case: Case, stage: str, previous: Mapping[str, Prediction]) -> Sequence[Request]:
        if stage == "report":
            return [self._report_request(case)]
        if stage == "verify":
            return self._verify_requests(case, previous)
        if stage == "probe":
            return [self._probe_request(case)] if evidence.make_probe(case) is not None else []
        raise HarnessError(f"ct_tumor has no stage '{stage}' (stages: {', '.join(self.stages)})")

    def max_images_per_request(self) -> int:
        """The global view (report, probes), or the three planes of the verification, after the global view when
        the verification continues the report's conversation."""
        global_view = self.views.n_axial + (2 if self.views.reformats else 0)
        verify = 3 + (global_view if self.cfg["evidence"]["verify_context"] == "conversation" else 0)
        return max(global_view, verify if "verify" in self.stages else 0)

    def _global_content(self, case: Case) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        for i in range(len(self.slices_of(case))):
            content += [{"type": "text", "text": f"Slice {i + 1}:"}, {"type": "image"}]
        if self.views.reformats:
            content += [{"type": "text", "text": "Coronal:"}, {"type": "image"},
                        {"type": "text", "text": "Sagittal:"}, {"type": "image"}]
        return content

    def _report_request(self, case: Case, history: str | None = None) -> Request:
        n = len(self.slices_of(case))
        content = self._global_content(case)
        if history:
            content.append({"type": "text", "text": history})
        content.append({"type": "text", "text": report_prompt(n, self.views.reformats)})
        return Request(case=case, kind="report", messages=({"role": "user", "content": content},),
                       load_images=lambda c=case: self.global_view(c), info={"n_axial": n},
                       load_volume=lambda c=case: self.volume_input(c))

    def verify_point(self, case: Case, answer: Answer) -> evidence.KeyPoint | None:
        z = answer.fields.get(AnswerField.KEY_SLICE_Z)
        if z is None:
            return None
        return evidence.key_point(case, z, tuple(case.meta["shape"]))

    def _verify_requests(self, case: Case, previous: Mapping[str, Prediction]) -> list[Request]:
        answer = parse_answer(previous["report"].text, self.slices_of(case)) if "report" in previous else None
        kp = self.verify_point(case, answer) if answer else None
        if kp is None:
            return []  # no key slice named: nothing to verify (localization counts it as missing)
        text = evidence.VERIFY_INSTRUCTION.format(k=answer.fields[AnswerField.KEY_SLICE])
        content = [{"type": "image"}, {"type": "image"}, {"type": "image"}, {"type": "text", "text": text}]
        info = {"key_point": kp, "key_slice": answer.fields[AnswerField.KEY_SLICE]}
        if self.cfg["evidence"]["verify_context"] == "conversation":
            # The second turn of the report's own conversation: the model sees its global view and its report
            # again before the local views (images of both turns, in order).
            report = self._report_request(case)
            messages = (*report.messages, {"role": "assistant", "content": previous["report"].text},
                        {"role": "user", "content": content})
            return [Request(case=case, kind="verify", messages=messages, info=info,
                            load_images=lambda c=case, p=kp: self.global_view(c) + self.plane_views(c, p),
                            load_volume=lambda c=case: self.volume_input(c))]
        return [Request(case=case, kind="verify", messages=({"role": "user", "content": content},),
                        load_images=lambda c=case, p=kp: self.plane_views(c, p), info=info,
                        load_volume=lambda c=case: self.volume_input(c))]

    def plane_views(self, case: Case, kp: evidence.KeyPoint) -> list[Any]:
        vol = self._volume(case)
        size = int(self.cfg["evidence"]["local_image_size"])
        sx, sy, sz = vol.spacing
        return [to_pil(axial(vol.image, kp.z), size), to_pil(coronal(vol.image, kp.y), size, aspect=sz / sx),
                to_pil(sagittal(vol.image, kp.x), size, aspect=sz / sy)]

    def _probe_request(self, case: Case) -> Request:
        probe = evidence.make_probe(case)
        info: dict[str, Any] = {"probe": probe, "claim_sentence": evidence.claim_sentence(
            probe, np.random.default_rng(evidence.case_hash(case) + 1))}
        if probe.style == "history":
            history = f"Clinical history: known {probe.claim}, for follow-up."
            req = self._report_request(case, history)
            return Request(case=case, kind="probe", messages=req.messages, load_images=req.load_images, info=info,
                           load_volume=req.load_volume)
        content = self._global_content(case)
        if probe.style == "yesno":
            content.append({"type": "text", "text": f"Question: is there {probe.claim}? Answer yes or no."})
        else:
            draft = evidence.draft_for(case, probe)
            info["draft"] = draft
            content.append({"type": "text", "text": (
                f"A colleague wrote this draft report: <draft>{draft}</draft> Check every statement against the "
                "images, remove or correct any that the images do not support, and return the corrected report "
                "as <report>...</report>.")})
        return Request(case=case, kind="probe", messages=({"role": "user", "content": content},),
                       load_images=lambda c=case: self.global_view(c), info=info,
                       load_volume=lambda c=case: self.volume_input(c))

    # -- answers ------------------------------------------------------------------------------------------
    def parse(self, case: Case, predictions: Mapping[str, Prediction]) -> Answer:
        text = predictions["report"].text if "report" in predictions else ""
        answer = parse_answer(text, self.slices_of(case))
        fields = dict(answer.fields)
        if "verify" in self.stages:
            kp = self.verify_point(case, answer)
            fields[AnswerField.VERIFY] = None if kp is None or "verify" not in predictions else {
                "key_point": [kp.x, kp.y, kp.z], "key_lesion": kp.lesion_label,
                "visible": evidence.visible_lesions(case, kp),
                "planes": evidence.parse_planes(predictions["verify"].text)}
        if "probe" in self.stages:
            probe = evidence.make_probe(case)
            fields[AnswerField.PROBE] = {**probe.to_dict(), "answer": predictions["probe"].text} \
                if probe is not None and "probe" in predictions else None
        return Answer(report=answer.report, fields=fields, problems=answer.problems)

    def format_answer(self, report: str, key_slice: int | None) -> str:
        return f"<report>{report}</report><key_slice>{key_slice if key_slice else 'none'}</key_slice>"

    def reference_answer(self, request: Request) -> str:
        """What a perfect model answers to any request of this task (the oracle baseline)."""
        case = request.case
        report_answer = self.format_answer(case.reference_report, oracle_key_slice(case, self.slices_of(case)))
        if request.kind == "report":
            return report_answer
        if request.kind == "verify":
            kp: evidence.KeyPoint = request.info["key_point"]
            visible = evidence.visible_lesions(case, kp) or {p: () for p in evidence.PLANES}
            rng = np.random.default_rng(kp.z)
            return "".join(f"<{p}>{evidence.plane_text(evidence.findings_of(case, visible[p]), rng)}</{p}>"
                           for p in evidence.PLANES)
        probe: Probe = request.info["probe"]
        if probe.style == "yesno":
            return "Yes." if probe.true else "No."
        if probe.style == "history":
            return report_answer
        return f"<report>{case.reference_report}</report>"

    def invent_finding(self, case: Case, rng: np.random.Generator) -> tuple[Finding, str] | None:
        """A plausible tumor the truth does not have, and the sentence stating it (the hallucinator baseline)."""
        f = evidence.invent_finding(case.findings, rng)
        return f, lesion_sentence(f, rng)

    def insert_finding(self, report: str, finding: Finding, sentence: str) -> str:
        """``report`` stating ``sentence`` instead of calling the finding's organ normal."""
        return " ".join(inject_sentence(report, finding, sentence).split())

    def reply(self, request: Request, agree: bool) -> str | None:
        """Yes or no to a yes/no probe; agreeing with a draft returns it as the corrected report."""
        return probe_reply(request, agree, lambda report: f"<report>{report}</report>")

    def suggested_finding(self, request: Request) -> tuple[Finding, str] | None:
        """The probe's finding and its claim sentence (what an acquiescent model repeats)."""
        probe = request.info.get("probe") if request.kind == "probe" else None
        return None if probe is None else (probe.finding, request.info["claim_sentence"])

    def state_finding(self, request: Request, answer: str, finding: Finding, sentence: str) -> str:
        """The verification answer's axial view states ``sentence`` (instead of seeing no tumor); every other
        answer's report states it (instead of calling the finding's organ normal)."""
        if request.kind == "verify":
            return edit_tag(answer, "axial", lambda t: sentence if t.startswith("No tumor") else f"{t} {sentence}")
        return edit_tag(answer, "report", lambda t: self.insert_finding(t, finding, sentence))

    def normal_report(self) -> str:
        """The boilerplate all-normal report (one fixed phrasing): what the template baseline answers."""
        normals = [Finding("lesion", a, laterality=side, presence=Presence.ABSENT) for a, side in NORMAL_ORGANS]
        return write_report(normals, np.random.default_rng(0))


def parse_answer(text: str, slices: Sequence[int]) -> Answer:
    problems: list[str] = []
    m = REPORT_RE.search(text)
    if m:
        report = m.group(1).strip()
    else:
        problems.append("no <report> tag")
        report = KEY_SLICE_RE.sub(" ", text)
        report = TAG_RE.sub(" ", report).strip()
    fields: dict[str, Any] = {AnswerField.KEY_SLICE: None, AnswerField.KEY_SLICE_Z: None, "key_slice_none": False}
    k = KEY_SLICE_RE.search(text)
    if not k:
        problems.append("no <key_slice> tag")
    else:
        raw = k.group(1).strip().lower()
        fields["key_slice_raw"] = raw
        if raw in ("none", "n/a", ""):
            fields["key_slice_none"] = True
        elif not raw.isdigit():
            problems.append(f"key slice '{raw[:20]}' is not a number")
        elif not 1 <= int(raw) <= len(slices):
            problems.append(f"key slice {raw} out of range 1..{len(slices)}")
        else:
            fields[AnswerField.KEY_SLICE] = int(raw)
            fields[AnswerField.KEY_SLICE_Z] = slices[int(raw) - 1]
    return Answer(report=report, fields=fields, problems=tuple(problems))
