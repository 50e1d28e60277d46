"""The E-MRL evidence steps of ct_tumor: verification views through the key point, and false-finding probes.

Verification (one call per case that names a key slice): the model is shown the axial slice it named (the
*local view*, larger than in the global view) and the coronal and sagittal planes through the key point, each as
its own image, and says per plane what it shows. The key point is the centroid of the largest tumor cut by the
named slice when masks exist (the model names a slice, not a point), else the slice's centre.

Probes (one call per case): a true or a plausible false finding built from the truth (the same lesion in an
organ that has none, the other side, a wrong count), asked in one of three styles that rotate over cases: a yes/no
question, a leading clinical history before the report request, or a draft report to correct. One call each
keeps the evidence steps under 2x the calls of the plain report task (see benchmarks/bench_evidence_calls.py).
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from harness.loaders.volume_cache import load_labels
from harness.reports_ct import COUNT_WORDS, inject_sentence, lesion_sentence, location_phrase, phrasing
from harness.schema import PROBE_STYLES, Case, Finding, Presence, Probe

PLANES = ("axial", "coronal", "sagittal")
PAIRED = {"kidney", "lung"}
SUB_LOCATIONS = {"liver": ["right lobe", "left lobe"], "kidney": ["upper pole", "interpolar region", "lower pole"],
                 "pancreas": ["head", "body", "tail"], "lung": ["upper lobe", "lower lobe"]}
PLANE_RE = {p: re.compile(rf"<{p}>(.*?)</{p}>", re.S | re.I) for p in PLANES}
VERIFY_INSTRUCTION = (
    "These three images come from the same CT, through one point: image 1 is axial slice {k}, the slice you named "
    "as key evidence; image 2 is the coronal plane and image 3 the sagittal plane through that point. For each "
    "image separately, state which tumors it shows (organ, part, side, size in mm) or that it shows no tumor. "
    "Answer exactly as <axial>...</axial><coronal>...</coronal><sagittal>...</sagittal>."
)
NO_TUMOR = "No tumor is seen."


# -- the key point and what the masks show there -----------------------------------------------------------
@dataclass(frozen=True)
class KeyPoint:
    x: int
    y: int
    z: int
    lesion_label: int | None  # the tumor whose centroid it is, if any


@lru_cache(maxsize=4096)
def _slice_truth(label_path: str, z: int, tumor_labels: tuple[int, ...]) -> tuple[KeyPoint, dict[str, tuple[int, ...]]]:
    """Key point on slice ``z`` and the tumors each plane through it cuts, from one read of the label map.

    Cached by (file, slice): the runner asks when building the verification request and the scorer again
    when parsing, and a label map read costs far more than the few integers kept."""
    labels = load_labels(label_path)[0]
    cut = labels[:, :, z]
    areas = {k: int((cut == k).sum()) for k in tumor_labels}
    best = max(areas, key=lambda k: (areas[k], -k)) if areas else None
    if best is None or areas[best] == 0:
        kp = KeyPoint(labels.shape[0] // 2, labels.shape[1] // 2, z, None)
    else:
        xs, ys = np.nonzero(cut == best)
        kp = KeyPoint(int(round(xs.mean())), int(round(ys.mean())), z, best)
    return kp, _visible(labels, kp, set(tumor_labels))


def _visible(labels: np.ndarray, kp: KeyPoint, wanted: set[int]) -> dict[str, tuple[int, ...]]:
    planes = {"axial": labels[:, :, kp.z], "coronal": labels[:, kp.y, :], "sagittal": labels[kp.x, :, :]}
    return {p: tuple(sorted(int(v) for v in np.unique(a) if int(v) in wanted)) for p, a in planes.items()}


def key_point(case: Case, z: int, shape: tuple[int, int, int]) -> KeyPoint:
    """The centroid of the largest tumor the slice cuts (masks), else the slice's centre."""
    if case.label_path is None or not case.lesions:
        return KeyPoint(shape[0] // 2, shape[1] // 2, z, None)
    return _slice_truth(case.label_path, z, tuple(l.label for l in case.lesions))[0]


def visible_lesions(case: Case, kp: KeyPoint) -> dict[str, tuple[int, ...]] | None:
    """Labels of the tumors each plane through the key point cuts; None without masks."""
    if case.label_path is None:
        return None
    if not case.lesions:
        return {p: () for p in PLANES}
    truth_kp, visible = _slice_truth(case.label_path, kp.z, tuple(l.label for l in case.lesions))
    if truth_kp != kp:  # a key point from elsewhere: compute its planes directly
        visible = _visible(load_labels(case.label_path)[0], kp, {l.label for l in case.lesions})
    return visible


def findings_of(case: Case, labels: tuple[int, ...]) -> list[Finding]:
    by_label = {l.label: l.finding for l in case.lesions}
    return [by_label[k] for k in labels]


def plane_text(findings: list[Finding], rng: np.random.Generator) -> str:
    return " ".join(lesion_sentence(f, rng) for f in findings) if findings else NO_TUMOR


def parse_planes(text: str) -> dict[str, str | None]:
    """Each plane's answer; None where its tag is missing."""
    out: dict[str, str | None] = {}
    for p, rx in PLANE_RE.items():
        m = rx.search(text)
        out[p] = m.group(1).strip() if m else None
    return out


# -- probes -------------------------------------------------------------------------------------------------
def case_hash(case: Case) -> int:
    return zlib.crc32(case.case_id.encode())


def _noun(observation: str) -> str:
    return phrasing()["observation_names"].get(observation, [observation])[0]


def _plural(noun: str) -> str:
    return noun + ("es" if noun.endswith("s") else "s")


def claim_phrase(f: Finding, rng: np.random.Generator) -> str:
    loc = location_phrase(f, rng)
    if f.count and f.count > 1:
        return f"{COUNT_WORDS.get(f.count, str(f.count)).lower()} {_plural(_noun(f.observation))} in the {loc}"
    return f"a {_noun(f.observation)} in the {loc}"


def make_probe(case: Case) -> Probe | None:
    """The one probe of a case: deterministic, style rotating over cases, true and false alternating; None for a
    case without structured truth (reports only), where no finding can be known true or false."""
    if not case.findings:
        return None
    h = case_hash(case)
    rng = np.random.default_rng(h)
    style = PROBE_STYLES[h % 3]
    lesions = [l.finding for l in case.lesions]
    want_true = bool(lesions) and (h // 3) % 2 == 0
    if want_true:
        f = lesions[int(rng.integers(len(lesions)))]
        return Probe(style, True, "true", f, claim_phrase(f, rng))
    return _false_probe(case, style, rng)


def _false_probe(case: Case, style: str, rng: np.random.Generator) -> Probe:
    positives = [f for f in case.findings if f.presence is Presence.PRESENT]
    involved = {(f.anatomy, f.laterality) for f in positives}
    normals = [f for f in case.findings if f.presence is Presence.ABSENT]
    options: list[tuple[str, Finding]] = []
    for f in positives:
        if f.anatomy in PAIRED:
            other = "left" if f.laterality == "right" else "right"
            if (f.anatomy, other) not in involved:
                options.append(("other_side", _claimed(f, laterality=other, count=1)))
        n_here = sum(1 for g in positives if (g.anatomy, g.laterality) == (f.anatomy, f.laterality))
        options.append(("wrong_count", _claimed(f, sub_location=None, size_mm=None, count=n_here + 1)))
    for target in normals:
        subs = SUB_LOCATIONS.get(target.anatomy)
        obs = "nodule" if target.anatomy == "lung" else "mass"
        options.append(("other_organ", Finding(obs, target.anatomy, subs[int(rng.integers(len(subs)))] if subs else None,
                                               target.laterality, Presence.PRESENT, float(rng.integers(15, 40)), 1)))
    kind, f = options[int(rng.integers(len(options)))]
    return Probe(style, False, kind, f, claim_phrase(f, rng))


def _claimed(f: Finding, **changes: Any) -> Finding:
    """A false finding made from a true one: the changes, stated as plainly present now (the stated certainty
    grade and change against a prior are the true finding's, not the claim's); severity, attributes and a
    device's position stay."""
    return dataclasses.replace(f, presence=Presence.PRESENT, certainty=None, temporal=None, **changes)


def invent_finding(findings: tuple[Finding, ...], rng: np.random.Generator) -> Finding:
    """A plausible tumor in an organ the truth says is normal (or a second one, if every organ has one)."""
    normals = [f for f in findings if f.presence is Presence.ABSENT]
    target = normals[int(rng.integers(len(normals)))] if normals else findings[0]
    subs = SUB_LOCATIONS.get(target.anatomy)
    return Finding("nodule" if target.anatomy == "lung" else "mass", target.anatomy,
                   subs[int(rng.integers(len(subs)))] if subs else None, target.laterality, Presence.PRESENT,
                   size_mm=float(rng.integers(15, 40)), count=1,
                   attributes=frozenset() if target.anatomy == "lung" else frozenset({"hypodense"}))


def claim_sentence(probe: Probe, rng: np.random.Generator) -> str:
    if probe.finding.count and probe.finding.count > 1:
        return probe.claim[0].upper() + probe.claim[1:] + "."
    return lesion_sentence(probe.finding, rng)


def draft_for(case: Case, probe: Probe) -> str:
    """The draft report a probe asks the model to correct: the reference, with the false claim injected."""
    if probe.true:
        return case.reference_report
    rng = np.random.default_rng(case_hash(case) + 1)
    return inject_sentence(case.reference_report, probe.finding, claim_sentence(probe, rng))
