"""Chest X-ray findings -> report text and grounding phrases, with varied phrasing.

The CXR counterpart of ``harness.reports_ct`` (the CT report writer): the surface forms
live in ``harness/data/cxr_phrasing.yaml``. Used for the CXR phantoms' reference reports, the grounding
task's phrases, and the ``cxr_report`` template baseline's normal report.

A grade is written from ``Finding.severity`` (an effusion's or pneumothorax's "small" / "moderate" / "large" is
mild / moderate / severe; cardiomegaly is "mild" / "moderate" / "severe" as such), a device's tip from
``Finding.position``. Version-1 findings that kept the grade in ``attributes`` ("small", "moderate", "large")
are still written with it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Sequence

import numpy as np
import yaml

from harness.schema import Finding, Presence


@lru_cache(maxsize=1)
def phrasing() -> dict[str, Any]:
    return yaml.safe_load(resources.files("harness.data").joinpath("cxr_phrasing.yaml").read_text())


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _size(size_mm: float | None, rng: np.random.Generator) -> str:
    if not size_mm:
        return "unmeasured"
    return f"{size_mm:.0f} mm" if rng.random() < 0.5 else f"{size_mm / 10:.1f} cm"


#: version-1 grades kept in ``attributes``
_LEGACY_GRADES = {"small": "mild", "moderate": "moderate", "large": "severe"}


def severity_of(f: Finding) -> str | None:
    """The finding's severity; for a version-1 finding, the grade it kept in ``attributes``."""
    if f.severity is not None:
        return f.severity
    return next((_LEGACY_GRADES[a] for a in sorted(f.attributes) if a in _LEGACY_GRADES), None)


def _key(f: Finding) -> str:
    if f.laterality == "bilateral" and f.observation == "pleural effusion":
        return f"{f.observation} bilateral"
    if f.observation == "cardiomegaly" and severity_of(f) is not None:
        return "cardiomegaly graded"
    if is_device(f) and f.position is None:
        return f"{f.observation} unplaced"
    return f.observation


def _slots(f: Finding, rng: np.random.Generator) -> dict[str, str]:
    p = phrasing()
    severity = severity_of(f)
    grade = p["grade_words"][severity] if severity else ""
    adverb = p["severity_adverbs"][severity] if severity else ""
    side = f.laterality or ""
    sub = f.sub_location or ""
    zone = p["zone_names"].get(sub, {"noun": [sub], "adjective": [sub]})
    position = _pick(rng, p["position_phrases"].get(f.position, [f"in the {f.position}"])) if f.position else ""
    return {"side": side, "Side": side[:1].upper() + side[1:], "lobe": sub,
            "zone": _pick(rng, zone["noun"]), "zone_adj": _pick(rng, zone["adjective"]),
            "size": _size(f.size_mm, rng), "grade": grade, "Grade": grade[:1].upper() + grade[1:],
            "severity": severity or "", "Severity": (severity or "")[:1].upper() + (severity or "")[1:],
            "severely": adverb, "position": position}


def _fill(template: str, f: Finding, rng: np.random.Generator) -> str:
    text = " ".join(template.format(**_slots(f, rng)).split())
    return text[:1].upper() + text[1:]


def finding_sentence(f: Finding, rng: np.random.Generator) -> str:
    """One report sentence stating a positive (or uncertain) finding."""
    templates = phrasing()["positive_templates"].get(_key(f))
    if templates is None:
        raise KeyError(f"no CXR phrasing for observation '{f.observation}'")
    text = _fill(_pick(rng, templates), f, rng)
    if f.presence is Presence.UNCERTAIN:
        text = "Possible " + text[0].lower() + text[1:]
    return text


def finding_phrase(f: Finding, rng: np.random.Generator) -> str:
    """A short noun phrase naming the finding (the grounding task's phrase; impression lines)."""
    text = _fill(_pick(rng, phrasing()["phrases"][_key(f)]), f, rng)
    return text[0].lower() + text[1:]


def normal_sentence(f: Finding, rng: np.random.Generator) -> str:
    return _pick(rng, phrasing()["normal_templates"][f.observation])


def is_device(f: Finding) -> bool:
    return "support device" in f.attributes


def write_cxr_report(findings: Sequence[Finding], rng: np.random.Generator) -> str:
    """A FINDINGS / IMPRESSION chest X-ray report stating every finding: positives in random order, devices,
    then the normal statements; the impression lists the positive non-device findings."""
    positives = [f for f in findings if f.presence is not Presence.ABSENT and not is_device(f)]
    devices = [f for f in findings if f.presence is not Presence.ABSENT and is_device(f)]
    normals = [f for f in findings if f.presence is Presence.ABSENT]
    order = rng.permutation(len(positives)) if positives else []
    sentences = [finding_sentence(positives[i], rng) for i in order]
    sentences += [finding_sentence(f, rng) for f in devices]
    absent = {f.observation for f in normals}
    combine = {"pleural effusion", "pneumothorax"} <= absent and rng.random() < 0.5
    for f in normals:
        if combine and f.observation in ("pleural effusion", "pneumothorax"):
            if f.observation == "pleural effusion":
                sentences.append(_pick(rng, phrasing()["normal_pleura_combined"]))
            continue
        sentences.append(normal_sentence(f, rng))
    if positives:
        lines = [finding_phrase(positives[i], rng) for i in order]
        impression = " ".join(line[0].upper() + line[1:] + "." for line in lines)
    else:
        impression = _pick(rng, phrasing()["normal_impressions"])
    return "FINDINGS: " + " ".join(sentences) + " IMPRESSION: " + impression
