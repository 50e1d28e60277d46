"""CXR phantoms: deterministic, boxes that hold their findings, laterality in the radiological convention, and
reference reports that read back to the truth through the shared findings extractor."""

import numpy as np
import pytest

from harness.phantoms.cxr import CXRPhantomConfig, chexpert_labels, make_cxr_phantom
from harness.reports_cxr import finding_phrase, write_cxr_report
from harness.schema import Presence

SMALL = CXRPhantomConfig(size=192)


def test_phantom_is_deterministic_for_a_seed():
    a, b = make_cxr_phantom(11, SMALL), make_cxr_phantom(11, SMALL)
    assert np.array_equal(a.image, b.image) and a.findings == b.findings and a.grounded == b.grounded
    assert not np.array_equal(make_cxr_phantom(12, SMALL).image, a.image)


def test_every_positive_finding_has_boxes_inside_the_image():
    n = SMALL.size
    kinds = set()
    for seed in range(60):
        p = make_cxr_phantom(seed, SMALL)
        assert p.image.shape == (n, n) and p.image.dtype == np.uint8
        for g in p.grounded:
            kinds.add(g.finding.observation)
            assert g.boxes
            for x1, y1, x2, y2 in g.boxes:
                assert 0 <= x1 < x2 <= n and 0 <= y1 < y2 <= n
        assert all(f.presence is Presence.ABSENT for f in p.findings[len(p.grounded):])
    assert {"nodule", "pleural effusion", "cardiomegaly", "pneumothorax", "consolidation", "atelectasis"} <= kinds
    assert kinds & {"endotracheal tube", "nasogastric tube", "central venous catheter", "pacemaker"}


def test_right_sided_findings_are_on_the_image_left():
    """Radiological convention: the patient's right lung is drawn on the image's left half."""
    n = SMALL.size
    seen = set()
    for seed in range(80):
        for g in make_cxr_phantom(seed, SMALL).grounded:
            side = g.finding.laterality
            if side not in ("left", "right") or g.finding.anatomy not in ("lung", "pleura"):
                continue
            (x1, _, x2, _), = g.boxes
            centre = (x1 + x2) / 2
            assert (centre < n / 2) if side == "right" else (centre > n / 2), (seed, g)
            seen.add(side)
    assert seen == {"left", "right"}


def test_bilateral_effusion_has_a_box_on_each_side():
    for seed in range(200):
        p = make_cxr_phantom(seed, SMALL)
        g = next((g for g in p.grounded if g.finding.laterality == "bilateral"), None)
        if g is not None:
            assert len(g.boxes) == 2
            assert {(b[0] + b[2]) / 2 < SMALL.size / 2 for b in g.boxes} == {True, False}
            return
    pytest.fail("no bilateral effusion in 200 seeds")


def test_a_nodule_is_brighter_than_the_lung_around_it():
    for seed in range(100):
        p = make_cxr_phantom(seed, CXRPhantomConfig(size=256, noise=0.0))
        g = next((g for g in p.grounded if g.finding.observation in ("nodule", "mass")), None)
        if g is None:
            continue
        (x1, y1, x2, y2), = g.boxes
        cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
        ring = p.image[max(0, y1 - 6):y1 - 2, cx - 2:cx + 3]
        assert p.image[cy, cx] > ring.mean() + 30
        return
    pytest.fail("no nodule in 100 seeds")


def test_cardiomegaly_means_a_large_cardiothoracic_ratio():
    ratios = {True: [], False: []}
    for seed in range(80):
        p = make_cxr_phantom(seed, SMALL)
        enlarged = any(g.finding.observation == "cardiomegaly" for g in p.grounded)
        ratios[enlarged].append(p.meta["cardiothoracic_ratio"])
    assert min(ratios[True]) > 0.5 > max(ratios[False])


def test_reference_reports_read_back_to_the_truth():
    """The writer and the findings extractor agree: the truth findings are exactly what the report states."""
    from harness.findings import extract_findings
    from harness.metrics.clinical import chexpert_vector
    from harness.metrics.matching import compare_findings

    for seed in range(150):
        p = make_cxr_phantom(seed, CXRPhantomConfig(size=96))
        report = write_cxr_report(p.findings, np.random.default_rng(seed))
        extracted = extract_findings(report)
        c = compare_findings(p.findings, extracted)
        assert c["fp"] == 0 and c["fn"] == 0, (seed, report)
        assert chexpert_vector(p.findings) == chexpert_vector(extracted)


def test_grounding_phrases_name_their_finding():
    from harness.findings import extract_findings, lexicon

    lex = lexicon()
    for seed in range(60):
        p = make_cxr_phantom(seed, CXRPhantomConfig(size=96))
        rng = np.random.default_rng(seed)
        for g in p.grounded:
            phrase = finding_phrase(g.finding, rng)
            (f,) = extract_findings(phrase)
            assert f.presence is Presence.PRESENT and f.anatomy == g.finding.anatomy, phrase
            assert lex.canonical_observation(f.observation) == lex.canonical_observation(g.finding.observation)
            assert f.laterality in (g.finding.laterality, None), phrase  # a phrase may leave the side out


def test_reports_vary_in_phrasing():
    p = make_cxr_phantom(3, SMALL)
    texts = {write_cxr_report(p.findings, np.random.default_rng(s)) for s in range(10)}
    assert len(texts) > 3


def test_truth_chexpert_labels():
    assert chexpert_labels(()) == {**dict.fromkeys(chexpert_labels(()), 0.0), "No Finding": 1.0}
    for seed in range(40):
        p = make_cxr_phantom(seed, SMALL)
        labels = p.meta["chexpert"]
        devices = any("support device" in g.finding.attributes for g in p.grounded)
        assert labels["Support Devices"] == float(devices)
        pathology = [g for g in p.grounded if "support device" not in g.finding.attributes]
        assert labels["No Finding"] == float(not pathology)
