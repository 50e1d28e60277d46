"""Medical Segmentation Decathlon layout: ``dataset.json`` + ``imagesTr/`` + ``labelsTr/`` (+ ``imagesTs/``).

``dataset.json`` (as published): ``name`` ("Liver", "Pancreas", "Lung", "Colon", "HepaticVessel", ...),
``modality`` ({"0": "CT"}), ``labels`` ({"0": "background", "1": "liver", "2": "cancer"}), ``training`` (a list of
{"image": "./imagesTr/liver_0.nii.gz", "label": "./labelsTr/liver_0.nii.gz"}) and ``test`` (image paths only).
Label names are read by meaning: an organ word makes an organ mask, a tumor word ("cancer", "tumour",
"primaries"...) a tumor mask; the organ of tumors that touch no organ mask comes from the task name
("HepaticVessel" -> liver). MSD's own test images have no labels, so every split name evaluates the labelled
("training") cases, and ``info["split_note"]`` says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Loader
from harness.loaders.ct_masks import MaskRoles, truth_from_masks
from harness.schema import Case

#: words of MSD label and task names -> organ
ORGAN_WORDS = {"liver": "liver", "hepatic": "liver", "pancreas": "pancreas", "pancreatic": "pancreas",
               "kidney": "kidney", "renal": "kidney", "spleen": "spleen", "lung": "lung", "colon": "colon"}
TUMOR_WORDS = ("cancer", "tumour", "tumor", "mass", "lesion", "nodule", "primaries", "metastas", "neoplasm")
CYST_WORDS = ("cyst",)


def roles_from_dataset_json(meta: dict, where: Path) -> MaskRoles:
    labels = meta.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise DataError(f"{where}: no 'labels' mapping")
    organs, tumors = {}, {}
    for key, name in labels.items():
        try:
            value = int(key)
        except (TypeError, ValueError):
            raise DataError(f"{where}: label key {key!r} is not an integer") from None
        words = str(name).lower()
        if value == 0:
            continue
        if any(w in words for w in CYST_WORDS):
            tumors[value] = "cyst"
        elif any(w in words for w in TUMOR_WORDS):
            tumors[value] = "mass"
        else:
            organ = next((o for w, o in ORGAN_WORDS.items() if re.search(rf"\b{w}\b", words)), None)
            if organ:
                organs[value] = organ
    if not tumors:
        raise HarnessError(f"{where}: the labels ({', '.join(map(str, labels.values()))}) include no tumor class; "
                           "a tumor report task needs tumor masks or reports")
    task_name = str(meta.get("name", "")).lower()
    tumor_organ = next((o for w, o in ORGAN_WORDS.items() if w in task_name), None)
    if tumor_organ is None and len(set(organs.values())) == 1:
        tumor_organ = next(iter(organs.values()))
    return MaskRoles(organs=organs, tumors=tumors, tumor_organ=tumor_organ)


class MSDLoader(Loader):
    name = "msd"
    title = "Medical Segmentation Decathlon (dataset.json, imagesTr, labelsTr)"
    modality, record = "ct", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and (path / "dataset.json").is_file() and (path / "imagesTr").is_dir()

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        index = path / "dataset.json"
        try:
            meta = json.loads(index.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"{index}: not valid JSON ({exc})") from None
        modality = " ".join(str(v) for v in (meta.get("modality") or {}).values())
        if "CT" not in modality.upper():
            raise HarnessError(f"{index}: modality is {modality or 'not stated'}, not CT; the msd loader reads CT")
        roles = roles_from_dataset_json(meta, index)
        entries = meta.get("training")
        if not isinstance(entries, list) or not entries:
            raise DataError(f"{index}: no 'training' list of labelled cases")
        cases = bad.collect(self._case, ((path, index, row, entry, roles, cache_dir)
                                         for row, entry in enumerate(entries, start=1)), limit)
        return cases, {"split_note": "MSD's test images have no labels: the labelled ('training') cases are "
                                     "evaluated", "msd_task": meta.get("name"), "label_roles": roles.to_dict()}

    def _case(self, root: Path, index: Path, row: int, entry, roles: MaskRoles, cache_dir: Path) -> Case:
        where = f"{index}, training entry {row}"
        if not isinstance(entry, dict) or not entry.get("image") or not entry.get("label"):
            raise DataError(f"{where}: expected {{'image': ..., 'label': ...}}, got {str(entry)[:80]}")
        image = (root / entry["image"]).resolve()
        label = (root / entry["label"]).resolve()
        for p, what in ((image, "image"), (label, "label map")):
            if not p.exists():
                raise DataError(f"{where}: {what} {p} not found")
        case_id = image.name.removesuffix(".gz").removesuffix(".nii")
        truth = truth_from_masks(case_id, image, label, roles, cache_dir / "msd")
        return Case(case_id=case_id, task=self.task, image_path=str(image), label_path=truth.label_path,
                    reference_report=truth.report, findings=truth.findings, lesions=truth.lesions,
                    meta={**truth.meta, "source_label_path": str(label)})
