"""Non-neural report baselines. They calibrate the metrics: the oracle must top every clinical metric, the
template shows what boilerplate earns, the hallucinator what one invented finding costs."""

from __future__ import annotations

import re
import zlib

import numpy as np

from harness.reports import lesion_sentence, organ_phrase
from harness.schema import Finding, Presence, Request

SUB_LOCATIONS = {"liver": ["right lobe", "left lobe"], "kidney": ["upper pole", "interpolar region", "lower pole"],
                 "pancreas": ["head", "body", "tail"], "lung": ["upper lobe", "lower lobe"]}


def _case_rng(request: Request) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(request.case.case_id.encode()))


class OracleBaseline:
    """The reference report written from the truth, with the correct key slice."""

    def answer(self, task, request: Request) -> str:
        return task.reference_answer(request)


class TemplateBaseline:
    """The same all-normal report for every case, whatever the images show."""

    def answer(self, task, request: Request) -> str:
        return task.format_answer(task.normal_report(), None)


def invent_finding(case_findings: tuple[Finding, ...], rng: np.random.Generator) -> tuple[Finding, Finding | None]:
    """A plausible tumor in an organ the truth says is normal; returns it and the normal finding it contradicts."""
    normals = [f for f in case_findings if f.presence is Presence.ABSENT]
    target = normals[int(rng.integers(len(normals)))] if normals else case_findings[0]
    subs = SUB_LOCATIONS.get(target.anatomy)
    invented = Finding("nodule" if target.anatomy == "lung" else "mass", target.anatomy,
                       subs[int(rng.integers(len(subs)))] if subs else None, target.laterality, Presence.PRESENT,
                       size_mm=float(rng.integers(15, 40)), count=1, attributes=frozenset({"hypodense"}))
    return invented, (target if normals else None)


class HallucinatorBaseline:
    """The oracle's answer with one invented tumor in an organ that has none (its normal sentence replaced)."""

    def answer(self, task, request: Request) -> str:
        rng = _case_rng(request)
        invented, contradicted = invent_finding(request.case.findings, rng)
        sentence = lesion_sentence(invented, rng)
        report = request.case.reference_report
        if contradicted is not None:
            phrase = re.escape(organ_phrase(contradicted.anatomy, contradicted.laterality))
            pattern = re.compile(rf"[^.:]*\b{phrase}\b[^.]*\.", re.I)
            report, n = pattern.subn(" " + sentence, report, count=1)
            if not n:
                report = report.replace(" IMPRESSION:", f" {sentence} IMPRESSION:", 1)
        else:
            report = report.replace(" IMPRESSION:", f" {sentence} IMPRESSION:", 1)
        # Same key slice and wording as the oracle: only the invented sentence differs.
        return task.reference_answer(request).replace(request.case.reference_report, " ".join(report.split()), 1)
