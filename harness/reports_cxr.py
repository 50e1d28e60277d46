"""Chest X-ray findings -> report text and grounding phrases, with varied phrasing.

The CXR counterpart of ``harness.reports`` (which writes CT reports and is left untouched): the surface forms
live in ``harness/data/cxr_phrasing.yaml``. Used for the CXR phantoms' reference reports, the grounding
task's phrases, and the ``cxr_report`` template baseline's normal report.
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


def _key(f: Finding) -> str:
    return f"{f.observation} bilateral" if f.laterality == "bilateral" and f.observation == "pleural effusion" \
        else f.observation


def _slots(f: Finding, rng: np.random.Generator) -> dict[str, str]:
    grade = next(iter(sorted(f.attributes & {"small", "moderate", "large"})), "")
    side = f.laterality or ""
    sub = f.sub_location or ""
    zone = phrasing()["zone_names"].get(sub, {"noun": [sub], "adjective": [sub]})
    return {"side": side, "Side": side[:1].upper() + side[1:], "lobe": sub,
            "zone": _pick(rng, zone["noun"]), "zone_adj": _pick(rng, zone["adjective"]),
            "size": _size(f.size_mm, rng), "grade": grade, "Grade": grade[:1].upper() + grade[1:]}


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
