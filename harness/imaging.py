"""Medical image I/O and view rendering: MONAI loads and orients, we only cut and draw slices.

Volumes come back in RAS array order (x to the patient's right, y anterior, z superior). Rendered slices use
the radiological convention: the patient's right on the image's left, anterior (axial) or superior
(coronal/sagittal) at the top.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.errors import DataError, HarnessError

#: the units a window is declared in: ``HU`` (CT Hounsfield units), ``intensity`` (the image's stored values as
#: they are: an MR's, a radiograph's pixel values) or ``percentile`` (of each image's own values, for a modality
#: with no absolute scale)
WINDOW_UNITS = ("HU", "intensity", "percentile")


@dataclass(frozen=True)
class Window:
    """Values from ``low`` to ``high`` map to 0..1 (clipped outside), in the modality's own ``unit`` (one of
    ``WINDOW_UNITS``). The default is CT's abdominal soft-tissue window in HU."""

    center: float = 40.0
    width: float = 400.0
    unit: str = "HU"

    def __post_init__(self) -> None:
        if self.unit not in WINDOW_UNITS:
            raise HarnessError(f"window unit '{self.unit}' is not one of {', '.join(WINDOW_UNITS)}")
        if not self.width > 0:
            raise HarnessError(f"window width must be positive, got {self.width}")

    @property
    def low(self) -> float:
        return self.center - self.width / 2

    @property
    def high(self) -> float:
        return self.center + self.width / 2

    def bounds(self, values: np.ndarray) -> tuple[float, float]:
        """(low, high) in the values' own units: a percentile window reads them off ``values``."""
        if self.unit != "percentile":
            return self.low, self.high
        low, high = np.percentile(values, [max(0.0, self.low), min(100.0, self.high)])
        return float(low), float(high)


@dataclass(frozen=True)
class Volume:
    image: np.ndarray  # float32 in [0, 1] after windowing, RAS array order (x, y, z)
    labels: np.ndarray | None  # int label map in the same grid, or None
    affine: np.ndarray  # voxel -> RAS mm
    spacing: tuple[float, float, float]
    path: str


def check_image_file(path: str | Path, what: str) -> Path:
    """``path``, refused with a one-line error naming the file and ``what`` it is (``image``, ``label``) when it is
    missing or an empty file (a folder, a DICOM series, passes)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found ({what})")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty ({what})")
    return path


def reader_for(path: str | Path) -> str | None:
    """MONAI's reader for a path. Naming it skips MONAI's try-every-reader probe, which is slower and, with
    pydicom installed, instantiates the GPU DICOM reader that warns on every CPU-only load."""
    name = str(path).lower()
    if name.endswith((".nii", ".nii.gz")):
        return "NibabelReader"
    if name.endswith(".dcm") or Path(path).is_dir():
        return "PydicomReader"
    return None


@contextmanager
def _quiet_monai_readers():
    """MONAI instantiates every reader it supports on each LoadImage; with pydicom installed, its GPU DICOM reader
    logs and warns that nvImageCodec is missing, which is expected on CPU and says nothing about our data."""
    logger = logging.getLogger("monai.data.nvimgcodec_pydicom_plugin")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*nvImageCodec.*")
            yield
    finally:
        logger.setLevel(level)


@lru_cache(maxsize=16)
def _pipeline(keys: tuple[str, ...], pixdim: tuple[float, float, float] | None, reader: str | None):
    # Imported here: MONAI pulls in torch (seconds), and `harness list` must stay instant.
    from monai.transforms import Compose, EnsureChannelFirstd, LoadImaged, Orientationd, Spacingd

    keys = list(keys)

    with _quiet_monai_readers():
        load = LoadImaged(keys=keys, image_only=False, reader=reader)
    steps = [load, EnsureChannelFirstd(keys=keys),
             Orientationd(keys=keys, axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S")))]
    if pixdim is not None:
        modes = ["bilinear" if k == "image" else "nearest" for k in keys]
        steps.append(Spacingd(keys=keys, pixdim=pixdim, mode=modes))
    return Compose(steps)


def apply_window(values: np.ndarray, window: Window) -> np.ndarray:
    """The image's values (in the window's unit) -> [0, 1] through the window. Done in numpy rather than MONAI's
    ScaleIntensityRange: on a MetaTensor that transform costs ~75 ms a volume (half of a load) for one clip and
    one scale."""
    low, high = window.bounds(values)
    width = window.width if window.unit != "percentile" else high - low
    out = np.clip(values, low, high, dtype=np.float32)
    out -= np.float32(low)
    if width > 0:  # a percentile window of a constant image has none: all 0
        out /= np.float32(width)
    return out


def load_volume(image_path: str | Path, label_path: str | Path | None = None, window: Window = Window(),
                pixdim: tuple[float, float, float] | None = None) -> Volume:
    """Load a NIfTI (or anything MONAI reads) as a windowed RAS volume; every failure names the file."""
    data = {"image": str(image_path)}
    if label_path is not None:
        data["label"] = str(label_path)
    for key, p in data.items():
        check_image_file(p, key)
    try:
        out = _pipeline(tuple(data), pixdim, reader_for(image_path))(data)
    except Exception as exc:  # MONAI wraps reader errors in RuntimeError chains; name the file instead
        raise DataError(f"{image_path}: cannot be read as a medical image ({_root_cause(exc)})") from None
    if out["image"].shape[0] != 1:  # MONAI reads a 4D file's frames as channels: refuse, never keep the first
        raise DataError(f"{image_path}: expected a 3D volume, got {out['image'].shape[0]} frames of "
                        f"{tuple(out['image'].shape[1:])}")
    values = np.asarray(out["image"])[0]  # in the modality's units (HU for CT)
    if values.size == 0:
        raise DataError(f"{image_path}: the image holds no voxels")
    if not np.isfinite(values).all():  # windowing would keep NaN; every downstream number would be meaningless
        raise DataError(f"{image_path}: {int((~np.isfinite(values)).sum())} voxels are NaN or infinite")
    image = apply_window(values, window)
    if image.ndim != 3 or min(image.shape) < 2:
        raise DataError(f"{image_path}: expected a 3D volume, got shape {tuple(image.shape)}")
    labels = None
    if "label" in out:
        labels = np.asarray(out["label"])[0]
        if labels.shape != image.shape:
            raise DataError(f"{label_path}: label map shape {labels.shape} differs from image {image.shape}")
        labels = np.rint(labels).astype(np.int32)
    affine = np.asarray(out["image"].affine, dtype=float)
    spacing = tuple(float(v) for v in np.linalg.norm(affine[:3, :3], axis=0))
    return Volume(image=image, labels=labels, affine=affine, spacing=spacing, path=str(image_path))


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def axial(volume: np.ndarray, z: int) -> np.ndarray:
    """(rows=anterior->posterior, cols=patient right->left)."""
    return volume[::-1, ::-1, z].T


def coronal(volume: np.ndarray, y: int) -> np.ndarray:
    """(rows=superior->inferior, cols=patient right->left)."""
    return volume[::-1, y, ::-1].T


def sagittal(volume: np.ndarray, x: int) -> np.ndarray:
    """(rows=superior->inferior, cols=anterior->posterior)."""
    return volume[x, ::-1, ::-1].T


def to_pil(plane: np.ndarray, size: int | None = None, aspect: float = 1.0):
    """A [0, 1] plane as an RGB PIL image (VLM processors expect RGB); ``aspect`` = row/col spacing ratio."""
    from PIL import Image

    img = Image.fromarray(np.clip(plane * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    if aspect != 1.0:
        img = img.resize((img.width, max(1, round(img.height * aspect))), Image.BILINEAR)
    if size is not None:
        scale = size / max(img.width, img.height)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BILINEAR)
    return img.convert("RGB")


@lru_cache(maxsize=4)
def _label_pipeline(reader: str | None):
    from monai.transforms import Compose, EnsureChannelFirst, LoadImage, Orientation

    with _quiet_monai_readers():
        load = LoadImage(image_only=True, reader=reader)
    return Compose([load, EnsureChannelFirst(), Orientation(axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S")))])


def read_labels(label_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A label map in RAS array order with its affine (no windowing, nearest-neighbour only), through MONAI,
    from the file; ``harness.loaders.volume_cache.load_labels`` reads it through the on-disk array cache."""
    path = Path(label_path)
    if not path.exists():
        raise DataError(f"{label_path}: file not found (label map)")
    try:
        img = _label_pipeline(reader_for(path))(str(path))
    except Exception as exc:
        raise DataError(f"{label_path}: cannot be read as a label map ({_root_cause(exc)})") from None
    return np.rint(np.asarray(img)[0]).astype(np.int32), np.asarray(img.affine, dtype=float)
