"""CT loaders on fixtures written in each dataset's exact layout: MSD (dataset.json), KiTS case folders, CT-RATE
(volumes + reports CSV), with the reference findings read from the masks and malformed files named."""

import dataclasses
import gzip
import json
import os
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from harness.errors import DataError, HarnessError
from harness.loaders import detect_dataset, load_dataset
from harness.metrics.matching import compare_findings
from harness.phantoms.ct import PhantomConfig, make_phantom, to_lps
from harness.schema import Presence

SHAPE = PhantomConfig(shape=(96, 96, 64))


def _phantoms(organ: str, side: str | None, n_with: int, n_without: int, cysts: bool = True):
    """Seeds whose phantom has (n_with) or lacks (n_without) a tumor in ``organ``/``side``."""
    with_, without = [], []
    for seed in range(400):
        p = make_phantom(seed, SHAPE)
        if not cysts and any(l.finding.observation == "cyst" and l.finding.anatomy == organ for l in p.lesions):
            continue
        hit = any(l.finding.anatomy == organ and (side is None or l.finding.laterality == side) for l in p.lesions)
        if hit and len(with_) < n_with:
            with_.append((seed, p))
        elif not hit and len(without) < n_without:
            without.append((seed, p))
        if len(with_) == n_with and len(without) == n_without:
            return with_ + without
    raise AssertionError("not enough phantoms")


def _save(path: Path, array, affine):
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, affine), str(path))


def _organ_truth(p, organ):
    return tuple(f for f in p.findings if f.anatomy == organ)


# -- MSD ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def msd_liver(tmp_path_factory):
    """Task03_Liver in MSD layout: labels 0 background, 1 liver, 2 cancer; files stored LPS as MSD's are."""
    root = tmp_path_factory.mktemp("msd") / "Task03_Liver"
    phantoms = _phantoms("liver", None, 2, 1, cysts=False)  # MSD Liver's masks label tumors, not cysts
    training = []
    for i, (seed, p) in enumerate(phantoms):
        hu, lab, affine = to_lps(p)
        msd = np.zeros_like(lab)
        msd[lab == 4] = 1
        for l in p.lesions:
            msd[lab == l.label] = 2 if l.finding.anatomy == "liver" else msd[lab == l.label]
        _save(root / "imagesTr" / f"liver_{i}.nii.gz", hu, affine)
        _save(root / "labelsTr" / f"liver_{i}.nii.gz", msd, affine)
        training.append({"image": f"./imagesTr/liver_{i}.nii.gz", "label": f"./labelsTr/liver_{i}.nii.gz"})
    _save(root / "imagesTs" / "liver_99.nii.gz", to_lps(phantoms[0][1])[0], to_lps(phantoms[0][1])[2])
    (root / "dataset.json").write_text(json.dumps({
        "name": "Liver", "description": "Liver and liver tumor segmentation", "tensorImageSize": "3D",
        "modality": {"0": "CT"}, "labels": {"0": "background", "1": "liver", "2": "cancer"},
        "numTraining": len(training), "numTest": 1, "training": training, "test": ["./imagesTs/liver_99.nii.gz"]},
        indent=2))
    return root, phantoms


def test_msd_layout_is_detected_and_findings_come_from_the_masks(msd_liver, tmp_path):
    root, phantoms = msd_liver
    assert detect_dataset(root, "ct_tumor") == "msd"
    ds = load_dataset(root, "ct_tumor", cache_dir=tmp_path)
    assert ds.info["dataset"] == "msd" and ds.info["skipped"] == 0 and len(ds.cases) == 3
    for case, (seed, p) in zip(ds.cases, phantoms):
        truth = _organ_truth(p, "liver")
        c = compare_findings(truth, case.findings)
        assert c["fp"] == 0 and c["fn"] == 0, (seed, truth, case.findings)
        assert all(f.anatomy == "liver" for f in case.findings)
        assert len(case.lesions) == sum(1 for f in truth if f.presence is Presence.PRESENT)
        assert case.reference_report.startswith("FINDINGS:") and case.meta["findings_source"] == "masks"
        labels = nib.load(case.label_path).get_fdata()
        for lesion in case.lesions:
            zs = np.nonzero((labels == lesion.label).any(axis=(0, 1)))[0]
            assert (zs[0], zs[-1]) == lesion.z_range
    assert any(not c.lesions and c.findings[0].presence is Presence.ABSENT for c in ds.cases)
    again = load_dataset(root, "ct_tumor", cache_dir=tmp_path)  # from the cache, identical
    assert again.data_hash == ds.data_hash and again.cases == ds.cases


def test_msd_cases_run_through_the_ct_task(msd_liver, tmp_path):
    """The loaded cases are ct_tumor cases: numbered slices render and the oracle's key slice cuts the tumor."""
    from harness.imaging import load_volume
    from tasks.ct_tumor.task import CTTumorTask, oracle_key_slice

    root, _ = msd_liver
    task = CTTumorTask()
    ds = load_dataset(root, "ct_tumor", cache_dir=tmp_path, limit=2)
    assert len(ds.cases) == 2
    case = ds.cases[0]
    vol = load_volume(case.image_path, case.label_path)  # image and re-labelled map share one RAS grid
    assert list(vol.image.shape) == case.meta["shape"]
    slices = task.slices_of(case)
    k = oracle_key_slice(case, slices)
    main = max(case.lesions, key=lambda l: l.finding.size_mm)
    assert main.z_range[0] <= slices[k - 1] <= main.z_range[1]
    assert (vol.labels[:, :, slices[k - 1]] == main.label).any()
    (req,) = task.requests(case, "report", {})
    assert len(req.load_images()) == len(slices) + 2


def test_msd_lung_tumors_get_their_side_without_an_organ_mask(tmp_path):
    root = tmp_path / "Task06_Lung"
    (seed, p), = _phantoms("lung", "left", 1, 0)
    hu, lab, affine = to_lps(p)
    msd = np.zeros_like(lab)
    for l in p.lesions:
        if l.finding.anatomy == "lung":
            msd[lab == l.label] = 1
    _save(root / "imagesTr" / "lung_001.nii.gz", hu, affine)
    _save(root / "labelsTr" / "lung_001.nii.gz", msd, affine)
    (root / "dataset.json").write_text(json.dumps({
        "name": "Lung", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "cancer"},
        "training": [{"image": "./imagesTr/lung_001.nii.gz", "label": "./labelsTr/lung_001.nii.gz"}], "test": []}))
    (case,) = load_dataset(root, "ct_tumor", cache_dir=tmp_path / "cache").cases
    truth = [f for f in p.findings if f.anatomy == "lung" and f.presence is Presence.PRESENT]
    assert sorted(f.laterality for f in case.findings) == sorted(f.laterality for f in truth)
    assert "left" in {f.laterality for f in case.findings}
    # without an organ mask the loader cannot know the lobe: compared at the side, as it states it (a lobe on
    # one side only would earn the partial credit of a less specific sub-location)
    c = compare_findings([dataclasses.replace(f, sub_location=None) for f in truth], case.findings)
    assert c["fn"] == 0 and c["fp"] == 0


def test_msd_refuses_non_ct_and_tumorless_label_sets(tmp_path):
    root = tmp_path / "Task09_Spleen"
    (root / "imagesTr").mkdir(parents=True)
    (root / "dataset.json").write_text(json.dumps({"name": "Spleen", "modality": {"0": "CT"},
                                                   "labels": {"0": "background", "1": "spleen"}, "training": []}))
    with pytest.raises(HarnessError, match="no tumor class"):
        load_dataset(root, "ct_tumor", cache_dir=tmp_path)
    (root / "dataset.json").write_text(json.dumps({"name": "Prostate", "modality": {"0": "T2", "1": "ADC"},
                                                   "labels": {"0": "background", "1": "PZ"}, "training": []}))
    with pytest.raises(HarnessError, match="not CT"):
        load_dataset(root, "ct_tumor", dataset="msd", cache_dir=tmp_path)
    (root / "dataset.json").write_text("{ not json")
    with pytest.raises(DataError, match=r"dataset\.json: not valid JSON"):
        load_dataset(root, "ct_tumor", dataset="msd", cache_dir=tmp_path)


def test_msd_bad_entries_name_the_entry_and_skip_bad_finishes_the_rest(msd_liver, tmp_path):
    src, _ = msd_liver
    root = tmp_path / "Task03_Liver"
    shutil.copytree(src, root)
    blob = (root / "labelsTr" / "liver_1.nii.gz").read_bytes()
    (root / "labelsTr" / "liver_1.nii.gz").write_bytes(blob[: len(blob) // 3])  # truncated download
    meta = json.loads((src / "dataset.json").read_text())
    meta["training"].append({"image": "./imagesTr/liver_7.nii.gz", "label": "./labelsTr/liver_7.nii.gz"})
    (root / "dataset.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match=r"liver_1\.nii\.gz: cannot be read as a NIfTI label map"):
        load_dataset(root, "ct_tumor", cache_dir=tmp_path / "cache")
    ds = load_dataset(root, "ct_tumor", cache_dir=tmp_path / "cache", skip_bad=True)
    assert [c.case_id for c in ds.cases] == ["liver_0", "liver_2"]
    assert ds.info["skipped"] == 2
    assert any("training entry 4" in m and "liver_7.nii.gz not found" in m for m in ds.info["skipped_examples"])


# -- KiTS ---------------------------------------------------------------------------------------------------
def test_kits_case_folders(tmp_path):
    root = tmp_path / "kits23" / "dataset"
    phantoms = _phantoms("kidney", "left", 1, 1) + _phantoms("kidney", "right", 1, 0)
    for i, (seed, p) in enumerate(phantoms):
        hu, lab, affine = to_lps(p)
        seg = np.zeros_like(lab)
        seg[(lab == 6) | (lab == 7)] = 1
        for l in p.lesions:
            if l.finding.anatomy == "kidney":
                seg[lab == l.label] = 3 if l.finding.observation == "cyst" else 2
        _save(root / f"case_{i:05d}" / "imaging.nii.gz", hu, affine)
        _save(root / f"case_{i:05d}" / "segmentation.nii.gz", seg, affine)
    (root / "case_00009").mkdir()
    _save(root / "case_00009" / "imaging.nii.gz", *to_lps(phantoms[0][1])[::2])  # an unlabelled (test) case
    (root.parent / "kits.json").write_text("[]")
    assert detect_dataset(root.parent, "ct_tumor") == "kits"
    ds = load_dataset(root.parent, "ct_tumor", cache_dir=tmp_path / "cache")
    assert [c.case_id for c in ds.cases] == ["case_00000", "case_00001", "case_00002"]
    assert ds.info["ignored"] == {"no segmentation (unlabelled case)": 1}
    for case, (seed, p) in zip(ds.cases, phantoms):
        truth = _organ_truth(p, "kidney")
        c = compare_findings(truth, case.findings)
        assert c["fp"] == 0 and c["fn"] == 0, (seed, truth, case.findings)
        assert {f.laterality for f in case.findings} == {"left", "right"}


# -- CT-RATE ------------------------------------------------------------------------------------------------
CT_RATE_REPORT_COLUMNS = ["VolumeName", "ClinicalInformation_EN", "Technique_EN", "Findings_EN", "Impressions_EN"]


def _ct_rate(root: Path, names: list[str], with_missing: bool = False) -> None:
    import csv

    data = root / "dataset"
    rng = np.random.default_rng(0)
    for name in names:
        parts = name.removesuffix(".nii.gz").split("_")
        vol = rng.integers(-1000, 400, size=(24, 20, 12)).astype(np.int16)
        affine = np.diag([-0.75, -0.75, 1.5, 1.0])
        _save(data / "valid_fixed" / "_".join(parts[:2]) / "_".join(parts[:3]) / name, vol, affine)
    rows = names + (["valid_9_a_1.nii.gz"] if with_missing else [])
    (data / "radiology_text_reports").mkdir(parents=True)
    with open(data / "radiology_text_reports" / "validation_reports.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CT_RATE_REPORT_COLUMNS)
        for name in rows:
            w.writerow([name, "Cough.", "Non-contrast chest CT.",
                        "Trachea and both main bronchi are open. A 12 mm nodule is seen in the right upper lobe, "
                        "with no pleural effusion.", "Right upper lobe nodule."])
    (data / "metadata").mkdir()
    with open(data / "metadata" / "validation_metadata.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["VolumeName", "Manufacturer", "XYSpacing", "ZSpacing", "RescaleIntercept", "RescaleSlope"])
        for name in names:
            w.writerow([name, "SIEMENS", "[0.75, 0.75]", "1.5", "-1024", "1"])
    (data / "multi_abnormality_labels").mkdir()
    with open(data / "multi_abnormality_labels" / "valid_predicted_labels.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["VolumeName", "Medical material", "Lung nodule", "Pleural effusion"])
        for name in names:
            w.writerow([name, 0, 1, 0])


def test_ct_rate_reports_without_masks(tmp_path):
    _ct_rate(tmp_path, ["valid_1_a_1.nii.gz", "valid_1_a_2.nii.gz", "valid_2_a_1.nii.gz"])
    assert detect_dataset(tmp_path, "ct_tumor") == "ct_rate"
    ds = load_dataset(tmp_path, "ct_tumor", cache_dir=tmp_path / "cache")
    assert [c.case_id for c in ds.cases] == ["valid_1_a_1", "valid_1_a_2", "valid_2_a_1"]
    case = ds.cases[0]
    assert case.label_path is None and not case.lesions
    assert case.meta["shape"] == [24, 20, 12] and case.meta["spacing_mm"] == [0.75, 0.75, 1.5]
    assert case.reference_report.startswith("FINDINGS: Trachea") and "IMPRESSION: Right upper lobe" in \
        case.reference_report
    assert case.meta["abnormality_labels"]["Lung nodule"] == 1
    assert case.meta["dicom_metadata"]["Manufacturer"] == "SIEMENS"
    with pytest.raises(HarnessError, match="no split 'dev'"):
        load_dataset(tmp_path, "ct_tumor", split="dev", cache_dir=tmp_path / "cache")


def test_mask_metrics_say_not_run_without_masks(tmp_path):
    from harness.registry import METRICS
    from harness.task import Answer, ScoredItem
    from tasks.ct_tumor.task import CTTumorTask

    _ct_rate(tmp_path, ["valid_1_a_1.nii.gz"])
    ds = load_dataset(tmp_path, "ct_tumor", cache_dir=tmp_path / "cache")
    items = [ScoredItem(case=c, answer=Answer(report=c.reference_report), predictions={}) for c in ds.cases]
    metric = METRICS.get("localization")()
    assert "no masks" in metric.unavailable(CTTumorTask(), items)


def test_ct_rate_missing_volume_names_the_row(tmp_path):
    _ct_rate(tmp_path, ["valid_1_a_1.nii.gz", "valid_2_a_1.nii.gz"], with_missing=True)
    with pytest.raises(DataError, match=r"validation_reports\.csv, row 3 \(line 4\): volume .*valid_9_a_1\.nii\.gz "
                                        r"not found"):
        load_dataset(tmp_path, "ct_tumor", cache_dir=tmp_path / "cache")
    ds = load_dataset(tmp_path, "ct_tumor", cache_dir=tmp_path / "cache", skip_bad=True)
    assert len(ds.cases) == 2 and ds.info["skipped"] == 1


def test_truncated_ct_rate_volume_header_is_named(tmp_path):
    _ct_rate(tmp_path, ["valid_1_a_1.nii.gz"])
    path = tmp_path / "dataset" / "valid_fixed" / "valid_1" / "valid_1_a" / "valid_1_a_1.nii.gz"
    path.write_bytes(gzip.compress(b"\x00" * 40))
    with pytest.raises(DataError, match=r"valid_1_a_1\.nii\.gz: cannot be read as NIfTI"):
        load_dataset(tmp_path, "ct_tumor", cache_dir=tmp_path / "cache")


def test_ct_rate_refuses_a_4d_volume_instead_of_reading_its_first_frame(tmp_path):
    _ct_rate(tmp_path, ["valid_1_a_1.nii.gz", "valid_2_a_1.nii.gz"])
    path = tmp_path / "dataset" / "valid_fixed" / "valid_1" / "valid_1_a" / "valid_1_a_1.nii.gz"
    _save(path, np.zeros((24, 20, 12, 3), np.int16), np.diag([-0.75, -0.75, 1.5, 1.0]))
    with pytest.raises(DataError, match=r"valid_1_a_1\.nii\.gz: expected a 3D volume, got shape \(24, 20, 12, 3\)"):
        load_dataset(tmp_path, "ct_tumor", cache_dir=tmp_path / "cache")
    ds = load_dataset(tmp_path, "ct_tumor", cache_dir=tmp_path / "cache", skip_bad=True)
    assert [c.case_id for c in ds.cases] == ["valid_2_a_1"] and ds.info["skipped"] == 1


def test_unknown_layout_and_wrong_task_are_explained(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(HarnessError, match="no known dataset layout"):
        load_dataset(tmp_path / "empty", "ct_tumor")
    _ct_rate(tmp_path, ["valid_1_a_1.nii.gz"])
    with pytest.raises(HarnessError, match="looks like ct_rate"):
        load_dataset(tmp_path, "cxr_report")
    with pytest.raises(HarnessError, match="unknown dataset 'ctrate'"):
        load_dataset(tmp_path, "ct_tumor", dataset="ctrate")


# -- the on-disk volume cache -------------------------------------------------------------------------------
def test_volume_cache_returns_the_pipelines_arrays_and_notices_edits(tmp_path):
    from harness.imaging import Window, load_volume
    from harness.loaders.volume_cache import VolumeCache

    p = make_phantom(5, PhantomConfig(shape=(48, 40, 24)))
    hu, lab, affine = to_lps(p)
    _save(tmp_path / "ct.nii.gz", hu, affine)
    _save(tmp_path / "lab.nii.gz", lab, affine)
    cache = VolumeCache(tmp_path / "cache")
    want = load_volume(tmp_path / "ct.nii.gz", tmp_path / "lab.nii.gz", Window(40, 400))
    first = cache.load(tmp_path / "ct.nii.gz", tmp_path / "lab.nii.gz", Window(40, 400))
    again = cache.load(tmp_path / "ct.nii.gz", tmp_path / "lab.nii.gz", Window(40, 400), mmap=True)
    for got in (first, again):
        assert np.array_equal(got.image, want.image) and np.array_equal(got.labels, want.labels)
        assert np.allclose(got.affine, want.affine) and got.spacing == pytest.approx(want.spacing)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    lung = cache.load(tmp_path / "ct.nii.gz", window=Window(-600, 1500))  # another window: another entry
    assert not np.array_equal(lung.image, want.image) and len(list((tmp_path / "cache").iterdir())) == 2
    _save(tmp_path / "ct.nii.gz", (hu + 100).astype(np.int16), affine)  # the file changed: not read stale
    os.utime(tmp_path / "ct.nii.gz", ns=(1, 1))
    edited = cache.load(tmp_path / "ct.nii.gz", tmp_path / "lab.nii.gz", Window(40, 400))
    assert not np.array_equal(edited.image, want.image)
    with pytest.raises(DataError, match="file not found"):
        cache.load(tmp_path / "missing.nii.gz")


def test_load_data_reads_a_made_set_or_a_dataset(msd_liver, tmp_path):
    """--data PATH for any task: a `harness data make` set by its manifest (same hash as the manifest reader),
    else a dataset on disk; --dataset forces the dataset reading."""
    from harness.loaders import load_data
    from harness.loaders.manifest import read_manifest
    from tasks.ct_tumor.task import CTTumorTask

    directory, data_hash, n = CTTumorTask().write_synthetic(tmp_path / "made", n_cases=3)
    made = load_data(directory, "ct_tumor")
    assert made.data_hash == data_hash == read_manifest(directory)[1] and len(made.cases) == n == 3
    assert made.cases == tuple(read_manifest(directory)[0])
    root, _ = msd_liver
    assert load_data(root, "ct_tumor", cache_dir=tmp_path / "cache").info["dataset"] == "msd"
    # `harness data make DIR` writes DIR/ct_tumor-test-<hash>/: --data DIR finds the one set inside
    assert load_data(tmp_path / "made", "ct_tumor").data_hash == data_hash
    CTTumorTask().write_synthetic(tmp_path / "made", n_cases=2)
    with pytest.raises(HarnessError, match="holds 2 sets"):
        load_data(tmp_path / "made", "ct_tumor")


def test_harness_run_on_a_real_layout_with_skip_bad_from_the_cli(msd_liver, tmp_path):
    """`harness run --data DIR --dataset msd --skip-bad`: the bad entry is counted in results, the rest scored,
    and the mask-based evidence metrics run on the masks."""
    from typer.testing import CliRunner

    from harness.cli import app

    src, _ = msd_liver
    root = tmp_path / "Task03_Liver"
    shutil.copytree(src, root)
    meta = json.loads((src / "dataset.json").read_text())
    meta["training"].append({"image": "./imagesTr/liver_7.nii.gz", "label": "./labelsTr/liver_7.nii.gz"})
    (root / "dataset.json").write_text(json.dumps(meta))
    args = ["run", "--model", "baseline:oracle", "--task", "ct_tumor", "--data", str(root), "--dataset", "msd",
            "--out", str(tmp_path / "run"), "--bootstrap", "20", "--cache-dir", str(tmp_path / "cache")]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "liver_7.nii.gz not found" in refused.output
    res = CliRunner().invoke(app, args + ["--skip-bad"])
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["data_info"]["skipped"] == 1 and results["n_cases"] == 3
    assert results["metrics"]["finding_f1"]["value"] == 1.0
    assert results["metrics"]["key_slice_hit"]["status"] == "ok"
