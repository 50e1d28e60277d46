"""The built-in synthetic ct_tumor set: phantoms written to NIfTI, a manifest of their truth, a content hash.

A set is identified by its generator version, phantom config, size and seed; it is built once into the cache
directory (atomically: a half-written set is never used) and reused. Its ``data_hash`` is over the manifest,
which carries a digest of every volume's voxels, so it changes when any voxel does.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import DataError
from harness.phantoms.ct import GENERATOR_VERSION, PhantomConfig, array_digest, make_phantom, to_lps
from harness.reports import write_report
from harness.schema import Case, case_from_dict, case_to_dict, stable_hash

MANIFEST = "cases.jsonl"


def _build_case(args: tuple[str, int, int, PhantomConfig, str]) -> dict[str, Any]:
    import nibabel as nib

    split, index, seed, config, out_dir = args
    case_id = f"ct-{split}-{index:04d}"
    phantom = make_phantom(seed, config)
    hu, labels, affine = to_lps(phantom)
    image_rel, label_rel = f"images/{case_id}.nii.gz", f"labels/{case_id}.nii.gz"
    img = nib.Nifti1Image(hu, affine)
    img.header.set_xyzt_units("mm")
    nib.save(img, os.path.join(out_dir, image_rel))
    nib.save(nib.Nifti1Image(labels, affine), os.path.join(out_dir, label_rel))
    # Area (voxels) of each lesion on each axial slice it cuts: the truth for key-slice scoring.
    areas = {str(l.label): [[int(z), int((phantom.labels[:, :, z] == l.label).sum())]
                            for z in range(l.z_range[0], l.z_range[1] + 1)] for l in phantom.lesions}
    case = Case(case_id=case_id, task="ct_tumor", image_path=image_rel, label_path=label_rel,
                reference_report=write_report(phantom.findings, np.random.default_rng(seed)),
                findings=phantom.findings, lesions=phantom.lesions,
                meta={"seed": seed, "shape": list(phantom.hu.shape), "spacing_mm": list(phantom.spacing),
                      "lesion_area_by_z": areas, "voxel_digest": array_digest(phantom.hu, phantom.labels)})
    return case_to_dict(case)


def set_id(split: str, n_cases: int, seed: int, config: PhantomConfig) -> str:
    return stable_hash({"generator": GENERATOR_VERSION, "split": split, "n": n_cases, "seed": seed,
                        "phantom": config.to_dict()}, length=12)


def build_synthetic_set(root: Path, split: str, n_cases: int, seed: int, config: PhantomConfig,
                        workers: int | None = None) -> Path:
    """Write the set under ``root`` (if not there yet) and return its directory."""
    target = root / f"ct_tumor-{split}-{set_id(split, n_cases, seed, config)}"
    if (target / MANIFEST).exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        (tmp / "images").mkdir()
        (tmp / "labels").mkdir()
        jobs = [(split, i, seed + i, config, str(tmp)) for i in range(n_cases)]
        workers = workers or min(4, os.cpu_count() or 1)
        if workers > 1 and n_cases >= 8:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                rows = list(pool.map(_build_case, jobs, chunksize=4))
        else:
            rows = [_build_case(j) for j in jobs]
        with open(tmp / MANIFEST, "w") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True) + "\n")
        try:
            tmp.rename(target)
        except OSError:  # another process finished the same set first: theirs is identical
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_manifest(directory: Path) -> tuple[list[Case], str]:
    """Cases (paths made absolute) and the set's content hash."""
    path = directory / MANIFEST
    if not path.exists():
        raise DataError(f"{directory}: no {MANIFEST} (not a set written by `harness data make`)")
    cases, lines = [], []
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                case = case_from_dict(d)
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}, line {lineno}: malformed case record ({exc})") from None
            lines.append(line.strip())
            cases.append(Case(**{**case.__dict__,
                                 "image_path": str(directory / case.image_path) if case.image_path else None,
                                 "label_path": str(directory / case.label_path) if case.label_path else None}))
    if not cases:
        raise DataError(f"{path}: the manifest lists no cases")
    return cases, stable_hash(lines)
