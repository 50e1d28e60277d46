"""CT-RATE (chest CT volumes + radiology reports, Hugging Face ``ibrahimhamamci/CT-RATE``): CT studies.

Layout as published (``PATH`` is the repository top or its ``dataset/`` folder): volumes at
``{train,valid}[_fixed]/<split>_<patient>/<split>_<patient>_<scan>/<VolumeName>`` (the ``_fixed`` release, with
HU and spacing corrected, is preferred when both exist), reports in
``radiology_text_reports/{train,validation}_reports.csv`` (``VolumeName, ClinicalInformation_EN, Technique_EN,
Findings_EN, Impressions_EN``), optional ``metadata/{train,validation}_metadata.csv`` and
``multi_abnormality_labels/{train,valid}_predicted_labels.csv`` (``VolumeName`` + 18 labels, kept in the case).

CT-RATE has reports but no masks: cases have ``label_path=None``, the reference findings are read from the report
text by the metrics, and every mask-based metric says "not run: no masks". The split ``test`` (the default)
evaluates CT-RATE's ``valid`` set, the one its papers report on. Only the volumes' headers are read here.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Loader, Record, read_csv, reference_text
from harness.schema import Case

SPLITS = {"test": "valid", "valid": "valid", "validation": "valid", "val": "valid", "train": "train"}
REPORTS = {"valid": "validation_reports.csv", "train": "train_reports.csv"}
METADATA = {"valid": "validation_metadata.csv", "train": "train_metadata.csv"}
LABELS = {"valid": "valid_predicted_labels.csv", "train": "train_predicted_labels.csv"}
META_COLUMNS = ("XYSpacing", "ZSpacing", "RescaleSlope", "RescaleIntercept", "Manufacturer", "PatientSex",
                "PatientAge")


def dataset_root(path: Path) -> Path | None:
    for root in (path, path / "dataset"):
        if (root / "radiology_text_reports").is_dir() and any((root / "radiology_text_reports").glob("*reports.csv")):
            return root
    return None


def ras_shape(path: Path) -> tuple[list[int], list[float]]:
    """Shape and spacing of a NIfTI in RAS array order, from its header only."""
    import nibabel as nib
    from nibabel.orientations import io_orientation

    try:
        img = nib.load(str(path))
        shape = img.shape
        ornt = io_orientation(img.affine)
        zooms = img.header.get_zooms()[:3]
    except Exception as exc:  # nibabel raises several types on a broken header
        raise DataError(f"{path}: cannot be read as NIfTI ({type(exc).__name__}: {exc})") from None
    if len(shape) == 4 and shape[3] == 1:  # a 3D volume stored with one frame, as the mask loaders accept
        shape = shape[:3]
    if len(shape) != 3:  # a 4D series would silently be evaluated on its first frame
        raise DataError(f"{path}: expected a 3D volume, got shape {img.shape}")
    out_shape, out_zoom = [0, 0, 0], [0.0, 0.0, 0.0]
    for src, (dst, _) in enumerate(ornt):
        out_shape[int(dst)] = int(shape[src])
        out_zoom[int(dst)] = round(float(zooms[src]), 4)
    return out_shape, out_zoom


class CTRateLoader(Loader):
    name = "ct_rate"
    title = "CT-RATE (volumes + radiology_text_reports/*.csv)"
    modality, record = "ct", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and dataset_root(path) is not None

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        if split not in SPLITS:
            raise HarnessError(f"CT-RATE has no split '{split}' (splits: test (= valid), valid, train)")
        root = dataset_root(path)
        part = SPLITS[split]
        volumes = next((root / d for d in (f"{part}_fixed", part) if (root / d).is_dir()), None)
        if volumes is None:
            raise DataError(f"{root}: no {part}_fixed/ or {part}/ folder of volumes")
        meta_rows = self._by_volume(root / "metadata" / METADATA[part], bad)
        label_rows = self._by_volume(root / "multi_abnormality_labels" / LABELS[part], bad)
        reports = root / "radiology_text_reports" / REPORTS[part]
        columns = ("VolumeName", "Findings_EN", "Impressions_EN")
        cases = bad.collect(self._case, ((volumes, rec, meta_rows, label_rows)
                                         for rec in read_csv(reports, columns, bad)), limit)
        return cases, {"volumes": volumes.name, "split_note": f"split '{split}' = CT-RATE '{part}'",
                       "masks": "none (mask-based metrics do not run)"}

    @staticmethod
    def _by_volume(path: Path, bad: BadRecords) -> dict[str, Record]:
        if not path.exists():
            return {}
        return {rec.get("VolumeName"): rec for rec in read_csv(path, ("VolumeName",), bad)}

    def _case(self, volumes: Path, rec: Record, meta_rows: dict[str, Record],
              label_rows: dict[str, Record]) -> Case:
        name = rec.require("VolumeName")
        stem = name.removesuffix(".gz").removesuffix(".nii")
        pieces = stem.split("_")
        if len(pieces) < 4 or not name.endswith((".nii.gz", ".nii")):
            raise DataError(f"{rec.where()}: VolumeName {name!r} is not <split>_<patient>_<scan>_<n>.nii.gz")
        image = volumes / "_".join(pieces[:2]) / "_".join(pieces[:3]) / name
        if not image.exists():
            raise DataError(f"{rec.where()}: volume {image} not found")
        shape, spacing = ras_shape(image)
        reference = reference_text(rec.get("Findings_EN"), rec.get("Impressions_EN"))
        meta = {"shape": shape, "spacing_mm": spacing, "volume_name": name, "findings_source": "reference_text",
                "clinical_information": rec.get("ClinicalInformation_EN"), "technique": rec.get("Technique_EN")}
        if name in meta_rows:
            meta["dicom_metadata"] = {c: meta_rows[name].get(c) for c in META_COLUMNS if c in meta_rows[name].values}
        if name in label_rows:
            lab = label_rows[name]
            try:
                meta["abnormality_labels"] = {k: int(float(v)) for k, v in lab.values.items()
                                              if k != "VolumeName" and v.strip()}
            except ValueError:
                raise DataError(f"{lab.where()}: an abnormality label is not 0 or 1") from None
        return Case(case_id=stem, task=self.task, image_path=str(image), label_path=None,
                    reference_report=reference, findings=(), lesions=(), meta=meta)

