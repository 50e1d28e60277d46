"""MIMIC-CXR-JPG (PhysioNet) with the MIMIC-CXR free-text reports: chest X-ray studies.

Files as published: ``mimic-cxr-2.0.0-split.csv.gz`` (``dicom_id, study_id, subject_id, split`` with splits
``train``/``validate``/``test``), ``mimic-cxr-2.0.0-metadata.csv.gz`` (``ViewPosition`` among others; optional),
``mimic-cxr-2.0.0-chexpert.csv.gz`` (``subject_id, study_id`` + 14 labels; optional), images at
``files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg``. The reports come from MIMIC-CXR (not -JPG): the text files
``files/pXX/pXXXXXXXX/sXXXXXXXX.txt`` under ``PATH``, under ``PATH/mimic-cxr-reports``, or inside
``PATH/mimic-cxr-reports.zip`` as PhysioNet ships it.

One case per study: its frontal image (PA before AP when the metadata says; a study the metadata does not list
gets its first image) and
the reference "FINDINGS: ... IMPRESSION: ..." from the report's sections; studies whose report has neither
section are left out and counted in ``info["ignored"]`` (common in MIMIC; the field's papers drop them too).
The CheXpert labels (1, 0, -1 uncertain, None unmentioned) go into ``meta["chexpert"]``.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.loaders.base import (BadRecords, Ignored, Loader, Record, TextSource, find_file, read_csv,
                                  reference_text, report_sections)
from harness.schema import Case

SPLIT_FILES = ("mimic-cxr-2.*-split.csv.gz", "mimic-cxr-2.*-split.csv")
METADATA_FILES = ("mimic-cxr-2.*-metadata.csv.gz", "mimic-cxr-2.*-metadata.csv")
CHEXPERT_FILES = ("mimic-cxr-2.*-chexpert.csv.gz", "mimic-cxr-2.*-chexpert.csv")
SPLITS = {"test": "test", "train": "train", "validate": "validate", "val": "validate", "validation": "validate"}
VIEW_ORDER = ("PA", "AP")
CHEXPERT_COLUMNS = ("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum",
                    "Fracture", "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other",
                    "Pneumonia", "Pneumothorax", "Support Devices")


def study_dir(subject_id: str, study_id: str) -> str:
    return f"files/p{subject_id[:2]}/p{subject_id}/s{study_id}"


def report_source(root: Path) -> TextSource | None:
    if (root / "files").is_dir() and any((root / "files").glob("p*/p*/s*.txt")):
        return TextSource(directory=root)
    if (root / "mimic-cxr-reports" / "files").is_dir():
        return TextSource(directory=root / "mimic-cxr-reports")
    if (root / "mimic-cxr-reports.zip").is_file():
        return TextSource(archive=root / "mimic-cxr-reports.zip")
    return None


def label_value(raw: str) -> float | None:
    return float(raw) if raw.strip() else None


class MIMICCXRLoader(Loader):
    name = "mimic_cxr"
    title = "MIMIC-CXR-JPG (split/metadata/chexpert CSVs, files/pXX/...) with the MIMIC-CXR reports"
    modality, record = "cxr", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and find_file(path, SPLIT_FILES) is not None

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        if split not in SPLITS:
            raise HarnessError(f"MIMIC-CXR has no split '{split}' (splits: train, validate, test)")
        want = SPLITS[split]
        split_csv = find_file(path, SPLIT_FILES)
        studies: dict[str, list[Record]] = {}
        for rec in read_csv(split_csv, ("dicom_id", "study_id", "subject_id", "split"), bad):
            if rec.get("split") != want:
                continue
            if not rec.get("dicom_id") or not rec.get("study_id").isdigit() or not rec.get("subject_id").isdigit():
                bad.fail(f"{rec.where()}: dicom_id, study_id and subject_id must be given (ids are digits)")
                continue
            studies.setdefault(rec.get("study_id"), []).append(rec)
        views = self._views(path, set(studies), bad)
        labels = self._labels(path, set(studies), bad)
        reports = report_source(path)
        if reports is None:
            raise DataError(f"{path}: no MIMIC-CXR reports (files/pXX/pXXXXXXXX/sXXXXXXXX.txt, mimic-cxr-reports/ or "
                            "mimic-cxr-reports.zip)")
        cases = bad.collect(self._case, ((path, study_id, recs, views, labels, reports)
                                         for study_id, recs in studies.items()), limit)
        return cases, {"split_file": split_csv.name, "views_from_metadata": bool(views),
                       "chexpert_labels": bool(labels)}

    def _views(self, root: Path, studies: set[str], bad: BadRecords) -> dict[str, str]:
        path = find_file(root, METADATA_FILES)
        if path is None:
            return {}
        return {rec.get("dicom_id"): rec.get("ViewPosition") for rec in read_csv(path, ("dicom_id", "study_id",
                                                                                            "ViewPosition"), bad)
                if rec.get("study_id") in studies}

    def _labels(self, root: Path, studies: set[str], bad: BadRecords) -> dict[str, dict[str, float | None]]:
        path = find_file(root, CHEXPERT_FILES)
        if path is None:
            return {}
        out = {}
        for rec in read_csv(path, ("subject_id", "study_id", *CHEXPERT_COLUMNS), bad):
            if rec.get("study_id") not in studies:
                continue
            try:
                out[rec.get("study_id")] = {c: label_value(rec.get(c)) for c in CHEXPERT_COLUMNS}
            except ValueError:
                bad.fail(f"{rec.where()}: a CheXpert label is not 1, 0, -1 or empty")
        return out

    def _case(self, root: Path, study_id: str, recs: list[Record], views: dict[str, str],
              labels: dict[str, dict], reports: TextSource) -> Case:
        first = recs[0]
        subject_id = first.get("subject_id")
        if any(r.get("dicom_id") in views for r in recs):  # the metadata knows this study's views
            ranked = sorted(recs, key=lambda r: VIEW_ORDER.index(views[r.get("dicom_id")])
                            if views.get(r.get("dicom_id")) in VIEW_ORDER else len(VIEW_ORDER))
            chosen = ranked[0]
            if views.get(chosen.get("dicom_id")) not in VIEW_ORDER:
                raise Ignored("no frontal (PA/AP) image")
        else:
            chosen = first
        folder = study_dir(subject_id, study_id)
        image = root / folder / f"{chosen.get('dicom_id')}.jpg"
        if not image.exists():
            raise DataError(f"{chosen.where()}: image {image} not found")
        text = reports.read(f"{folder}.txt")
        if text is None:
            raise DataError(f"{first.where()}: report {reports.describe(folder + '.txt')} not found")
        sections = report_sections(text)
        reference = reference_text(sections.get("FINDINGS", ""), sections.get("IMPRESSION", ""))
        if not reference:
            raise Ignored("report has no FINDINGS or IMPRESSION section")
        meta = {"study_id": study_id, "subject_id": subject_id, "dicom_id": chosen.get("dicom_id"),
                "view": views.get(chosen.get("dicom_id")), "findings_source": "reference_text"}
        if study_id in labels:
            meta["chexpert"] = labels[study_id]
        return Case(case_id=f"mimic-s{study_id}", task=self.task, image_path=str(image), label_path=None,
                    reference_report=reference, findings=(), meta=meta)
