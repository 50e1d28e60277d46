"""KiTS-style case folders: ``case_00000/imaging.nii.gz`` + a segmentation per case.

KiTS19 (``data/case_XXXXX/segmentation.nii.gz``: 1 kidney, 2 tumor), KiTS21 (``aggregated_MAJ_seg.nii.gz``:
1 kidney, 2 tumor, 3 cyst) and KiTS23 (``dataset/case_XXXXX/segmentation.nii.gz``, the same labels). ``PATH`` may
be the folder holding the case folders or the repository top (``data/`` or ``dataset/`` below it). Cases without
a segmentation (KiTS19's test cases) are left out and counted in ``info["ignored"]``. KiTS has no labelled test
split of its own: every split name evaluates the labelled cases.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import DataError
from harness.loaders.base import BadRecords, Ignored, Loader
from harness.loaders.ct_masks import MaskRoles, truth_from_masks
from harness.schema import Case

CASE_RE = re.compile(r"^case_\d+$")
IMAGE = "imaging.nii.gz"
SEGMENTATIONS = ("segmentation.nii.gz", "aggregated_MAJ_seg.nii.gz")
ROLES = MaskRoles(organs={1: "kidney"}, tumors={2: "mass", 3: "cyst"}, tumor_organ="kidney")


def case_root(path: Path) -> Path | None:
    for root in (path, path / "data", path / "dataset", path / "kits21" / "data"):
        if root.is_dir() and any(CASE_RE.match(p.name) and (p / IMAGE).exists() for p in root.iterdir()
                                 if p.is_dir()):
            return root
    return None


class KiTSLoader(Loader):
    name = "kits"
    title = "KiTS19/21/23 case folders (case_XXXXX/imaging.nii.gz + segmentation)"
    modality, record = "ct", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and case_root(path) is not None

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        root = case_root(path)
        if root is None:
            raise DataError(f"{path}: no case_XXXXX/{IMAGE} folders")
        folders = sorted(p for p in root.iterdir() if p.is_dir() and CASE_RE.match(p.name))
        cases = bad.collect(self._case, ((folder, cache_dir) for folder in folders), limit)
        return cases, {"split_note": "KiTS has no labelled test split: the labelled cases are evaluated",
                       "label_roles": ROLES.to_dict()}

    def _case(self, folder: Path, cache_dir: Path) -> Case:
        if not (folder / IMAGE).exists():
            raise Ignored(f"no {IMAGE}")
        seg = next((folder / s for s in SEGMENTATIONS if (folder / s).exists()), None)
        if seg is None:
            raise Ignored("no segmentation (unlabelled case)")
        truth = truth_from_masks(folder.name, folder / IMAGE, seg, ROLES, cache_dir / "kits")
        return Case(case_id=folder.name, task=self.task, image_path=str(folder / IMAGE),
                    label_path=truth.label_path, reference_report=truth.report, findings=truth.findings,
                    lesions=truth.lesions, meta={**truth.meta, "source_label_path": str(seg)})
