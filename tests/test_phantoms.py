import nibabel as nib
import numpy as np
import pytest

from harness.imaging import load_volume
from harness.phantoms.ct import PhantomConfig, make_phantom, to_lps
from harness.schema import Finding, Presence


def test_phantom_is_deterministic_for_a_seed():
    a, b = make_phantom(7), make_phantom(7)
    assert np.array_equal(a.hu, b.hu) and np.array_equal(a.labels, b.labels)
    assert a.findings == b.findings
    assert not np.array_equal(make_phantom(8).hu, a.hu)


def test_every_lesion_is_in_the_label_map_with_its_slices():
    for seed in range(10):
        p = make_phantom(seed)
        for lesion in p.lesions:
            zs = np.nonzero((p.labels == lesion.label).any(axis=(0, 1)))[0]
            assert (zs[0], zs[-1]) == lesion.z_range
            assert lesion.finding.size_mm >= PhantomConfig().min_size_mm


def test_findings_list_every_organ_once():
    p = make_phantom(3)
    organs = {(f.anatomy, f.laterality) for f in p.findings}
    assert {("liver", None), ("spleen", None), ("pancreas", None), ("kidney", "left"), ("kidney", "right"),
            ("lung", "left"), ("lung", "right")} <= organs


def _left_kidney_phantom():
    for seed in range(500):
        p = make_phantom(seed)
        if any(l.finding.anatomy == "kidney" and l.finding.laterality == "left" for l in p.lesions):
            return seed, p
    pytest.fail("no phantom with a left-kidney tumor in 500 seeds")


def test_left_kidney_tumor_is_on_the_patient_left_after_monai_load(tmp_path):
    """Laterality end to end: truth -> LPS NIfTI on disk -> MONAI RAS -> world x < 0 (patient left) + report."""
    from harness.reports_ct import write_report

    seed, p = _left_kidney_phantom()
    lesion = next(l for l in p.lesions if l.finding.anatomy == "kidney" and l.finding.laterality == "left")
    hu, labels, affine = to_lps(p)
    assert affine[0, 0] < 0, "file must be stored LPS so the orientation step is exercised"
    nib.save(nib.Nifti1Image(hu, affine), tmp_path / "img.nii.gz")
    nib.save(nib.Nifti1Image(labels, affine), tmp_path / "lab.nii.gz")

    vol = load_volume(tmp_path / "img.nii.gz", tmp_path / "lab.nii.gz")
    idx = np.argwhere(vol.labels == lesion.label).mean(axis=0)
    world = vol.affine @ np.array([*idx, 1.0])
    assert world[0] < 0, f"RAS x of a left-kidney tumor must be negative (patient left), got {world[0]:.1f}"
    assert abs(world[0] - lesion.center_ras_mm[0]) < 10
    # Radiological display: the patient's left is on the image's right half.
    from harness.imaging import axial

    z = int(round(idx[2]))
    plane = axial(vol.labels, z)
    cols = np.nonzero((plane == lesion.label).any(axis=0))[0]
    assert cols.mean() > plane.shape[1] / 2

    report = write_report(p.findings, np.random.default_rng(seed))
    sentence = next(s for s in report.split(". ") if "left" in s and ("kidney" in s or "renal" in s)
                    and "No" not in s and "normal" not in s and "unremarkable" not in s)
    assert "right" not in sentence


def test_normal_organ_is_an_absent_finding():
    p = make_phantom(0)
    for f in p.findings:
        if f.observation == "lesion":
            assert f.presence is Presence.ABSENT
    assert Finding.from_dict(p.findings[0].to_dict()) == p.findings[0]
