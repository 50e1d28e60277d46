"""Findings -> report text, with varied phrasing (the inverse of the findings extractor).

Used for the phantoms' reference reports, the oracle and hallucinator baselines, and the adversarial probes,
so that every place that writes a finding writes it the same way. The surface forms live in
``harness/data/report_phrasing.yaml``.

Besides organ, part, side, size, count and attributes, a finding's ``severity`` and ``temporal`` change are
written as words before it ("a new 12 mm mass"), a ``probable`` certainty as a hedge ("Probable ...", "There is
probably ...") as a possible one is; an ``improbable`` finding ("A mass in the liver is unlikely.") and a resolved
one ("Interval resolution of ...") are stated among the normals, so that the oracle writes what the truth says.
Findings without these fields are written exactly as before.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Sequence

import numpy as np
import yaml

from harness.schema import Certainty, Finding, Presence

COUNT_WORDS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five"}


@lru_cache(maxsize=1)
def phrasing() -> dict[str, Any]:
    return yaml.safe_load(resources.files("harness.data").joinpath("report_phrasing.yaml").read_text())


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def format_size(size_mm: float, rng: np.random.Generator) -> str:
    style = int(rng.integers(3))
    if style == 0:
        return f"{size_mm:.0f} mm"
    if style == 1:
        return f"{size_mm / 10:.1f} cm"
    short = max(round(size_mm * rng.uniform(0.7, 0.95)), 1)
    return f"{size_mm / 10:.1f} x {short / 10:.1f} cm"


def organ_phrase(anatomy: str, laterality: str | None) -> str:
    noun = phrasing()["organ_names"].get(anatomy, [anatomy])[0]
    return f"{laterality} {noun}" if laterality else noun


def location_phrase(f: Finding, rng: np.random.Generator) -> str:
    noun, adj = (phrasing()["organ_names"].get(f.anatomy, [f.anatomy]) * 2)[:2]
    side = f"{f.laterality} " if f.laterality else ""
    if not f.sub_location:
        return f"{side}{noun}"
    sub = f.sub_location
    forms = [f"{sub} of the {side}{noun}", f"{side}{noun} {sub}"]
    if f.anatomy == "lung":
        forms.append(f"{side}{sub}")  # "left upper lobe"
    elif f.anatomy == "liver":
        forms.append(f"{sub.split()[0]} {adj} {sub.split()[1]}")  # "right hepatic lobe"
    else:
        forms.append(f"{side}{adj} {sub}")  # "left renal upper pole", "pancreatic tail"
    return _pick(rng, forms)


def modifier_phrase(f: Finding, rng: np.random.Generator) -> str:
    """The words stating a finding's change against a prior and its severity ("new", "enlarging moderate"); ""
    when it has neither. A resolved change is not a modifier (see ``absent_sentence``)."""
    p = phrasing()
    words = []
    if f.temporal and f.temporal != "resolved":
        words.append(_pick(rng, p["temporal_names"][f.temporal]))
    if f.severity:
        words.append(_pick(rng, p["severity_names"][f.severity]))
    return " ".join(words)


def lesion_sentence(f: Finding, rng: np.random.Generator) -> str:
    p = phrasing()
    attrs = sorted(f.attributes)
    attr = _pick(rng, p["attribute_names"][attrs[0]]) if attrs and attrs[0] in p["attribute_names"] else ""
    if f.temporal or f.severity:
        attr = " ".join(filter(None, (modifier_phrase(f, rng), attr)))
    obs = _pick(rng, p["observation_names"].get(f.observation, [f.observation]))
    size = format_size(f.size_mm, rng) if f.size_mm else "unmeasured"
    loc = location_phrase(f, rng)
    template = _pick(rng, p["lesion_templates"])
    text = template.format(size=size, attr=attr, obs=obs, loc=loc, Loc=loc[:1].upper() + loc[1:],
                           Attr=attr[:1].upper() + attr[1:])
    text = " ".join(text.replace(" ,", ",").split())
    hedge = {Presence.UNCERTAIN: ("possibly", "Possible")}.get(f.presence)
    if hedge is None and f.certainty is Certainty.PROBABLE:
        hedge = ("probably", "Probable")
    if hedge is not None:
        lead = re.match(r"(?i)there (is|are) ", text)
        # "There is possibly a ...": a hedge after "there is", which ends a scope, not before it
        text = (text[:lead.end()] + hedge[0] + " " + text[lead.end():]) if lead else \
            hedge[1] + " " + text[0].lower() + text[1:]
    return text[0].upper() + text[1:]


def states_absence_of(f: Finding) -> bool:
    """An absent finding stated about the finding itself rather than as a normal organ: improbable, or resolved."""
    return f.presence is Presence.ABSENT and (f.certainty is Certainty.IMPROBABLE or f.temporal == "resolved")


def absent_sentence(f: Finding, rng: np.random.Generator) -> str:
    """An improbable finding ("A mass in the right lobe of the liver is unlikely.") or a resolved one ("Interval
    resolution of the mass in the left kidney.")."""
    p = phrasing()
    key = "resolved_templates" if f.temporal == "resolved" else "improbable_templates"
    obs = _pick(rng, p["observation_names"].get(f.observation, [f.observation]))
    text = _pick(rng, p[key]).format(obs=obs, loc=location_phrase(f, rng))
    return text[0].upper() + text[1:]


def normal_sentence(f: Finding, rng: np.random.Generator) -> str:
    if states_absence_of(f):
        return absent_sentence(f, rng)
    text = _pick(rng, phrasing()["normal_templates"]).format(organ=organ_phrase(f.anatomy, f.laterality))
    return text[0].upper() + text[1:]


def write_report(findings: Sequence[Finding], rng: np.random.Generator) -> str:
    """A FINDINGS / IMPRESSION report stating every finding, positives in random order, normals after."""
    positives = [f for f in findings if f.presence is not Presence.ABSENT]
    normals = [f for f in findings if f.presence is Presence.ABSENT]
    order = rng.permutation(len(positives)) if positives else []
    sentences = [lesion_sentence(positives[i], rng) for i in order]
    sentences += [normal_sentence(f, rng) for f in normals]
    if positives:
        n = len(positives)
        impression = f"{COUNT_WORDS.get(n, str(n))} {'lesion' if n == 1 else 'lesions'} as described above."
    else:
        impression = _pick(rng, phrasing()["no_tumor_impressions"])
    return "FINDINGS: " + " ".join(sentences) + " IMPRESSION: " + impression


def inject_sentence(report: str, finding: Finding, sentence: str) -> str:
    """Replace the sentence calling the finding's organ normal, else insert before the impression."""
    phrase = re.escape(organ_phrase(finding.anatomy, finding.laterality))
    pattern = re.compile(rf"(?<=[.:] )[^.:]*\b(no|normal|unremarkable)\b[^.:]*\b{phrase}\b[^.]*\.|"
                         rf"(?<=[.:] )[^.:]*\b{phrase}\b[^.:]*\b(normal|unremarkable)\b[^.]*\.", re.I)
    new, n = pattern.subn(sentence, report, count=1)
    if n:
        return new
    if " IMPRESSION:" in report:
        return report.replace(" IMPRESSION:", f" {sentence} IMPRESSION:", 1)
    return f"{report} {sentence}"
