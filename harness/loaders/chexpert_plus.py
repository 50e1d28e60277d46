"""CheXpert Plus (Stanford AIMI): chest X-ray studies with their reports.

``df_chexpert_plus_240401.csv``, one row per image, with (among others) ``path_to_image``
(``train/patient00001/study1/view1_frontal.jpg``), ``frontal_lateral`` (Frontal/Lateral), ``ap_pa``,
``deid_patient_id``, ``report``, ``section_findings``, ``section_impression`` and ``split`` (``train``/``valid``).
Images are looked up at ``PATH/<path_to_image>`` and, for the PNG release, with a ``.png`` suffix under ``PATH``,
``PATH/PNG`` and ``PATH/PNG/PNG``. Optional CheXbert labels (``chexbert_labels/findings_fixed.json`` or
``impression_fixed.json``: JSON lines with ``path_to_image`` and the 14 labels) go into ``meta["chexpert"]``.

One case per study (``patientN/studyM``): its first frontal image; the reference "FINDINGS: ... IMPRESSION: ..."
from the findings and impression sections. CheXpert Plus has ``train`` and ``valid``; the split ``test`` (the
default) evaluates ``valid``, as published results on CheXpert Plus do when they use the official split.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Ignored, Loader, Record, find_file, read_csv, reference_text
from harness.schema import Case

PATTERNS = ("df_chexpert_plus_*.csv", "df_chexpert_plus*.csv")
COLUMNS = ("path_to_image", "frontal_lateral", "split", "section_findings", "section_impression", "report")
SPLITS = {"test": "valid", "valid": "valid", "validate": "valid", "val": "valid", "train": "train"}
LABEL_FILES = ("chexbert_labels/findings_fixed.json", "chexbert_labels/impression_fixed.json")


def image_candidates(root: Path, rel: str) -> list[Path]:
    png = str(Path(rel).with_suffix(".png"))
    return [root / rel, root / png, root / "PNG" / png, root / "PNG" / "PNG" / png]


class CheXpertPlusLoader(Loader):
    name = "chexpert_plus"
    title = "CheXpert Plus (df_chexpert_plus_*.csv + PNG/ or the JPEG images)"
    modality, record = "cxr", "study"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and find_file(path, PATTERNS) is not None

    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list[Case], dict]:
        if split not in SPLITS:
            raise HarnessError(f"CheXpert Plus has no split '{split}' (splits: test (= valid), valid, train)")
        index = find_file(path, PATTERNS)
        studies: dict[str, list[Record]] = {}
        for rec in read_csv(index, COLUMNS, bad):
            if rec.get("split") != SPLITS[split]:
                continue
            rel = rec.get("path_to_image")
            parts = Path(rel).parts
            if len(parts) < 3:
                bad.fail(f"{rec.where()}: path_to_image {rel!r} is not <split>/patientN/studyM/<view>")
                continue
            studies.setdefault("/".join(parts[-3:-1]), []).append(rec)
        labels = self._labels(path, bad)
        cases = bad.collect(self._case, ((path, study, recs, labels) for study, recs in studies.items()), limit)
        return cases, {"index": index.name, "split_note": f"split '{split}' = CheXpert Plus '{SPLITS[split]}'",
                       "chexbert_labels": bool(labels)}

    def _labels(self, root: Path, bad: BadRecords) -> dict[str, dict[str, float | None]]:
        path = next((root / f for f in LABEL_FILES if (root / f).is_file()), None)
        if path is None:
            return {}
        out = {}
        with open(path) as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    d = json.loads(line)
                    key = d.pop("path_to_image")
                    out[key] = {k: (None if v is None else float(v)) for k, v in d.items()}
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    bad.fail(f"{path}, line {line_no}: not a CheXbert label record ({exc})")
        return out

    def _case(self, root: Path, study: str, recs: list[Record], labels: dict[str, dict]) -> Case:
        frontal = [r for r in recs if r.get("frontal_lateral").lower() == "frontal"]
        if not frontal:
            raise Ignored("no frontal image")
        rec = frontal[0]
        findings, impression = rec.get("section_findings"), rec.get("section_impression")
        reference = reference_text(findings, impression) if (findings or impression) else \
            " ".join(rec.get("report").split())
        if not reference:
            raise Ignored("empty report")
        rel = rec.require("path_to_image")
        image = next((p for p in image_candidates(root, rel) if p.exists()), None)
        if image is None:
            raise DataError(f"{rec.where()}: image {root / rel} not found (nor its .png under PNG/)")
        meta = {"study": study, "path_to_image": rel, "ap_pa": rec.get("ap_pa"),
                "patient": rec.get("deid_patient_id"), "findings_source": "reference_text"}
        if rel in labels:
            meta["chexpert"] = labels[rel]
        return Case(case_id=f"chexpertplus-{study.replace('/', '-')}", task=self.task, image_path=str(image),
                    label_path=None, reference_report=reference, findings=(), meta=meta)
