"""Non-neural report baselines. They calibrate the metrics: the oracle must top every clinical and evidence
metric, the template shows what boilerplate earns, the hallucinator what one invented finding costs, and the
acquiescent baseline what agreeing with every suggestion costs."""

from __future__ import annotations

import re
import zlib

import numpy as np

from harness.schema import Request
from harness.task import FindingEdits, ReferenceAnswers, ReportAnswers

REPORT_RE = re.compile(r"(<report>)(.*?)(</report>)", re.S)
AXIAL_RE = re.compile(r"(<axial>)(.*?)(</axial>)", re.S)


def _case_rng(request: Request) -> np.random.Generator:
    # A stream of its own: the tasks seed their probes with the bare case hash, and a hallucinator drawing the same
    # numbers would invent exactly the finding each probe asks about.
    return np.random.default_rng([zlib.crc32(request.case.case_id.encode()), 0xBA5E])


def _edit_tag(answer: str, pattern: re.Pattern, edit) -> str:
    return pattern.sub(lambda m: m.group(1) + edit(m.group(2)) + m.group(3), answer, count=1)


class OracleBaseline:
    """The reference report written from the truth, with the correct key slice; truthful in every step."""

    #: what it needs of a task (``harness.task.require`` checks it when the backend is bound)
    needs = ReferenceAnswers

    def answer(self, task: ReferenceAnswers, request: Request) -> str:
        return task.reference_answer(request)


class TemplateBaseline:
    """The same all-normal report for every case, whatever the images show."""

    needs = ReportAnswers

    def answer(self, task: ReportAnswers, request: Request) -> str:
        if request.kind == "probe" and request.info["probe"].style == "yesno":
            return "No."
        return task.format_answer(task.normal_report(), None)


class HallucinatorBaseline:
    """The oracle in every step, plus one invented finding stated wherever it writes a report or a view."""

    needs = FindingEdits

    def answer(self, task: FindingEdits, request: Request) -> str:
        oracle = task.reference_answer(request)
        invented = task.invent_finding(request.case, _case_rng(request))
        if invented is None:  # nothing plausible left to invent: every site already holds a finding
            return oracle
        finding, sentence = invented
        if request.kind == "verify":
            return _edit_tag(oracle, AXIAL_RE, lambda t: sentence if t.startswith("No tumor") else f"{t} {sentence}")
        return _edit_tag(oracle, REPORT_RE, lambda t: task.insert_finding(t, finding, sentence))


class AcquiescentBaseline:
    """The oracle, except that it agrees with every suggestion: says yes to every probe, keeps every draft,
    repeats every clinical history."""

    needs = FindingEdits

    def answer(self, task: FindingEdits, request: Request) -> str:
        oracle = task.reference_answer(request)
        if request.kind != "probe":
            return oracle
        probe = request.info["probe"]
        if probe.style == "yesno":
            return "Yes."
        if probe.style == "draft":
            return f"<report>{request.info['draft']}</report>"
        claim = request.info["claim_sentence"]
        return _edit_tag(oracle, REPORT_RE, lambda t: task.insert_finding(t, probe.finding, claim))
