"""Coverage of the findings reader on external vocabulary (harness/data/reader_eval/vocab_terms.yaml).

Each term of a public term list (CheXpert labeler phrases, CT-RATE's 18 abnormalities, Merlin's 30 abdominal
CT findings, TotalSegmentator organ names, Fleischner glossary terms, CT signs of right heart strain, a few
more organs) is put in short sentence frames ("X.", "There is X in the right lower
lobe.", "No X.", "No evidence of X.", "Possible X.", "X is unchanged.", one with a size and a side) and the
reader's findings are checked: the right CheXpert label or observation class, organ and presence/certainty; an
"unmention" phrase must not set its label. Prints coverage per source and frame; ``--failures`` lists each
miss with what was read; ``--json PATH`` writes the per-sentence results.

    PYTHONPATH=. python benchmarks/reader_vocab_probe.py [--failures] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from importlib import resources

import yaml

from harness.findings import extract_findings
from harness.findings.lexicon import lexicon
from harness.schema import Presence

PRESENT, ABSENT, UNCERTAIN = Presence.PRESENT, Presence.ABSENT, Presence.UNCERTAIN


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _frames(t: dict, site: str | None) -> list[tuple[str, str, Presence]]:
    """(frame, sentence, expected presence) for a noun-phrase term."""
    term, plural = t["term"], t.get("plural", False)
    art = "a " if t.get("a") else ""
    be = "are" if plural else "is"
    site = t.get("site", site)
    there = f"There {be} {art}{term}{' ' + site if site else ''}."
    out = [("bare", f"{_cap(term)}.", PRESENT), ("there_is", there, PRESENT)]
    if t.get("sign"):
        return out
    if not t.get("no_negation"):
        out += [("no", f"No {term}.", ABSENT), ("no_evidence", f"No evidence of {term}.", ABSENT)]
    out += [("possible", f"Possible {term}.", UNCERTAIN), ("unchanged", f"{_cap(term)} {be} unchanged.", PRESENT)]
    return out


def _read(sentence: str) -> list:
    return extract_findings(sentence)


def _show(findings) -> str:
    return "; ".join(f"{f.observation}/{f.anatomy}/{f.laterality or '-'}/{f.presence.value}"
                     f"{'/' + str(f.size_mm) if f.size_mm is not None else ''}" for f in findings) or "(nothing)"


def probe() -> list[dict]:
    lex = lexicon()
    data = yaml.safe_load(resources.files("harness.data").joinpath("reader_eval/vocab_terms.yaml").read_text())
    rows: list[dict] = []

    def label_of(f) -> str | None:
        return lex.chexpert_label(lex.canonical_observation(f.observation), lex.canonical_anatomy(f.anatomy),
                                  f.attributes)

    def add(source, frame, sentence, ok, findings, term):
        rows.append({"source": source, "frame": frame, "sentence": sentence, "ok": bool(ok), "term": term,
                     "read": _show(findings)})

    def label_ok(findings, labels: set[str], presence: Presence) -> bool:
        labelled = [f for f in findings if label_of(f) in labels]
        if presence is ABSENT:  # read as denied, and the label not set
            return bool(labelled) and all(f.presence is ABSENT for f in labelled)
        return any(f.presence is presence for f in labelled)

    for label, spec in data["chexpert_mention"].items():
        for t in spec["terms"]:
            if t.get("structure"):
                verb = "widened" if label == "Enlarged Cardiomediastinum" else "enlarged"
                frames = [("enlarged", f"{_cap(t['term'])} is {verb}.", PRESENT),
                          ("normal", f"{_cap(t['term'])} is normal.", ABSENT)]
            else:
                frames = _frames(t, spec.get("site"))
            for frame, sentence, presence in frames:
                found = _read(sentence)
                labels = {label, *t.get("label_also", ())}
                add("chexpert_mention", frame, sentence, label_ok(found, labels, presence), found, t["term"])
    for label, terms in data["chexpert_unmention"].items():
        for t in terms:
            for frame, sentence, _ in _frames(t, None)[:2]:
                found = _read(sentence)
                ok = not any(label_of(f) == label and f.presence is not ABSENT for f in found)
                add("chexpert_unmention", frame, sentence, ok, found, t["term"])

    def obs_ok(findings, t, presence: Presence, size=None, side=None) -> bool:
        expect = {lex.canonical_observation(o) for o in t["expect"]}
        anatomy = set(t.get("anatomy") or ())
        hits = [f for f in findings if lex.canonical_observation(f.observation) in expect
                and (not anatomy or lex.canonical_anatomy(f.anatomy) in anatomy)]
        if presence is ABSENT:
            return bool(hits) and all(f.presence is ABSENT for f in hits)
        # a size of -1 asks for no size: measures of the sign are no size of the finding ("RV 52 mm versus LV 34 mm")
        return any(f.presence is presence and (size is None or f.size_mm == (None if size < 0 else size))
                   and (side is None or f.laterality == side) for f in hits)

    for source in ("chexpert_other", "ct_rate", "merlin", "fleischner", "ctpa", "ct_extra"):
        for t in data[source]:
            for frame, sentence, presence in _frames(t, None):
                found = _read(sentence)
                add(source, frame, sentence, obs_ok(found, t, presence), found, t["term"])
            if t.get("sized"):
                sentence, size, *side = t["sized"]
                found = _read(sentence)
                add(source, "sized", sentence, obs_ok(found, t, PRESENT, -1.0 if size is None else float(size),
                                                      side[0] if side else None),
                    found, t["term"])

    focal = {name for name in lex.observations if lex.is_focal(name)}
    for source, t in [(s, t) for s in ("totalseg", "anatomy_extra") for t in data[s]]:
        anatomy, side = set(t["anatomy"]), t.get("side")
        be = "are" if t.get("plural") else "is"
        for frame, sentence, presence in (
                ("normal", f"The {t['term']} {be} normal.", ABSENT),
                ("unremarkable", f"The {t['term']} {be} unremarkable.", ABSENT),
                ("lesion_sized", f"There is a 2 cm lesion in the {t['term']}.", PRESENT),
                ("mass", f"A 14 mm mass in the {t['term']}.", PRESENT)):
            found = _read(sentence)
            hits = [f for f in found if lex.canonical_anatomy(f.anatomy) in anatomy and f.presence is presence
                    and (side is None or f.laterality in (side, None) if presence is ABSENT
                         else side is None or f.laterality == side)]
            if presence is PRESENT:
                want = 20.0 if frame == "lesion_sized" else 14.0
                shapes = focal | ({"thrombosis"} if t.get("filling_defect") else set())
                hits = [f for f in hits if f.observation in shapes and f.size_mm == want]
            add(source, frame, sentence, bool(hits), found, t["term"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--failures", action="store_true", help="list each sentence the reader gets wrong")
    ap.add_argument("--json", help="write the per-sentence results here")
    args = ap.parse_args()
    rows = probe()
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in rows:
        for frame in (r["frame"], "ALL"):
            table[r["source"]][frame][0] += r["ok"]
            table[r["source"]][frame][1] += 1
    print(f"{'source':20s} {'frame':14s} {'ok':>5s} {'n':>5s} {'cover':>7s}")
    total = [0, 0]
    for source, frames in table.items():
        for frame, (ok, n) in sorted(frames.items(), key=lambda kv: kv[0] == "ALL"):  # each source's total last
            print(f"{source:20s} {frame:14s} {ok:5d} {n:5d} {ok / n:7.1%}")
        total[0] += frames["ALL"][0]
        total[1] += frames["ALL"][1]
    print(f"{'all':20s} {'ALL':14s} {total[0]:5d} {total[1]:5d} {total[0] / total[1]:7.1%}")
    if args.failures:
        for r in rows:
            if not r["ok"]:
                print(f"MISS {r['source']:18s} {r['frame']:12s} {r['sentence']!r} -> {r['read']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
