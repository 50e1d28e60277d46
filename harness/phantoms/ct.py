"""Deterministic 3D CT phantoms with exact voxel-level truth.

A phantom is built in RAS millimetres from ``harness/data/ct_anatomy.yaml`` (per-case jitter of organ position
and size), gets 0-3 tumors of known organ, sub-location, side, size and density, and is written to NIfTI in
LPS array order with the matching affine: loading it back through MONAI's ``Orientation("RAS")`` is then a
real test of laterality, as it is for DICOM-derived data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from harness.schema import Finding, Lesion, Presence

GENERATOR_VERSION = "ct-phantom/1"
TUMOR_LABEL_BASE = 20  # tumor k has label TUMOR_LABEL_BASE + k; organs are below


@dataclass(frozen=True)
class PhantomConfig:
    shape: tuple[int, int, int] = (128, 128, 80)
    max_tumors: int = 3
    p_no_tumor: float = 0.2
    noise_hu: float = 12.0
    min_size_mm: float = 15.0  # difficulty knob: smaller lesions are harder to see
    contrast_scale: float = 1.0  # difficulty knob: scales the tumor-to-organ HU difference

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "max_tumors": self.max_tumors, "p_no_tumor": self.p_no_tumor,
                "noise_hu": self.noise_hu, "min_size_mm": self.min_size_mm,
                "contrast_scale": self.contrast_scale}


@dataclass(frozen=True)
class Phantom:
    hu: np.ndarray  # int16, RAS array order (x, y, z)
    labels: np.ndarray  # uint8, RAS array order
    affine_ras: np.ndarray  # 4x4, voxel -> RAS mm for the RAS-ordered arrays
    spacing: tuple[float, float, float]
    lesions: tuple[Lesion, ...]
    findings: tuple[Finding, ...]  # one per lesion, then one "no lesion" finding per tumor-free organ


@lru_cache(maxsize=1)
def anatomy() -> dict[str, Any]:
    text = resources.files("harness.data").joinpath("ct_anatomy.yaml").read_text()
    return yaml.safe_load(text)


def _grid(shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    fov = np.asarray(anatomy()["field_of_view_mm"], dtype=float)
    spacing = fov / np.asarray(shape)
    origin = np.array([-fov[0] / 2, -fov[1] / 2, 0.0]) + spacing / 2
    return spacing, origin


def _axes(shape, spacing, origin) -> list[np.ndarray]:
    return [origin[a] + spacing[a] * np.arange(shape[a]) for a in range(3)]


def _paint_ellipsoid(target: np.ndarray, value, axes, center, radii) -> np.ndarray:
    """Set ``target`` to ``value`` inside the ellipsoid; works on the bounding box only (fast)."""
    sl = []
    for a in range(3):
        lo = np.searchsorted(axes[a], center[a] - radii[a], side="left")
        hi = np.searchsorted(axes[a], center[a] + radii[a], side="right")
        sl.append(slice(lo, hi))
    sub = [axes[a][sl[a]] for a in range(3)]
    d = ((sub[0][:, None, None] - center[0]) / radii[0]) ** 2 \
        + ((sub[1][None, :, None] - center[1]) / radii[1]) ** 2 \
        + ((sub[2][None, None, :] - center[2]) / radii[2]) ** 2
    inside = d <= 1.0
    target[tuple(sl)][inside] = value
    mask = np.zeros(target.shape, dtype=bool)
    mask[tuple(sl)] = inside
    return mask


def _organ_parts(organ: dict[str, Any]) -> list[tuple[str | None, np.ndarray, np.ndarray]]:
    """(sub_location, center, radii) of each ellipsoid making up the organ."""
    if "segments" in organ:
        return [(name, np.asarray(s["center"], float), np.asarray(s["radii"], float))
                for name, s in organ["segments"].items()]
    return [(None, np.asarray(organ["center"], float), np.asarray(organ["radii"], float))]


def _jitter_organs(rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    organs = {}
    for name, spec in anatomy()["organs"].items():
        shift = rng.uniform(-6, 6, size=3)
        scale = rng.uniform(0.92, 1.08)
        spec = dict(spec)
        if "segments" in spec:
            spec["segments"] = {k: {"center": (np.asarray(v["center"]) + shift).tolist(),
                                    "radii": (np.asarray(v["radii"]) * scale).tolist()}
                                for k, v in spec["segments"].items()}
        else:
            spec["center"] = (np.asarray(spec["center"]) + shift).tolist()
            spec["radii"] = (np.asarray(spec["radii"]) * scale).tolist()
        organs[name] = spec
    return organs


def _sub_location_of(organ: dict[str, Any], point: np.ndarray) -> str | None:
    split = organ.get("split")
    if not split:
        return None
    axis = "xyz".index(split["axis"])
    offset = point[axis] - organ["center"][axis]
    for name, lo, hi in split["parts"]:
        if float(lo) <= offset < float(hi):
            return name
    return None


def _place_tumor(rng, organ, size_mm) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Centre and radii of a tumor whose centre lies well inside the organ; returns its sub-location."""
    parts = _organ_parts(organ)
    sub, center, radii = parts[rng.integers(len(parts))]
    u = rng.normal(size=3)
    p = center + u / np.linalg.norm(u) * radii * rng.uniform(0, 0.55)
    loc = sub if sub is not None else _sub_location_of(organ, p)
    r = size_mm / 2
    tumor_radii = np.array([r, r * rng.uniform(0.8, 1.0), r * rng.uniform(0.8, 1.0)])
    return p, tumor_radii, loc


def _tumor_kind(rng, organ_name: str, kinds: list[str], size_mm: float) -> tuple[str, set[str], float | None]:
    spec = anatomy()["tumor_density"]
    kind = kinds[rng.integers(len(kinds))]
    if kind == "nodule":
        hu = rng.uniform(*spec["nodule"]["hu"])
        return ("mass" if size_mm >= 30 else "nodule"), set(), hu
    if kind == "cyst":
        return "cyst", {"hypodense"}, rng.uniform(*spec["cyst"]["hu"])
    density = "hypodense" if rng.random() < 0.7 else "hyperdense"
    return "mass", {density}, None  # HU set relative to the organ


def make_phantom(seed: int, config: PhantomConfig = PhantomConfig()) -> Phantom:
    rng = np.random.default_rng(seed)
    anat = anatomy()
    shape = tuple(config.shape)
    spacing, origin = _grid(shape)
    axes = _axes(shape, spacing, origin)
    hu = np.full(shape, anat["background_hu"], dtype=np.float32)
    labels = np.zeros(shape, dtype=np.uint8)

    body = anat["body"]
    x, y = axes[0][:, None], axes[1][None, :]
    wall = anat["muscle_wall"]["thickness_mm"]
    outer = ((x - body["center"][0]) / body["radii"][0]) ** 2 + ((y - body["center"][1]) / body["radii"][1]) ** 2
    inner = ((x - body["center"][0]) / (body["radii"][0] - wall)) ** 2 \
        + ((y - body["center"][1]) / (body["radii"][1] - wall)) ** 2
    hu[outer <= 1] = anat["muscle_wall"]["hu"]
    hu[inner <= 1] = body["hu"]
    labels[outer <= 1] = body["label"]
    spine = anat["spine"]
    in_spine = (x - spine["center"][0]) ** 2 + (y - spine["center"][1]) ** 2 <= spine["radius"] ** 2
    hu[in_spine] = spine["hu"]
    labels[in_spine] = spine["label"]

    organs = _jitter_organs(rng)
    for spec in organs.values():
        for _, c, r in _organ_parts(spec):
            m = _paint_ellipsoid(hu, spec["hu"], axes, c, r)
            labels[m] = spec["label"]

    n_tumors = 0 if rng.random() < config.p_no_tumor else int(rng.integers(1, config.max_tumors + 1))
    sites = anat["tumor_sites"]
    site_names = list(sites)
    weights = np.array([sites[s]["weight"] for s in site_names], float)
    lesions: list[Lesion] = []
    placed: list[tuple[np.ndarray, np.ndarray]] = []
    attempts = 0
    while len(lesions) < n_tumors and attempts < 50:
        attempts += 1
        site = site_names[rng.choice(len(site_names), p=weights / weights.sum())]
        organ = organs[site]
        lo, hi = sites[site]["size_mm"]
        size = float(round(rng.uniform(max(lo, config.min_size_mm), max(hi, config.min_size_mm + 1))))
        center, radii, sub = _place_tumor(rng, organ, size)
        if any(np.linalg.norm(center - c) < (radii.max() + r.max() + 5) for c, r in placed):
            continue  # keep tumors apart so each stays a separate finding
        obs, attrs, tumor_hu = _tumor_kind(rng, site, sites[site]["kinds"], size)
        if tumor_hu is None:
            delta_key = "hypodense" if "hypodense" in attrs else "hyperdense"
            tumor_hu = organ["hu"] + config.contrast_scale * rng.uniform(*anat["tumor_density"][delta_key]["delta_hu"])
        label = TUMOR_LABEL_BASE + len(lesions)
        mask = _paint_ellipsoid(hu, tumor_hu, axes, center, radii)
        if not mask.any():
            continue
        labels[mask] = label
        zs = np.nonzero(mask.any(axis=(0, 1)))[0]
        finding = Finding(observation=obs, anatomy=organ["anatomy"], sub_location=sub,
                          laterality=organ.get("laterality"), presence=Presence.PRESENT,
                          size_mm=size, count=1, attributes=frozenset(attrs))
        lesions.append(Lesion(label=label, finding=finding, z_range=(int(zs[0]), int(zs[-1])),
                              center_ras_mm=tuple(round(float(v), 1) for v in center), hu=round(float(tumor_hu), 1)))
        placed.append((center, radii))

    hu += rng.normal(0, config.noise_hu, size=shape).astype(np.float32)
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = origin
    return Phantom(hu=np.round(hu).astype(np.int16), labels=labels, affine_ras=affine,
                   spacing=tuple(float(s) for s in spacing), lesions=tuple(lesions),
                   findings=_findings_with_normals(lesions))


NORMAL_ORGANS = (("liver", None), ("spleen", None), ("pancreas", None), ("kidney", "right"), ("kidney", "left"),
                 ("lung", "right"), ("lung", "left"))


def _findings_with_normals(lesions: list[Lesion]) -> tuple[Finding, ...]:
    involved = {(l.finding.anatomy, l.finding.laterality) for l in lesions}
    normals = [Finding(observation="lesion", anatomy=a, laterality=s, presence=Presence.ABSENT)
               for a, s in NORMAL_ORGANS if (a, s) not in involved]
    return tuple(l.finding for l in lesions) + tuple(normals)


def to_lps(phantom: Phantom) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays and affine as a DICOM-derived file stores them (x to the left, y posterior)."""
    hu = phantom.hu[::-1, ::-1, :]
    labels = phantom.labels[::-1, ::-1, :]
    n = np.asarray(phantom.hu.shape)
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[0, 3] = n[0] - 1
    flip[1, 3] = n[1] - 1
    # voxel_lps -> voxel_ras -> mm
    return np.ascontiguousarray(hu), np.ascontiguousarray(labels), phantom.affine_ras @ flip


def array_digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]
