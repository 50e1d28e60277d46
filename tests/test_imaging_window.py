"""A display window is declared in the modality's own units (HU for CT, stored intensity, or percentiles of each
image), and a CT window in HU gives exactly the numbers it gave before units existed."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import HarnessError
from harness.imaging import WINDOW_UNITS, Window, apply_window


def _before_units(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """apply_window as it was when a window could only be HU."""
    low, high = center - width / 2, center + width / 2
    out = np.clip(hu, low, high, dtype=np.float32)
    out -= np.float32(low)
    out /= np.float32(width)
    return out


@pytest.mark.parametrize("center, width", [(40, 400), (-600, 1500), (70, 200), (40.3, 399.7)])
def test_an_hu_window_gives_the_numbers_of_before(center, width):
    hu = np.random.default_rng(0).normal(0, 600, size=(16, 16, 8)).astype(np.float32)
    assert np.array_equal(apply_window(hu, Window(center, width)), _before_units(hu, center, width))
    assert Window() == Window(40.0, 400.0, "HU")


def test_an_intensity_window_reads_the_stored_values_as_they_are():
    pixels = np.array([0, 64, 128, 192, 255], dtype=np.float32)
    assert apply_window(pixels, Window(128, 128, "intensity")).tolist() == [0, 0, 0.5, 1, 1]


def test_a_percentile_window_does_not_depend_on_the_scale_of_the_values():
    values = np.random.default_rng(1).gamma(2.0, 300.0, size=(32, 32)).astype(np.float64)
    window = Window(50, 98, "percentile")  # the 1st to the 99th percentile
    out = apply_window(values, window)
    assert out.min() == 0 and out.max() == 1
    assert np.mean(out == 0) == pytest.approx(0.01, abs=0.002) and np.mean(out == 1) == pytest.approx(0.01, abs=0.002)
    assert np.allclose(apply_window(values * 3 + 7, window), out, atol=1e-6)
    assert not apply_window(np.full((4, 4), 5.0), window).any()  # a constant image: no width, all 0


@pytest.mark.parametrize("kwargs, said", [({"unit": "Hounsfield"}, "not one of " + ", ".join(WINDOW_UNITS)),
                                          ({"width": 0}, "must be positive")])
def test_a_bad_window_is_refused(kwargs, said):
    with pytest.raises(HarnessError, match=said):
        Window(**kwargs)


def test_the_volume_cache_key_of_an_hu_window_is_the_key_of_before(tmp_path):
    from harness.loaders.base import file_stamp
    from harness.loaders.volume_cache import VERSION, VolumeCache
    from harness.schema import stable_hash

    image = tmp_path / "ct.nii.gz"
    image.write_bytes(b"x")
    cache = VolumeCache(tmp_path / "cache")
    assert cache.key(image, None, Window(40, 400), None) == stable_hash([VERSION, file_stamp(image), None, [40, 400],
                                                                         None])
    assert cache.key(image, None, Window(40, 400, "intensity"), None) != cache.key(image, None, Window(40, 400), None)
