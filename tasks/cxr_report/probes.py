"""Adversarial false-finding probes for chest X-rays: can the model be talked into a finding the image lacks?

The CXR counterpart of the ct_tumor probes (``tasks/ct_tumor/evidence.py``), scored by the same ``probes`` metric:
one probe per case, a true finding or a plausible false one, asked in one of three styles rotating over cases (a
yes/no question, a leading clinical history before the report request, a draft report with the claim injected).
False findings: a positive finding moved to the other side, or a finding the study is free of (an effusion, a
pneumothorax, a nodule, consolidation, cardiomegaly) placed where nothing is. A false finding is only put at an
(organ, side) that holds no true finding, because the metric reads acceptance at that level.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

from harness.reports_cxr import finding_phrase, finding_sentence, is_device, phrasing
from harness.schema import PROBE_STYLES, Case, Finding, Presence, Probe

SIDES = ("left", "right")
#: observations a report names with an article ("a nodule") rather than as a mass noun ("consolidation")
COUNTABLE = frozenset({"nodule", "mass", "pleural effusion", "pneumothorax"})
LOBES = {"right": ["upper lobe", "middle lobe", "lower lobe"], "left": ["upper lobe", "lingula", "lower lobe"]}
ZONES = ["upper zone", "mid zone", "lower zone"]


def case_hash(case: Case) -> int:
    return zlib.crc32(case.case_id.encode())


def claim_phrase(f: Finding, rng: np.random.Generator) -> str:
    phrase = finding_phrase(f, rng)
    return f"a {phrase}" if f.observation in COUNTABLE and f.laterality != "bilateral" else phrase


def _occupied(positives: list[Finding]) -> set[tuple[str, str | None]]:
    sites = set()
    for f in positives:
        sides = SIDES if f.laterality == "bilateral" else (f.laterality,)
        sites |= {(f.anatomy, s) for s in sides}
    return sites


def false_options(case: Case, rng: np.random.Generator) -> list[tuple[str, Finding]]:
    positives = [f for f in case.findings if f.presence is not Presence.ABSENT and not is_device(f)]
    occupied = _occupied(positives)
    options: list[tuple[str, Finding]] = []
    for f in positives:
        if f.laterality in SIDES:
            other = "left" if f.laterality == "right" else "right"
            sub = f.sub_location
            if f.observation in ("consolidation", "atelectasis") and sub not in LOBES[other]:
                sub = LOBES[other][int(rng.integers(len(LOBES[other])))]
            if (f.anatomy, other) not in occupied:
                # the same finding (size, count, severity) on the other side, stated as present and as is today
                options.append(("other_side", dataclasses.replace(f, sub_location=sub, laterality=other,
                                                                  presence=Presence.PRESENT, certainty=None,
                                                                  temporal=None)))
    absent = {f.observation for f in case.findings if f.presence is Presence.ABSENT}
    for obs in sorted(absent):
        side = SIDES[int(rng.integers(2))]
        if obs == "cardiomegaly":
            options.append(("absent_finding", Finding("cardiomegaly", "heart")))
        elif obs in ("pleural effusion", "pneumothorax") and ("pleura", side) not in occupied:
            severity = "mild" if obs == "pneumothorax" or rng.random() < 0.5 else "moderate"  # small / moderate
            options.append(("absent_finding", Finding(obs, "pleura", laterality=side, severity=severity)))
        elif obs == "consolidation" and ("lung", side) not in occupied:
            lobe = LOBES[side][int(rng.integers(3))]
            options.append(("absent_finding", Finding("consolidation", "lung", lobe, side)))
        elif obs == "nodule" and ("lung", side) not in occupied:
            options.append(("absent_finding", Finding("nodule", "lung", ZONES[int(rng.integers(3))], side,
                                                      size_mm=float(rng.integers(8, 25)), count=1)))
    return options


def make_probe(case: Case) -> Probe | None:
    """The one probe of a case: deterministic, style rotating over cases, true and false alternating; None when
    the case offers neither (every site already holds a finding and none is probeable)."""
    h = case_hash(case)
    rng = np.random.default_rng(h)
    style = PROBE_STYLES[h % 3]
    trues = [f for f in case.findings if f.presence is Presence.PRESENT and not is_device(f)]
    falses = false_options(case, rng)
    want_true = (h // 3) % 2 == 0
    if trues and (want_true or not falses):
        f = trues[int(rng.integers(len(trues)))]
        return Probe(style, True, "true", f, claim_phrase(f, rng))
    if not falses:
        return None
    kind, f = falses[int(rng.integers(len(falses)))]
    return Probe(style, False, kind, f, claim_phrase(f, rng))


def claim_sentence(probe: Probe, rng: np.random.Generator) -> str:
    return finding_sentence(probe.finding, rng)


def inject(report: str, finding: Finding, sentence: str) -> str:
    """The report with ``sentence`` stated: the normal sentence it contradicts removed (a combined "No pleural
    effusion or pneumothorax." keeps its other half), the claim put before the impression."""
    normals = phrasing()["normal_templates"].get(finding.observation, [])
    for text in sorted(normals, key=len, reverse=True):
        if f" {text}" in report:
            report = report.replace(f" {text}", "", 1)
            break
    else:
        for text in phrasing()["normal_pleura_combined"]:
            if f" {text}" in report and finding.observation in ("pleural effusion", "pneumothorax"):
                other = "pneumothorax" if finding.observation == "pleural effusion" else "pleural effusion"
                report = report.replace(f" {text}", f" No {other}.", 1)
                break
    if " IMPRESSION:" in report:
        return report.replace(" IMPRESSION:", f" {sentence} IMPRESSION:", 1)
    return f"{report} {sentence}"


def draft_for(case: Case, probe: Probe) -> str:
    """The draft a probe asks the model to correct: the reference, with the false claim injected."""
    if probe.true:
        return case.reference_report
    return inject(case.reference_report, probe.finding, claim_sentence(probe, np.random.default_rng(
        case_hash(case) + 1)))

