"""Metamorphic invariance of the findings reader on real report prose.

The reference reports of the development splits (every split of ``metacheck.SPLITS`` but the test splits
("test", "test_b") and "regression"; the test splits are never read) are rewritten by small meaning-preserving transformations, one at a
time, and the reader's findings of each rewritten report are compared with those of the original: as sets
("same") and by finding F1 (``matching.finding_f1`` both ways == 1.0). A report counts for a transformation
only where the transformation changed its text. Prints, per transformation, the reports changed and the share
read the same; ``--show N`` lists up to N non-invariant reports per transformation with the findings that
differ; ``--only NAME`` runs chosen transformations; ``--limit K`` takes the first K references of each split.

Transformations (each deterministic, applied only where it applies):

- ``cm_to_mm`` / ``mm_to_cm``: "1.5 cm" <-> "15 mm", "2.1 x 1.4 cm" <-> "21 x 14 mm", "<1 cm" -> "under 10 mm"
  (only where the number converts exactly);
- ``abbr_expand`` / ``abbr_contract``: common radiology short forms <-> their expansions (RLL, LUL, SVC, IVC,
  CBD, ETT, NGT, PICC, PTX, CXR, b/l, R/L before an organ word, w/, c/w, s/p, ...);
- ``uk_to_us`` / ``us_to_uk``: British <-> US spelling (oedema, haemorrhage, oesophagus, calibre, tumour, ...);
- ``lowercase``: the whole report lowercased;
- ``tokenised``: the public-corpus form - lowercased, full stops (not a one-letter short form's: "hepatic a."),
  colons and semicolons split off as tokens, commas removed;
- ``header``: a header line before the report ("FINDINGS:", "Comparison: none.", ...; chosen by position);
- ``impression``: "IMPRESSION:" before the last sentence;
- ``words_to_digits`` / ``digits_to_words``: counts "two" .. "twelve" <-> "2" .. "12" before a plural noun.

    PYTHONPATH=. python benchmarks/reader_invariance_probe.py [--show N] [--only NAME ...] [--limit K]

Baseline (the reader at commit 44323c6, 4,224 references of dev .. dev_q): ``BASELINE`` below; the figures after
the reader fixes that followed are in ``CURRENT``. Where a rewrite is read differently the cause is the reader's
(a short form it reads apart from its expansion, a sentence it splits or scopes differently once lowercased and
without commas), except for these rewrites that are not certainly equivalent and are left in the count as a known
floor: "IMPRESSION:" before a last sentence that refers back ("Findings likely represent ...") or that sat under
a sub-heading ("Left: ... No hydronephrosis.").
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Callable

# -- units ------------------------------------------------------------------------------------------------------
_NUM = r"\d+(?:\.\d+)?"
# a list or product of numbers that share one unit: "1.8 and 1.4 cm", "2.1 x 1.4 cm", "6 -> 3 cm", "5-7 mm"
_SEP = r"(?:\s*(?:->|→|x|×|-|–|to|by|and|or|&|,)\s*)"


def _unit_pattern(unit: str) -> re.Pattern:
    return re.compile(rf"(?<![\d.,])({_NUM}(?:{_SEP}{_NUM})*)(\s*|-){unit}\b(?![²³23^])")


_CM, _MM = _unit_pattern("cm"), _unit_pattern("mm")
# a bare number compared with a measurement ("2.1 cm (prev 3.4)", "from 12 to 15 mm" is a list): not converted
_BARE_COMPARED = re.compile(rf"\b(?:prev(?:ious(?:ly)?)?|was|from|then)\.?:?\s*{_NUM}(?![\d.]|\s*(?:x|×|-|to|and|&|,)?\s*\d|\s*-?(?:cm|mm)\b)", re.I)


def _fmt(v: float) -> str:
    return f"{v:.4f}".rstrip("0").rstrip(".")


def _scale(num: str, factor: float) -> str | None:
    """``num`` times ``factor`` written plainly, or None where it does not convert exactly (at most one decimal)."""
    s = _fmt(float(num) * factor)
    if "." in s and len(s.split(".")[1]) > 1:
        return None
    return s


def _units(text: str, pattern: re.Pattern, factor: float, unit: str) -> str:
    if _BARE_COMPARED.search(text):
        return text

    def sub(m: re.Match) -> str:
        nums, gap = m.group(1), m.group(2)
        parts = re.split(rf"({_SEP})", nums)
        out = []
        for k, part in enumerate(parts):
            if k % 2:
                out.append(part)
                continue
            scaled = _scale(part, factor)
            if scaled is None:
                return m.group(0)
            out.append(scaled)
        return "".join(out) + gap + unit

    return pattern.sub(sub, text)


def cm_to_mm(text: str) -> str:
    text = re.sub(r"(?:<\s*|\bless than |\bunder )1\s*cm\b", "under 10 mm", text)
    return _units(text, _CM, 10.0, "mm")


def mm_to_cm(text: str) -> str:
    return _units(text, _MM, 0.1, "cm")


# -- abbreviations ------------------------------------------------------------------------------------------------
_ABBR = [
    ("RUL", "right upper lobe"), ("RML", "right middle lobe"), ("RLL", "right lower lobe"),
    ("LUL", "left upper lobe"), ("LLL", "left lower lobe"),
    ("SVC", "superior vena cava"), ("IVC", "inferior vena cava"), ("CBD", "common bile duct"),
    ("ETT", "endotracheal tube"), ("NGT", "nasogastric tube"), ("PTX", "pneumothorax"),
    ("PICC", "peripherally inserted central catheter"), ("CXR", "chest radiograph"),
    ("GGO", "ground-glass opacity"), ("CHF", "congestive heart failure"),
]
# short forms only expanded (their expansion is too common to contract safely)
# ("c/w" is left out: it is "compared with" as often as "consistent with")
_ABBR_ONE_WAY = [("b/l", "bilateral"), ("w/", "with"), ("s/p", "status post")]
_ORGAN_WORDS = r"(?:lung|kidney|hemithorax|hemidiaphragm|pleural|hilum|hilar|breast|adrenal|ovary|lobe|base|apex|ventricle|atrium|shoulder|hip|knee|clavicle|humerus|femur|chest)"


def _case_like(word: str, repl: str) -> str:
    return repl[:1].upper() + repl[1:] if word[:1].isupper() and not repl[:1].isupper() else repl


def _sentence_start(text: str, i: int) -> bool:
    before = text[:i].rstrip()
    return not before or before[-1] in ".:;\n"


def abbr_expand(text: str) -> str:
    for short, long in _ABBR + _ABBR_ONE_WAY:
        pat = re.compile(rf"(?<![\w/]){re.escape(short)}(?![\w/])" if short[-1].isalnum()
                         else rf"(?<![\w/]){re.escape(short)}(?=\s)", 0 if short.isupper() else re.I)
        text = pat.sub(lambda m, long=long: (long[:1].upper() + long[1:]) if _sentence_start(m.string, m.start())
                       else long, text)
    for short, long in (("R", "right"), ("L", "left")):
        text = re.sub(rf"\b{short}(?= {_ORGAN_WORDS}\b)",
                      lambda m, long=long: (long[:1].upper() + long[1:]) if _sentence_start(m.string, m.start())
                      else long, text)
    return text


def abbr_contract(text: str) -> str:
    for short, long in _ABBR:
        text = re.sub(rf"\b{re.escape(long)}\b", short, text, flags=re.IGNORECASE)
    return text


# -- spelling ---------------------------------------------------------------------------------------------------
_UK_US = """oedema edema|oedematous edematous|haemorrhage hemorrhage|haemorrhages hemorrhages|haemorrhagic hemorrhagic
haematoma hematoma|haematomas hematomas|haemothorax hemothorax|haemopericardium hemopericardium
haemoperitoneum hemoperitoneum|haemangioma hemangioma|haemangiomas hemangiomas|haemoptysis hemoptysis
haemodialysis hemodialysis|haemosiderin hemosiderin|haemarthrosis hemarthrosis|haematuria hematuria
oesophagus esophagus|oesophageal esophageal|oesophagitis esophagitis|oesophagectomy esophagectomy
oesophagogastric esophagogastric|gastro-oesophageal gastroesophageal|gastrooesophageal gastroesophageal
calibre caliber|centimetre centimeter|centimetres centimeters|millimetre millimeter|millimetres millimeters
anaesthesia anesthesia|paediatric pediatric|tumour tumor|tumours tumors|tumoural tumoral|fibre fiber|fibres fibers
anaemia anemia|ischaemia ischemia|ischaemic ischemic|hyperaemia hyperemia|leukaemia leukemia
caecum cecum|caecal cecal|faecal fecal|faecolith fecalith|faecaloma fecaloma|diarrhoea diarrhea
orthopaedic orthopedic|foetal fetal|foetus fetus|gynaecological gynecological|colour color|grey gray
oestrogen estrogen|haemodynamic hemodynamic|haemodynamically hemodynamically|centre center|centres centers
localised localized|visualised visualized|characterised characterized|organised organized|organising organizing
recognised recognized|minimised minimized|catheterisation catheterization|opacified opacified
sulphate sulfate|aluminium aluminum|manoeuvre maneuver|leucocytosis leukocytosis|haemostatic hemostatic"""
_PAIRS = [tuple(p.split()) for line in _UK_US.splitlines() for p in line.split("|") if p.split()[0] != p.split()[1]]


def _swap_words(text: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return text
    pat = re.compile(r"\b(" + "|".join(sorted(map(re.escape, mapping), key=len, reverse=True)) + r")\b", re.I)

    def sub(m: re.Match) -> str:
        w = m.group(0)
        r = mapping[w.lower()]
        if w.isupper() and len(w) > 1:
            return r.upper()
        return _case_like(w, r)

    return pat.sub(sub, text)


def uk_to_us(text: str) -> str:
    return _swap_words(text, dict(_PAIRS))


def us_to_uk(text: str) -> str:
    return _swap_words(text, {us: uk for uk, us in _PAIRS})


# -- the public-corpus form, headers -----------------------------------------------------------------------------
def lowercase(text: str) -> str:
    return text.lower()


def tokenised(text: str) -> str:
    t = text.lower().replace(",", " ")
    # (not the full stop of a one-letter short form: "hepatic a. patent", "splenic v. thrombus")
    t = re.sub(r"(?<!\b[a-z])(?:(?<!\d)\.(?!\d)|\.(?=\s|$))", " . ", t)
    t = re.sub(r"([:;])", r" \1 ", t)
    return "\n".join(re.sub(r"\s+", " ", line).strip() for line in t.splitlines() if line.strip())


_HEADERS = ("FINDINGS:", "Comparison: none.", "No prior for comparison.", "CLINICAL HISTORY: cough.")


def header(text: str, index: int = 0) -> str:
    return _HEADERS[index % len(_HEADERS)] + "\n" + text


_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def impression(text: str) -> str:
    if re.search(r"\b(?:impression|imp|conclusion|summary|opinion)\b", text, re.I):
        return text
    parts = _SENT_END.split(text.strip())
    if len(parts) < 2:
        return text
    return " ".join(parts[:-1]) + "\nIMPRESSION: " + parts[-1]


# -- counts -----------------------------------------------------------------------------------------------------
_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_UNIT_WORDS = r"(?:mm|cm|ml|mls|cc|hu|hours?|hrs?|days?|weeks?|months?|years?|yrs?|minutes?|mins?|seconds?|%|views?)"


def words_to_digits(text: str) -> str:
    pat = re.compile(r"\b(" + "|".join(_WORDS) + r")(?= [a-z]+s\b)(?! (?:of|times|or|and|to)\b)", re.I)
    return pat.sub(lambda m: str(_WORDS.index(m.group(1).lower()) + 2), text)


def digits_to_words(text: str) -> str:
    pat = re.compile(r"(?<![\w.\-/:#])(1[0-2]|[2-9])(?= ([a-z]+s)\b)(?![\w.])", re.I)

    def sub(m: re.Match) -> str:
        noun = m.string[m.end() + 1:].split(" ", 1)[0].rstrip(".,;:")
        if re.fullmatch(_UNIT_WORDS, noun, re.I):
            return m.group(0)
        w = _WORDS[int(m.group(1)) - 2]
        return (w[:1].upper() + w[1:]) if _sentence_start(m.string, m.start()) else w

    return pat.sub(sub, text)


TRANSFORMS: dict[str, Callable[..., str]] = {
    "cm_to_mm": cm_to_mm, "mm_to_cm": mm_to_cm, "abbr_expand": abbr_expand, "abbr_contract": abbr_contract,
    "uk_to_us": uk_to_us, "us_to_uk": us_to_uk, "lowercase": lowercase, "tokenised": tokenised,
    "header": header, "impression": impression, "words_to_digits": words_to_digits,
    "digits_to_words": digits_to_words,
}

#: per transformation: (reports changed, share read the same as sets, share with finding F1 == 1)
BASELINE: dict[str, tuple[int, float, float]] = {
    "cm_to_mm": (1536, 0.9993, 1.0000),
    "mm_to_cm": (665, 0.9955, 0.9955),
    "abbr_expand": (869, 0.9885, 0.9908),
    "abbr_contract": (1726, 0.9890, 0.9902),
    "uk_to_us": (280, 0.9929, 0.9929),
    "us_to_uk": (292, 1.0000, 1.0000),
    "lowercase": (3518, 0.9986, 0.9986),
    "tokenised": (3527, 0.9682, 0.9821),
    "header": (4224, 0.9995, 1.0000),
    "impression": (2522, 0.9988, 0.9988),
    "words_to_digits": (47, 1.0000, 1.0000),
    "digits_to_words": (11, 1.0000, 1.0000),
}
CURRENT: dict[str, tuple[int, float, float]] = {
    "cm_to_mm": (1536, 0.9993, 1.0000),
    "mm_to_cm": (665, 1.0000, 1.0000),
    "abbr_expand": (869, 0.9942, 0.9965),
    "abbr_contract": (1726, 0.9977, 0.9983),
    "uk_to_us": (280, 1.0000, 1.0000),
    "us_to_uk": (292, 1.0000, 1.0000),
    "lowercase": (3518, 0.9994, 0.9994),
    "tokenised": (3527, 0.9745, 0.9853),
    "header": (4224, 1.0000, 1.0000),
    "impression": (2522, 0.9988, 0.9988),
    "words_to_digits": (47, 1.0000, 1.0000),
    "digits_to_words": (11, 1.0000, 1.0000),
}


def dev_references(limit: int | None = None) -> list[tuple[str, str]]:
    from harness.metrics.metacheck import SPLITS, load_triplets

    out = []
    for split in SPLITS:
        if split == "regression" or split.startswith("test"):  # test, test_b: never read
            continue
        rows = load_triplets(split=split)
        out += [(t["id"], t["reference"]) for t in (rows[:limit] if limit else rows)]
    return out


def apply(name: str, text: str, index: int = 0) -> str:
    fn = TRANSFORMS[name]
    return fn(text, index) if name == "header" else fn(text)


def probe(refs: list[tuple[str, str]], names: list[str]) -> dict[str, list[dict]]:
    """Per transformation, one row per changed report: id, text, rewritten text, same (sets), f1 (both ways)."""
    from harness.findings import extract_findings
    from harness.metrics.matching import finding_f1

    base = {i: extract_findings(text) for i, text in refs}
    out: dict[str, list[dict]] = {}
    for name in names:
        rows = []
        for k, (i, text) in enumerate(refs):
            new = apply(name, text, k)
            if new == text:
                continue
            a, b = base[i], extract_findings(new)
            same = Counter(a) == Counter(b)
            f1 = 1.0 if same else min(finding_f1(a, b), finding_f1(b, a))
            rows.append({"id": i, "text": text, "new": new, "same": same, "f1": f1, "a": a, "b": b})
        out[name] = rows
    return out


def summary(results: dict[str, list[dict]]) -> dict[str, tuple[int, float, float]]:
    return {name: (len(rows), sum(r["same"] for r in rows) / len(rows) if rows else 1.0,
                   sum(r["f1"] >= 1.0 - 1e-9 for r in rows) / len(rows) if rows else 1.0)
            for name, rows in results.items()}


def _show(f) -> str:
    bits = [f.observation, f.anatomy, f.laterality or "-", f.presence.value]
    bits += [x for x in (f.sub_location, f.size_mm, f.count, f.severity, f.temporal, f.position) if x is not None]
    if f.attributes:
        bits.append("+".join(sorted(f.attributes)))
    return "/".join(map(str, bits))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--show", type=int, default=0, help="list up to N non-invariant reports per transformation")
    ap.add_argument("--only", nargs="*", default=None, help="transformations to run")
    ap.add_argument("--limit", type=int, default=None, help="first K references of each split")
    args = ap.parse_args()
    names = args.only or list(TRANSFORMS)
    results = probe(dev_references(args.limit), names)
    for name, (n, same, f1) in summary(results).items():
        print(f"{name:16s} changed {n:5d}  same {same:7.2%}  f1==1 {f1:7.2%}")
    for name in names if args.show else ():
        bad = [r for r in results[name] if not r["same"]]
        for r in bad[:args.show]:
            ca, cb = Counter(r["a"]), Counter(r["b"])
            print(f"\n== {name} {r['id']} f1 {r['f1']:.3f}\n   {r['text']}\n-> {r['new']}")
            for f in ca - cb:
                print("   - " + _show(f))
            for f in cb - ca:
                print("   + " + _show(f))


if __name__ == "__main__":
    main()
