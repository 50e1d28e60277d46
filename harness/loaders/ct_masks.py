"""Reference findings from tumor masks, for CT datasets that have segmentations but no reports (MSD, KiTS).

What the phantoms state, read off the masks the same way: each connected tumor component is one finding with its
organ (the organ mask it touches, else the dataset's organ), side (paired organs: its centroid against the body's
midline), sub-location (the phantom's split of that organ, from ``harness/data/ct_anatomy.yaml``, about the organ
mask's centre; the pancreas by thirds of its extent, head on the patient's right), size (the longest side of its
bounding box in mm, the phantom's "maximum diameter" for an axis-aligned ellipsoid) and density (tumor mean HU
against the organ's, when there is an organ mask). Organs the dataset segments and that hold no tumor are stated
as normal. The reference report is then written by the CT phantoms' writer (``harness.reports_ct``).

The masks are re-labelled to the phantom's label scheme (organs as in ``ct_anatomy.yaml``, tumor k as
``TUMOR_LABEL_BASE + k``), in RAS array order, and written to the cache with the findings, so the evidence
metrics find each lesion by its own label, as on the phantoms. Everything is cached by the files' size and mtime.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.errors import DataError
from harness.fileio import atomic_directory
from harness.loaders.base import file_stamp
from harness.phantoms.ct import TUMOR_LABEL_BASE, anatomy
from harness.reports_ct import write_report
from harness.schema import Finding, Lesion, Presence, stable_hash

VERSION = "ct-masks/1"
#: tumor components whose bounding box is shorter than this on every side are annotation specks, not lesions
MIN_LESION_MM = 5.0
#: a tumor this much darker (brighter) than its organ's mean HU is called hypodense (hyperdense)
DENSITY_MARGIN_HU = 10.0
#: below this HU a voxel is air, not body (for the midline)
BODY_HU = -500.0
#: lung tumors below this size are nodules, at or above it masses (as the phantoms name them)
MASS_MM = 30.0
PAIRED = frozenset({"kidney", "lung", "adrenal gland"})


@dataclass(frozen=True)
class MaskRoles:
    """What a dataset's label values mean."""

    organs: Mapping[int, str]  # label value -> organ ("liver", "kidney"...)
    tumors: Mapping[int, str]  # label value -> observation ("mass" | "cyst")
    tumor_organ: str | None = None  # the organ of tumors that touch no organ mask (MSD Lung: lung)

    def to_dict(self) -> dict[str, Any]:
        return {"organs": {str(k): v for k, v in sorted(self.organs.items())},
                "tumors": {str(k): v for k, v in sorted(self.tumors.items())}, "tumor_organ": self.tumor_organ}


@dataclass(frozen=True)
class MaskTruth:
    findings: tuple[Finding, ...]
    lesions: tuple[Lesion, ...]
    report: str
    label_path: str  # the re-labelled map in the cache
    meta: dict[str, Any]


def _phantom_labels() -> dict[tuple[str, str | None], int]:
    return {(spec["anatomy"], spec.get("laterality")): int(spec["label"]) for spec in anatomy()["organs"].values()}


def _organ_splits() -> dict[str, dict[str, Any]]:
    return {spec["anatomy"]: spec["split"] for spec in anatomy()["organs"].values() if "split" in spec}


def _read(path: Path, what: str):
    import nibabel as nib

    if not path.exists():
        raise DataError(f"{path}: file not found ({what})")
    try:
        img = nib.as_closest_canonical(nib.load(str(path)))
        data = img.get_fdata(dtype=np.float32) if what == "image" else np.asarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for truncated or foreign files
        raise DataError(f"{path}: cannot be read as a NIfTI {what} ({type(exc).__name__}: {exc})") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise DataError(f"{path}: expected a 3D {what}, got shape {data.shape}")
    return img, data


def truth_from_masks(case_id: str, image_path: Path, label_path: Path, roles: MaskRoles, cache_root: Path,
                     min_lesion_mm: float = MIN_LESION_MM) -> MaskTruth:
    """The findings, lesions and report of one case from its masks, computed once and cached."""
    key = stable_hash([VERSION, file_stamp(image_path), file_stamp(label_path), roles.to_dict(), min_lesion_mm])
    directory = cache_root / "masks" / key
    manifest = directory / "truth.json"
    if manifest.exists():
        return _from_json(json.loads(manifest.read_text()), directory)
    d = _compute(case_id, image_path, label_path, roles, min_lesion_mm)
    labels_img = d.pop("_labels_img")
    with atomic_directory(directory) as tmp:
        import nibabel as nib

        nib.save(labels_img, str(tmp / "labels.nii.gz"))
        (tmp / "truth.json").write_text(json.dumps(d, sort_keys=True))
    return _from_json(d, directory)


def _from_json(d: Mapping[str, Any], directory: Path) -> MaskTruth:
    findings = tuple(Finding.from_dict(f) for f in d["findings"])
    lesions = tuple(Lesion(label=l["label"], finding=Finding.from_dict(l["finding"]), z_range=tuple(l["z_range"]),
                           center_ras_mm=tuple(l["center_ras_mm"]), hu=l["hu"]) for l in d["lesions"])
    return MaskTruth(findings=findings, lesions=lesions, report=d["report"],
                     label_path=str(directory / "labels.nii.gz"), meta=dict(d["meta"]))


def _compute(case_id: str, image_path: Path, label_path: Path, roles: MaskRoles,
             min_lesion_mm: float) -> dict[str, Any]:
    import nibabel as nib
    from scipy import ndimage

    img, hu = _read(image_path, "image")
    lab, raw = _read(label_path, "label map")
    if hu.shape != raw.shape:
        raise DataError(f"{label_path}: label map shape {raw.shape} differs from image {hu.shape} ({image_path})")
    if not np.allclose(img.affine[:3, :3], lab.affine[:3, :3], atol=1e-2 * float(np.abs(img.affine[:3, :3]).max())):
        raise DataError(f"{label_path}: label map orientation/spacing differs from the image's ({image_path})")
    hu = hu.astype(np.float32, copy=False)
    labels = np.rint(raw).astype(np.int32)
    affine = np.asarray(img.affine, float)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    x_mm = affine[0, 0] * np.arange(hu.shape[0]) + affine[0, 3]  # canonical: axis 0 runs to the patient's right
    step = max(1, min(hu.shape) // 64)
    body_x = np.nonzero(hu[::step, ::step, ::step] > BODY_HU)[0]
    midline = float(x_mm[::step][body_x].mean()) if body_x.size else float(x_mm.mean())

    phantom_label = _phantom_labels()
    splits = _organ_splits()
    side_of_index = np.where(x_mm > midline, "right", "left")
    derived = np.zeros(hu.shape, dtype=np.int16)
    organ_masks: dict[tuple[str, str | None], np.ndarray] = {}
    for value, organ in roles.organs.items():
        mask = labels == value
        if not mask.any():
            continue
        if organ in PAIRED:
            for side in ("right", "left"):
                part = mask & (side_of_index == side)[:, None, None]
                if part.sum() > 0:
                    organ_masks[(organ, side)] = organ_masks.get((organ, side), np.zeros_like(mask)) | part
        else:
            organ_masks[(organ, None)] = organ_masks.get((organ, None), np.zeros_like(mask)) | mask
    for (organ, side), mask in organ_masks.items():
        derived[mask] = phantom_label.get((organ, side), phantom_label.get((organ, None), 0))
    tumor_any = np.isin(labels, list(roles.tumors))

    lesions: list[Lesion] = []
    areas: dict[str, list[list[int]]] = {}
    dropped = 0
    structure = np.ones((3, 3, 3), dtype=bool)
    for value, kind in sorted(roles.tumors.items()):
        comps, n = ndimage.label(labels == value, structure=structure)
        if n == 0:
            continue
        boxes = ndimage.find_objects(comps)
        for i, sl in enumerate(boxes, start=1):
            comp = comps[sl] == i
            extent = np.array([s.stop - s.start for s in sl]) * spacing
            size = float(extent.max())
            if size < min_lesion_mm:
                dropped += 1
                continue
            idx = np.argwhere(comp) + np.array([s.start for s in sl])
            centre_vox = idx.mean(axis=0)
            centre = affine @ np.append(centre_vox, 1.0)
            # the organ it sits in: the organ mask its dilated voxels touch most
            grow = tuple(slice(max(0, s.start - 2), s.stop + 2) for s in sl)
            ring = ndimage.binary_dilation(comps[grow] == i, iterations=2)
            touch = {k: int((m[grow] & ring).sum()) for k, m in organ_masks.items()}
            touch = {k: v for k, v in touch.items() if v > 0}
            side = "right" if centre[0] > midline else "left"
            if touch:
                organ, organ_side = max(touch, key=touch.get)
            elif roles.tumor_organ:
                organ = roles.tumor_organ
                organ_side = side if organ in PAIRED else None
            else:
                raise DataError(f"{label_path}: tumor label {value} at voxel {tuple(int(v) for v in centre_vox)} "
                                "touches no organ mask and the dataset names no organ for its tumors")
            laterality = side if organ in PAIRED else None
            mean_hu = float(hu[idx[:, 0], idx[:, 1], idx[:, 2]].mean())
            attrs: set[str] = set()
            organ_mask = organ_masks.get((organ, organ_side))
            if kind == "cyst":
                attrs.add("hypodense")
            elif organ_mask is not None:
                organ_hu = float(hu[organ_mask & ~tumor_any].mean()) if (organ_mask & ~tumor_any).any() else None
                if organ_hu is not None and mean_hu < organ_hu - DENSITY_MARGIN_HU:
                    attrs.add("hypodense")
                elif organ_hu is not None and mean_hu > organ_hu + DENSITY_MARGIN_HU:
                    attrs.add("hyperdense")
            sub = _sub_location(organ, centre, organ_mask, affine, splits)
            obs = kind
            if organ == "lung" and kind == "mass":
                obs = "mass" if size >= MASS_MM else "nodule"
            finding = Finding(obs, organ, sub_location=sub, laterality=laterality, presence=Presence.PRESENT,
                              size_mm=float(round(size)), count=1, attributes=frozenset(attrs))
            label = TUMOR_LABEL_BASE + len(lesions)
            zs, counts = np.unique(idx[:, 2], return_counts=True)
            lesions.append(Lesion(label=label, finding=finding, z_range=(int(zs[0]), int(zs[-1])),
                                  center_ras_mm=tuple(round(float(v), 1) for v in centre[:3]),
                                  hu=round(mean_hu, 1)))
            areas[str(label)] = [[int(z), int(c)] for z, c in zip(zs, counts)]
            derived[idx[:, 0], idx[:, 1], idx[:, 2]] = label

    involved = {(l.finding.anatomy, l.finding.laterality) for l in lesions}
    normals = []
    for organ, side in sorted(organ_masks, key=lambda k: (k[0], k[1] or "")):
        laterality = side if organ in PAIRED else None
        if (organ, laterality) not in involved:
            normals.append(Finding("lesion", organ, laterality=laterality, presence=Presence.ABSENT))
    if not lesions and not organ_masks and roles.tumor_organ:
        normals.append(Finding("lesion", roles.tumor_organ, presence=Presence.ABSENT))
    findings = tuple(l.finding for l in lesions) + tuple(normals)
    report = write_report(findings, np.random.default_rng(zlib.crc32(case_id.encode())))
    meta = {"shape": [int(s) for s in hu.shape], "spacing_mm": [round(float(s), 4) for s in spacing],
            "lesion_area_by_z": areas, "findings_source": "masks", "midline_x_mm": round(midline, 1),
            "small_components_dropped": dropped, "min_lesion_mm": min_lesion_mm}
    labels_img = nib.Nifti1Image(derived, affine)
    labels_img.header.set_xyzt_units("mm")
    return {"findings": [f.to_dict() for f in findings], "report": report, "meta": meta,
            "lesions": [{"label": l.label, "finding": l.finding.to_dict(), "z_range": list(l.z_range),
                         "center_ras_mm": list(l.center_ras_mm), "hu": l.hu} for l in lesions],
            "_labels_img": labels_img}


def _sub_location(organ: str, centre: np.ndarray, organ_mask: np.ndarray | None, affine: np.ndarray,
                  splits: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The phantom's sub-location of a point in an organ, about the organ mask's centre; None without a mask."""
    if organ_mask is None or not organ_mask.any():
        return None
    idx = np.argwhere(organ_mask[::2, ::2, ::2]) * 2
    world = (affine[:3, :3] @ idx.T).T + affine[:3, 3]
    if organ == "pancreas":  # head on the patient's right (largest x), tail on the left: thirds of its extent
        lo, hi = world[:, 0].min(), world[:, 0].max()
        t = (centre[0] - lo) / max(hi - lo, 1e-6)
        return "tail" if t < 1 / 3 else ("body" if t < 2 / 3 else "head")
    split = splits.get(organ)
    if not split:
        return None
    axis = "xyz".index(split["axis"])
    offset = centre[axis] - world[:, axis].mean()
    for name, lo, hi in split["parts"]:
        if float(lo) <= offset < float(hi):
            return name
    return None
