"""An on-disk cache of CT volumes after the MONAI pipeline: oriented to RAS and windowed, as ``load_volume`` returns
them, stored as plain ``.npy`` (float32, bit-identical) with the affine beside.

Reading a compressed NIfTI means gunzip, reorientation and windowing on every load; a run that renders the same
volumes again (a rerun, a second model, the evidence steps' extra views) reads the arrays straight back instead.
Entries are keyed by the file's path, size and mtime and by the window and resampling, so an edited file or a new
window never reads a stale array. ``benchmarks/bench_ct_loading.py`` measures both paths. Label maps have a cache
of their own (``LabelCache``; ``load_labels`` reads through it), whose hit imports neither MONAI nor torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.fileio import atomic_directory
from harness.imaging import Volume, Window, load_volume, read_labels
from harness.loaders.base import file_stamp
from harness.paths import default_cache_dir
from harness.schema import stable_hash

VERSION = "volume-cache/1"
LABELS_VERSION = "label-cache/1"


class VolumeCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def key(self, image_path: str | Path, label_path: str | Path | None, window: Window,
            pixdim: tuple[float, float, float] | None) -> str:
        return stable_hash([VERSION, file_stamp(Path(image_path)),
                            file_stamp(Path(label_path)) if label_path is not None else None,
                            [window.center, window.width] + ([window.unit] if window.unit != "HU" else []),
                            list(pixdim) if pixdim else None])  # an HU window keeps its key of before units

    def load(self, image_path: str | Path, label_path: str | Path | None = None, window: Window = Window(),
             pixdim: tuple[float, float, float] | None = None, mmap: bool = False) -> Volume:
        """``load_volume``'s result, from the cache when there (``mmap``: arrays memory-mapped, read on use)."""
        for p in (image_path, label_path):
            if p is not None and not Path(p).exists():
                return load_volume(image_path, label_path, window, pixdim)  # raises the usual DataError
        entry = self.root / self.key(image_path, label_path, window, pixdim)
        meta_path = entry / "meta.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            mode = "r" if mmap else None
            image = np.load(entry / "image.npy", mmap_mode=mode)
            labels = np.load(entry / "labels.npy", mmap_mode=mode) if meta["labels"] else None
            return Volume(image=image, labels=labels, affine=np.asarray(meta["affine"]),
                          spacing=tuple(meta["spacing"]), path=str(image_path))
        vol = load_volume(image_path, label_path, window, pixdim)
        self._store(entry, vol)
        return vol

    def _store(self, entry: Path, vol: Volume) -> None:
        with atomic_directory(entry) as tmp:
            np.save(tmp / "image.npy", np.ascontiguousarray(vol.image, dtype=np.float32))
            if vol.labels is not None:
                np.save(tmp / "labels.npy", np.ascontiguousarray(vol.labels))
            (tmp / "meta.json").write_text(json.dumps({"affine": np.asarray(vol.affine).tolist(),
                                                       "spacing": list(vol.spacing),
                                                       "labels": vol.labels is not None}))


class LabelCache:
    """Label maps as ``read_labels`` returns them (RAS, int32, with the affine), stored once as ``.npy``; keyed by
    the file's path, size and mtime like the volumes. A hit imports neither MONAI nor torch."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir() / "labels"

    def load(self, label_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
        if not Path(label_path).exists():
            return read_labels(label_path)  # raises the usual DataError
        entry = self.root / stable_hash([LABELS_VERSION, file_stamp(Path(label_path))])
        if (entry / "affine.npy").exists():
            return np.load(entry / "labels.npy"), np.load(entry / "affine.npy")
        labels, affine = read_labels(label_path)
        with atomic_directory(entry) as tmp:
            np.save(tmp / "labels.npy", np.ascontiguousarray(labels))
            np.save(tmp / "affine.npy", np.asarray(affine, dtype=float))  # written last: its presence marks a hit
        return labels, affine


def load_labels(label_path: str | Path, cache_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A label map in RAS array order with its affine (no windowing, nearest-neighbour only).

    Read through the on-disk array cache: a rerun or ``harness score`` then neither reads the NIfTI nor imports
    MONAI (and torch), which is most of their time."""
    return LabelCache(cache_dir).load(label_path)
