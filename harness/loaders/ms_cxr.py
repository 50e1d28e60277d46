"""MS-CXR (PhysioNet): phrase boxes on MIMIC-CXR-JPG images (``phrase_boxes`` records).

``MS_CXR_Local_Alignment_v1.1.0.csv`` (or v1.0.0), one row per box, columns ``dicom_id, category_name,
label_text, path, x, y, w, h, image_width, image_height`` (+ ``split`` from v1.1.0). ``path`` is relative to the
MIMIC-CXR-JPG top folder (``files/p1X/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg``); the images are looked up under
``PATH/<path>``, ``PATH/mimic-cxr-jpg/<path>`` and ``PATH/../<path>`` (link or copy MIMIC-CXR-JPG's ``files``
there). Rows of one (image, phrase) form one case with all its boxes; boxes are pixels of the original image
(``x, y`` the top-left corner, ``w, h`` the size). v1.1.0's splits are ``train``/``val``/``test``; v1.0.0 has none,
and every split name then gives all cases.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Loader, Record, read_csv
from harness.schema import Case, Finding

PATTERNS = ("MS_CXR_Local_Alignment_v*.csv", "MS_CXR_Local_Alignment*.csv")
COLUMNS = ("dicom_id", "category_name", "label_text", "path", "x", "y", "w", "h", "image_width", "image_height")
SPLITS = {"test": "test", "train": "train", "val": "val", "validate": "val", "validation": "val"}
#: MS-CXR categories -> (observation, anatomy) in the findings model
CATEGORIES = {"atelectasis": ("atelectasis", "lung"), "cardiomegaly": ("cardiomegaly", "heart"),
              "consolidation": ("consolidation", "lung"), "edema": ("edema", "lung"),
              "lung opacity": ("opacity", "lung"), "pleural effusion": ("pleural effusion", "pleura"),
              "pneumonia": ("pneumonia", "lung"), "pneumothorax": ("pneumothorax", "pleura")}
#: a box may overhang the image edge by this many pixels (annotation tools round outward)
EDGE_SLACK_PX = 2.0


def _index(path: Path) -> Path | None:
    if path.is_file():
        return path if path.name.startswith("MS_CXR_Local_Alignment") and path.suffix == ".csv" else None
    for pattern in PATTERNS:
        hits = sorted(path.glob(pattern), reverse=True)  # newest version first
        if hits:
            return hits[0]
    return None


class MSCXRLoader(Loader):
    name = "ms_cxr"
    title = "MS-CXR phrase grounding boxes (MS_CXR_Local_Alignment_v1.x.csv) on MIMIC-CXR-JPG images"
    modality, record = "cxr", "phrase_boxes"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return _index(path) is not None

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        index = _index(path)
        if index is None:
            raise DataError(f"{path}: no MS_CXR_Local_Alignment_v*.csv")
        root = index.parent
        groups: dict[tuple[str, str], list[Record]] = {}
        has_split = None
        for rec in read_csv(index, COLUMNS, bad):
            if has_split is None:
                has_split = "split" in rec.values
            if has_split:
                want = SPLITS.get(split)
                if want is None:
                    raise HarnessError(f"{index}: no split '{split}' (splits: test, train, val)")
                if rec.get("split") != want:
                    continue
            groups.setdefault((rec.get("dicom_id"), rec.get("label_text")), []).append(rec)
        cases = bad.collect(self._case, ((root, k, recs) for k, recs in enumerate(groups.values())), limit)
        return cases, {"index": str(index), "split_column": bool(has_split)}

    def _case(self, root: Path, k: int, recs: list[Record]) -> Case:
        first = recs[0]
        dicom_id, phrase, category = first.require("dicom_id"), first.require("label_text"), first.require(
            "category_name")
        rel = first.require("path")
        image = next((p for p in (root / rel, root / "mimic-cxr-jpg" / rel, root.parent / rel) if p.exists()), None)
        if image is None:
            raise DataError(f"{first.where()}: image {root / rel} not found (link MIMIC-CXR-JPG's files/ there)")
        width, height = first.number("image_width"), first.number("image_height")
        if width <= 0 or height <= 0:
            raise DataError(f"{first.where()}: image size {width:g} x {height:g} is not positive")
        boxes = []
        for rec in recs:
            x, y, w, h = (rec.number(c) for c in ("x", "y", "w", "h"))
            if w <= 0 or h <= 0:
                raise DataError(f"{rec.where()}: box size {w:g} x {h:g} is not positive")
            if (rec.number("image_width"), rec.number("image_height")) != (width, height):
                raise DataError(f"{rec.where()}: image size differs from row {first.row} of the same image")
            if x < -EDGE_SLACK_PX or y < -EDGE_SLACK_PX or x + w > width + EDGE_SLACK_PX \
                    or y + h > height + EDGE_SLACK_PX:
                raise DataError(f"{rec.where()}: box ({x:g}, {y:g}, {w:g}, {h:g}) lies outside the "
                                f"{width:g} x {height:g} image")
            boxes.append([max(0.0, x), max(0.0, y), min(width, x + w), min(height, y + h)])
        obs, anatomy = CATEGORIES.get(category.lower(), (category.lower(), "chest"))
        return Case(case_id=f"mscxr-{dicom_id[:16]}-{k:04d}", task=self.task, image_path=str(image),
                    label_path=None, reference_report=phrase, findings=(Finding(obs, anatomy),),
                    meta={"phrase": phrase, "boxes": boxes, "image_size": [int(width), int(height)],
                          "category": category, "dicom_id": dicom_id, "rows": [r.row for r in recs]})
