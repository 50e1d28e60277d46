"""The radiology lexicon (``lexicon.yaml``) compiled into lookup tables, and the comparisons built on it.

The lexicon is data; this module only indexes it: every surface form becomes a token tuple mapped to its
readings (what the phrase can mean), so the extractor finds phrases with dictionary look-ups instead of a
regular expression with a thousand alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Iterable, Sequence

import yaml

from harness.schema import Presence

TOKEN_RE = re.compile(r"\d+(?:\.\d+)?|[a-z]+|[^\sa-z\d]")
#: (both patterns open with the character they replace and look behind it after: a pattern that opens with a
#: lookbehind, or with a class most characters fit, is tried at every character of every report, one that opens with
#: a rare character skips ahead to it)
_HYPHEN_RE = re.compile(r"[-\u2010-\u2014/](?<=[a-z0-9][-\u2010-\u2014/])(?=[a-z0-9])")
#: a European decimal comma ("1,2 cm", "2,3 x 1,8 cm"): a comma between digits, one or two after it, then a unit or
#: the next dimension; "1, 2 cm" (a list), "1,200" (thousands) and "segments 2,3" (no unit) keep their comma
_DECIMAL_COMMA_RE = re.compile(r",(?<=\d,)(?=\d{1,2}\s*(?:[mc]m\b|millim|centim|x\b|\u00d7|by\b))")

UNSPECIFIED = "unspecified"


#: shorthand "2/2" for "secondary to" ("hydronephrosis 2/2 obstructing stone"), not a date's ("2/2/2026")
_SECONDARY_TO_RE = re.compile(r"(?<![\d/.])2/2(?![\d/])")


def normalize(text: str) -> str:
    """Lowercase, hyphens and slashes between word characters read as spaces, 'x' for the times sign, "2/2" as
    "secondary to" (its numbers would read as sizes: "2/2 0.5 cm stone")."""
    text = text.lower()
    if "2/2" in text:
        text = _SECONDARY_TO_RE.sub("secondary to", text)
    if "," in text:
        text = _DECIMAL_COMMA_RE.sub(".", text)
    if "\u00d7" in text:
        text = text.replace("\u00d7", " x ")
    return _HYPHEN_RE.sub(" ", text)


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(normalize(text))


#: count words that state a plural without a number: "multiple" (two or more) and "many" (three or more); a
#: finding's attributes carry "multiple", and "many" as well for the second
PLURAL_COUNTS = {"multiple": frozenset({"multiple"}), "many": frozenset({"multiple", "many"})}


@dataclass(frozen=True)
class Reading:
    """One meaning of a phrase. ``kind``: OBS, ENLARGE, ANAT, SUB, STATION, LAT, ATTR, COUNT, SEV (severity
    grade), TEMP (change against a prior), POS (a device tip position) or CTX (context trigger)."""

    kind: str
    value: Any
    plural: bool = False
    organ: str | None = None  # an observation form that names its organ ("cholelithiasis")


@dataclass(frozen=True)
class SubLocation:
    organ: str
    name: str  # the canonical sub-location stored in Finding.sub_location
    laterality: str | None = None
    needs_organ: bool = False
    within: str | None = None  # the sub-location that contains this one


@dataclass
class Lexicon:
    observations: dict[str, dict[str, Any]]
    anatomy: dict[str, dict[str, Any]]
    enlargement: dict[str, str]
    #: the largest normal size of a measured organ (mm; or {default, <word>: mm}): see lexicon.yaml
    upper_normal_mm: dict[str, Any] = field(default_factory=dict)
    #: what "dilated" means for a part of an organ ("collecting system" -> hydronephrosis), before the organ's own
    enlargement_by_sub: dict[str, str] = field(default_factory=dict)
    phrases: dict[tuple[str, ...], list[Reading]] = field(default_factory=dict)
    #: the phrases as a word trie (word -> subtree; the key None marks a phrase's end): the scan walks it once per
    #: position instead of looking up every span length
    trie: dict = field(default_factory=dict)
    #: each phrase's readings grouped by kind (the extractor asks for one kind at a time, many times)
    phrase_kinds: dict[tuple[str, ...], dict[str, list[Reading]]] = field(default_factory=dict)
    #: canonical observation name for any form ("tumor" -> "mass")
    observation_of_form: dict[str, str] = field(default_factory=dict)
    anatomy_of_form: dict[str, str] = field(default_factory=dict)
    stations: frozenset[str] = frozenset()
    generics: frozenset[str] = frozenset()
    #: (organ, sub-location) -> its chain of containing sub-locations, nearest first
    sub_parents: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    prior_before: frozenset[tuple[str, ...]] = frozenset()
    weak_anatomy: frozenset[str] = frozenset()
    node_station_of_organ: dict[str, str] = field(default_factory=dict)
    station_region: dict[str, str] = field(default_factory=dict)
    midline_stations: frozenset[str] = frozenset()
    prior_after: frozenset[tuple[str, ...]] = frozenset()
    version: int = 0

    def add(self, form: str, reading: Reading) -> None:
        key = tuple(tokenize(form))
        if not key:
            return
        # "junction of the SVC and right atrium", "2 cm below aortic knob": a phrase reads with or without its
        # articles (dictation and abbreviated styles drop them)
        bare = tuple(w for w in key if w != "the") if reading.kind != "CTX" else key  # "and the" ends a scope
        for k in ((key, bare) if bare and bare != key else (key,)):
            readings = self.phrases.setdefault(k, [])
            if reading not in readings:
                readings.append(reading)

    # -- questions the metrics ask ------------------------------------------------------------------------
    def is_focal(self, observation: str) -> bool:
        return bool(self.observations.get(observation, {}).get("focal"))

    def is_countable(self, observation: str) -> bool:
        """Things that come in numbers (nodes, stones, fractures, devices) though they are not focal lesions."""
        spec = self.observations.get(observation, {})
        return bool(spec.get("countable") or spec.get("fixed_anatomy"))

    def is_generic(self, observation: str) -> bool:
        """The generic member of a family ("lesion", "support device")."""
        return observation in self.generics

    @cached_property
    def phrase_categories(self) -> dict[tuple[str, ...], tuple[str, str | None]]:
        """Each phrase's category and its alternative (``scan._phrase_category``), worked out once per lexicon
        rather than once per span read."""
        from harness.findings.scan import _phrase_category  # noqa: PLC0415  (scan imports this module)

        return {key: _phrase_category(tuple(readings)) for key, readings in self.phrases.items()}

    @cached_property
    def prior_before_last(self) -> frozenset[str]:
        """The last words of the markers of a prior size said before it ("previously"), for a quick test."""
        return frozenset(k[-1] for k in self.prior_before if k)

    @cached_property
    def prior_after_first(self) -> frozenset[str]:
        """The first words of the markers of a prior size said after it ("on the prior")."""
        return frozenset(k[0] for k in self.prior_after if k)

    @cached_property
    def number_preceders(self) -> frozenset[str]:
        """The words a number follows inside a phrase ("segment 7", "x 3", "lr 4"): only after one of these can the
        scan's phrase walk read a number's digits."""
        return frozenset(key[k - 1] for key in self.phrases for k in range(1, len(key)) if key[k][:1].isdecimal())

    @cached_property
    def phrase_entries(self) -> dict[tuple[str, ...], tuple[list[Reading], str, dict[str, list[Reading]], str,
                                                           str | None]]:
        """Each phrase's readings, text, readings by kind, category and alternative category: what the scan
        builds a span from, in one look-up per span."""
        categories = self.phrase_categories
        return {key: (readings, " ".join(key), self.phrase_kinds[key], *categories[key])
                for key, readings in self.phrases.items()}

    @cached_property
    def named_by_organ(self) -> dict[tuple[str, str], str]:
        """(base observation, organ) -> the observation it is there ("effusion" of the pericardium is a pericardial
        effusion): observations that declare a ``base`` and live in one organ."""
        return {(spec["base"], spec["default_anatomy"]): name for name, spec in self.observations.items()
                if spec.get("base") and spec.get("default_anatomy")}

    def removal_of(self, anatomy: str) -> str | None:
        """The post-surgical state of an organ removed ("gallbladder" -> cholecystectomy), if the lexicon has one."""
        return self.removals.get(anatomy)

    @cached_property
    def removals(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, spec in self.observations.items():
            if spec.get("post_surgical") and spec.get("default_anatomy"):
                out.setdefault(spec["default_anatomy"], name)
        return out

    def in_region(self, region: str, anatomy: str) -> bool:
        """``anatomy`` lies in ``region`` ("chest" holds the lungs, an unspecified site holds everything)."""
        return region == UNSPECIFIED or anatomy in (self.anatomy.get(region, {}).get("region") or ())

    def is_region(self, anatomy: str) -> bool:
        return anatomy == UNSPECIFIED or bool(self.anatomy.get(anatomy, {}).get("region"))

    def is_paired(self, anatomy: str) -> bool:
        return bool(self.anatomy.get(anatomy, {}).get("paired"))

    def names_sided_part(self, anatomy: str, text: str) -> bool:
        """The site's words name a part of an unpaired organ that lies on one side ("L3 transverse process")."""
        parts = self.anatomy.get(anatomy, {}).get("sided_parts")
        if not parts:  # (most organs have none: asked for every site of every finding)
            return False
        padded = f" {text} "  # whole words: "lamina" is not "laminar"
        return any(f" {part}{plural} " in padded for part in parts
                   for plural in ("", "s", "es"))  # "transverse processes", "pedicles"

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

    def sub_contains(self, organ: str, outer: str, inner: str) -> bool:
        """``outer`` contains ``inner`` along the lexicon's hierarchy (segment 7 within the right posterior
        section within the right lobe)."""
        return outer in self.sub_parents.get((organ, inner), ())

    def expected_position(self, observation: str) -> str | None:
        return self.observations.get(observation, {}).get("expected_position")

    def is_device(self, observation: str) -> bool:
        """Observations whose organ is fixed (devices): matched by type, not by site or side."""
        return observation in self._devices

    @cached_property
    def _devices(self) -> frozenset[str]:  # is_device is asked tens of times a sentence: one set lookup
        return frozenset(name for name, spec in self.observations.items() if spec.get("fixed_anatomy"))

    def enlargement_of(self, anatomy: str, sub: str | None = None) -> str | None:
        """What "enlarged" means for an organ ("heart" -> cardiomegaly) or a part of it ("collecting system" ->
        hydronephrosis); a generic enlargement elsewhere."""
        if anatomy in (UNSPECIFIED, None):
            return None
        return self.enlargement_by_sub.get(sub or "") or self.enlargement.get(anatomy, "enlargement")

    def normal_finding(self, anatomy: str) -> str:
        return self.anatomy.get(anatomy, {}).get("normal_finding", "lesion")

    def chexpert_label(self, observation: str, anatomy: str, attributes: Iterable[str] = ()) -> str | None:
        """The CheXpert label of a finding; none for an attribute its labeler excludes (``chexpert_unless``: a
        calcified nodule is no lung lesion)."""
        spec = self.observations.get(observation, {})
        label = spec.get("chexpert")
        if label is None or not set(spec.get("chexpert_unless") or ()).isdisjoint(attributes):
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

    def is_sign_of(self, sign: str, disease: str) -> bool:
        """A diffuse sign and the disease of its family it is read as ("consolidation" / "pneumonia"): one finding
        named by what is seen and by what it is. Focal lesions and things counted keep their own rules (a mass
        stays beside the carcinoma it may be)."""
        spec, dspec = self.observations.get(sign, {}), self.observations.get(disease, {})
        return sign != disease and self.family(sign) == self.family(disease) and bool(
            spec.get("sign") or spec.get("descriptive")) and dspec.get("type") == "DISEASE" \
            and not (self.is_focal(sign) or self.is_countable(sign))

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


def _contains_any(words: tuple[str, ...], parts: Sequence[tuple[str, ...]]) -> bool:
    return any(0 < len(p) <= len(words) and any(words[i:i + len(p)] == p for i in range(len(words) - len(p) + 1))
               for p in parts)


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


_CTX_KINDS = ("negation_forward", "negation_backward", "negation_bidirectional", "resolved_forward",
              "resolved_backward", "probable_forward", "probable_backward", "possible_forward", "possible_backward",
              "improbable_forward", "improbable_backward", "hypothetical_forward", "hypothetical_backward",
              "evaluation", "limitation", "pseudo", "termination", "normal", "normal_size", "borderline_size",
              "back_reference",
              "relation", "mimic")


#: British -> US spelling of medical words, as (start of word, its US form), (part within a word, its US form)
_UK_STARTS = (("haem", "hem"), ("faecolith", "fecalith"), ("oedem", "edem"), ("oesophag", "esophag"), ("caec", "cec"), ("faec", "fec"),
              ("paed", "ped"), ("anaesth", "anesth"), ("orthopaed", "orthoped"), ("gynaec", "gynec"),
              ("foet", "fet"), ("oestr", "estr"), ("leucocyt", "leukocyt"), ("sulph", "sulf"))
_UK_PARTS = (("tumour", "tumor"), ("colour", "color"), ("calibre", "caliber"), ("fibre", "fiber"),
             ("centre", "center"), ("metre", "meter"), ("litre", "liter"), ("manoeuvre", "maneuver"), ("aemi", "emi"))
#: the -ise / -ize endings of verbs and their nouns ("visualised", "localized", "characterisation")
_ISE_IZE = (("isation", "ization"), ("isations", "izations"), ("ised", "ized"), ("ising", "izing"), ("ises", "izes"))
#: US starts that are the British "haem-" (not "hemi-": hemidiaphragm, hemithorax)
_US_HAEM = ("hemo", "hema")


def _spelling_variant(word: str) -> str:
    """The word in the other spelling, British <-> US ("oedema" <-> "edema", "haemorrhage" <-> "hemorrhage",
    "tumour" <-> "tumor", "visualised" <-> "visualized"); the word itself where there is none."""
    uk = word
    for a, b in _UK_STARTS:
        if uk.startswith(a):
            uk = b + uk[len(a):]
            break
    for a, b in _UK_PARTS:
        if a in uk:
            uk = uk.replace(a, b)
    if len(word) > 6:
        for a, b in _ISE_IZE:
            if uk.endswith(a):
                uk = uk[:-len(a)] + b
                break
    if uk != word:
        return uk
    us = word
    if us.startswith(_US_HAEM):
        us = "hae" + us[2:]
    for a, b in _UK_STARTS:
        if b not in ("hem", "ped") and us.startswith(b):  # (not "hemi-"; "ped-": pedicle, pedunculated)
            us = a + us[len(b):]
            break
    if us.startswith("pediatric"):
        us = "paed" + us[3:]
    for a, b in _UK_PARTS[:-1]:
        if b in us and a not in us:
            us = us.replace(b, a)
    if us.endswith(("emia", "emias", "emic")) and not us.endswith(("aemia", "aemias", "aemic")):
        us = us[:us.rindex("emi")] + "aemi" + us[us.rindex("emi") + 3:]
    if len(word) > 6:
        for a, b in _ISE_IZE:
            if us.endswith(b):
                us = us[:-len(b)] + a
                break
    return us


def _add_spelling_variants(lex: Lexicon) -> None:
    """Every phrase read in its other spelling too (British <-> US), where that spelling is not a phrase of its
    own: a report's "haemopericardium" or "visualized" reads as the lexicon's "hemopericardium" or "visualised"."""
    added: dict[tuple[str, ...], list[Reading]] = {}
    for key, readings in lex.phrases.items():
        variant = tuple(_spelling_variant(w) for w in key)
        if variant != key and variant not in lex.phrases:
            got = added.setdefault(variant, [])
            got.extend(r for r in readings if r not in got)
    lex.phrases.update(added)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    # libyaml's loader where built: the lexicon loads in ~0.3 s instead of ~2.5 s
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(resources.files("harness.findings").joinpath("lexicon.yaml").read_text(), Loader=loader)
    lex = Lexicon(observations=raw["observations"], anatomy=raw["anatomy"],
                  enlargement=dict(raw["enlargement"]["by_anatomy"]), version=int(raw.get("version", 0)),
                  upper_normal_mm=dict(raw["enlargement"].get("upper_normal_mm", {})),
                  enlargement_by_sub=dict(raw["enlargement"].get("by_sub", {})))
    # Context first: a phrase that is also a content word keeps both readings and the extractor decides.
    ctx = raw["context"]
    for kind in _CTX_KINDS:
        for form in ctx.get(kind, []):
            lex.add(form, Reading("CTX", kind))
    organ_words = {organ: [tuple(tokenize(f)) for f in spec["forms"]] for organ, spec in raw["anatomy"].items()}
    for name, spec in raw["observations"].items():
        lex.observation_of_form[" ".join(tokenize(name))] = name
        forms = set(spec["forms"])
        home = spec.get("default_anatomy")
        for form in spec["forms"]:
            lex.observation_of_form[" ".join(tokenize(form))] = name
            # a listed form that is another listed form's plural ("fxs", "effusions") is read as plural
            plural = any(form in _plurals(other) or form == other + "s" for other in forms if other != form)
            # a form that names the finding's own organ ("pleural effusion") states that organ, as an implied
            # form does: another organ named beside it is not its site
            organ = home if home and _contains_any(tuple(tokenize(form)), organ_words.get(home, ())) else None
            lex.add(form, Reading("OBS", name, plural=plural, organ=organ))
            for p in _plurals(form):
                lex.add(p, Reading("OBS", name, plural=True, organ=organ))
        for p in spec.get("plural", []):
            lex.observation_of_form[" ".join(tokenize(p))] = name
            lex.add(p, Reading("OBS", name, plural=True))
        for organ, forms in (spec.get("implied_anatomy") or {}).items():
            for form in forms:
                lex.observation_of_form[" ".join(tokenize(form))] = name
                # "bone metastases" is plural, "bone metastasis" ("-sis") is not
                plural = form.endswith("s") and not form.endswith(("sis", "ss", "us"))
                lex.add(form, Reading("OBS", name, plural=plural, organ=organ))
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
        subs = spec.get("subs") or {}
        for sub, sspec in subs.items():
            name = sspec.get("is", sub)
            chain, parent = [], sspec.get("within")
            while parent is not None and parent not in chain:
                chain.append(parent)
                parent = subs.get(parent, {}).get("within")
            if chain:
                lex.sub_parents[(organ, name)] = tuple(chain)
            loc = SubLocation(organ=organ, name=name, laterality=sspec.get("laterality"),
                              needs_organ=bool(sspec.get("needs_organ")), within=sspec.get("within"))
            organ_words = {w for f in spec["forms"] for w in tokenize(f)} | set(tokenize(organ))
            for form in sspec["forms"]:
                # "pancreatic head" names its organ, so it does not need it named again
                here = loc if not (loc.needs_organ and organ_words & set(tokenize(form))) else \
                    SubLocation(organ=organ, name=name, laterality=loc.laterality, within=loc.within)
                lex.add(form, Reading("SUB", here))
                for p in _plurals(form):
                    lex.add(p, Reading("SUB", here, plural=True))
        for station, forms in (spec.get("stations") or {}).items():
            for form in [station, *forms]:
                stations.add(" ".join(tokenize(form)))
                lex.add(form, Reading("STATION", SubLocation(organ=organ, name=station)))
    lex.stations = frozenset(stations)
    lex.weak_anatomy = frozenset(o for o, spec in raw["anatomy"].items() if spec.get("weak"))
    lex.node_station_of_organ = dict(raw["anatomy"]["lymph node"].get("station_of_organ", {}))
    lex.station_region = dict(raw["anatomy"]["lymph node"].get("station_region", {}))
    lex.midline_stations = frozenset(raw["anatomy"]["lymph node"].get("midline_stations", ()))
    within = raw["anatomy"]["lymph node"].get("station_within") or {}
    for station in within:  # lower paratracheal within paratracheal within mediastinal
        chain, wider = [], within.get(station)
        while wider is not None and wider not in chain:
            chain.append(wider)
            wider = within.get(wider)
        lex.sub_parents[("lymph node", station)] = tuple(chain)
    lex.generics = frozenset({"lesion"} | {spec["family"] for spec in raw["observations"].values()
                                           if "family" in spec})
    # sections whose keys are the values their forms read as
    sides = {w: side for side in ("left", "right") for w in raw["laterality"][side] if " " not in w}
    for section, kind in (("laterality", "LAT"), ("severity", "SEV"), ("temporal", "TEMP"), ("positions", "POS"),
                          ("attributes", "ATTR")):
        for value, forms in raw[section].items():
            organ_words = {w for f in raw["anatomy"].get(value, {}).get("forms", []) for w in tokenize(f)}
            for form in forms:
                lex.add(form, Reading(kind, value))
                # a tip position that names its organ ("distal oesophagus") is that organ as a site too
                if kind == "POS" and organ_words & set(tokenize(form)) and not any(
                        r.kind == "ANAT" for r in lex.phrases.get(tuple(tokenize(form)), ())):
                    lex.add(form, Reading("ANAT", value))
                    # and the side it names of a paired organ ("right main pulmonary artery")
                    side = sides.get(tokenize(form)[0])
                    if side and raw["anatomy"][value].get("paired"):
                        lex.add(form, Reading("LAT", side))
    lex.prior_before = frozenset(tuple(tokenize(f)) for f in raw["prior_size_markers"]["before"])
    lex.prior_after = frozenset(tuple(tokenize(f)) for f in raw["prior_size_markers"]["after"])
    for count, forms in raw["counts"].items():
        for form in forms:
            lex.add(form, Reading("COUNT", count if count in PLURAL_COUNTS else int(count)))
        if count not in PLURAL_COUNTS:  # "x3" after a finding
            lex.add(f"x {count}", Reading("COUNT", int(count)))
    _add_spelling_variants(lex)
    for key in lex.phrases:
        node = lex.trie
        for word in key:
            node = node.setdefault(word, {})
        node[None] = True
    for key, readings in lex.phrases.items():
        grouped: dict[str, list[Reading]] = {}
        for r in readings:
            grouped.setdefault(r.kind, []).append(r)
        lex.phrase_kinds[key] = grouped
    lex.location_fillers = frozenset(ctx["location_fillers"])  # type: ignore[attr-defined]
    lex.sections = tuple(ctx["sections"])  # type: ignore[attr-defined]
    lex.skip_sections = frozenset(ctx["skip_sections"])  # type: ignore[attr-defined]
    return lex
