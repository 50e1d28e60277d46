"""What the findings of one sentence give each other once each word is attached (stage 3, see ``extract``): a
site, a side, a size or a change stated once for two findings, a finding that only names another more exactly,
and a field label's site for the findings under it.

The rules run in a fixed order (``_share_between_findings``) because a later rule reads what an earlier one set:
a hedged name takes the site the largest member gave its group, and a finding "with" another passes on a site the
adjective rules gave it."""

from __future__ import annotations

import copy
import dataclasses

from harness.findings.attach import (LIST_JOINERS, PHRASE_BREAKS, _may_share_site, _obs_name, _plural, _Target,
                                     said_of_whole_organ)
from harness.findings.lexicon import PLURAL_COUNTS, Lexicon
from harness.findings.scan import Span
from harness.findings.sites import Location

WITH_WORDS = frozenset({"with", "without", "containing", "contains", "contain", "showing", "shows", "(", "causing",
                        "causes", "cause", "resulting", "results", "producing", "produces", "secondary", "due"})
EXCEPT_WORDS = frozenset({"contains", "containing", "contain", "except", "but", "apart", "other", "save"})
#: "the largest node", "dominant lesion": the biggest member of a group just named
LARGEST_WORDS = frozenset({"largest", "dominant", "biggest", "index"})


#: what lies around a finding just named ("and surrounding haematoma", "with adjacent stranding")
_AROUND_WORDS = frozenset({"surrounding", "adjacent", "associated"})


def _companion(t: _Target, lex: Lexicon) -> bool:
    """A sign said with the finding it surrounds ("with adjacent fat stranding")."""
    return bool(lex.observations.get(_obs_name(t.span) or "", {}).get("companion"))


def _lesion_like(obs: str, lex: Lexicon) -> bool:
    """A finding with a size and a count: focal ("nodule", "cyst") or countable ("collection", "node")."""
    return lex.is_focal(obs) or lex.is_countable(obs)


def _share_between_findings(spans: list[Span], targets: list[_Target], obs_targets: list[_Target],
                            header: list[Location], scope: dict[int, str], inherited_label: bool,
                            lex: Lexicon, frame: list[Location] | None = None) -> None:
    _place_in_organ_called_normal(spans, targets, obs_targets, scope, lex)
    _largest_member_describes_group(spans, obs_targets, lex)
    _hedged_name_refines_finding(spans, obs_targets, header, scope, lex)
    _apposed_name_refines_finding(spans, obs_targets, scope, lex)
    _apposed_disease_takes_site(spans, obs_targets, scope, lex)
    _known_lesion_apposed_takes_site(spans, obs_targets, scope, lex)
    _lesions_part_listed_takes_site(spans, obs_targets, lex)
    _adjective_finding_shares_site(obs_targets, lex)
    _adjective_finding_in_organ_of_noun(obs_targets, lex)
    _adjectives_listed_before_organ(spans, obs_targets)
    _participle_finding_in_site_of_noun(spans, obs_targets, lex)
    _rupture_of_the_aneurysm(obs_targets, lex)
    _merge_synonyms_side_by_side(obs_targets)
    _descriptor_yields_to_diagnosis(spans, obs_targets, lex)
    _organ_described_by_finding_counts_nothing(spans, obs_targets, lex)
    _alternative_shares_site(spans, obs_targets, lex)
    _underlying_finding_shares_site(spans, obs_targets, lex)
    _finding_with_another_shares_site(spans, obs_targets, lex)
    _finding_within_another_takes_its_site(spans, obs_targets, lex)
    _finding_around_device_takes_its_place(spans, obs_targets, lex)
    _cause_takes_site_of_effect(spans, obs_targets, lex)
    _linked_finding_shares_side(spans, obs_targets, lex)
    _finding_with_a_sided_normal_organ_shares_side(spans, targets, lex)
    _listed_in_the_same_paired_organ_shares_side(spans, obs_targets, lex)
    _around_the_organ_just_named(spans, targets, obs_targets, lex)
    _bare_side_names_the_paired_organ_before(obs_targets, lex)
    if header:
        _field_label_site(targets, header, inherited_label, lex)
    if frame:
        _framing_site(targets, frame, lex)


#: the vessels, and what is found in one ("the SMV is patent, without thrombus")
_VESSELS = frozenset({"mesenteric vessels", "portal vein", "hepatic vein", "iliac artery", "leg artery", "leg vein",
                      "carotid artery", "subclavian artery", "renal vein", "inferior vena cava", "superior vena cava",
                      "internal jugular vein", "coronary artery"})
_VESSEL_FINDINGS = frozenset({"aneurysm", "thrombosis", "occlusion", "stenosis", "dissection"})


def _vessel_of(loc: Location, finding: str) -> bool:
    """A vessel where the finding may be: any vessel holds a clot, a stenosis or an occlusion; an (pseudo)aneurysm
    is an artery's ("patent splenic vein, no pseudoaneurysm" is no vein's aneurysm)."""
    if loc.organ not in _VESSELS:
        return False
    return finding != "aneurysm" or "artery" in (loc.sub or loc.organ or "")


def _place_in_organ_called_normal(spans: list[Span], targets: list[_Target], obs_targets: list[_Target],
                                  scope: dict[int, str], lex: Lexicon) -> None:
    """An observation with no site of its own in a sentence that also calls an organ normal is in that organ
    ("the liver is unremarkable except for a cyst"): it takes the organ and the normal statement yields.
    A finding that lives mostly elsewhere ("granulomas", at home in the lung) is in the organ too when the
    sentence says the organ holds it ("the spleen is normal in size but contains granulomas")."""
    normals = [t for t in targets if t.kind == "NORMAL" and t.locations]
    sized = [t for t in targets if t.kind == "NORMAL_SIZE" and t.locations]
    for t in obs_targets:
        # "adenocarcinoma abutting the SMV with a clear plane around the SMA": a structure called normal after a
        # relation word is the finding's neighbour, not its organ
        normals = [n for n in normals if not _relation_between(spans, t.pos, n.pos)]
        sized = [n for n in sized if not _relation_between(spans, t.pos, n.pos)]
        spec = lex.observations.get(_obs_name(t.span) or "", {})
        if t.locations or t.sides or not (normals or sized) or any(r.organ for r in t.span.readings("OBS")):
            continue  # "urolithiasis" names its organ
        if scope.get(t.pos) in ("probable", "possible", "improbable") and any(
                u.pos < t.pos and u.kind == "OBS" and scope.get(u.pos) is None for u in obs_targets):
            # "hilar adenopathy with clear lungs, possibly sarcoidosis": a hedged name after a stated finding
            # refines that finding (``_hedged_name_refines_finding``); the organ called normal stays normal
            continue
        if scope.get(t.pos) == "neg":  # "liver unremarkable, no cyst": a negative in the organ, which stays normal
            normals = [n for n in normals if n.pos < t.pos][-1:]
        held = [n for n in (normals or sized) if n.pos < t.pos and any(
            g.text in EXCEPT_WORDS for g in spans[n.pos + 1:t.pos])]
        vessels = [n for n in normals if n.pos < t.pos and scope.get(t.pos) == "neg"
                   and _obs_name(t.span) in _VESSEL_FINDINGS and n.locations
                   and all(_vessel_of(l, _obs_name(t.span) or "") for l in n.locations)
                   and all(g.text in (",", "with", "without", "and", "but") or g.cat.startswith("CTX:negation")
                           for g in spans[n.pos + 1:t.pos])]
        if vessels:
            # "hepatic artery patent without pseudoaneurysm": the vessel called patent is where the vessel's finding
            # is denied (the vessel stays patent)
            t.locations.extend(copy.copy(l) for l in vessels[-1].locations)
        elif normals and "default_anatomy" not in spec:
            for nt in normals:
                t.locations.extend(copy.copy(l) for l in nt.locations)
                if scope.get(t.pos) != "neg":
                    nt.locations = []
        elif "default_anatomy" not in spec:  # "the liver is normal in size with a 1 cm cyst"
            for nt in [n for n in sized if n.pos < t.pos][-1:]:
                t.locations.extend(copy.copy(l) for l in nt.locations)
        elif held and not spec.get("sole_anatomy"):
            for nt in held:  # a normal size still stands: the spleen holds granulomas and is not enlarged
                t.locations.extend(copy.copy(l) for l in nt.locations)
                if nt.kind == "NORMAL":
                    nt.locations = []


def _relation_between(spans: list[Span], a: int, b: int) -> bool:
    return a < b and any(spans[q].cat == "CTX:relation" for q in range(a + 1, b))


def _largest_member_describes_group(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"numerous hepatic metastases, dominant lesion 30 mm in segment 6", "lymphadenopathy, largest node 15 mm":
    the largest member of a group just named gives the group its size and site; it is not another finding."""
    for k, t in enumerate(obs_targets):
        if k == 0 or t.kind != "OBS" or not LARGEST_WORDS & {s.text for s in spans[max(0, t.pos - 2):t.pos]}:
            continue
        prev = obs_targets[k - 1]
        group, member = _obs_name(prev.span), _obs_name(t.span)
        if prev.kind != "OBS" or not group or not member or lex.family(group) != lex.family(member) \
                or not (prev.count in PLURAL_COUNTS or (isinstance(prev.count, int) and prev.count >= 2)
                        or _plural(prev.span) or lex.is_generic(member) or group != member and not lex.is_focal(group)):
            continue
        prev.sizes.extend(t.sizes)
        prev.prior_sizes.extend(t.prior_sizes)
        # "liver metastases, dominant lesion 22 mm (was 30 mm)": the largest member's change is the group's
        prev.temporal = prev.temporal or t.temporal
        for loc in t.locations:
            same = [p for p in prev.locations if p.organ == loc.organ and p.sub is None
                    and loc.laterality in (None, p.laterality)]
            for p in same:
                p.sub = loc.sub
            # "metastases in both lungs, the dominant LLL nodule 14 mm": the group stays in both lungs and its
            # largest member's part is one side's
            both = any(p.organ == loc.organ and p.laterality == "bilateral" for p in prev.locations) \
                and loc.sub is not None and loc.laterality in ("left", "right")
            if not prev.locations or both:
                prev.locations.append(copy.copy(loc))
        t.refined = True


def _hedged_name_refines_finding(spans: list[Span], obs_targets: list[_Target], header: list[Location],
                                 scope: dict[int, str], lex: Lexicon) -> None:
    """"a 1.9 cm lesion in the left kidney, likely a simple cyst": the hedged name refines the lesion before it
    and takes its site, size and count."""
    for k, t in enumerate(obs_targets):
        spec = lex.observations.get(_obs_name(t.span) or "", {})
        if k == 0 or t.kind != "OBS" or spec.get("fixed_anatomy"):
            continue
        # a name under a history or request states nothing ("an adrenal nodule in a patient with lung cancer;
        # metastasis should be considered"): the hedged name refines the stated finding before it
        prev = next((p for p in reversed(obs_targets[:k]) if scope.get(p.pos) != "hyp"), obs_targets[k - 1])
        if _companion(prev, lex) and prev is not obs_targets[0]:
            # "thickening of the caecum with fat stranding, consistent with colitis": the diagnosis names the finding
            # the stranding comes with
            prev = obs_targets[obs_targets.index(prev) - 1]
        if scope.get(t.pos) in ("probable", "possible", "improbable"):
            prev = _head_of_accompanied_list(spans, obs_targets[:k], prev, t, scope, lex)
        # "a nodule in the right upper lobe, suspicious for lung carcinoma" refines like "..., suspicious for
        # carcinoma": a site the hedged name states that only repeats the organ (no side, no sub-location of
        # its own) is not a second site
        prev_default = lex.observations.get(_obs_name(prev.span) or "", {}).get("default_anatomy")
        prev_sites = [copy.copy(l) for l in prev.locations] or [
            copy.copy(l) for l in header if l.organ is not None] or (  # "Left adrenal: nodule, c/w adenoma"
            [Location(prev_default, None, None, prev.pos, prev.pos, "")]
            if prev_default and prev.kind == "OBS" and not lex.is_device(_obs_name(prev.span) or "") else [])
        if not prev.locations and not t.locations and scope.get(t.pos) in ("probable", "possible", "improbable"):
            # "sigmoid wall thickening with pericolic stranding and diverticula, in keeping with diverticulitis":
            # a diagnosis after a list of its signs, the last named with no site, is where the list's signs are
            listed = _site_of_listed_signs(spans, obs_targets[:k], prev, t, scope, lex)
            prev_sites = listed or prev_sites
        # a part of the same organ that the hedged name gives ("LIVER: lesions consistent with metastases, the
        # largest in segment VI") is the more exact site of the one finding
        own_parts = bool(t.locations) and bool(prev_sites) and all(
            l.sub is not None and any(l.organ == pl.organ and pl.sub is None for pl in prev_sites) for l in t.locations)
        # nor is a region holding that site ("a rib lesion, suspicious for osseous metastasis")
        if t.locations and not own_parts and not (prev.locations and all(
                l.sub is None and l.laterality is None and any(l.organ == pl.organ or (
                    lex.is_region(l.organ or "") and lex.in_region(l.organ, pl.organ)) for pl in prev.locations)
                for l in t.locations)):
            continue
        # a focal name of a focal finding is where that finding was seen, whatever its usual home ("a lesion in the
        # gallbladder fundus, which may represent an adenomyomatous nodule" is no lung nodule)
        focal_pair = lex.is_focal(_obs_name(t.span) or "") and lex.is_focal(_obs_name(prev.span) or "") \
            and not spec.get("sole_anatomy") and not any(r.organ for r in t.span.readings("OBS"))
        prev_sites = [l for l in prev_sites if focal_pair and l in prev.locations or _may_share_site(t, l, lex)]
        if own_parts:
            # "nodules in both lungs, up to 14 mm (RLL), consistent with metastases": one side's part is where the
            # largest is; the group stays in both organs
            prev_sites = [copy.copy(l) for l in t.locations] + [
                copy.copy(pl) for pl in prev_sites if pl.laterality == "bilateral" and pl.sub is None and any(
                    l.organ == pl.organ and l.laterality in ("left", "right") for l in t.locations)]
        # "a 1.4 cm hypodensity, likely a haemangioma" refines with no site named at all
        no_site = not prev.locations and not t.locations and not header and prev.kind == "OBS"
        if prev_sites and prev is not obs_targets[0] and _lesion_like(_obs_name(prev.span) or "", lex) \
                and not _lesion_like(_obs_name(t.span) or "", lex):
            # "distended gallbladder, wall thickening and a stone in the neck, in keeping with cholecystitis": a
            # disease named after a list of its signs is the organ's; the part its last (focal) sign is in is not
            prev_sites = [copy.copy(l) for l in prev_sites]
            for l in prev_sites:
                l.sub = None
        if (prev_sites or no_site) and scope.get(t.pos) in ("probable", "possible", "improbable") \
                and scope.get(prev.pos) is None:  # "a nodule, unlikely to represent a metastasis": its site too
            t.locations = _as_sites_of(prev, prev_sites, lex)
            t.sides = t.sides or list(prev.sides)
            _take_what_the_refined_finding_measured(t, prev, scope, lex)


def _site_of_listed_signs(spans: list[Span], before: list[_Target], prev: _Target, t: _Target,
                          scope: dict[int, str], lex: Lexicon) -> list[Location]:
    """The site of the nearest stated sign before ``prev`` in the same sentence that names one the diagnosis ``t``
    may be at (copies), none when a sentence break or a stated sign of another site comes first. The sign is in the
    organ ``prev`` itself belongs to ("perilymphatic lung nodules" after mediastinal nodes: not the nodes' site)."""
    home = lex.observations.get(_obs_name(prev.span) or "", {}).get("default_anatomy")
    for head in reversed(before):
        if head.pos >= prev.pos:
            continue
        if any(g.text in (";", ".") for g in spans[head.pos:prev.pos]):
            return []
        if scope.get(head.pos) is not None or head.kind != "OBS":
            return []
        if head.locations:
            if not all(_may_share_site(t, l, lex) and (home is None or l.organ == home) for l in head.locations):
                return []
            if _companion(head, lex) and all(l.sub is None for l in head.locations):
                continue  # "with pericolic stranding": the sign around the finding, whose part is named before
            sites = [copy.copy(l) for l in head.locations]
            if _lesion_like(_obs_name(head.span) or "", lex) and not _lesion_like(_obs_name(t.span) or "", lex):
                for l in sites:  # "a stone in the neck, wall thickening ..., c/w cholecystitis": the organ's
                    l.sub = None
            return sites
    return []


def _head_of_accompanied_list(spans: list[Span], before: list[_Target], prev: _Target, t: _Target,
                              scope: dict[int, str], lex: Lexicon) -> _Target:
    """"a mass in the pancreatic head with upstream duct and CBD dilatation, concerning for adenocarcinoma": a
    hedged tumour name after a focal finding and the findings that come with it names the focal finding, not the
    duct dilatation nearest it ("LUL mass and left hilar adenopathy, concerning for carcinoma": the mass); a diagnosis
    that cannot be where the nearest finding is names the one before it that it can be in."""
    lesion = _lesion_like(_obs_name(t.span) or "", lex) and not _lesion_like(_obs_name(prev.span) or "", lex)
    # "LLL consolidation with a small effusion, likely pneumonia": the pleura is no site of a pneumonia
    elsewhere = not any(_may_share_site(t, l, lex) for l in _sites_or_home(prev, lex))
    if not (lesion or elsewhere) or any(g.text in (";", ".") for g in spans[before[0].pos:t.pos]):
        return prev
    for head in reversed(before):
        if head.pos >= prev.pos:
            continue
        if scope.get(head.pos) is not None or head.kind != "OBS":
            return prev
        if _lesion_like(_obs_name(head.span) or "", lex) if lesion else any(
                _may_share_site(t, l, lex) for l in head.locations):
            return head
    return prev


def _sites_or_home(t: _Target, lex: Lexicon) -> list[Location]:
    home = lex.observations.get(_obs_name(t.span) or "", {}).get("default_anatomy")
    return t.locations or ([Location(home, None, None, t.pos, t.pos, "")] if home else [])


def _as_sites_of(prev: _Target, sites: list[Location], lex: Lexicon) -> list[Location]:
    """The sites as the refined finding reads them. "para-aortic lymphadenopathy, likely metastases": the region
    words name the nodes' station, so the metastases are in those nodes, not in the aorta."""
    if lex.observations.get(_obs_name(prev.span) or "", {}).get("default_anatomy") != "lymph node":
        return sites
    for loc in sites:
        if loc.organ in ("lymph node", None):
            continue
        if loc.station or loc.organ in lex.node_station_of_organ:
            loc.organ, loc.sub = "lymph node", loc.station or lex.node_station_of_organ[loc.organ] or None
        elif not lex.is_region(loc.organ):
            loc.organ, loc.sub = "lymph node", None
    return sites


#: what joins a finding to the name that says what it is ("25 mm left adrenal lesion = lipid-rich adenoma",
#: "a 2 cm liver lesion, a haemangioma", "a renal lesion representing a simple cyst")
APPOSITION_WORDS = frozenset({",", "=", ":", "-", "representing", "represents", "represent", "being", "i.e.",
                              "ie", "namely", "in keeping with a", "compatible with a"})


def _apposed_name_refines_finding(spans: list[Span], obs_targets: list[_Target], scope: dict[int, str],
                                  lex: Lexicon) -> None:
    """A definite name set beside a finding described by its look, with no site of its own, names that finding:
    it takes the site, side, size and count, and the look is not a second finding."""
    for k, t in enumerate(obs_targets[1:], start=1):
        prev = obs_targets[k - 1]
        t_obs, prev_obs = _obs_name(t.span) or "", _obs_name(prev.span) or ""
        gap = spans[prev.pos + 1:t.pos]
        bracketed = [g.text for g in gap] == ["("]  # "RLL consolidation (pneumonia)"
        if (t.kind != "OBS" or prev.kind != "OBS" or t.locations or t.sides or prev.refined
                or scope.get(t.pos) is not None or scope.get(prev.pos) is not None
                or not (0 < len(gap) <= 6) or (gap[0].text not in APPOSITION_WORDS and not bracketed)
                or any(g.cat not in ("WORD", "ATTR") for g in gap)
                or not (lex.observations.get(prev_obs, {}).get("descriptive")
                        and not lex.observations.get(t_obs, {}).get("descriptive")
                        and _lesion_like(t_obs, lex) and _lesion_like(prev_obs, lex)
                        or lex.is_sign_of(prev_obs, t_obs))):
            continue
        if not prev.locations and not prev.sides:
            continue
        t.locations = _as_sites_of(prev, [copy.copy(l) for l in prev.locations], lex)
        t.sides = list(prev.sides)
        t.sizes = t.sizes or list(prev.sizes)
        t.count = _count_of_both(t.count, prev.count)
        t.attrs |= prev.attrs
        prev.refined = True


def _apposed_disease_takes_site(spans: list[Span], obs_targets: list[_Target], scope: dict[int, str],
                                lex: Lexicon) -> None:
    """"Caecal wall thickening, colitis", "sigmoid wall thickening, infectious or ischaemic colitis": a disease
    named right after a comma, with no site of its own, beside a sign seen in the disease's own organ is that
    sign's disease, in the part of the organ the sign is in (as "..., likely colitis" is). The sign stays."""
    for prev, t in zip(obs_targets, obs_targets[1:]):
        t_spec = lex.observations.get(_obs_name(t.span) or "", {})
        prev_spec = lex.observations.get(_obs_name(prev.span) or "", {})
        if (t.kind != "OBS" or prev.kind != "OBS" or t.locations or t.sides or t_spec.get("type") != "DISEASE"
                or prev_spec.get("type") == "DISEASE" or [g.text for g in spans[prev.pos + 1:t.pos]] != [","]
                or scope.get(t.pos) not in (None, "possible") or scope.get(prev.pos) is not None):
            continue
        home = t_spec.get("default_anatomy")
        sites = [copy.copy(l) for l in prev.locations if home is not None and l.organ == home]
        if sites and len(sites) == len(prev.locations):
            t.locations = sites
            t.sides = list(prev.sides)


#: the words of an apposition that names a finding as one known before ("..., the known primary")
_KNOWN_APPOSITION = frozenset({",", "the", "known", "previously", "primary", "biopsy", "proven", "recently",
                               "diagnosed", "index"})


def _known_lesion_apposed_takes_site(spans: list[Span], obs_targets: list[_Target], scope: dict[int, str],
                                     lex: Lexicon) -> None:
    """"5 cm of circumferential sigmoid wall thickening, the known primary", "right hilar mass, the known
    tumour": a known lesion set after a comma, with no site of its own, is the finding before it, at its sites."""
    for prev, t in zip(obs_targets, obs_targets[1:]):
        # (from the comma after the words the finding is named with: "thickening of the caecal wall, the known
        # primary")
        start = next((q for q in range(prev.pos + 1, t.pos) if spans[q].text in (",", ";", "and", "with")), t.pos)
        gap = [g.text for g in spans[start:t.pos]]
        if (t.kind != "OBS" or prev.kind != "OBS" or t.locations or t.sides or not prev.locations
                or gap[:2] != [",", "the"] or not set(gap) <= _KNOWN_APPOSITION or "known" not in gap
                or not _lesion_like(_obs_name(t.span) or "", lex)
                or scope.get(t.pos) is not None or scope.get(prev.pos) is not None):
            continue
        t.locations = [copy.copy(l) for l in prev.locations]
        t.sides = list(prev.sides)


def _lesions_part_listed_takes_site(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"11 mm part-solid nodule RUL, solid component 5 mm": a lesion's part (``part_of_lesion``) listed after a comma,
    with no site of its own, is at the site of the lesion before it, as "..., with a 5 mm solid component" is."""
    for prev, t in zip(obs_targets, obs_targets[1:]):
        if t.kind != "OBS" or prev.kind != "OBS" or t.locations or t.sides or not prev.locations \
                or not lex.observations.get(_obs_name(t.span) or "", {}).get("part_of_lesion") \
                or not _lesion_like(_obs_name(prev.span) or "", lex):
            continue
        start = next((q for q in range(prev.pos + 1, t.pos) if spans[q].text == ","), t.pos)
        if [g.text for g in spans[start:t.pos]] in ([","], [",", "its"], [",", "the"]):
            t.locations = [copy.copy(l) for l in prev.locations]
            t.sides = list(prev.sides)


def _count_of_both(named: int | str | None, look: int | str | None) -> int | str | None:
    """The count of a finding named twice: the name's own, else the look's; a number the look states wins over a
    plural word of the name that it fits ("three enhancing observations ..., consistent with multifocal HCC": three)."""
    if isinstance(look, int) and named in PLURAL_COUNTS and look >= (3 if named == "many" else 2):
        return look
    return named or (look if look != "unstated" else None)


def _take_what_the_refined_finding_measured(t: _Target, prev: _Target, scope: dict[int, str],
                                            lex: Lexicon) -> None:
    """A hedged name of the same kind of thing ("LLL consolidation consistent with pneumonia", a lesion likely a
    cyst) is that thing: it takes the size, count and attributes, and a descriptive name yields to it."""
    t_obs, prev_obs = _obs_name(t.span) or "", _obs_name(prev.span) or ""
    named_by_look = lex.family(t_obs) == lex.family(prev_obs) and bool(
        lex.observations.get(prev_obs, {}).get("descriptive")) or lex.is_sign_of(prev_obs, t_obs)
    if _lesion_like(t_obs, lex) and _lesion_like(prev_obs, lex) or (
            named_by_look and scope.get(t.pos) == "probable"):  # "LLL consolidation consistent with pneumonia"
        t.sizes = t.sizes or list(prev.sizes)
        t.count = _count_of_both(t.count, prev.count)
        t.attrs |= prev.attrs
        t.temporal = t.temporal or prev.temporal  # "new right basal opacity, c/w aspiration": a new aspiration
        t.severity = t.severity or prev.severity
        # "an adrenal nodule, compatible with an adenoma" is one adenoma: a descriptive name yields; but
        # "a renal mass, suspicious for RCC" states a mass that is there and a diagnosis that may be
        prev.refined = bool(lex.observations.get(prev_obs, {}).get("descriptive")) and scope.get(t.pos) == "probable"
    elif _lesion_like(t_obs, lex) and isinstance(prev.count, int) and not isinstance(t.count, int):
        # "two rounded opacities in the right lung, likely metastases": the opacities counted are the lesions the
        # name says they are, however the look is named
        t.count = prev.count
        t.sizes = t.sizes or list(prev.sizes)


def _adjective_finding_shares_site(obs_targets: list[_Target], lex: Lexicon) -> None:
    """"right lower zone pneumonic consolidation": a finding named as an adjective of the next shares its site."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        if b.pos == a.pos + 1 and a.locations and not b.locations and not b.sides and b.kind == "OBS" \
                and not lex.is_device(_obs_name(b.span) or ""):
            b.locations = [copy.copy(l) for l in a.locations if _may_share_site(b, l, lex)]
            b.sides = list(a.sides)
            if _lesion_like(_obs_name(a.span) or "", lex) and not _lesion_like(_obs_name(b.span) or "", lex):
                for l in b.locations:  # "calculous cholecystitis" of a stone in the neck: the gallbladder's disease
                    l.sub = None


def _adjective_finding_in_organ_of_noun(obs_targets: list[_Target], lex: Lexicon) -> None:
    """"acute calculous cholecystitis": an adjective naming a finding is in the organ of the finding it modifies,
    and what is said before both ("acute") is said of the finding modified."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        if b.pos == a.pos + 1 and a.kind == b.kind == "OBS" and not a.locations and not a.sides \
                and not b.locations and not lex.is_device(_obs_name(a.span) or "") \
                and not lex.is_device(_obs_name(b.span) or "") and len(a.span.text.split()) == 1:
            organ = next((r.organ for r in b.span.readings("OBS") if r.organ), None) or \
                lex.observations.get(_obs_name(b.span) or "", {}).get("default_anatomy")
            site = Location(organ, None, None, b.pos, b.pos, "") if organ else None
            if site is not None and _may_share_site(a, site, lex) and not any(
                    r.organ for r in a.span.readings("OBS")):
                a.locations = [site]
            if a.count is None:
                a.count = "unstated"  # "gallstone cholecystitis": a noun used as an adjective counts nothing
            if a.temporal and not b.temporal:
                b.temporal, a.temporal = a.temporal, None


#: endings of a one-word finding that is an adjective ("scarred", "atrophic", "nodular", "fatty", "edematous")
_ADJECTIVE_ENDINGS = ("ed", "ic", "ar", "ous", "tty")


def _adjectives_listed_before_organ(spans: list[Span], obs_targets: list[_Target]) -> None:
    """"scarred, atrophic right kidney", "atrophic and scarred right kidney": findings listed as adjectives before
    the one that stands just before an organ (its side between) are said of that organ too."""
    by_pos = {t.pos: t for t in obs_targets}
    for b in obs_targets:
        sites = [l for l in b.locations if l.start > b.pos
                 and all(spans[k].cat == "LOC" or not spans[k].cat.startswith(("OBS", "WORD", "CTX"))
                         and spans[k].text not in (",", "and", "or", "with", ".")
                         for k in range(b.pos + 1, l.start))]
        if not sites:
            continue
        q = b.pos - 1
        while q > 0 and spans[q].text in (",", "and") and spans[q - 1].text in (",", "and"):
            q -= 1  # ", and"
        while q > 0 and spans[q].text in (",", "and"):
            a = by_pos.get(q - 1)
            if a is None or a.locations or a.sides or a.kind not in ("OBS", "ENLARGE") \
                    or len(a.span.text.split()) != 1 or not a.span.text.endswith(_ADJECTIVE_ENDINGS):
                break
            a.locations = [copy.copy(l) for l in sites]
            a.sides = list(b.sides)
            q = a.pos - 1
            while q > 0 and spans[q].text in (",", "and") and spans[q - 1].text in (",", "and"):
                q -= 1


#: findings named by a participle of what happened to the thing named after it ("perforated appendicitis")
_PARTICIPLE_FINDINGS = frozenset({"perforated", "ruptured"})


def _participle_finding_in_site_of_noun(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"perforated sigmoid diverticulitis", "ruptured left ovarian cyst": what happened to a finding, said as a
    participle before it and the words of its site, happened at that site (where the participle's finding may
    lie: a perforation is the bowel's, and stays so when the site words name another organ)."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        if a.kind == b.kind == "OBS" and not a.locations and not a.sides and _obs_name(a.span) in _EVENT_OF \
                and _said_of(spans, a.pos, b.pos):
            # "contained rupture of a 62 mm infrarenal AAA", "ruptured AAA": the event is at the finding's site,
            # or in the organ its name implies
            organ = next((r.organ for r in b.span.readings("OBS") if r.organ), None) or \
                lex.observations.get(_obs_name(b.span) or "", {}).get("default_anatomy")
            shared = [copy.copy(l) for l in b.locations if _may_share_site(a, l, lex)] or (
                [Location(organ, None, None, b.pos, b.pos, "")] if organ else [])
            shared = [l for l in shared if _may_share_site(a, l, lex)]
            if shared:
                a.locations = shared
                a.sides = list(b.sides)
            continue
        if not (a.kind == b.kind == "OBS" and a.span.text in _PARTICIPLE_FINDINGS and not a.locations
                and not a.sides and b.pos > a.pos + 1 and all(spans[q].cat == "LOC" for q in range(a.pos + 1, b.pos))):
            continue
        shared = [copy.copy(l) for l in b.locations if a.pos < l.start < b.pos and _may_share_site(a, l, lex)]
        if shared:
            a.locations = shared
            a.sides = [l for l in b.sides if a.pos < l.start < b.pos]


def _rupture_of_the_aneurysm(obs_targets: list[_Target], lex: Lexicon) -> None:
    """"aortic aneurysm with a large retroperitoneal haematoma, consistent with rupture": a rupture said in a
    sentence about one aneurysm, placed nowhere or where its bleed is, is the aneurysm's (at its site)."""
    aneurysms = [t for t in obs_targets if _obs_name(t.span) == "aneurysm"]
    if len(aneurysms) != 1:
        return
    sites = _sites_or_home(aneurysms[0], lex)
    for t in obs_targets:
        if _obs_name(t.span) == "rupture" and t.pos > aneurysms[0].pos and sites and not any(
                l.organ == sites[0].organ for l in t.locations):
            t.locations = [copy.copy(l) for l in sites]
            t.sides = list(aneurysms[0].sides)


#: what happens to a finding, said of it ("rupture of the aneurysm", "ruptured AAA")
_EVENT_OF = frozenset({"rupture"})
_EVENT_GAP = frozenset({"of", "the", "a", "an", "known"})


def _said_of(spans: list[Span], a: int, b: int) -> bool:
    """The finding at ``b`` is what the event at ``a`` happened to: right after it ("ruptured AAA") or after "of"
    with only its article, size, site and describing words between ("rupture of a 62 mm infrarenal AAA")."""
    gap = range(a + 1, b)
    describing = all(spans[q].text in _EVENT_GAP or spans[q].cat in ("SIZE", "LOC", "ATTR", "SEV", "POS")
                     for q in gap)
    if not gap or spans[a + 1].text != "of":
        return spans[a].text.endswith("ed") and describing  # "ruptured infrarenal AAA"
    return describing


def _merge_synonyms_side_by_side(obs_targets: list[_Target]) -> None:
    """"ground glass opacification": two words for one finding side by side are one finding."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        if b.pos == a.pos + 1 and a.kind == b.kind == "OBS" and _obs_name(a.span) == _obs_name(b.span) \
                and not a.refined:
            a.refined = True
            b.locations = b.locations or a.locations
            b.sides = b.sides or a.sides
            b.sizes = b.sizes or a.sizes
            b.attrs |= a.attrs
            b.severity = b.severity or a.severity
            b.temporal = b.temporal or a.temporal


def _descriptor_yields_to_diagnosis(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"sclerotic rib metastases", "lytic liver metastases": a one-word look of a focal lesion set before the
    diagnosis it describes (only site words between) is how that lesion looks, not a second lesion elsewhere."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        a_obs, b_obs = _obs_name(a.span) or "", _obs_name(b.span) or ""
        if (a.kind == b.kind == "OBS" and len(a.span.text.split()) == 1 and not a.refined and a_obs != b_obs
                and lex.is_focal(a_obs) and lex.is_focal(b_obs) and lex.entity_type(b_obs) == "DISEASE"
                and lex.entity_type(a_obs) != "DISEASE" and not a.sides
                and all(a.pos < l.start and l.end <= b.pos for l in a.locations)  # only the sites of both
                and 0 <= b.pos - a.pos - 1 <= 3 and all(g.cat == "LOC" for g in spans[a.pos + 1:b.pos])):
            a.refined = True
            b.attrs |= a.attrs
            b.count = b.count or (a.count if a.count != "unstated" else None)
        elif (a.kind == b.kind == "OBS" and len(a.span.text.split()) == 1 and not a.refined and not b.refined
              and a_obs != b_obs and b_obs == "lesion" and lex.is_focal(a_obs) and not a.sides and not a.locations
              and 1 <= b.pos - a.pos - 1 <= 3 and all(g.cat == "LOC" for g in spans[a.pos + 1:b.pos])):
            # "lytic T10 vertebral body lesion", "sclerotic left iliac bone lesion": the look names the lesion
            # the generic noun after its site is, not a second lesion in the look's default organ
            b.refined = True
            a.locations, a.sides = b.locations, b.sides
            a.sizes = a.sizes or b.sizes
            a.attrs |= b.attrs
            a.count = b.count if a.count in (None, "unstated") else a.count
            # (and what is said of the noun is said of the lesion: "sclerotic T10 lesion unchanged")
            a.temporal = a.temporal or b.temporal
            a.severity = a.severity or b.severity


def _organ_described_by_finding_counts_nothing(spans: list[Span], obs_targets: list[_Target],
                                               lex: Lexicon) -> None:
    """"fibroid uterus", "cirrhotic liver": a finding word before its own organ's noun describes the organ and
    states no count."""
    for t in obs_targets:
        if t.kind == "OBS" and t.count is None and len(t.span.text.split()) == 1 and t.pos + 1 < len(spans) \
                and spans[t.pos + 1].cat == "LOC" and not _plural(t.span):
            home = lex.observations.get(_obs_name(t.span) or "", {}).get("default_anatomy")
            if home and any(r.value == home for r in spans[t.pos + 1].readings("ANAT")):
                t.count = "unstated"


def _alternative_shares_site(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"opacity, atelectasis or pneumonia": the second alternative is where the first is; so is the less likely of
    two ranked ones ("pneumonia more likely than atelectasis", "haemangioma favoured over metastasis")."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        gap = spans[a.pos + 1:b.pos]
        if a.locations and not b.locations and not b.sides and b.kind == "OBS" and (any(
                g.text in ("or", "versus", "vs") for g in gap) and b.pos - a.pos <= 3 or 0 < len(gap) <= 3 and (
                gap[-1].text == "than" or gap[-1].text == "over" and gap[0].text != "over")):
            b.locations = [copy.copy(l) for l in a.locations if _may_share_site(b, l, lex)]
            b.sides = list(a.sides)


def _underlying_finding_shares_site(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"caecal wall thickening, possibly colitis; an underlying tumour is not excluded": what is said to underlie
    the findings before it is where they are (the nearest one with a site), even past a hedged name between."""
    for k, b in enumerate(obs_targets):
        if b.kind != "OBS" or b.locations or b.sides or k == 0:
            continue
        before = [spans[q].text for q in range(max(0, b.pos - 2), b.pos)]
        if "underlying" not in before:
            continue
        # (or with a side only: "left pleural effusion and underlying atelectasis" is at the left base)
        a = next((t for t in reversed(obs_targets[:k]) if t.locations or t.sides), None)
        if a is not None:
            b.locations = [copy.copy(l) for l in a.locations if _may_share_site(b, l, lex)]
            b.sides = list(a.sides)


_NARROWINGS = frozenset({"stenosis", "occlusion"})


def _finding_with_another_shares_site(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"the gallbladder is distended and contains multiple stones", "the liver is fatty without focal lesions":
    what the finding before it has, or has not, with it is in the same site."""
    for k, t in enumerate(obs_targets):
        # (a narrowing's side alone is no site: "ICA plaque with mild stenosis on both sides" narrows the carotids)
        if k == 0 or t.locations or t.sides and _obs_name(t.span) not in _NARROWINGS or t.kind != "OBS" or lex.is_device(_obs_name(t.span) or ""):
            continue
        prev = obs_targets[k - 1]
        gap = spans[prev.pos + 1:t.pos]
        if k >= 2 and _companion(prev, lex) and gap and all(g.text in LIST_JOINERS or g.cat in ("SEV", "ATTR", "COUNT")
                                                           for g in gap):
            # "thickening of the sigmoid with surrounding stranding and several diverticula": the list is the
            # thickening's; the stranding only comes with it
            prev = obs_targets[k - 2]
            gap = spans[prev.pos + 1:t.pos]
        words = {w for g in gap for w in g.text.split()}
        prev_implied = next((r.organ for r in prev.span.readings("OBS") if r.organ), None) or \
            lex.observations.get(_obs_name(prev.span) or "", {}).get("default_anatomy")
        prev_sites = prev.locations or ([Location(prev_implied, None, None, prev.pos, prev.pos, prev.span.text)]
                                        if prev_implied else [])  # "nephrolithiasis without obstruction"
        # "gallbladder distension, wall thickening and pericholecystic fluid": a finding that lives in no organ of
        # its own, listed right after one in an organ, is in that organ
        organless = not any(r.organ for r in t.span.readings("OBS")) and not lex.observations.get(
            _obs_name(t.span) or "", {}).get("default_anatomy")
        # ("the kidney contains a cyst and a calculus": "and a" is one span)
        listed = organless and bool(gap) and all(g.text in (",", "and") for g in gap)
        # (not from a finding of the silhouette's size whose organ is not written: "cardiomegaly and mass" names no
        # cardiac mass, the heart being only where cardiomegaly always is; ``lists_apart``)
        listed = listed and (bool(prev.locations) or any(r.organ for r in prev.span.readings("OBS"))
                             or not lex.observations.get(_obs_name(prev.span) or "", {}).get("lists_apart"))
        # ... and with an article, from a finding whose site is named ("the kidney contains a cyst and a calculus":
        # "and a" is one span), not one of an organ of its own ("left pneumothorax and a calculus")
        listed = listed or organless and bool(prev.locations) and bool(gap) and any(
            g.text.split()[0] in (",", "and") for g in gap) and all(
            set(g.text.split()) <= {",", "and", "a", "an", "of", "measuring"} or g.cat in ("SIZE", "COUNT", "SEV", "ATTR")
            for g in gap)
        # "sigmoid diverticulitis, no abscess": a complication denied right after the finding's comma, that has
        # no organ of its own, is denied where the finding is
        # (after the finding's own phrase: "diverticulitis of the left colon, acute, no abscess formation")
        comma = max((q for q, g in enumerate(gap) if g.text == ","), default=None)
        # (a finding with a site named, or of one organ only: "appendicitis"; not a default site: "GB: wall
        # oedema, no stones" is no lung's)
        own_site = bool(prev.locations) or any(r.organ for r in prev.span.readings("OBS")) or bool(
            lex.observations.get(_obs_name(prev.span) or "", {}).get("sole_anatomy"))
        denied_after_comma = own_site and comma is not None and comma + 1 < len(gap) and all(
            g.cat.startswith("CTX:negation") for g in gap[comma + 1:]) and all(
            g.cat in ("LOC", "TEMP", "SEV", "ATTR", "SIZE") or g.text in (",", "of", "the", "in", "at", "within")
            for g in gap[:comma]) and organless
        # "laceration of the spleen and surrounding haematoma": what surrounds the finding is in its organ
        around = own_site and bool(gap) and gap[-1].text in _AROUND_WORDS
        if prev_sites and not lex.is_device(_obs_name(prev.span) or "") and (
                WITH_WORDS & words or listed or denied_after_comma or around) \
                and not any(g.cat == "CTX:termination" and g.text.split()[0] not in WITH_WORDS and not listed
                            for g in gap):
            implied = next((r.organ for r in t.span.readings("OBS") if r.organ), None)
            t.locations = [copy.copy(l) for l in prev_sites if (
                (l.organ == implied or l.organ in lex.anatomy.get(implied, {}).get("absorbs", []))
                if implied else _may_share_site(t, l, lex))]
            whole = _obs_name(t.span) in lex.enlargement_by_sub.values()  # hydronephrosis: the whole system's
            if (whole or not (listed or words & {"with", "without", "containing", "contains", "contain", "("})) \
                    and not denied_after_comma:
                for l in t.locations:  # "a stone at the UPJ causing hydronephrosis": the organ, not the part
                    l.sub = None


def _side_of(t: _Target) -> Location | None:
    """The one side a finding is on, from a side named apart or its sites."""
    sides = {l.laterality for l in [*t.sides, *t.locations] if l.laterality in ("left", "right")}
    if len(sides) != 1:
        return None
    return next(l for l in [*t.sides, *t.locations] if l.laterality in sides)


def _organs_of(t: _Target, lex: Lexicon) -> list[str]:
    return [l.organ for l in t.locations if l.organ is not None] or [
        o for o in [lex.observations.get(_obs_name(t.span) or "", {}).get("default_anatomy")] if o]


def _one_system(a: str, b: str, lex: Lexicon) -> bool:
    """One organ, or one taking the other's findings (the kidney its ureter, the pleura the lung beside it)."""
    return a == b or b in lex.anatomy.get(a, {}).get("absorbs", []) or a in lex.anatomy.get(b, {}).get("absorbs", [])


def _linked_finding_shares_side(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"right hydronephrosis secondary to a distal ureteric calculus", "left pleural effusion with adjacent
    atelectasis": a finding linked to another (cause, companion) in the same paired system, with no side of its
    own, is on the other's side; so is each finding of a list so linked ("LLL consolidation with air bronchograms
    and a parapneumonic effusion")."""
    if len(obs_targets) < 2:
        return
    for a, b, listed in _linked_pairs(spans, obs_targets):
        for sided, bare in ((a, b), (b, a))[:1 if listed else 2]:
            side = _side_of(sided)
            # a device gives its side ("left chest drain with a residual apical pneumothorax") but takes none
            if side is None or bare.sides or any(l.laterality for l in bare.locations) \
                    or lex.is_device(_obs_name(bare.span) or ""):
                continue
            # a focal finding's side does not reach back to a diffuse one it comes with ("hyperinflated lungs with
            # a granuloma in the right lower zone": the lungs are hyperinflated on both sides)
            if bare is a and said_of_whole_organ(bare, spans, lex) and _lesion_like(_obs_name(sided.span) or "", lex):
                continue
            organs = _organs_of(bare, lex)
            if not organs or not all(lex.is_paired(o) and any(_one_system(o, s, lex) for s in _organs_of(sided, lex))
                                     for o in organs):
                continue
            _put_on_side(bare, side)


def _put_on_side(t: _Target, side) -> None:
    """A finding with no side of its own takes ``side``: on each of its sites (copied: a site may be shared with
    another finding), else as its own side."""
    if t.locations:
        t.locations = [copy.copy(l) for l in t.locations]
        for l in t.locations:
            l.laterality = side.laterality
    else:
        t.sides = [side]


#: the words that open what joins a finding to the organ called normal before it ("clear right lung with two
#: calcified pleural plaques"), and the words that may stand between them
_HOLDING_OPENERS = frozenset({"with", "bearing", "containing", "showing", "but", "except"})
_HOLDING = _HOLDING_OPENERS | frozenset({"apart", "from", "for", "a", "an", "the", "two", "three", "several", "few",
                                         "some", "small", "tiny", "single"})


def _finding_with_a_sided_normal_organ_shares_side(spans: list[Span], targets: list[_Target], lex: Lexicon) -> None:
    """"Clear right lung with two calcified pleural plaques", "normal left kidney except for a small cyst": a finding
    said with a paired organ called normal on one side, in the same system and with no side of its own, is on that
    side (the side was the normal statement's alone)."""
    for n, t in zip(targets, targets[1:]):
        if n.kind != "NORMAL" or t.kind != "OBS" or t.sides or any(l.laterality for l in t.locations) \
                or lex.is_device(_obs_name(t.span) or ""):
            continue
        side = _side_of(n)
        gap = spans[max([n.pos, *(l.end for l in n.locations if l.end < t.pos)]) + 1:t.pos]
        if side is None or not gap or gap[0].text.split()[0] not in _HOLDING_OPENERS \
                or not all(set(g.text.split()) <= _HOLDING or g.cat in ("ATTR", "SEV", "COUNT", "NUM", "SIZE")
                           or (g.cat == "LOC" and not g.readings("LAT")) for g in gap):
            continue
        organs = _organs_of(t, lex)
        normal_organs = [l.organ for l in n.locations if l.organ]
        if organs and normal_organs and all(lex.is_paired(o) and any(_one_system(o, m, lex) for m in normal_organs)
                                            for o in organs):
            _put_on_side(t, side)


def _around_the_organ_just_named(spans: list[Span], targets: list[_Target], obs_targets: list[_Target],
                                 lex: Lexicon) -> None:
    """"The appendix is mildly prominent at 7 mm with adjacent fat stranding": what lies around ("adjacent",
    "surrounding") with no site of its own is around the organ the sentence just placed something in, whatever
    was said of it (an enlargement, a normal size)."""
    for t in obs_targets:
        q = t.pos - 1
        while q >= 0 and spans[q].cat in ("SEV", "ATTR"):
            q -= 1
        if t.kind != "OBS" or t.locations or t.sides or q < 0 or spans[q].text not in _AROUND_WORDS:
            continue
        before = [u for u in targets if u.pos < q and u.locations]
        if not before:
            continue
        t.locations = [copy.copy(l) for l in before[-1].locations if l.organ is not None and _may_share_site(t, l, lex)]
        for l in t.locations:
            l.sub = None


def _listed_in_the_same_paired_organ_shares_side(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"mild left hydronephrosis and perinephric stranding": a finding listed right after one on one side of a
    paired organ, placed in that same organ with no side of its own, is on that side."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        own = {q for l in b.locations for q in range(l.start, l.end + 1)}
        gap = list(enumerate(spans[a.pos + 1:b.pos], a.pos + 1))
        # ("the left kidney contains a cyst and an angiomyolipoma": a finding of the organ by its own name, listed
        # with its article, is in the organ it names)
        implied = next((r.organ for r in b.span.readings("OBS") if r.organ), None) or \
            lex.observations.get(_obs_name(b.span) or "", {}).get("default_anatomy")
        if not b.locations and implied in _organs_of(a, lex) and b.kind == "OBS" and not b.sides and gap \
                and lex.is_focal(_obs_name(b.span) or "") and any(g.text in ("and a", "and an") for _, g in gap) and all(
                set(g.text.split()) <= {"and", ",", "&", "a", "an"} or g.cat in ("SEV", "ATTR", "SIZE") for _, g in gap) \
                and any(g.text.split()[0] == "and" for _, g in gap) and a.locations:
            b.locations = [Location(implied, None, None, b.pos, b.pos, b.span.text)]
            own = {b.pos}
        # "left basal atelectasis and a small effusion": a finding with no site of its own whose home is in the
        # paired system of the sided one listed right before it (the pleura beside the lung) is on that side
        # (not a finding of the sided one's own organ at large: "right thalamic infarct and small vessel disease")
        homeless = not b.locations and bool(_organs_of(b, lex)) and a.locations and all(
            lex.is_paired(o) and o not in _organs_of(a, lex) and any(_one_system(o, s, lex) for s in _organs_of(a, lex))
            for o in _organs_of(b, lex))
        if a.kind != "OBS" or b.kind != "OBS" or b.sides or not (b.locations or homeless) or not gap \
                or not any(g.text.split()[0] == "and" for _, g in gap) \
                or not all(g.text in ("and", ",", "&") or g.cat in ("SEV", "ATTR") or q in own
                           or set(g.text.split()) <= {"and", "a", "an"} and g.cat == "CTX:termination"
                           # the later finding's own size ("a 12 mm cyst and a 9 mm angiomyolipoma")
                           or g.cat == "SIZE" and any(h.text.split()[0] == "and" for r, h in gap if r < q)
                           for q, g in gap):
            continue
        side = _side_of(a)
        organs = set(_organs_of(a, lex))
        if side is None or side.laterality not in ("left", "right") or any(l.laterality for l in b.locations) \
                or not all(l.organ in organs and lex.is_paired(l.organ or "") for l in b.locations):
            continue
        if homeless:
            if not lex.is_device(_obs_name(b.span) or "") and not lex.is_device(_obs_name(a.span) or ""):
                b.sides = [side]
            continue
        _put_on_side(b, side)


def _linked_pairs(spans: list[Span], obs_targets: list[_Target]) -> list[tuple[_Target, _Target, bool]]:
    """(finding, finding linked to it, whether through a list after the first linked one)."""
    pairs = []
    for k, a in enumerate(obs_targets):
        for m in range(k + 1, len(obs_targets)):
            b = obs_targets[m]
            gap = spans[obs_targets[m - 1].pos + 1:b.pos]
            joiners = WITH_WORDS if m == k + 1 else LIST_JOINERS  # "with X and a Y": "and a" joins the list
            if a.kind != "OBS" or b.kind != "OBS" or any(
                    g.cat in ("OBS", "ENLARGE") or g.cat == "CTX:termination" and g.text.split()[0] not in joiners
                    for g in gap):
                break
            if m == k + 1 and not WITH_WORDS & {w for g in gap for w in g.text.split()}:
                break
            # list joiners, modifiers, and words of the member before it the lexicon lacks ("air bronchograms and")
            if m > k + 1 and not all(g.text.split()[0] in LIST_JOINERS or g.cat in ("SEV", "ATTR", "TEMP") or (
                    g.cat == "WORD" and g.text.isalpha() and g.text not in PHRASE_BREAKS) for g in gap):
                break
            pairs.append((a, b, m > k + 1))
    return pairs


def _bare_side_names_the_paired_organ_before(obs_targets: list[_Target], lex: Lexicon) -> None:
    """"The right kidney contains a cyst, the left a stone": a side standing alone for a finding with no organ of
    its own names the paired organ named before it."""
    if not any(t.sides for t in obs_targets[1:]):
        return
    for k, t in enumerate(obs_targets):
        spec = lex.observations.get(_obs_name(t.span) or "", {})
        own = [l for l in t.sides if l.laterality in ("left", "right") and not any(
            min(l.end, t.pos) < o.pos < max(l.start, t.pos) for o in obs_targets)]  # not a list's side
        if t.kind != "OBS" or t.locations or not own \
                or spec.get("default_anatomy") or any(r.organ for r in t.span.readings("OBS")) \
                or lex.is_device(_obs_name(t.span) or ""):
            continue
        organ = next((l for prev in reversed(obs_targets[:k]) for l in prev.locations
                      if l.organ is not None and lex.is_paired(l.organ)), None)
        if organ is not None:
            site = copy.copy(organ)
            site.laterality, site.sub, site.size = None, None, None
            t.locations = [site]


_WITHIN_WORDS = frozenset({"within", "in", "inside"})


def _finding_within_another_takes_its_site(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"mural thrombus within the abdominal aortic aneurysm", "haemorrhage in the renal mass": a finding inside
    another finding is at that finding's site (its own sites, or the organ its name implies)."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        if a.locations or a.sides or a.kind != "OBS" or b.kind != "OBS" or lex.is_device(_obs_name(b.span) or ""):
            continue
        gap = [g.text for g in spans[a.pos + 1:b.pos] if g.cat != "LOC"]  # "within the left renal mass"
        if not gap or gap[0] not in _WITHIN_WORDS or any(w not in ("the", "a", "an") for w in gap[1:]) \
                or spans[a.pos + 1].cat == "LOC":
            continue
        implied = next((r.organ for r in b.span.readings("OBS") if r.organ), None) or \
            lex.observations.get(_obs_name(b.span) or "", {}).get("default_anatomy")
        sites = b.locations or ([Location(implied, None, None, b.pos, b.pos, b.span.text)] if implied else [])
        a.locations = [copy.copy(l) for l in sites if _may_share_site(a, l, lex)]
        a.sides = a.sides or list(b.sides)


#: what lies on a device ("thrombus around the line", "fibrin sheath along the catheter", "clot at the tip of the PICC")
_ON_DEVICE_WORDS = frozenset({"around", "surrounding", "along", "encasing", "on", "about", "adherent", "at"})
_DEVICE_GAP = frozenset({"the", "a", "an", "its", "to", "tip", "of"})


def _finding_around_device_takes_its_place(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"thrombus around the line in the SVC", "clot at the tip of the catheter in the right atrium": a finding with
    no site of its own on a device lies where the device is (the vessel or chamber that places it)."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        if a.locations or a.kind != "OBS" or b.kind != "OBS" or not lex.is_device(_obs_name(b.span) or "") \
                or lex.is_device(_obs_name(a.span) or "") or b.position not in lex.anatomy:
            continue
        gap = [g.text for g in spans[a.pos + 1:b.pos]]
        if not gap or gap[0] not in _ON_DEVICE_WORDS or any(w not in _DEVICE_GAP for w in gap[1:]):
            continue
        place = Location(b.position, None, None, b.pos, b.pos, b.position)
        if _may_share_site(a, place, lex):
            a.locations = [place]


_CAUSING_WORDS = frozenset({"causing", "causes", "producing", "produces", "resulting"})


def _cause_takes_site_of_effect(spans: list[Span], obs_targets: list[_Target], lex: Lexicon) -> None:
    """"calcified plaque causing severe narrowing of the proximal SMA", "soft tissue causing narrowing of the
    bronchus": a cause with no site of its own, and no usual home, is in the organ of what it causes (the organ
    only, as "stenosis of the SMA due to calcified plaque" reads it)."""
    for a, b in zip(obs_targets, obs_targets[1:]):
        if a.locations or a.sides or a.kind != "OBS" or b.kind != "OBS" or not b.locations \
                or any(r.organ for r in a.span.readings("OBS")) \
                or "default_anatomy" in lex.observations.get(_obs_name(a.span) or "", {}) \
                or lex.is_device(_obs_name(a.span) or ""):
            continue
        gap = [g.text for g in spans[a.pos + 1:b.pos]]
        if not gap or gap[0] not in _CAUSING_WORDS or any(g in (",", ";", ".") for g in gap):
            continue
        sites = [copy.copy(l) for l in b.locations if _may_share_site(a, l, lex)]
        for l in sites:
            l.sub = None
        a.locations = sites


def _field_label_site(targets: list[_Target], header: list[Location], inherited_label: bool,
                      lex: Lexicon) -> None:
    """The field label's site for what names none ("LUNGS: Linear atelectasis at the left base.")."""
    for t in targets:
        spec = lex.observations.get(_obs_name(t.span) or "", {})
        implied = {r.organ for r in t.span.readings("OBS") if r.organ}  # "UPPER ABDOMEN: Cholelithiasis."
        if inherited_label and spec.get("default_anatomy") and not spec.get("focal"):
            # "Lymph nodes: hilar 16 mm. Small effusion.": a finding with a home stays there; in a field of its home
            # it takes the field's side ("RIGHT KIDNEY: 4 mm calculus. No hydronephrosis.": the right kidney's)
            home = spec["default_anatomy"]
            own = [l for l in header if l.organ == home and l.laterality in ("left", "right")]
            if own and not t.locations and not t.sides:
                t.locations = [copy.copy(l) for l in own]
            # "RIGHT: Small effusion. Basal atelectasis.": its own site, or its home, is on a side alone's side
            t.locations = [_sided_by_label(l, header, lex) for l in t.locations]
            if not t.locations and not t.sides and lex.is_paired(home):
                t.sides = [l for l in header if l.organ is None and l.laterality in ("left", "right", "bilateral")] \
                    or _beside_label_side(header, {home}, lex)
            continue
        # "Right lung upper lobe: pulmonary nodule": a label naming the finding's own organ still gives its part
        own_label = [l for l in header if l.organ in implied]
        if not t.locations and not spec.get("fixed_anatomy") and (not implied or own_label):
            t.locations = [copy.copy(l) for l in _label_organs_of(t, own_label or [l for l in header
                                                                                 if l.organ is not None], lex)]
        if not t.sides:
            t.sides = [l for l in header if l.organ is None and l.laterality in ("left", "right", "bilateral")]
        if not t.sides and not t.locations and implied:
            # "RIGHT LUNG: small pleural effusion": a finding naming its own organ, one that takes in findings
            # placed at the label's sided organ (the pleura beside the lung), is on the label's side
            t.sides = _beside_label_side(header, implied, lex)
        t.locations = [_part_of_label(_sided_by_label(l, header, lex), header) for l in t.locations]


def _beside_label_side(header: list[Location], organs: set[str], lex: Lexicon) -> list[Location]:
    """The side of a label's one sided paired organ when a finding's paired organ takes in findings placed at it
    (the pleura beside the lung), as a side alone; [] otherwise. Only a label of the whole organ: under "Right
    lower lobe:" an effusion is not said to be the lobe's."""
    return [dataclasses.replace(h, organ=None, sub=None) for h in header[:1] if h.organ is not None and h.sub is None
            and h.laterality in ("left", "right", "bilateral") and lex.is_paired(h.organ) and any(
        lex.is_paired(o) and h.organ in lex.anatomy.get(o, {}).get("absorbs", []) for o in organs)]


def _part_of_label(loc: Location, header: list[Location]) -> Location:
    """"L2: fracture of the left transverse process", "Segment 7: lesion in the liver": a site of the label's organ
    that names no part of it is in the one part the label names."""
    if loc.sub is not None or loc.organ is None:
        return loc
    parts = {h.sub for h in header if h.organ == loc.organ and h.sub is not None}
    if len(parts) != 1 or any(h.organ == loc.organ and h.sub is None for h in header):
        return loc
    loc = copy.copy(loc)
    loc.sub = parts.pop()
    return loc


def _sided_by_label(loc: Location, header: list[Location], lex: Lexicon) -> Location:
    """"LEFT LUNG: nodule in the upper lobe", "LEFT LEG: popliteal artery stenosis": a site of a paired organ named
    without a side under a label that names one (for that organ, a region holding it, or a side alone) is on it."""
    if loc.laterality is not None or loc.organ is None or not lex.is_paired(loc.organ):
        return loc
    side = next((h.laterality for h in header if h.laterality in ("left", "right", "bilateral") and (
        h.organ is None or h.organ == loc.organ or lex.in_region(h.organ, loc.organ)
        # "RIGHT LUNG: small pleural effusion": the organ that takes in a finding placed at the label's organ lies
        # beside it on its side (the pleura beside the lung)
        or (h.sub is None and lex.is_paired(h.organ)
            and h.organ in lex.anatomy.get(loc.organ, {}).get("absorbs", [])))), None)
    if side is None:
        return loc
    loc = copy.copy(loc)
    loc.laterality = side
    return loc


def _framing_site(targets: list[_Target], frame: list[Location], lex: Lexicon) -> None:
    """The clause-initial site ("In the liver, two lesions in segment 6") or side ("On the left, a stone in the
    upper pole without hydronephrosis") for each finding of the sentence that names none and may live there."""
    organs = [l for l in frame if l.organ is not None]
    sides = [l for l in frame if l.laterality in ("left", "right", "bilateral")]
    for t in targets:
        if lex.is_device(_obs_name(t.span) or "") or t.kind not in ("OBS", "ENLARGE", "NORMAL", "NORMAL_SIZE"):
            continue
        implied = any(r.organ for r in t.span.readings("OBS"))  # "nephrolithiasis" names its organ
        if not t.locations and not implied:
            t.locations = [copy.copy(l) for l in organs if t.kind != "OBS" or _may_share_site(t, l, lex)]
        elif organs:
            t.locations = [_within_frame(l, organs, t.kind == "OBS", lex) for l in t.locations]
        if not t.sides and not any(l.laterality for l in t.locations):
            t.sides = list(sides[:1])


def _within_frame(loc: Location, organs: list[Location], fill_part: bool, lex: Lexicon) -> Location:
    """A finding's own site in the framing organ takes the frame's side ("On the left kidney, a stone in the upper
    pole"), and a finding sited by the organ alone (shared from another: "ground-glass" beside a consolidation)
    its part too ("In the left lower lobe, consolidation with surrounding ground-glass")."""
    frame = next((o for o in organs if o.organ == loc.organ), None)
    if frame is None:
        return loc
    loc = copy.copy(loc)
    loc.laterality = loc.laterality or frame.laterality
    if fill_part and loc.sub is None:
        loc.sub = frame.sub
    return loc


def _label_organs_of(t: _Target, organs: list[Location], lex: Lexicon) -> list[Location]:
    """Which of a label naming several organs a finding is in: "HEART AND PERICARDIUM: Enlarged." is the
    heart's; "LUNGS AND AIRWAYS: Left lung nodule." is in the organ it belongs to if named, else the first; a
    normal statement covers them all."""
    if t.kind == "ENLARGE" and len(organs) > 1:
        organs = [l for l in organs if l.organ in lex.enlargement][:1] or organs[:1]
    if t.kind == "OBS" and len(organs) > 1:
        default = lex.observations.get(_obs_name(t.span) or "", {}).get("default_anatomy")
        own = [l for l in organs if l.organ == default or l.organ in lex.anatomy.get(
            default or "", {}).get("absorbs", [])]
        organs = own[:1] or organs[:1]
    return organs
