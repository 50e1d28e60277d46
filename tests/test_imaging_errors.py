import gzip

import nibabel as nib
import numpy as np
import pytest

from harness.errors import DataError
from harness.imaging import load_volume


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(DataError, match="nope.nii.gz: file not found"):
        load_volume(tmp_path / "nope.nii.gz")


def test_empty_file_names_the_file(tmp_path):
    (tmp_path / "empty.nii.gz").write_bytes(b"")
    with pytest.raises(DataError, match="empty.nii.gz: file is empty"):
        load_volume(tmp_path / "empty.nii.gz")


def test_corrupt_nifti_names_the_file(tmp_path):
    path = tmp_path / "bad.nii.gz"
    path.write_bytes(gzip.compress(b"this is not a nifti header" * 20))
    with pytest.raises(DataError, match="bad.nii.gz: cannot be read"):
        load_volume(path)


def test_truncated_nifti_names_the_file(tmp_path):
    good = tmp_path / "good.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 8), np.int16), np.eye(4)), good)
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(good.read_bytes()[:60])
    with pytest.raises(DataError, match="cut.nii.gz"):
        load_volume(cut)


def test_nan_voxels_are_refused(tmp_path):
    arr = np.zeros((16, 16, 8), np.float32)
    arr[3, 4, 5] = np.nan
    path = tmp_path / "nan.nii.gz"
    nib.save(nib.Nifti1Image(arr, np.eye(4)), path)
    with pytest.raises(DataError, match="nan.nii.gz: 1 voxels are NaN"):
        load_volume(path)


def test_4d_nifti_is_refused_not_read_as_its_first_frame(tmp_path):
    path = tmp_path / "series.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((10, 11, 12, 2), np.float32), np.eye(4)), path)
    with pytest.raises(DataError, match=r"series\.nii\.gz: expected a 3D volume, got 2 frames"):
        load_volume(path)
    nib.save(nib.Nifti1Image(np.zeros((10, 11, 12, 1), np.float32), np.eye(4)), path)
    assert load_volume(path).image.shape == (10, 11, 12)  # one frame is a 3D volume


def test_label_maps_come_from_the_array_cache_after_the_first_read(tmp_path, monkeypatch):
    """A rerun or `harness score` reads label maps from the cache, never through MONAI (seconds of import)."""
    import harness.loaders.volume_cache as volume_cache
    from harness.imaging import read_labels
    from harness.loaders.volume_cache import load_labels

    path = tmp_path / "labels.nii.gz"
    nib.save(nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), np.diag([-1.0, -1, 1, 1])), path)
    first = load_labels(path, cache_dir=tmp_path / "cache")

    def no_monai(label_path):
        raise AssertionError("read through MONAI although the cache holds it")

    monkeypatch.setattr(volume_cache, "read_labels", no_monai)
    labels, affine = load_labels(path, cache_dir=tmp_path / "cache")
    assert np.array_equal(labels, first[0]) and np.array_equal(affine, first[1])
    assert np.array_equal(labels, read_labels(path)[0]) and labels.dtype == np.int32
