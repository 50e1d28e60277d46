"""DICOM series folders, on the real CT slices pydicom ships (read from its package folder, never downloaded)."""

import csv
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from harness.errors import DataError
from harness.loaders import detect_dataset, load_dataset

pydicom = pytest.importorskip("pydicom")
from pydicom.data.data_manager import DATA_ROOT  # noqa: E402  (after the importorskip)

TEST_FILES = Path(DATA_ROOT) / "test_files"
SERIES = TEST_FILES / "dicomdirtests" / "98892001" / "CT5N"  # 5 axial CT slices, 2.5 mm apart
LOCALIZERS = TEST_FILES / "dicomdirtests" / "98892001" / "CT2N"  # two scout images of the same study
GAPPED = TEST_FILES / "dicomdirtests" / "77654033" / "CT2"  # 4 slices, one of them 200 mm away
SINGLE = TEST_FILES / "CT_small.dcm"


@pytest.fixture
def folder(tmp_path):
    if not SERIES.is_dir():
        pytest.skip("this pydicom does not ship the dicomdirtests CT series")
    root = tmp_path / "dicom"
    shutil.copytree(SERIES, root / "patient1" / "CT5N")
    shutil.copytree(LOCALIZERS, root / "patient1" / "scouts")
    return root


def test_a_series_becomes_one_ras_volume_in_hu(folder, tmp_path):
    assert detect_dataset(folder, "ct_tumor") == "dicom"
    ds = load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache")
    assert len(ds.cases) == 1 and ds.info["ignored"] == {"localizer series": 1}
    case = ds.cases[0]
    assert case.label_path is None and case.meta["shape"] == [16, 16, 5] and case.meta["n_slices"] == 5
    assert case.meta["spacing_mm"] == pytest.approx([0.4883, 0.4883, 2.5], abs=1e-3)
    img = nib.as_closest_canonical(nib.load(case.image_path))
    vol = np.asarray(img.dataobj)
    slices = sorted((pydicom.dcmread(str(f)) for f in (folder / "patient1" / "CT5N").iterdir()),
                    key=lambda d: float(d.ImagePositionPatient[2]))
    for k, ds_ in enumerate(slices):
        hu = ds_.pixel_array * float(ds_.RescaleSlope) + float(ds_.RescaleIntercept)
        # DICOM rows run anterior->posterior and columns right->left; RAS x runs left->right, y posterior->anterior
        assert np.array_equal(vol[::-1, ::-1, k].T, hu)
        world = img.affine @ np.array([15, 15, k, 1.0])  # RAS of the DICOM pixel (row 0, column 0)
        lps = np.array([float(v) for v in ds_.ImagePositionPatient])
        assert world[:3] == pytest.approx([-lps[0], -lps[1], lps[2]], abs=1e-3)


def test_dicom_cases_render_in_the_ct_task(folder, tmp_path):
    from tasks.ct_tumor.task import CTTumorTask

    (case,) = load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache").cases
    task = CTTumorTask()
    (req,) = task.requests(case, "report", {})
    assert len(req.load_images()) == 5 + 2  # every slice of a 5-slice series, and two reformats


def test_a_truncated_slice_names_its_file_and_skip_bad_drops_its_series(folder, tmp_path):
    second = folder / "patient2" / "CT5N"  # a second scan: the same slices under their own series UID
    second.mkdir(parents=True)
    for f in SERIES.iterdir():
        d = pydicom.dcmread(str(f))
        d.SeriesInstanceUID = d.SeriesInstanceUID + ".2"
        d.save_as(str(second / f.name))
    victim = sorted(second.iterdir())[2]
    blob = victim.read_bytes()
    victim.write_bytes(blob[: len(blob) - 300])  # pixel data cut short, as by an interrupted copy
    with pytest.raises(DataError, match=rf"{victim.name}: cannot read the image of this DICOM slice \(its pixel data "
                                        r"is cut short: 212 of 512 bytes \(a truncated file\?\)\)"):
        load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache")
    ds = load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache", skip_bad=True)
    assert len(ds.cases) == 1 and ds.info["skipped"] == 1
    assert str(victim) in ds.info["skipped_examples"][0]
    assert ds.cases[0].meta["series_dir"].endswith("patient1/CT5N")


def test_uneven_and_single_slice_series_are_refused(tmp_path):
    root = tmp_path / "d"
    shutil.copytree(GAPPED, root / "gapped")
    with pytest.raises(DataError, match=r"slice gap .* \(missing or extra slices\)"):
        load_dataset(root, "ct_tumor", cache_dir=tmp_path / "cache")
    shutil.rmtree(root / "gapped")
    (root / "single").mkdir()
    shutil.copy(SINGLE, root / "single" / "CT_small.dcm")
    with pytest.raises(DataError, match=r"CT_small\.dcm: the series has one slice"):
        load_dataset(root, "ct_tumor", cache_dir=tmp_path / "cache")


def test_a_garbage_file_named_dcm_is_a_bad_record(folder, tmp_path):
    (folder / "patient1" / "notes.dcm").write_bytes(b"this is not DICOM at all")
    with pytest.raises(DataError, match=r"notes\.dcm: not a readable DICOM file"):
        load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache")
    assert len(load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache", skip_bad=True).cases) == 1


def test_reports_csv_gives_the_reference(folder, tmp_path):
    uid = pydicom.dcmread(str(next(SERIES.iterdir()))).SeriesInstanceUID
    with open(folder / "reports.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SeriesInstanceUID", "report"])
        w.writerow([uid, "FINDINGS: No focal lesion in the liver. IMPRESSION: No evidence of tumor."])
    (case,) = load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache").cases
    assert case.reference_report.startswith("FINDINGS: No focal lesion") and case.meta["has_report"]


def test_renamed_dicomdir_index_files_are_recognised_by_content(folder, tmp_path):
    index = TEST_FILES / "dicomdirtests" / "DICOMDIR"
    shutil.copy(index, folder / "DICOMDIR.bak")
    shutil.copy(index, folder / "patient1" / "INDEX.dcm")
    ds = load_dataset(folder, "ct_tumor", cache_dir=tmp_path / "cache")  # strict: no bad record
    assert len(ds.cases) == 1 and ds.info["skipped"] == 0
    assert ds.info["ignored"] == {"DICOMDIR index file": 2, "localizer series": 1}
