"""Volumes per second loading 100 CT volumes of 256 x 256 x 128 through the MONAI pipeline (``load_volume``: read
NIfTI, orient to RAS, window), without and with the on-disk cache of the oriented, windowed arrays
(``harness.loaders.volume_cache.VolumeCache``: our own ``.npy`` cache, float32, bit-identical to the pipeline's
output; not MONAI's PersistentDataset, which pickles torch tensors). Also times rendering the ct_tumor global view
(34 images) from an array, the step that follows every load.

    python benchmarks/bench_ct_loading.py [--n 100] [--shape 256 256 128] [--workers 1] [--dir DIR]

The volumes are CT phantoms stored as gzip NIfTI in LPS order (as DICOM-derived files are), written once to
``DIR`` (default: the harness cache) and reused; the cache directory is emptied before each measurement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.imaging import Window, axial, coronal, load_volume, sagittal, to_pil  # noqa: E402
from harness.loaders.volume_cache import VolumeCache  # noqa: E402
from harness.paths import default_cache_dir  # noqa: E402


def write_volumes(directory: Path, n: int, shape: tuple[int, int, int]) -> list[Path]:
    import nibabel as nib

    from harness.phantoms.ct import PhantomConfig, make_phantom, to_lps

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = directory / f"ct_{i:03d}.nii.gz"
        if not path.exists():
            hu, _, affine = to_lps(make_phantom(10_000 + i, PhantomConfig(shape=shape)))
            tmp = directory / f".tmp_{i:03d}.nii.gz"
            nib.save(nib.Nifti1Image(hu, affine), str(tmp))
            tmp.replace(path)
        paths.append(path)
    return paths


def timed(load, paths: list[Path], workers: int) -> tuple[float, float]:
    """(seconds, checksum): every voxel is touched, so a lazy or memory-mapped load cannot look faster."""
    t0 = time.perf_counter()
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            sums = list(pool.map(lambda p: float(np.asarray(load(p).image).sum()), paths))
    else:
        sums = [float(np.asarray(load(p).image).sum()) for p in paths]
    return time.perf_counter() - t0, float(np.sum(sums))


def render_global_view(image: np.ndarray, n_axial: int = 32, size: int = 128) -> int:
    z = image.shape[2]
    images = [to_pil(axial(image, int((i + 0.5) * z / n_axial)), size) for i in range(n_axial)]
    images.append(to_pil(coronal(image, image.shape[1] // 2), size))
    images.append(to_pil(sagittal(image, image.shape[0] // 2), size))
    return len(images)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--shape", type=int, nargs=3, default=(256, 256, 128))
    ap.add_argument("--workers", type=int, default=1, help="threads loading in parallel")
    ap.add_argument("--dir", type=Path, default=None, help="where the volumes and the cache go")
    ns = ap.parse_args()
    shape = tuple(ns.shape)
    base = ns.dir or default_cache_dir() / "bench_ct_loading"
    t0 = time.perf_counter()
    paths = write_volumes(base / f"volumes-{'x'.join(map(str, shape))}", ns.n, shape)
    print(f"{ns.n} volumes {shape[0]}x{shape[1]}x{shape[2]} (int16, gzip NIfTI, LPS) ready in "
          f"{time.perf_counter() - t0:.1f} s; {sum(p.stat().st_size for p in paths) / 1e6:.0f} MB on disk")
    window = Window(40, 400)
    load_volume(paths[0], window=window)  # import MONAI and torch outside the timings

    plain_s, plain_sum = timed(lambda p: load_volume(p, window=window), paths, ns.workers)
    cache_root = base / "volume-cache"
    shutil.rmtree(cache_root, ignore_errors=True)
    cache = VolumeCache(cache_root)
    fill_s, fill_sum = timed(lambda p: cache.load(p, window=window), paths, ns.workers)
    warm_s, warm_sum = timed(lambda p: cache.load(p, window=window), paths, ns.workers)
    mmap_s, _ = timed(lambda p: cache.load(p, window=window, mmap=True), paths, ns.workers)
    assert plain_sum == fill_sum == warm_sum, "the cache must return the pipeline's arrays exactly"
    cached_mb = sum(f.stat().st_size for f in cache_root.rglob("*.npy")) / 1e6

    image = cache.load(paths[0], window=window).image
    t0 = time.perf_counter()
    for _ in range(10):
        render_global_view(np.asarray(image))
    render_s = (time.perf_counter() - t0) / 10

    print(f"workers={ns.workers}, cpu cores={os.cpu_count()}")
    print(f"MONAI pipeline, no cache      : {ns.n / plain_s:7.2f} volumes/s  ({plain_s / ns.n * 1000:7.1f} ms/volume)")
    print(f"  first pass, filling the cache: {ns.n / fill_s:7.2f} volumes/s  ({fill_s / ns.n * 1000:7.1f} ms/volume)")
    print(f"on-disk cache (.npy, read all) : {ns.n / warm_s:7.2f} volumes/s  ({warm_s / ns.n * 1000:7.1f} ms/volume)"
          f"  speed-up x{plain_s / warm_s:.1f}")
    print(f"on-disk cache (memory-mapped)  : {ns.n / mmap_s:7.2f} volumes/s  ({mmap_s / ns.n * 1000:7.1f} ms/volume)")
    print(f"cache size: {cached_mb:.0f} MB for {ns.n} volumes (float32, exact)")
    print(f"rendering the global view (34 images of 128 px) from an array: {render_s * 1000:.1f} ms/volume")


if __name__ == "__main__":
    main()
