"""A small grammar of radiology report text, independent of the project's report writer and of the reader's
lexicon, for property tests of the findings reader and the metrics built on it.

A structured finding (``GFinding``: kind, side, sub-location, severity grade, size, count, certainty, temporal
change) is drawn from a fixed catalogue of CT and chest X-ray findings (``KINDS``) and rendered in one of several
styles:

* ``terse``      impression style: "Small left pleural effusion." (optionally a numbered list)
* ``narrative``  "There is a small pleural effusion on the left."
* ``structured`` template sections: "PLEURA: Small left effusion."
* ``abbrev``     abbreviation-heavy dictation: "Sm L pleural eff.", "8 mm RLL nodule", "? R PTX"
* ``british``    British spelling: oedema, haemorrhage, oesophagus, tumour, haemangioma, hiatus hernia
* ``tokenised``  lowercased, punctuation split off, as in public chest X-ray corpora: "small left pleural effusion ."

Every word choice (synonym, abbreviation, unit, lobe / segment / pole / station spelling, sentence frame) is drawn
independently for each rendering, so two renderings of one finding are paraphrases. ``mutate`` changes exactly one
field of the structured finding (side, sub-location, severity by two grades or more, size beyond max(5 mm, 20%),
certainty class, temporal change); ``less_specific`` drops or widens the sub-location; ``one_grade`` moves the
severity by one grade.

The vocabulary is written from general radiology usage, not from ``harness/findings/lexicon.yaml`` or
``harness/reports*.py``: that is the point.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from hypothesis import assume
from hypothesis import strategies as st

# --------------------------------------------------------------------------------------------------------------
# catalogue
# --------------------------------------------------------------------------------------------------------------

CERTAINTIES = ("present", "probable", "possible", "improbable", "absent")
#: certainty class of each grade, as the metrics match them
CERTAINTY_CLASS = {"present": "present", "probable": "present", "possible": "uncertain",
                   "improbable": "absent", "absent": "absent"}
TEMPORALS = ("new", "stable", "increased")
STYLES = ("terse", "narrative", "structured", "abbrev", "british", "tokenised")
#: our own ordinal scale, aligned with harness.schema.SEVERITY_GRADES by index
GRADE_NAMES = ("minimal", "mild", "moderate", "severe", "massive")

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII", 8: "VIII"}
NUMBER_WORDS = {2: "two", 3: "three"}

# sub-location hierarchies: sub -> parent (None: the whole organ)
LUNG_PARENT = {"upper lobe": None, "middle lobe": None, "lower lobe": None, "lingula": "upper lobe"}
LUNG_SUBS = {"right": ("upper lobe", "middle lobe", "lower lobe"), "left": ("upper lobe", "lower lobe", "lingula")}
LIVER_PARENT = {"right lobe": None, "left lobe": None, "segment 1": None,
                **{f"segment {n}": "left lobe" for n in (2, 3, 4)},
                **{f"segment {n}": "right lobe" for n in (5, 6, 7, 8)}}
KIDNEY_PARENT = {"upper pole": None, "interpolar region": None, "lower pole": None}
NODE_PARENT = {"mediastinal": None, "retroperitoneal": None, "hilar": None,
               "subcarinal": "mediastinal", "aortopulmonary window": "mediastinal", "paratracheal": "mediastinal",
               "para-aortic": "retroperitoneal"}
NODE_PAIRED = frozenset({"paratracheal", "hilar"})
PARENTS = {"lung": LUNG_PARENT, "liver": LIVER_PARENT, "kidney": KIDNEY_PARENT, "node": NODE_PARENT}


@dataclass(frozen=True)
class Kind:
    key: str
    family: str  # pleura, lung, liver, kidney, adrenal, heart, edema, node, esophagus
    nouns: tuple[str, ...]  # synonyms, US spelling, singular
    abbrevs: tuple[str, ...] = ()
    plural: dict = field(default_factory=dict)
    sides: tuple = (None,)  # sides a present finding may have
    severity: dict | None = None  # grade index -> adjectives
    size: tuple[int, int] | None = None
    count: bool = False
    mass_noun: bool = False  # takes no article: consolidation, atelectasis, edema
    group: str = ""  # kinds in one group are not drawn into the same report (a reader may merge them)

    @property
    def has_subs(self) -> bool:
        return self.family in PARENTS


LR = ("left", "right")
KINDS = {k.key: k for k in [
    Kind("pleural_effusion", "pleura", ("effusion",), ("eff",), {"effusion": "effusions"}, LR + ("bilateral",),
         {0: ("trace", "minimal", "tiny"), 1: ("small",), 2: ("moderate", "moderate-sized"), 3: ("large",),
          4: ("massive",)}),
    Kind("pneumothorax", "pleura", ("pneumothorax",), ("PTX", "ptx"), {}, LR,
         {0: ("tiny", "trace"), 1: ("small",), 2: ("moderate", "moderate-sized"), 3: ("large",)}),
    Kind("consolidation", "lung", ("consolidation", "airspace consolidation"), (), {}, LR, mass_noun=True),
    Kind("atelectasis", "lung", ("atelectasis",), (), {}, LR, {0: ("minimal",), 1: ("mild",), 2: ("moderate",)},
         mass_noun=True),
    Kind("lung_nodule", "lung", ("nodule",), (), {"nodule": "nodules"}, LR, size=(3, 25), count=True),
    Kind("lung_mass", "lung", ("mass",), (), {}, LR, size=(35, 90)),
    Kind("liver_lesion", "liver", ("hypodense lesion", "hypoattenuating lesion", "low-attenuation lesion"),
         size=(5, 60), group="liver-focal"),
    Kind("liver_cyst", "liver", ("cyst",), size=(5, 60), group="liver-focal"),
    Kind("liver_hemangioma", "liver", ("hemangioma",), size=(8, 60), group="liver-focal"),
    Kind("renal_cyst", "kidney", ("cyst",), (), {"cyst": "cysts"}, LR, size=(5, 60), count=True),
    Kind("renal_calculus", "kidney", ("calculus", "stone"), (), {"calculus": "calculi", "stone": "stones"}, LR,
         size=(2, 20), count=True),
    Kind("renal_tumor", "kidney", ("tumor",), (), {}, LR, size=(20, 90)),
    Kind("adrenal_nodule", "adrenal", ("nodule",), (), {}, LR, size=(8, 40)),
    Kind("adrenal_hemorrhage", "adrenal", ("hemorrhage",), (), {}, LR, mass_noun=True),
    Kind("cardiomegaly", "heart", ("cardiomegaly", "cardiac enlargement", "enlarged cardiac silhouette"), (), {},
         (None,), {0: ("minimal",), 1: ("mild",), 2: ("moderate",), 3: ("marked", "severe"), 4: ("massive",)},
         mass_noun=True),
    Kind("pulmonary_edema", "edema", ("edema",), (), {}, (None,), {1: ("mild",), 2: ("moderate",),
                                                                    3: ("severe", "marked")}, mass_noun=True),
    Kind("lymphadenopathy", "node", ("lymphadenopathy", "adenopathy", "enlarged lymph node"), ("LAD",), {},
         (None,), size=(11, 40), mass_noun=True),
    Kind("hiatal_hernia", "esophagus", ("hiatal hernia",), (), {}, (None,),
         {1: ("small",), 2: ("moderate", "moderate-sized"), 3: ("large",)}),
    Kind("esophageal_thickening", "esophagus", ("esophageal wall thickening", "thickening of the esophageal wall"),
         (), {}, (None,), mass_noun=True),
]}
PAIRED_FAMILIES = frozenset({"pleura", "lung", "kidney", "adrenal"})

ADVERB = {"minimal": "minimally", "mild": "mildly", "moderate": "moderately", "marked": "markedly",
          "severe": "severely", "massive": "massively"}
SEVERITY_ABBREV = {"small": "sm", "moderate": "mod", "large": "lg"}
HEADERS = {"pleura": ("PLEURA", "PLEURAL SPACES"), "lung": ("LUNGS", "LUNGS AND AIRWAYS"),
           "liver": ("LIVER", "HEPATOBILIARY"), "kidney": ("KIDNEYS", "KIDNEYS AND URETERS"),
           "adrenal": ("ADRENALS", "ADRENAL GLANDS"), "heart": ("HEART", "HEART AND PERICARDIUM"),
           "edema": ("LUNGS",), "node": ("LYMPH NODES",), "esophagus": ("ESOPHAGUS",)}  # "GI TRACT: wall thickening" would not say which organ


@dataclass(frozen=True)
class GFinding:
    kind: str
    side: str | None = None
    sub: str | None = None
    severity: int | None = None  # index into GRADE_NAMES (== harness.schema.SEVERITY_GRADES)
    size_mm: int | None = None
    count: int | None = None
    certainty: str = "present"
    temporal: str | None = None

    @property
    def k(self) -> Kind:
        return KINDS[self.kind]

    @property
    def absent(self) -> bool:
        return CERTAINTY_CLASS[self.certainty] == "absent"

    @property
    def effective_side(self) -> str | None:
        """The side the text states, implied ones included (lingula: left)."""
        if self.sub == "lingula":
            return "left"
        return self.side


# --------------------------------------------------------------------------------------------------------------
# drawing structured findings
# --------------------------------------------------------------------------------------------------------------

def subs_for(kind: Kind, side: str | None) -> tuple[str, ...]:
    if kind.family == "lung":
        return LUNG_SUBS[side] if side in LUNG_SUBS else ()
    if kind.family == "liver":
        return tuple(LIVER_PARENT)
    if kind.family == "kidney":
        return tuple(KIDNEY_PARENT) if side in LR else ()
    if kind.family == "node":
        return tuple(NODE_PARENT)
    return ()


def ancestors(family: str, sub: str | None) -> set[str]:
    out, parents = set(), PARENTS.get(family, {})
    while sub is not None:
        sub = parents.get(sub)
        if sub is not None:
            out.add(sub)
    return out


def nested(family: str, a: str, b: str) -> bool:
    return a == b or a in ancestors(family, b) or b in ancestors(family, a)


#: what a finding needs for each mutation to apply
NEEDS = {"side": "side", "sub": "sub", "severity": "severity", "size": "size", "certainty": "certainty",
         "temporal": "temporal", "less_specific": "sub", "one_grade": "severity", "drop_side": "side"}


def _eligible(kind: Kind, need: str | None) -> bool:
    if need is None or need == "certainty":
        return True
    if need == "side":
        return kind.family in PAIRED_FAMILIES or kind.family == "node"
    if need == "sub":
        return kind.has_subs
    if need == "severity":
        return kind.severity is not None and max(kind.severity) - min(kind.severity) >= 2
    if need == "size":
        return kind.size is not None
    if need == "temporal":
        return True
    raise ValueError(need)


@st.composite
def gfindings(draw, need: str | None = None, kinds: tuple[str, ...] | None = None) -> GFinding:
    """One structured finding; ``need`` forces the field a mutation changes to be stated."""
    pool = [k for k in (kinds or KINDS) if _eligible(KINDS[k], need)]
    kind = KINDS[draw(st.sampled_from(sorted(pool)))]
    if need == "temporal":  # only present findings carry a temporal change here
        certainty = draw(st.sampled_from(("present", "probable")))
    elif need in ("side", "sub", "severity", "size"):
        certainty = draw(st.sampled_from(("present", "present", "probable", "possible")))
    elif need == "certainty":
        certainty = draw(st.sampled_from(("present", "possible", "absent")))
    else:
        certainty = draw(st.sampled_from(("present", "present", "present", "probable", "possible", "improbable",
                                          "absent")))
    absent = CERTAINTY_CLASS[certainty] == "absent"

    side = sub = None
    if kind.family == "node":
        subs = tuple(NODE_PARENT)
        if need == "side":
            subs = tuple(NODE_PAIRED)
        elif need == "sub":  # a station with a sibling of its own pairedness
            subs = tuple(s for s in NODE_PARENT if _sub_siblings(kind, None, s, "left" if s in NODE_PAIRED else None))
        sub = draw(st.sampled_from(subs)) if (not absent or need in ("sub", "side") or draw(st.booleans())) else None
        side = draw(st.sampled_from(LR)) if sub in NODE_PAIRED else None
    else:
        sides = kind.sides
        if need == "side":
            sides = tuple(s for s in sides if s is not None)
        elif absent:  # "No pneumothorax." states no side
            sides = tuple(sides) + ((None,) if kind.family in PAIRED_FAMILIES else ())
        side = draw(st.sampled_from(sides))
        subs = subs_for(kind, side)
        if need == "sub":
            subs = tuple(s for s in subs if _sub_siblings(kind, side, s, side))
        elif need == "side":  # the sub-location must exist on the other side too
            subs = tuple(s for s in subs if s not in ("middle lobe", "lingula"))
        if subs and (need == "sub" or draw(st.integers(0, 2)) > 0):
            sub = draw(st.sampled_from(subs))
        if need == "sub":
            assume(sub is not None)

    severity = None
    if kind.severity is not None and (need in ("severity", "one_grade") or draw(st.booleans())):
        severity = draw(st.sampled_from(sorted(kind.severity)))
    size = None
    if kind.size is not None and (need == "size" or draw(st.booleans())):
        size = draw(st.integers(*kind.size))
    count = None
    if kind.count and draw(st.integers(0, 3)) == 0:
        count = draw(st.sampled_from((2, 3)))
    temporal = None
    if certainty in ("present", "probable") and (need == "temporal" or draw(st.integers(0, 2)) == 0):
        temporal = draw(st.sampled_from(TEMPORALS))
    return GFinding(kind.key, side, sub, severity, size, count, certainty, temporal)


def _sub_siblings(kind: Kind, side: str | None, sub: str, new_side: str | None) -> tuple[str, ...]:
    """Sub-locations of the same organ (and side) neither containing nor contained in ``sub``."""
    if kind.family == "node":
        pool = [s for s in NODE_PARENT if (s in NODE_PAIRED) == (sub in NODE_PAIRED)]
    else:
        pool = list(subs_for(kind, new_side))
    return tuple(s for s in pool if not nested(kind.family, s, sub))


# --------------------------------------------------------------------------------------------------------------
# mutations
# --------------------------------------------------------------------------------------------------------------

def _size_far(kind: Kind, size: int):
    lo, hi = kind.size
    tol = lambda a, b: max(5.0, 0.2 * max(a, b))  # noqa: E731
    return [s for s in range(lo, hi + 1) if abs(s - size) > tol(s, size) + 1.0]


@st.composite
def mutate(draw, f: GFinding, what: str) -> GFinding:
    """``f`` with exactly one field changed so that the finding no longer matches."""
    k = f.k
    if what == "side":
        new = {"left": "right", "right": "left"}.get(f.side) or draw(st.sampled_from(LR))
        return dataclasses.replace(f, side=new)
    if what == "sub":
        return dataclasses.replace(f, sub=draw(st.sampled_from(_sub_siblings(k, f.side, f.sub, f.side))))
    if what == "severity":
        far = [g for g in k.severity if abs(g - f.severity) >= 2]
        assume(far)
        return dataclasses.replace(f, severity=draw(st.sampled_from(sorted(far))))
    if what == "size":
        far = _size_far(k, f.size_mm)
        assume(far)
        return dataclasses.replace(f, size_mm=draw(st.sampled_from(far)))
    if what == "certainty":
        cls = CERTAINTY_CLASS[f.certainty]
        new = draw(st.sampled_from([c for c in ("present", "possible", "absent") if CERTAINTY_CLASS[c] != cls]))
        return dataclasses.replace(f, certainty=new, temporal=None if new == "possible" and f.temporal else f.temporal)
    if what == "temporal":
        return dataclasses.replace(f, temporal=draw(st.sampled_from([t for t in TEMPORALS if t != f.temporal])))
    raise ValueError(what)


@st.composite
def less_specific(draw, f: GFinding) -> GFinding:
    """The same finding with a containing sub-location (the parent, or the whole organ)."""
    parent = PARENTS[f.k.family].get(f.sub)
    options = [None] if f.k.family != "node" else []  # a lymph node "in no station" is no finding
    if parent is not None:
        options.append(parent)
    assume(options)
    new = draw(st.sampled_from(options))
    side = f.side
    if f.k.family == "node" and new not in NODE_PAIRED:
        side = None
    if f.sub == "lingula":
        side = "left"
    return dataclasses.replace(f, sub=new, side=side)


@st.composite
def one_grade(draw, f: GFinding) -> GFinding:
    near = [g for g in f.k.severity if abs(g - f.severity) == 1]
    assume(near)
    return dataclasses.replace(f, severity=draw(st.sampled_from(near)))


# --------------------------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------------------------

def _pick(draw, *options):
    return draw(st.sampled_from(options))


def _side_word(draw, side: str, style: str) -> str:
    if style == "abbrev":
        return {"left": _pick(draw, "L", "lt", "left"), "right": _pick(draw, "R", "rt", "right"),
                "bilateral": _pick(draw, "bilat", "bilateral", "B/L")}[side]
    return side


def _size_text(draw, mm: int, style: str, pre: bool) -> str:
    cm = f"{mm / 10:g}"
    if pre:
        return _pick(draw, f"{mm} mm", f"{cm} cm", f"{mm}-mm", f"{mm}mm" if style == "abbrev" else f"{mm} mm")
    unit = _pick(draw, "mm", "cm")
    minor = max(1, round(mm * 0.7))
    a, b = (str(mm), str(minor)) if unit == "mm" else (cm, f"{minor / 10:g}")
    return _pick(draw, f"{a} {unit}", f"{a} x {b} {unit}", f"up to {a} {unit}")


def _lobe_text(draw, side: str, lobe: str, style: str, pre: bool) -> str:
    if lobe == "lingula":
        return "lingular" if pre else _pick(draw, "the lingula", "the lingular segment of the left upper lobe")
    abbr = {"upper lobe": "U", "middle lobe": "M", "lower lobe": "L"}[lobe]
    short = side[0].upper() + abbr + "L"
    if style == "abbrev" or draw(st.integers(0, 3)) == 0:
        return short if pre else f"the {short}"
    if pre:
        return f"{side} {lobe}"
    return _pick(draw, f"the {side} {lobe}", f"the {lobe} of the {side} lung")


def _segment_text(draw, sub: str, style: str) -> str:
    if sub in ("right lobe", "left lobe"):
        return _pick(draw, f"the {sub.split()[0]} hepatic lobe", f"the {sub} of the liver")
    n = int(sub.split()[1])
    forms = [f"segment {ROMAN[n]}", f"segment {n}", f"Couinaud segment {ROMAN[n]}"]
    if style in ("abbrev", "terse", "structured"):
        forms.append(f"S{n}")
    if n == 1:
        forms.append("the caudate lobe")
    return draw(st.sampled_from(forms))


POLE_WORDS = {"upper pole": ("upper pole", "superior pole"), "lower pole": ("lower pole", "inferior pole"),
              "interpolar region": ("interpolar region", "mid pole", "interpolar kidney")}


def _station_text(draw, sub: str, side: str | None, style: str, pre: bool) -> str:
    s = side or ""
    forms = {
        "subcarinal": ("subcarinal", "station 7") if pre else ("the subcarinal region", "station 7"),
        "aortopulmonary window": ("aortopulmonary window", "AP window") if pre
        else ("the aortopulmonary window", "the AP window", "station 5"),
        "paratracheal": (f"{s} paratracheal",) if pre else (f"the {s} paratracheal region",),
        "hilar": (f"{s} hilar", f"station 10{s[:1].upper()}") if pre else (f"the {s} hilum", f"the {s} hilar region"),
        "para-aortic": ("para-aortic", "paraaortic") if pre else ("the para-aortic region",),
        "mediastinal": ("mediastinal",) if pre else ("the mediastinum",),
        "retroperitoneal": ("retroperitoneal",) if pre else ("the retroperitoneum",),
    }[sub]
    return draw(st.sampled_from(forms))


@st.composite
def _location(draw, f: GFinding, style: str, header: bool):
    """(prenominal modifier, postnominal phrase) for the finding's organ, side and sub-location; either may be
    empty."""
    k, side, sub = f.k, f.side, f.sub
    sw = _side_word(draw, side, style) if side else None
    fam = k.family
    if fam == "pleura":
        organ = "" if (header or k.key == "pneumothorax") else "pleural"
        if side is None:
            return organ, ""
        if side == "bilateral":
            return _pick(draw, (f"{sw} {organ}".strip(), ""), (organ, _pick(draw, "bilaterally", "on both sides")))
        sided = f"{side}-sided" if style != "abbrev" else sw
        return _pick(draw, (f"{sw} {organ}".strip(), ""), (f"{sided} {organ}".strip(), ""),
                     (organ, f"on the {side}" if style != "abbrev" else f"on {sw}"))
    if fam == "lung":
        if sub is None:
            if side is None:
                if f.absent and k.key in ("consolidation", "atelectasis"):  # "No consolidation."
                    return _pick(draw, ("", ""), ("pulmonary", ""), ("", "in the lungs"))
                if f.absent:  # "No mass." alone names no organ
                    return _pick(draw, ("pulmonary", ""), ("", "in the lungs"))
                return _pick(draw, ("", ""), ("pulmonary", "")) if k.mass_noun else ("pulmonary", "")
            return _pick(draw, (f"{sw} lung", ""), ("", f"in the {side} lung"))
        if draw(st.booleans()):
            return _lobe_text(draw, side, sub, style, True), ""
        return "", f"{_pick(draw, 'in', 'within')} {_lobe_text(draw, side, sub, style, False)}"
    if fam == "liver":
        if sub is None:
            return ("", "") if header else _pick(draw, ("hepatic", ""), ("liver", ""), ("", "in the liver"))
        seg = _segment_text(draw, sub, style)
        if seg.startswith("the "):  # a lobe
            return "", f"in {seg}"
        if header:
            return _pick(draw, (seg, ""), ("", f"in {seg}"))
        return _pick(draw, (f"hepatic {seg}", ""), ("", f"in {seg} of the liver"), ("", f"in hepatic {seg}"),
                     ("", f"in liver {seg}"))
    if fam == "kidney":
        if side is None:
            return ("", "") if header else _pick(draw, ("renal", ""), ("", "in the kidneys"))
        organ = _pick(draw, "renal", "kidney")
        if sub is None:
            return _pick(draw, (f"{sw} {organ}", ""), ("", f"in the {side} kidney"))
        pole = _pick(draw, *POLE_WORDS[sub])
        if style == "abbrev":
            return f"{sw} kidney {pole}", ""
        return _pick(draw, (f"{side} {pole} {'' if header else 'renal'}".replace("  ", " ").strip(), ""),
                     (f"{side} {organ}", f"in the {pole}"), ("", f"in the {pole} of the {side} kidney"))
    if fam == "adrenal":
        if side is None:
            return ("", "") if header else ("adrenal", "")
        if header:
            return _pick(draw, (sw, ""), (f"{sw} adrenal", ""))
        return _pick(draw, (f"{sw} adrenal", ""), ("", f"in the {side} adrenal gland"))
    if fam == "node":
        if sub is None:
            return "", ""
        if draw(st.booleans()):
            return _station_text(draw, sub, side, style, True), ""
        return "", f"{_pick(draw, 'in', 'at')} {_station_text(draw, sub, side, style, False)}"
    if fam == "edema":
        return ("" if header else _pick(draw, "pulmonary", "pulm" if style == "abbrev" else "pulmonary")), ""
    return "", ""  # heart, esophagus: the noun names the organ


def _temporal_words(draw, t: str, style: str, adj: bool) -> str:
    if adj:
        return {"new": _pick(draw, "new", "newly seen"),
                "stable": _pick(draw, "stable", "unchanged", "unch" if style == "abbrev" else "stable"),
                "increased": _pick(draw, "increased", "increasing", "enlarging",
                                   "incr" if style == "abbrev" else "increased")}[t]
    return {"new": _pick(draw, ", new since the prior study", ", new compared with the prior examination",
                         " (new)"),
            "stable": _pick(draw, ", unchanged from the prior study", ", stable since the previous examination",
                            " (unchanged)"),
            "increased": _pick(draw, ", increased since the prior study", ", larger than on the prior examination",
                               " (increased)")}[t]


def _article(np: str) -> str:
    return "an" if re.match(r"[aeiouAEIOU]|8|11\b|11-|18\b|18-|RLL|RML|RUL|LLL|LUL", np) and \
        not np.startswith(("one", "uni")) else "a"


@st.composite
def _noun_phrase(draw, f: GFinding, style: str, header: bool):
    """(noun phrase, plural, post clauses) for a finding."""
    k = f.k
    plural = (f.count or 1) > 1 or (k.family == "pleura" and f.side == "bilateral")
    noun = draw(st.sampled_from(k.nouns))
    if style == "abbrev" and k.abbrevs and not plural and draw(st.booleans()):
        noun = draw(st.sampled_from(k.abbrevs))
    if plural:
        noun = k.plural.get(noun, noun + "s")
    if header and k.family == "esophagus" and noun.startswith("esophageal "):
        noun = noun.removeprefix("esophageal ")
    pre_loc, post_loc = draw(_location(f, style, header))

    mods: list[str] = []
    clauses: list[str] = []
    if f.count and not f.absent:
        mods.append(NUMBER_WORDS[f.count] if draw(st.booleans()) else str(f.count))
    if f.temporal and not f.absent:
        if draw(st.booleans()):
            mods.append(_temporal_words(draw, f.temporal, style, True))
        else:
            clauses.append(_temporal_words(draw, f.temporal, style, False))
    sev = None
    if f.severity is not None and not f.absent:
        sev = draw(st.sampled_from(k.severity[f.severity]))
        if style == "abbrev":
            sev = SEVERITY_ABBREV.get(sev, sev)
        mods.append(sev)
    if f.size_mm is not None and not f.absent:
        if draw(st.booleans()) and not plural:
            mods.append(_size_text(draw, f.size_mm, style, True))
        else:
            txt = _size_text(draw, f.size_mm, style, False)
            if plural:
                txt = txt.removeprefix("up to ")
                clauses.insert(0, _pick(draw, f", the largest measuring {txt}", f", up to {txt}"))
            else:
                clauses.insert(0, _pick(draw, f", measuring {txt}", f" measuring {txt}", f" ({txt})", f", {txt}"))
    # the lymph-node noun that is an adjective + noun
    if noun == "enlarged lymph node":
        body = " ".join(x for x in (*mods, "enlarged", pre_loc, "lymph node" + ("s" if plural else "")) if x)
    elif noun == "enlarged cardiac silhouette" and sev:
        mods.remove(sev)
        body = " ".join(x for x in (*mods, ADVERB.get(sev, sev), "enlarged cardiac silhouette") if x)
    elif noun == "thickening of the esophageal wall":
        body = " ".join(x for x in (*mods, "thickening of the esophageal wall") if x)
    else:
        body = " ".join(x for x in (*mods, pre_loc, noun) if x)
    if post_loc:
        body = f"{body} {post_loc}"
    mass = k.mass_noun or plural or noun in ("enlarged cardiac silhouette",)
    if noun == "enlarged lymph node" and not plural:
        mass = False
    return body, plural, mass, "".join(clauses)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


@st.composite
def _sentence(draw, f: GFinding, style: str, header: bool = False) -> str:
    return _cap(draw(_sentence_body(f, style, header)))


@st.composite
def _sentence_body(draw, f: GFinding, style: str, header: bool = False) -> str:
    k = f.k
    # "The heart is mildly enlarged." and friends
    if k.family == "heart" and style in ("narrative", "british", "tokenised") and draw(st.booleans()):
        subj = _pick(draw, "The heart", "The cardiac silhouette", "Heart size")
        sev = ADVERB[draw(st.sampled_from(k.severity[f.severity]))] + " " if f.severity is not None else ""
        tail = _temporal_words(draw, f.temporal, style, False) if f.temporal else ""
        if subj == "Heart size":
            if f.absent:
                return _pick(draw, "Heart size is normal.", "Heart size is within normal limits.")
            subj = "The heart"
        verb = {"present": "is", "probable": "is likely", "possible": "may be", "improbable": "is unlikely to be",
                "absent": "is not"}[f.certainty]
        return f"{subj} {verb} {sev if not f.absent else ''}enlarged{tail}."
    if header and k.family == "heart" and f.severity is not None and f.certainty == "present" and draw(st.booleans()):
        tail = _temporal_words(draw, f.temporal, style, False) if f.temporal else ""
        return f"{_cap(ADVERB[draw(st.sampled_from(k.severity[f.severity]))])} enlarged{tail}."

    np_, plural, mass, clauses = draw(_noun_phrase(f, style, header))
    art = "" if mass else _article(np_) + " "
    c = f.certainty
    if style == "narrative" or (style in ("british", "tokenised") and draw(st.booleans())):
        be = "are" if plural else "is"
        if c == "present":
            if f.temporal == "new" and not plural and draw(st.integers(0, 2)) == 0:
                return f"Interval development of {art}{np_}{clauses}."
            return _pick(draw, f"There {be} {art}{np_}{clauses}.", f"{_cap(art)}{np_} {be} seen{clauses}.",
                         f"{_cap(art)}{np_} {be} noted{clauses}.")
        if c == "probable":
            return _pick(draw, f"There {be} likely {art}{np_}{clauses}.",
                         f"Findings are consistent with {art}{np_}{clauses}.",
                         f"Appearances are compatible with {art}{np_}{clauses}.")
        if c == "possible":
            return _pick(draw, f"There may be {art}{np_}{clauses}.", f"{_cap(art)}{np_} cannot be excluded{clauses}.",
                         f"There {be} possible {np_}{clauses}." if plural or mass else
                         f"There is a possible {np_}{clauses}.")
        if c == "improbable":
            return _pick(draw, f"{_cap(art)}{np_} {be} unlikely.", f"{_cap(art)}{np_} {be} considered unlikely.")
        return _pick(draw, f"There {be} no {np_}.", f"No {np_} {be} seen.", f"No evidence of {np_}.",
                     f"No {np_} {be} identified.")
    # terse forms (terse, structured, abbrev, and half of british / tokenised)
    if c == "present":
        return f"{_cap(np_)}{clauses}."
    if c == "probable":
        pre = _pick(draw, "Likely", "Probable", "Findings consistent with", "c/w" if style == "abbrev" else "Likely")
        return f"{pre} {np_}{clauses}."
    if c == "possible":
        if style == "abbrev":
            return _pick(draw, f"? {np_}{clauses}.", f"Poss {np_}{clauses}.", f"Possible {np_}{clauses}.")
        return _pick(draw, f"Possible {np_}{clauses}.", f"Questionable {np_}{clauses}.",
                     f"{_cap(np_)} cannot be excluded{clauses}.", f"Cannot exclude {np_}{clauses}.")
    if c == "improbable":
        be = "are" if plural else "is"
        return _pick(draw, f"{_cap(np_)} {be} unlikely.", f"{_cap(np_)}, unlikely.")
    return _pick(draw, f"No {np_}.", f"No evidence of {np_}.", f"Negative for {np_}." if style == "abbrev"
                 else f"No {np_}.")


BRITISH = [(r"esophag", "oesophag"), (r"hemorrhag", "haemorrhag"), (r"hemangiom", "haemangiom"),
           (r"(?<!o)edema", "oedema"), (r"tumor", "tumour"), (r"hiatal hernia", "hiatus hernia")]


def britishise(text: str) -> str:
    for us, uk in BRITISH:
        text = re.sub(us, uk, text)
        text = re.sub(_cap(us), _cap(uk), text)
        text = re.sub(us.upper(), uk.upper(), text)
    return text


def tokenise(text: str) -> str:
    """Lowercase and split punctuation off words, keeping decimal points, as in MIMIC-CXR style corpora."""
    text = text.lower()
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " . ", text)
    text = re.sub(r"([,;:()?])", r" \1 ", text)
    return re.sub(r"\s+", " ", text).strip()


@st.composite
def reports(draw, fs: list[GFinding] | tuple[GFinding, ...], style: str | None = None) -> str:
    """A report stating ``fs``, in ``style`` (drawn when None), every word choice drawn afresh."""
    style = style or draw(st.sampled_from(STYLES))
    if style == "structured":
        lines = []
        for f in fs:
            header = draw(st.sampled_from(HEADERS[f.k.family]))
            lines.append(f"{header}: {draw(_sentence(f, style, header=True))}")
        return "\n".join(lines)
    sents = [draw(_sentence(f, style)) for f in fs]
    if style == "terse" and len(sents) > 1 and draw(st.booleans()):
        text = "\n".join(f"{i}. {s}" for i, s in enumerate(sents, 1))
    else:
        text = draw(st.sampled_from((" ", "\n"))).join(sents)
    if style == "terse" and draw(st.booleans()):
        text = "IMPRESSION:\n" + text
    if style == "british":
        text = britishise(text)
    if style == "tokenised":
        text = tokenise(text)
    return text


@st.composite
def finding_sets(draw, need: str | None = None, max_others: int = 2):
    """(findings, index of the target): 1-3 findings of distinct kinds (and groups); the target has ``need``."""
    target = draw(gfindings(need))
    others = draw(st.lists(gfindings(), max_size=max_others, unique_by=lambda f: KINDS[f.kind].group or f.kind))
    others = [o for o in others if (o.k.group or o.kind) != (target.k.group or target.kind)]
    pos = draw(st.integers(0, len(others)))
    return others[:pos] + [target] + others[pos:], pos
