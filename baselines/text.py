"""Non-neural report baselines. They calibrate the metrics: the oracle must top every clinical and evidence
metric, the template shows what boilerplate earns, the hallucinator what one invented finding costs, and the
acquiescent baseline what agreeing with every suggestion costs.

They know no task's answer form: what each needs of a task is a protocol of ``harness.task`` (its ``needs``),
and the task writes, edits and words every answer (its tags, its yes and no, where a finding is stated)."""

from __future__ import annotations

import zlib

import numpy as np

from harness.schema import Request
from harness.task import FindingEdits, ReferenceAnswers, ReportAnswers


def _case_rng(request: Request) -> np.random.Generator:
    # A stream of its own: the tasks seed their probes with the bare case hash, and a hallucinator drawing the same
    # numbers would invent exactly the finding each probe asks about.
    return np.random.default_rng([zlib.crc32(request.case.case_id.encode()), 0xBA5E])


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
        denied = task.reply(request, agree=False)  # "no" to a yes/no probe
        return denied if denied is not None else task.format_answer(task.normal_report(), None)


class HallucinatorBaseline:
    """The oracle in every step, plus one invented finding stated wherever it writes a report or a view."""

    needs = FindingEdits

    def answer(self, task: FindingEdits, request: Request) -> str:
        oracle = task.reference_answer(request)
        invented = task.invent_finding(request.case, _case_rng(request))
        if invented is None:  # nothing plausible left to invent: every site already holds a finding
            return oracle
        return task.state_finding(request, oracle, *invented)


class AcquiescentBaseline:
    """The oracle, except that it agrees with every suggestion: says yes to every probe, keeps every draft,
    repeats every clinical history."""

    needs = FindingEdits

    def answer(self, task: FindingEdits, request: Request) -> str:
        agreed = task.reply(request, agree=True)  # yes to a question, the draft kept
        if agreed is not None:
            return agreed
        suggested = task.suggested_finding(request)  # a leading history's finding, repeated
        oracle = task.reference_answer(request)
        return oracle if suggested is None else task.state_finding(request, oracle, *suggested)
