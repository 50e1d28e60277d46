"""Finding F1, CheXpert-style F1, the entity score and the external wrappers, on the Metric contract."""

from __future__ import annotations

import sys
import types
from types import SimpleNamespace

import numpy as np
import pytest

from harness.metrics.clinical import CHEXPERT_LABELS, CheXpertF1Metric, FindingF1Metric, chexpert_vector
from harness.metrics.matching import sizes_agree, text_finding_f1
from harness.metrics.entity import (PUBLISHED_PENALTY, EntityScoreMetric, LexiconSimilarity, entity_score,
                                    text_entities, text_entity_score)
from harness.metrics.external import BERTScoreMetric, RadGraphF1Metric, RaTEScoreMetric
from harness.phantoms.ct import NORMAL_ORGANS, make_phantom
from harness.reports_ct import lesion_sentence, write_report
from harness.schema import Case, Finding, Presence
from harness.task import Answer, ScoredItem

LEX = LexiconSimilarity()
CT = SimpleNamespace(name="ct_tumor", modality="ct")
CXR = SimpleNamespace(name="cxr_report", modality="cxr")


def item(reference: str, candidate: str, findings=()) -> ScoredItem:
    return ScoredItem(Case("c", "t", None, None, reference, tuple(findings)), Answer(candidate), {})


@pytest.fixture(scope="module")
def ct_cases():
    cases = []
    for seed in range(12):
        truth = make_phantom(seed).findings
        cases.append(Case(f"ct{seed}", "ct_tumor", None, None, write_report(truth, np.random.default_rng(seed)),
                          truth))
    return cases


def baseline_answers(case: Case) -> dict[str, str]:
    """The oracle (truth in other words), the template (all normal) and the hallucinator (one invented tumor)."""
    rng = np.random.default_rng(7)
    normals = [Finding("lesion", a, laterality=s, presence=Presence.ABSENT) for a, s in NORMAL_ORGANS]
    contradicted = next(f for f in case.findings if f.presence is Presence.ABSENT)
    invented = Finding("mass", contradicted.anatomy, None, contradicted.laterality, Presence.PRESENT, 25.0, 1,
                       frozenset({"hypodense"}))
    hallucinated = [f for f in case.findings if f != contradicted] + [invented]
    return {"oracle": write_report(case.findings, np.random.default_rng(99)),
            "template": write_report(normals, np.random.default_rng(0)),
            "hallucinator": write_report(hallucinated, rng)}


def test_oracle_scores_one_and_template_and_hallucinator_score_lower_on_ct(ct_cases):
    metric = FindingF1Metric()
    scores = {}
    for name in ("oracle", "template", "hallucinator"):
        items = [ScoredItem(c, Answer(baseline_answers(c)[name]), {}) for c in ct_cases]
        scores[name] = metric.aggregate(metric.per_case(items))
    assert scores["oracle"] == {"finding_f1": 1.0, "finding_f1_micro": 1.0, "finding_f1_macro": 1.0}
    for name in ("template", "hallucinator"):
        for out in metric.outputs:
            assert scores[name][out] < 1.0, (name, out, scores[name])
    entity = EntityScoreMetric(LEX)
    e = {n: entity.aggregate(entity.per_case([ScoredItem(c, Answer(baseline_answers(c)[n]), {})
                                              for c in ct_cases]))["entity_score"] for n in scores}
    assert e["oracle"] == 1.0 and e["template"] < 1.0 and e["hallucinator"] < 1.0


def test_finding_f1_definitions():
    assert text_finding_f1("", "") == 1.0
    assert text_finding_f1("Small right pleural effusion.", "") == 0.0
    ref = "Small right pleural effusion. 2 cm liver cyst."
    assert text_finding_f1(ref, "Small right pleural effusion.") == pytest.approx(2 / 3)
    # bilateral counts once per side; a side-less negative covers both sides
    assert text_finding_f1("Bilateral pleural effusions.", "Right and left pleural effusions.") == 1.0
    assert text_finding_f1("No pleural effusion.", "No right pleural effusion.") == pytest.approx(2 / 3)


def test_size_tolerance_is_max_of_5mm_and_20_percent():
    assert sizes_agree(10, 12) and not sizes_agree(10, 12.5)
    assert sizes_agree(50, 55) and not sizes_agree(50, 56)
    assert not sizes_agree(54, 66)  # an aneurysm grown by 22% is not the same measurement
    assert sizes_agree(None, 40)


def test_micro_macro_aggregate_from_rows_and_bootstrap_subsets():
    metric = FindingF1Metric()
    items = [item("Small right pleural effusion. 2 cm liver cyst.", "Small right pleural effusion."),
             item("No pneumothorax.", "No pneumothorax."),
             item("3 cm spleen mass.", "3 cm liver mass.")]
    rows = metric.per_case(items)
    agg = metric.aggregate(rows)
    assert agg["finding_f1"] == pytest.approx(np.mean([2 / 3, 1.0, 0.0]))
    # pooled: TP = 1 + 0.5 (a negative weighs ABSENT_FINDING_WEIGHT, split between the sides) + 0,
    # FP = 0 + 0 + 1, FN = 1 + 0 + 1
    assert agg["finding_f1_micro"] == pytest.approx(3 / (3 + 1 + 2))
    assert 0 <= agg["finding_f1_macro"] <= 1
    for row in rows:  # one row aggregates to itself
        one = metric.aggregate([row])
        assert one["finding_f1"] == row["finding_f1"] and one["finding_f1_micro"] == row["finding_f1_micro"]
    assert "definitions" not in metric.variant and "micro" in metric.variant and "macro" in metric.variant


def test_a_missed_negative_costs_less_than_a_missed_finding():
    both = "Small right pleural effusion. No pneumothorax."
    assert text_finding_f1(both, "Small right pleural effusion.") > text_finding_f1(both, "No pneumothorax.")
    # a negative flipped to a finding still costs the negative and the invented finding
    assert text_finding_f1("No pneumothorax.", "Right pneumothorax.") == 0.0


def test_an_organ_called_normal_covers_its_specific_negatives():
    assert text_finding_f1("The lungs are clear.", "No focal consolidation.") == 1.0
    assert text_finding_f1("The spleen is unremarkable.", "The spleen is normal in size.") == 1.0
    # one normal organ states all of its negatives, and they state it when nothing there is present
    assert text_finding_f1("No consolidation. No nodules.", "The lungs are clear.") == 1.0
    assert text_finding_f1("Lungs clear without consolidation.", "No focal airspace disease.") == 1.0
    assert text_finding_f1("No consolidation. Right lung nodule.", "The lungs are clear.") < 1.0
    # not across organs, and not for a finding that is present
    assert text_finding_f1("The lungs are clear.", "No splenomegaly.") == 0.0
    assert text_finding_f1("The lungs are clear.", "Right lower lobe consolidation.") == 0.0


def test_a_general_negative_covers_each_specific_one():
    specific = "No hilar or mediastinal lymphadenopathy."
    assert text_finding_f1(specific, "No lymphadenopathy.") == 1.0
    assert text_finding_f1("No lymphadenopathy.", specific) == 1.0
    # a negative does not cover a finding that is there
    assert text_finding_f1("Enlarged hilar lymph nodes.", "No lymphadenopathy.") == 0.0


def test_less_specific_keeps_more_than_a_look_for_a_diagnosis_and_a_wrong_site_keeps_nothing():
    ref = "A 4 cm mass in the upper pole of the right kidney."
    less_specific = text_finding_f1(ref, "A 4 cm mass in the right kidney.")
    diagnosis = text_finding_f1(ref, "A 4 cm renal cell carcinoma in the upper pole of the right kidney.")
    assert 0 < diagnosis < less_specific < 1.0
    assert text_finding_f1(ref, "A 4 cm mass in the lower pole of the right kidney.") == 0.0
    assert text_finding_f1(ref, "A 4 cm mass in the upper pole of the left kidney.") == 0.0
    # a look and a diagnosis of another family do not match at all
    assert text_finding_f1(ref, "4 cm hydronephrosis of the right kidney.") == 0.0


def test_a_finding_with_no_side_equals_the_same_finding_on_both_sides_but_not_on_one():
    assert text_finding_f1("Bilateral pulmonary edema.", "Mild pulmonary edema.") == 1.0
    assert text_finding_f1("Mild pulmonary edema.", "Bilateral pulmonary edema.") == 1.0
    assert 0 < text_finding_f1("Left pleural effusion.", "Pleural effusion.") < 1.0
    assert text_finding_f1("Bilateral pulmonary edema.", "Bilateral pleural effusions.") == 0.0


def test_a_finding_the_other_report_denies_costs_more_than_one_it_leaves_out():
    ref = "Small left pleural effusion. Heart size is normal."
    denied = text_finding_f1(ref, "No pleural effusion. Heart size is normal.")
    left_out = text_finding_f1(ref, "Heart size is normal.")
    assert 0 < denied < left_out < 1.0
    # symmetric: a candidate stating what the reference denies
    assert text_finding_f1("No pneumothorax. Normal heart size.", "Small right pneumothorax. Normal heart size.") \
        < text_finding_f1("Normal heart size.", "Small right pneumothorax. Normal heart size.")
    # the finding on the other side only contradicts; on both sides, or another finding there, does not
    ref = "Left lower lobe pneumonia. Normal heart size."
    wrong_side = text_finding_f1(ref, "Right lower lobe pneumonia. Normal heart size.")
    assert 0 < wrong_side < text_finding_f1(ref, "Right lower lobe nodule. Normal heart size.")
    # a denial on the other side or of another organ is no contradiction
    assert text_finding_f1(ref, "No right pleural effusion. Heart size is normal.") \
        == text_finding_f1(ref, "No pneumothorax. Heart size is normal.")


def test_entity_score_one_wrong_attribute_costs_as_much_as_a_wrong_organ():
    ref = "A 2 cm cyst in segment 7 of the liver."
    organ = text_entity_score(ref, "A 2 cm cyst in the spleen.", LexiconSimilarity())
    segment = text_entity_score(ref, "A 2 cm cyst in segment 2 of the liver.", LexiconSimilarity())
    size = text_entity_score(ref, "A 4 cm cyst in segment 7 of the liver.", LexiconSimilarity())
    paraphrase = text_entity_score(ref, "Segment VII hepatic cyst measuring 20 mm.", LexiconSimilarity())
    assert paraphrase == 1.0
    assert max(segment, size) < 0.75 and organ < 0.75


def test_a_region_called_normal_and_the_negatives_in_it_cover_each_other():
    specific = "No pleural effusion. No pneumothorax. The lungs are clear."
    assert text_finding_f1("Normal chest radiograph.", specific) == 1.0
    assert text_finding_f1(specific, "Normal chest radiograph.") == 1.0
    assert text_finding_f1("No pleural effusion.", "Normal abdomen.") == 0.0  # another region
    assert text_finding_f1("Right pneumothorax.", "Normal chest radiograph.") == 0.0  # a finding is not covered


def test_reference_side_uses_truth_findings_when_the_case_has_them():
    truth = (Finding("mass", "spleen", presence=Presence.PRESENT, size_mm=30.0, count=1),)
    rows = FindingF1Metric().per_case([item("unrelated text", "There is a 3 cm mass in the spleen.", truth)])
    assert rows[0]["finding_f1"] == 1.0 and rows[0]["reference_source"] == "truth"


def test_chexpert_vector_positive_or_uncertain_counts_and_no_finding():
    vec = dict(zip(CHEXPERT_LABELS, chexpert_vector(
        [Finding("effusion", "pleura", laterality="left"), Finding("pneumothorax", "pleura", presence=Presence.ABSENT),
         Finding("consolidation", "lung", presence=Presence.UNCERTAIN), Finding("nodule", "lung"),
         Finding("endotracheal tube", "trachea")])))
    assert vec["Pleural Effusion"] == 1 and vec["Consolidation"] == 1 and vec["Lung Lesion"] == 1
    assert vec["Pneumothorax"] == 0 and vec["Support Devices"] == 1 and vec["No Finding"] == 0
    normal = dict(zip(CHEXPERT_LABELS, chexpert_vector([Finding("endotracheal tube", "trachea")])))
    assert normal["No Finding"] == 1


def test_chexpert_f1_micro_macro_and_applicability():
    metric = CheXpertF1Metric()
    assert metric.unavailable(CT, []).startswith("not run:")
    assert metric.unavailable(CXR, []) is None
    items = [item("Cardiomegaly. Small left pleural effusion.", "Cardiomegaly. No pleural effusion."),
             item("No acute process.", "No acute process."),
             item("Possible right lower lobe pneumonia.", "Right lower lobe pneumonia.")]
    agg = metric.aggregate(metric.per_case(items))
    # labels: r1 {Cardiomegaly, Effusion} c1 {Cardiomegaly}; r2 = c2 = {No Finding}; r3 = c3 = {Pneumonia}
    assert agg["chexpert_f1_micro_14"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))
    assert agg["chexpert_f1_macro_14"] == pytest.approx(np.mean([1, 0, 1, 1]))
    assert agg["chexpert_f1_micro_5"] == pytest.approx(2 / 3)
    assert agg["chexpert_f1_macro_5"] == pytest.approx(0.5)
    assert "positive or uncertain = 1" in metric.variant


def test_entity_score_published_behaviour_and_our_negation_penalty():
    assert text_entity_score("", "Small pleural effusion.", LEX) == 0.5  # no entity on one side
    ref = "There is a 2 cm mass in the liver."
    assert text_entity_score(ref, "A 20 mm hepatic tumor.", LEX) == 1.0
    flipped = text_entity_score(ref, "There is no mass in the liver.", LEX)
    assert flipped < 1.0 - (1.0 - PUBLISHED_PENALTY)  # cuts more than the published ~13%
    assert "similarity=lexicon" in EntityScoreMetric(LEX).variant


def test_entity_score_keeps_the_access_side_of_a_line_as_finding_f1_does():
    ref = "Left internal jugular central line, tip at the cavoatrial junction. No pneumothorax."
    same = text_entity_score(ref, "L IJ CVC terminating at the cavoatrial junction; no PTX.", LEX)
    other_side = text_entity_score(ref, "Right internal jugular central line, tip at the cavoatrial junction. "
                                        "No pneumothorax.", LEX)
    assert same == 1.0 and other_side < same
    assert "device access side" in EntityScoreMetric(LEX).variant


def test_entity_score_weighs_a_sideless_negative_of_a_paired_organ_as_one_statement():
    # "no pleural effusion" is an entity per side (so that "no left effusion" meets it), each at half weight: a
    # report that drops a finding loses as much beside it as beside a negative of an unpaired organ
    paired = text_entity_score("No pleural effusion. 2 cm cyst in the spleen.", "No pleural effusion.", LEX)
    unpaired = text_entity_score("No ascites. 2 cm cyst in the spleen.", "No ascites.", LEX)
    assert paired == pytest.approx(unpaired) and paired < 0.8
    sides = {e.laterality: e.share for e in text_entities("No pleural effusion.")}
    assert sides == {"left": 0.5, "right": 0.5}
    assert {e.share for e in text_entities("Bilateral pleural effusions.")} == {1.0}


def test_entity_score_weighs_a_contradicted_finding_more_than_an_omitted_one():
    ref = "Moderate right pneumothorax. Mild cardiomegaly."
    other_side = text_entity_score(ref, "Moderate left pneumothorax. Mild cardiomegaly.", LEX)
    left_out = text_entity_score(ref, "Mild cardiomegaly.", LEX)
    assert other_side < left_out
    ref = "Small left pleural effusion. Stable mild cardiomegaly."
    denied = text_entity_score(ref, "No pleural effusion. Stable mild cardiomegaly.", LEX)
    unsaid = text_entity_score(ref, "No pneumothorax. Stable mild cardiomegaly.", LEX)
    assert denied < unsaid
    assert "denies or states only on the other side" in EntityScoreMetric(LEX).variant


def test_entity_score_a_region_called_normal_and_its_organs_called_normal_are_one_statement():
    assert text_entity_score("Normal chest radiograph.",
                             "Lungs clear. No pleural effusion or pneumothorax. Heart size normal.", LEX) == 1.0
    assert text_entity_score("Solid abdominal organs are unremarkable.",
                             "Normal liver, spleen, pancreas and adrenal glands. Kidneys unremarkable.", LEX) == 1.0
    # the site of a finding the other report does not state is not covered by a region called normal
    normal = "No acute cardiopulmonary abnormality."
    in_region = text_entity_score(normal, normal + " 8 mm nodule in the right upper lobe.", LEX)
    outside = text_entity_score(normal, normal + " 8 mm nodule in the liver.", LEX)
    assert in_region == pytest.approx(outside) and in_region < 0.75
    assert "a region called normal" in EntityScoreMetric(LEX).variant


def test_entity_types_follow_ratescore():
    types_ = {e.type for e in text_entities("No pneumothorax. Right lower lobe pneumonia. No edema. 2 cm liver cyst.")}
    assert types_ == {"ANATOMY", "ABNORMALITY", "DISEASE", "NON-ABNORMALITY", "NON-DISEASE"}


def test_entity_score_is_one_for_identical_reports_with_entities():
    for text in ("Small right pleural effusion.", lesion_sentence(Finding("cyst", "kidney", "upper pole", "left",
                                                                          size_mm=21.0, count=1,
                                                                          attributes=frozenset({"hypodense"})),
                                                                  np.random.default_rng(1))):
        assert entity_score(text_entities(text), text_entities(text), LEX) == 1.0


@pytest.mark.parametrize("cls", [RadGraphF1Metric, RaTEScoreMetric, BERTScoreMetric])
def test_external_metrics_say_not_run_with_what_they_looked_for(cls, monkeypatch, tmp_path):
    metric = cls() if cls is not RadGraphF1Metric else cls(weights_dir=tmp_path)
    module = {RadGraphF1Metric: "radgraph", RaTEScoreMetric: "RaTEScore", BERTScoreMetric: "bert_score"}[cls]
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == module else object())
    reason = metric.unavailable(CT, [])
    assert reason.startswith("not run: package") and "not installed" in reason
    # installed but no weights on disk: says where it looked
    fake = types.ModuleType(module)
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    monkeypatch.setitem(sys.modules, module, fake)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("harness.metrics.external.hf_cache_dir", lambda: tmp_path)
    reason = metric.unavailable(CT, [])
    assert reason.startswith("not run:") and "weights not found at" in reason and str(tmp_path) in reason


def test_embedding_similarity_counts_lexicon_synonyms_as_one_and_names_itself():
    from harness.metrics.entity import EmbeddingSimilarity  # noqa: PLC0415

    vectors = {"mass": [1.0, 0.0], "nodule": [0.6, 0.8], "cyst": [0.0, 1.0]}
    sim = EmbeddingSimilarity(lambda texts: [vectors.get(t, [0.5, 0.5]) for t in texts])
    assert sim.concept("mass", "lesion", False) == 1.0  # synonyms by the lexicon
    assert sim.concept("mass", "nodule", False) == pytest.approx(0.6)  # cosine otherwise
    assert "all-MiniLM-L6-v2" in EntityScoreMetric(sim).variant
    assert text_entity_score("2 cm liver mass.", "20 mm hepatic tumour.", sim) == 1.0


def test_chexpert_bootstrap_draws_equal_aggregate_on_each_resample():
    from harness.metrics.clinical import CheXpertF1Metric

    rng = np.random.default_rng(0)
    rows = [{"_ref": list(rng.integers(0, 2, 14) * (rng.random(14) < 0.3)),
             "_cand": list(rng.integers(0, 2, 14) * (rng.random(14) < 0.3))} for _ in range(30)]
    metric = CheXpertF1Metric()
    resamples = rng.integers(0, 30, (40, 30))
    draws = metric.bootstrap_draws(rows, resamples)
    for k in range(len(resamples)):
        for name, value in metric.aggregate([rows[i] for i in resamples[k]]).items():
            assert draws[name][k] == pytest.approx(value, abs=1e-12), (name, k)


def test_a_diffuse_process_stated_without_its_distribution_keeps_more_credit_than_a_focal_one():
    from harness.metrics.matching import text_finding_f1
    diffuse = text_finding_f1("Basal predominant fibrosis.", "Pulmonary fibrosis.")
    focal = text_finding_f1("A 6 mm nodule in the right lower lobe.", "A 6 mm right lung nodule.")
    assert 0.85 < diffuse < 1.0 and focal < diffuse
    assert text_finding_f1("Upper lobe emphysema.", "Lower lobe emphysema.") == 0.0


def test_two_stated_counts_are_compared_even_with_a_plural_word():
    from harness.metrics.matching import counts_agree
    assert not counts_agree(4, 2, 2, 2)  # "four nodules ... metastases" / "two nodules ... metastases"
    assert counts_agree(3, 2, 3, 0)
    assert counts_agree(None, 2, None, 3)  # two plural words still meet
    assert counts_agree(3, 0, None, 2)  # "three nodules" are "multiple nodules"
    ref = "Five nodules in the right lung, the largest 9 mm, consistent with metastases."
    assert text_finding_f1(ref, ref.replace("Five", "Five")) > text_finding_f1(ref, ref.replace("Five", "Eight"))


def test_an_organless_negative_matches_the_same_negative_at_any_site():
    from harness.metrics.entity import text_entity_score
    from harness.metrics.matching import text_finding_f1
    sited = "Acute appendicitis. No periappendiceal abscess."
    organless = "Acute appendicitis. No abscess."
    silent = "Acute appendicitis."
    # "No abscess." denies an abscess anywhere: it states the sited denial, and more than saying nothing
    assert text_finding_f1(sited, organless) == 1.0
    assert text_finding_f1(sited, organless) > text_finding_f1(sited, silent)
    assert text_entity_score(sited, organless) > text_entity_score(sited, silent)
    # of either side of a paired organ
    assert text_finding_f1("Left lower lobe pneumonia. No lung abscess.", "Left lower lobe pneumonia. No abscess.") == 1.0
    # and it is contradicted by that finding stated present anywhere (worse than leaving the negative out)
    present = "Acute appendicitis with a periappendiceal abscess."
    assert text_finding_f1(present, organless) < text_finding_f1(present, silent)


def test_the_size_of_a_finding_judged_unlikely_still_counts():
    """"A 9 mm nodular opacity, likely a nipple shadow": the nodule is doubted, but what was seen had a size; a
    different size is a different statement in both metrics (a plain denial has no size to compare)."""
    ref = "A 9 mm nodular density over the left lower zone, probably a nipple shadow."
    same = "9 mm nodular opacity projecting over the left lower zone, likely a nipple shadow."
    bigger = "A 3 cm nodular density over the left lower zone, probably a nipple shadow."
    assert text_finding_f1(ref, same) > text_finding_f1(ref, bigger)
    assert text_entity_score(ref, same) > text_entity_score(ref, bigger)


def test_a_lung_base_is_part_of_its_lower_zone():
    from harness.metrics.matching import SUB_LOCATION_PARTIAL_CREDIT, sub_location_credit
    # the base is the lowest part of the lower zone: part credit, as a segment within its lobe
    assert sub_location_credit("lung", "base", "lower zone") == SUB_LOCATION_PARTIAL_CREDIT
    assert sub_location_credit("lung", "lower zone", "base") == SUB_LOCATION_PARTIAL_CREDIT
    assert sub_location_credit("lung", "base", "lower lobe") == SUB_LOCATION_PARTIAL_CREDIT
    # ... but not the upper zone
    assert sub_location_credit("lung", "base", "upper zone") == 0.0
    ref = "Calcified granuloma in the right lower zone."
    assert text_finding_f1(ref, "Calcified granuloma at the right base.") > \
        text_finding_f1(ref, "Calcified granuloma at the right apex.")


def test_tips_at_vertebral_levels_agree_within_one_level_and_are_not_compared_with_a_place():
    from harness.metrics.matching import positions_agree
    ref = "Aortic balloon pump tip at the level of T7. Small left pleural effusion."
    assert text_finding_f1(ref, "Aortic balloon pump tip at the level of T11. Small left pleural effusion.") < 1.0
    assert text_finding_f1(ref, "Aortic balloon pump tip at the level of T10. Small left pleural effusion.") < 1.0
    assert text_finding_f1(ref, "Aortic balloon pump tip at the level of T8. Small left pleural effusion.") == 1.0
    assert text_finding_f1(ref, "Aortic balloon pump tip in the descending aorta. Small left pleural effusion.") == 1.0
    line = "Right subclavian central line tip at T5."
    assert text_finding_f1(line, "Right subclavian central line tip in the SVC.") == 1.0
    assert text_entity_score(ref, "Aortic balloon pump tip at the level of T11. Small left pleural effusion.") < \
        text_entity_score(ref, "Aortic balloon pump tip at the level of T8. Small left pleural effusion.")
    assert positions_agree("T12 level", "L1 level") and not positions_agree("T12 level", "L2 level")
    assert positions_agree("T6 level", "superior vena cava") and not positions_agree("stomach", "duodenum")
    assert "vertebral level" in FindingF1Metric.variant and "vertebral level" in EntityScoreMetric().variant


def test_chexpert_labels_follow_the_labelers_conventions_for_granulomas_coils_scars_and_bronchial_walls():
    from harness.findings import extract_findings
    from harness.metrics.clinical import CHEXPERT_LABELS, chexpert_vector

    def labels(text):
        return {l for l, v in zip(CHEXPERT_LABELS, chexpert_vector(extract_findings(text))) if v}

    # a calcified nodule is a healed granuloma, no lung lesion; a nodule not said calcified is one
    assert "Lung Lesion" not in labels("Small calcified nodule in the left upper lobe.")
    assert "Lung Lesion" in labels("Small nodule in the left upper lobe.")
    # embolization coils are a support device
    assert "Support Devices" in labels("Embolisation coils in the left lower lobe.")
    # pleuro-parenchymal scarring is the pleura's (Pleural Other); peribronchial thickening a lung opacity
    assert "Pleural Other" in labels("Biapical pleuro-parenchymal scarring.")
    assert "Lung Opacity" in labels("Mild peribronchial thickening.")
