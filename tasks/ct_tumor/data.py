"""The built-in synthetic ct_tumor set: phantoms written to NIfTI, a manifest of their truth, a content hash.

A set is identified by its generator version, phantom config, size and seed; it is built once into the cache
directory (atomically: a half-written set is never used) and reused. Its ``data_hash`` is over the manifest,
which carries a digest of every volume's voxels, so it changes when any voxel does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


from harness.phantoms.ct import GENERATOR_VERSION, PhantomConfig, array_digest, make_phantom, to_lps
from harness.reports_ct import write_report
from harness.schema import Case, case_to_dict
from harness.synthetic import build_phantom_set


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


def build_synthetic_set(root: Path, split: str, n_cases: int, seed: int, config: PhantomConfig,
                        workers: int | None = None) -> Path:
    """Write the set under ``root`` (if not there yet) and return its directory."""
    return build_phantom_set(root, "ct_tumor", GENERATOR_VERSION, _build_case, split, n_cases, seed, config,
                             subdirs=("images", "labels"), workers=workers)
