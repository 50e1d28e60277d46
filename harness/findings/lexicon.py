"""The radiology lexicon (``lexicon.yaml``) compiled into lookup tables, and the comparisons built on it.

The lexicon is data; this module only indexes it: every surface form becomes a token tuple mapped to its
readings (what the phrase can mean), so the extractor finds phrases with dictionary look-ups instead of a
regular expression with a thousand alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from harness.schema import Presence

TOKEN_RE = re.compile(r"\d+(?:\.\d+)?|[a-z]+|[^\sa-z\d]")
_HYPHEN_RE = re.compile(r"(?<=[a-z0-9])[-\u2010-\u2014/](?=[a-z0-9])")

UNSPECIFIED = "unspecified"


def normalize(text: str) -> str:
    """Lowercase, hyphens and slashes between word characters read as spaces, 'x' for the times sign."""
    text = text.lower().replace("\u00d7", " x ")
    return _HYPHEN_RE.sub(" ", text)


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(normalize(text))


@dataclass(frozen=True)
class Reading:
    """One meaning of a phrase. ``kind``: OBS, ENLARGE, ANAT, SUB, STATION, LAT, ATTR, COUNT or CTX."""

    kind: str
    value: Any
    plural: bool = False


@dataclass(frozen=True)
class SubLocation:
    organ: str
    name: str  # the canonical sub-location stored in Finding.sub_location
    laterality: str | None = None
    needs_organ: bool = False


@dataclass
class Lexicon:
    observations: dict[str, dict[str, Any]]
    anatomy: dict[str, dict[str, Any]]
    enlargement: dict[str, str]
    phrases: dict[tuple[str, ...], list[Reading]] = field(default_factory=dict)
    max_len: int = 1
    #: canonical observation name for any form ("tumor" -> "mass")
    observation_of_form: dict[str, str] = field(default_factory=dict)
    anatomy_of_form: dict[str, str] = field(default_factory=dict)
    stations: frozenset[str] = frozenset()
    generics: frozenset[str] = frozenset()

    def add(self, form: str, reading: Reading) -> None:
        key = tuple(tokenize(form))
        if not key:
            return
        readings = self.phrases.setdefault(key, [])
        if reading not in readings:
            readings.append(reading)
        self.max_len = max(self.max_len, len(key))

    # -- questions the metrics ask ------------------------------------------------------------------------
    def is_focal(self, observation: str) -> bool:
        return bool(self.observations.get(observation, {}).get("focal"))

    def is_generic(self, observation: str) -> bool:
        """The generic member of a family ("lesion", "support device")."""
        return observation in self.generics

    def is_paired(self, anatomy: str) -> bool:
        return bool(self.anatomy.get(anatomy, {}).get("paired"))

    def entity_type(self, observation: str) -> str:
        return self.observations.get(observation, {}).get("type", "ABNORMALITY")

    def canonical_observation(self, name: str) -> str:
        """The lexicon's name for an observation given by id or by any of its forms; unknown names pass."""
        if name in self.observations:
            return name
        return self.observation_of_form.get(" ".join(tokenize(name)), name)

    def canonical_anatomy(self, name: str) -> str:
        if name in self.anatomy or name == UNSPECIFIED:
            return name
        return self.anatomy_of_form.get(" ".join(tokenize(name)), name)

    def is_device(self, observation: str) -> bool:
        """Observations whose organ is fixed (devices): matched by type, not by site or side."""
        return bool(self.observations.get(observation, {}).get("fixed_anatomy"))

    def normal_finding(self, anatomy: str) -> str:
        return self.anatomy.get(anatomy, {}).get("normal_finding", "lesion")

    def chexpert_label(self, observation: str, anatomy: str) -> str | None:
        spec = self.observations.get(observation, {})
        label = spec.get("chexpert")
        if label is None:
            return None
        allowed = spec.get("chexpert_anatomy")
        if allowed and anatomy not in allowed and anatomy != UNSPECIFIED:
            return None
        return label

    def match_observation(self, observation: str, presence: Presence) -> str:
        """The observation as findings are matched: an absent focal lesion of any kind is "no focal lesion"."""
        if presence is Presence.ABSENT and self.is_focal(observation):
            return "lesion"
        return observation

    def family(self, observation: str) -> str:
        """All focal lesions are one family (generic: "lesion"); devices another (generic: "support device")."""
        if self.is_focal(observation):
            return "lesion"
        return self.observations.get(observation, {}).get("family", observation)

    def observations_compatible(self, a: str, b: str, presence: Presence) -> bool:
        """Same observation class: equal; or of one family where one is the family's generic ("lesion" and a
        cyst, "support device" and a pacemaker); or both absent focal lesions ("no liver mass" == "no focal
        liver lesion")."""
        if a == b:
            return True
        fam = self.family(a)
        if fam != self.family(b):
            return False
        if presence is Presence.ABSENT and fam == "lesion":
            return True
        return a == fam or b == fam


def _plurals(form: str) -> list[str]:
    words = form.split()
    last = words[-1]
    if last.endswith("sis"):
        outs = [last[:-3] + "ses"]
    elif last.endswith(("s", "x", "sh", "ch")):
        outs = [last + "es"]
    elif last.endswith("y") and len(last) > 2 and last[-2] not in "aeiou":
        outs = [last[:-1] + "ies"]
    elif last.endswith("um"):
        outs = [last[:-2] + "a", last + "s"]
    else:
        outs = [last + "s"]
    return [" ".join(words[:-1] + [o]) for o in outs]


_CTX_KINDS = ("negation_forward", "negation_backward", "negation_bidirectional", "uncertainty_forward",
              "uncertainty_backward", "pseudo", "termination", "normal", "normal_size", "back_reference",
              "relation")


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw = yaml.safe_load(resources.files("harness.findings").joinpath("lexicon.yaml").read_text())
    lex = Lexicon(observations=raw["observations"], anatomy=raw["anatomy"],
                  enlargement=dict(raw["enlargement"]["by_anatomy"]))
    # Context first: a phrase that is also a content word keeps both readings and the extractor decides.
    ctx = raw["context"]
    for kind in _CTX_KINDS:
        for form in ctx.get(kind, []):
            lex.add(form, Reading("CTX", kind))
    for name, spec in raw["observations"].items():
        lex.observation_of_form[" ".join(tokenize(name))] = name
        for form in spec["forms"]:
            lex.observation_of_form[" ".join(tokenize(form))] = name
            lex.add(form, Reading("OBS", name))
            for p in _plurals(form):
                lex.add(p, Reading("OBS", name, plural=True))
        for p in spec.get("plural", []):
            lex.observation_of_form[" ".join(tokenize(p))] = name
            lex.add(p, Reading("OBS", name, plural=True))
    for form in raw["enlargement"]["forms"]:
        lex.add(form, Reading("ENLARGE", None))
    stations = set()
    for organ, spec in raw["anatomy"].items():
        lex.anatomy_of_form[" ".join(tokenize(organ))] = organ
        for form in spec["forms"]:
            lex.anatomy_of_form[" ".join(tokenize(form))] = organ
            lex.add(form, Reading("ANAT", organ))
            for p in _plurals(form):
                lex.add(p, Reading("ANAT", organ, plural=True))
        for sub, sspec in (spec.get("subs") or {}).items():
            loc = SubLocation(organ=organ, name=sspec.get("is", sub), laterality=sspec.get("laterality"),
                              needs_organ=bool(sspec.get("needs_organ")))
            for form in sspec["forms"]:
                lex.add(form, Reading("SUB", loc))
                for p in _plurals(form):
                    lex.add(p, Reading("SUB", loc, plural=True))
        for station in spec.get("stations", []):
            stations.add(" ".join(tokenize(station)))
            lex.add(station, Reading("STATION", SubLocation(organ=organ, name=station)))
    lex.stations = frozenset(stations)
    lex.generics = frozenset({"lesion"} | {spec["family"] for spec in raw["observations"].values()
                                           if "family" in spec})
    for side, forms in raw["laterality"].items():
        for form in forms:
            lex.add(form, Reading("LAT", side))
    for attr, forms in raw["attributes"].items():
        for form in forms:
            lex.add(form, Reading("ATTR", attr))
    for count, forms in raw["counts"].items():
        for form in forms:
            lex.add(form, Reading("COUNT", count if count == "multiple" else int(count)))
    lex.location_fillers = frozenset(ctx["location_fillers"])  # type: ignore[attr-defined]
    lex.sections = tuple(ctx["sections"])  # type: ignore[attr-defined]
    lex.skip_sections = frozenset(ctx["skip_sections"])  # type: ignore[attr-defined]
    return lex
