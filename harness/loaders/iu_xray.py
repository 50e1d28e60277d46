"""IU-Xray (Indiana University chest X-rays, OpenI): chest X-ray studies, in either published layout.

- The R2Gen layout (``iu_xray/annotation.json`` + ``iu_xray/images/``): ``{"train": [...], "val": [...],
  "test": [...]}``, each entry ``{"id", "report", "image_path": ["CXR2384_IM-0942/0.png", ".../1.png"],
  "split"}``; the first image is the frontal view. Splits ``train``/``val``/``test``.
- The OpenI CSV layout (as on Kaggle): ``indiana_reports.csv`` (``uid, MeSH, Problems, image, indication,
  comparison, findings, impression``) + ``indiana_projections.csv`` (``uid, filename, projection``) + the PNGs
  under ``images/images_normalized/`` (or ``images/``). It has no split: every split name gives all cases.
  Studies with neither findings nor impression, or without a frontal projection, are left out and counted.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Ignored, Loader, Record, read_csv, reference_text
from harness.schema import Case

R2GEN_SPLITS = {"test": "test", "train": "train", "val": "val", "validate": "val", "validation": "val"}
IMAGE_DIRS = ("images/images_normalized", "images", "images_normalized", ".")


def _layout(path: Path) -> str | None:
    if not path.is_dir():
        return None
    if (path / "indiana_reports.csv").is_file() and (path / "indiana_projections.csv").is_file():
        return "openi_csv"
    ann = path / "annotation.json"
    if ann.is_file() and (path / "images").is_dir():
        try:
            with open(ann) as fh:
                head = fh.read(4096)
        except OSError:
            return None
        if '"image_path"' in head and ("CXR" in head or '"report"' in head):
            return "r2gen"
    return None


class IUXrayLoader(Loader):
    name = "iu_xray"
    title = "IU-Xray / OpenI chest X-rays (R2Gen annotation.json, or indiana_reports.csv + indiana_projections.csv)"
    modality, record = "cxr", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return _layout(path) is not None

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        layout = _layout(path)
        if layout == "r2gen":
            cases = self._r2gen(path, split, bad, limit)
        elif layout == "openi_csv":
            cases = self._openi(path, bad, limit)
        else:
            raise DataError(f"{path}: neither annotation.json + images/ nor indiana_reports.csv + "
                            "indiana_projections.csv")
        info = {"layout": layout}
        if layout == "openi_csv":
            info["split_note"] = "the OpenI CSVs have no split: all studies are evaluated"
        return cases, info

    # -- R2Gen --------------------------------------------------------------------------------------------
    def _r2gen(self, root: Path, split: str, bad: BadRecords, limit: int | None) -> list[Case]:
        ann = root / "annotation.json"
        try:
            data = json.loads(ann.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"{ann}: not valid JSON ({exc})") from None
        key = R2GEN_SPLITS.get(split)
        if key is None or not isinstance(data, dict) or key not in data:
            names = ", ".join(data) if isinstance(data, dict) else "none"
            raise HarnessError(f"{ann}: no split '{split}' (splits: {names})")
        return bad.collect(self._r2gen_case, ((root, ann, key, i, entry) for i, entry in enumerate(data[key], 1)),
                           limit)

    def _r2gen_case(self, root: Path, ann: Path, key: str, i: int, entry) -> Case:
        where = f"{ann}, {key} entry {i}"
        if not isinstance(entry, dict) or not entry.get("id") or not isinstance(entry.get("image_path"), list) \
                or not entry["image_path"]:
            raise DataError(f"{where}: expected {{'id', 'report', 'image_path': [...]}}, got {str(entry)[:80]}")
        report = " ".join(str(entry.get("report") or "").split())
        if not report:
            raise Ignored("empty report")
        image = root / "images" / entry["image_path"][0]
        if not image.exists():
            raise DataError(f"{where}: image {image} not found")
        return Case(case_id=f"iu-{entry['id']}", task=self.task, image_path=str(image), label_path=None,
                    reference_report=reference_text(report, ""), findings=(),
                    meta={"uid": entry["id"], "images": entry["image_path"], "findings_source": "reference_text"})

    # -- OpenI CSVs ---------------------------------------------------------------------------------------
    def _openi(self, root: Path, bad: BadRecords, limit: int | None) -> list[Case]:
        image_dir = next((root / d for d in IMAGE_DIRS if (root / d).is_dir() and any((root / d).glob("*.png"))),
                         None)
        if image_dir is None:
            raise DataError(f"{root}: no PNG images under images/images_normalized/ or images/")
        frontal: dict[str, Record] = {}
        for rec in read_csv(root / "indiana_projections.csv", ("uid", "filename", "projection"), bad):
            if rec.get("projection").lower() == "frontal":
                frontal.setdefault(rec.get("uid"), rec)
        records = read_csv(root / "indiana_reports.csv", ("uid", "findings", "impression"), bad)
        return bad.collect(self._openi_case, ((image_dir, rec, frontal) for rec in records), limit)

    def _openi_case(self, image_dir: Path, rec: Record, frontal: dict[str, Record]) -> Case:
        uid = rec.require("uid")
        reference = reference_text(rec.get("findings"), rec.get("impression"))
        if not reference:
            raise Ignored("neither findings nor impression")
        proj = frontal.get(uid)
        if proj is None:
            raise Ignored("no frontal projection")
        image = image_dir / proj.require("filename")
        if not image.exists():
            raise DataError(f"{proj.where()}: image {image} not found")
        return Case(case_id=f"iu-{uid}", task=self.task, image_path=str(image), label_path=None,
                    reference_report=reference, findings=(),
                    meta={"uid": uid, "mesh": rec.get("MeSH"), "indication": rec.get("indication"),
                          "findings_source": "reference_text"})
