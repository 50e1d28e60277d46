"""A folder of DICOM CT series (any depth, any file names): one case per series, read with pydicom.

Files are grouped by ``SeriesInstanceUID``; localizers (``ImageType`` LOCALIZER) and non-CT series are left out
and counted in ``info["ignored"]``. A series' slices are ordered along the normal of ``ImageOrientationPatient``
by ``ImagePositionPatient``, rescaled to HU (``RescaleSlope``/``RescaleIntercept``), checked to be evenly spaced
with one orientation and one matrix size, and written once to the cache as NIfTI (RAS affine from the DICOM LPS
geometry), which the task reads like any other volume. A truncated or unreadable file is a bad record naming the
file; in skip-bad mode its whole series is skipped (a volume with a missing slice would have wrong geometry).

Reports are optional: ``reports.csv`` next to the series (columns ``SeriesInstanceUID`` or ``series`` (a folder
name), and ``report``). Without one, a case has an empty reference report and no findings: the model still runs,
and every reference-based metric is as meaningless as it is for any unlabelled scan.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import DataError
from harness.loaders.base import BadRecords, Ignored, Loader, file_stamp, read_csv
from harness.schema import Case, stable_hash

VERSION = "dicom-series/1"
#: Media Storage Directory Storage: the SOP class of a DICOMDIR index, whatever the file is called
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
#: relative deviation of a slice gap from the median gap that still counts as evenly spaced
SPACING_TOLERANCE = 0.05
REPORTS = "reports.csv"


def _is_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM" or path.suffix.lower() == ".dcm"


def dicom_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "DICOMDIR" and _is_dicom(p))


@dataclass
class Slice:
    path: Path
    position: np.ndarray
    orientation: np.ndarray
    spacing: tuple[float, float]
    shape: tuple[int, int]


def _is_index(ds) -> bool:
    sop_class = str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "") or "")
    return sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds


def _pixel_error(exc: Exception) -> str:
    """pydicom's reason a slice's pixels cannot be read, whole (a cut sentence reads as a different claim)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    short = re.search(r"pixel data is less than expected \((\d+) vs (\d+) bytes\)", text)
    if short:
        return f"its pixel data is cut short: {short.group(1)} of {short.group(2)} bytes (a truncated file?)"
    return f"{type(exc).__name__}: {text}"


def _header(path: Path):
    import pydicom

    try:
        return pydicom.dcmread(str(path), stop_before_pixels=True)
    except Exception as exc:  # pydicom raises InvalidDicomError, EOFError, struct errors... on broken files
        raise DataError(f"{path}: not a readable DICOM file ({type(exc).__name__}: {exc})") from None


class DicomSeriesLoader(Loader):
    name = "dicom"
    title = "DICOM CT series in a folder (pydicom), one case per SeriesInstanceUID"
    modality, record = "ct", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        if not path.is_dir():
            return False
        for i, p in enumerate(path.rglob("*")):
            if i > 2000:
                return False
            if p.is_file() and _is_dicom(p):
                return True
        return False

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        series: dict[str, list[tuple[Path, object]]] = {}
        for f in dicom_files(path):
            ds = bad.attempt(_header, f)
            if ds is None:
                continue
            if _is_index(ds):  # a DICOMDIR copied or renamed (DICOMDIR.bak, INDEX) lists files; it is no slice
                bad.ignore("DICOMDIR index file")
                continue
            uid = str(getattr(ds, "SeriesInstanceUID", "") or "")
            if not uid:
                bad.fail(f"{f}: no SeriesInstanceUID")
                continue
            series.setdefault(uid, []).append((f, ds))
        reports = self._reports(path, bad)
        cases = bad.collect(self._case, ((path, uid, files, reports, cache_dir / "dicom")
                                         for uid, files in sorted(series.items(), key=lambda kv: str(kv[1][0][0]))),
                            limit)
        return cases, {"n_series": len(series), "reports": REPORTS if reports else None}

    def _reports(self, root: Path, bad: BadRecords) -> dict[str, str]:
        path = root / REPORTS
        if not path.exists():
            return {}
        out = {}
        for rec in read_csv(path, ["report"], bad):
            key = rec.get("SeriesInstanceUID") or rec.get("series")
            if not key:
                bad.fail(f"{rec.where()}: neither 'SeriesInstanceUID' nor 'series' is given")
                continue
            out[key] = rec.get("report")
        return out

    def _case(self, root: Path, uid: str, files, reports: dict[str, str], cache_dir: Path) -> Case:
        first = files[0][1]
        if str(getattr(first, "Modality", "")) != "CT":
            raise Ignored(f"not CT ({getattr(first, 'Modality', 'no modality')})")
        if any("LOCALIZER" in [str(v).upper() for v in getattr(ds, "ImageType", [])] for _, ds in files):
            raise Ignored("localizer series")
        folder = files[0][0].parent
        image = convert_series(uid, [f for f, _ in files], cache_dir)
        report = reports.get(uid, reports.get(str(folder.relative_to(root)) if folder != root else "", ""))
        import nibabel as nib

        shape = [int(s) for s in nib.load(str(image)).shape[:3]]
        zooms = [round(float(z), 4) for z in nib.load(str(image)).header.get_zooms()[:3]]
        return Case(case_id=f"{folder.name}-{uid[-12:]}" if folder != root else uid[-24:], task=self.task,
                    image_path=str(image), label_path=None, reference_report=report, findings=(),
                    meta={"shape": shape, "spacing_mm": zooms, "series_uid": uid, "series_dir": str(folder),
                          "n_slices": len(files), "has_report": bool(report), "findings_source": "none"})


def convert_series(uid: str, files: list[Path], cache_dir: Path) -> Path:
    """The series as a RAS NIfTI in the cache (converted once; keyed by the files' sizes and mtimes)."""
    key = stable_hash([VERSION, uid, [file_stamp(f) for f in sorted(files)]])
    target = cache_dir / f"{key}.nii.gz"
    if target.exists():
        return target
    volume, affine = read_series(files)
    import nibabel as nib

    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".building-", suffix=".nii.gz", dir=cache_dir)
    os.close(fd)
    try:
        img = nib.Nifti1Image(volume, affine)
        img.header.set_xyzt_units("mm")
        nib.save(img, tmp)
        shutil.move(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def read_series(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """(HU volume in (column, row, slice) order, RAS affine) of one series' slice files."""
    import pydicom

    slices, pixels = [], {}
    for f in files:
        try:
            ds = pydicom.dcmread(str(f))
            arr = ds.pixel_array
        except Exception as exc:  # truncated pixel data raises ValueError; broken headers many others
            raise DataError(f"{f}: cannot read the image of this DICOM slice ({_pixel_error(exc)})") from None
        try:
            pos = np.array([float(v) for v in ds.ImagePositionPatient])
            ori = np.array([float(v) for v in ds.ImageOrientationPatient])
            spacing = tuple(float(v) for v in ds.PixelSpacing)
        except (AttributeError, TypeError, ValueError) as exc:
            raise DataError(f"{f}: missing or malformed ImagePositionPatient/ImageOrientationPatient/PixelSpacing "
                            f"({exc})") from None
        if arr.ndim != 2:
            raise DataError(f"{f}: {arr.ndim}-D pixel data (multi-frame DICOM is not read; export single frames)")
        slope = float(getattr(ds, "RescaleSlope", 1) or 1)
        intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
        pixels[f] = arr.astype(np.float32) * slope + intercept
        slices.append(Slice(f, pos, ori, spacing, tuple(arr.shape)))
    first = slices[0]
    for s in slices[1:]:
        if not np.allclose(s.orientation, first.orientation, atol=1e-3):
            raise DataError(f"{s.path}: orientation differs from {first.path} within one series")
        if s.shape != first.shape or not np.allclose(s.spacing, first.spacing, rtol=1e-3):
            raise DataError(f"{s.path}: matrix {s.shape} / pixel spacing {s.spacing} differs from {first.path}")
    if len(slices) < 2:
        raise DataError(f"{first.path}: the series has one slice; a volume needs at least two")
    row_dir, col_dir = first.orientation[:3], first.orientation[3:]
    normal = np.cross(row_dir, col_dir)
    slices.sort(key=lambda s: float(s.position @ normal))
    offsets = np.array([float(s.position @ normal) for s in slices])
    gaps = np.diff(offsets)
    median = float(np.median(gaps))
    if median <= 0:
        dup = next(s for s, g in zip(slices[1:], gaps) if g <= 0)
        raise DataError(f"{dup.path}: two slices of the series share a position")
    uneven = np.abs(gaps - median) > SPACING_TOLERANCE * median
    if uneven.any():
        i = int(np.argmax(uneven))
        raise DataError(f"{slices[i + 1].path}: slice gap {gaps[i]:.2f} mm where the series' gap is {median:.2f} mm "
                        "(missing or extra slices)")
    dr, dc = first.spacing  # PixelSpacing: between rows, between columns
    lps = np.eye(4)
    lps[:3, 0] = row_dir * dc  # the column index runs along the row direction cosine
    lps[:3, 1] = col_dir * dr
    lps[:3, 2] = (slices[-1].position - slices[0].position) / (len(slices) - 1)
    lps[:3, 3] = slices[0].position
    volume = np.stack([pixels[s.path].T for s in slices], axis=-1)
    volume = np.rint(volume).astype(np.int16) if np.abs(volume).max() < 32767 else volume
    return volume, np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
