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
