"""Deterministic 2D frontal chest radiographs with exact finding boxes.

A phantom is drawn in normalised image coordinates from ``harness/data/cxr_anatomy.yaml`` (per-case jitter of
lung, heart and diaphragm position and size): body, lungs with smoothed-noise markings, mediastinum and heart,
hemidiaphragms, posterior ribs, clavicles, spine and trachea. Findings are drawn on top with the mask of each
one recorded, so every finding carries the exact pixel box(es) it occupies:

- nodule (< 30 mm) or mass (side, zone, size), pleural effusion (side or bilateral, severity),
- cardiomegaly (cardiothoracic ratio > 0.55), pneumothorax (side, severity),
- consolidation or atelectasis (side, lobe), support devices (endotracheal tube, nasogastric tube, central
  venous catheter, pacemaker) with their tip ``position``.

Grades are ``Finding.severity`` on the schema's scale: the drawn "small" / "moderate" / "large" effusion or
pneumothorax is "mild" / "moderate" / "severe" (``SEVERITY_OF_GRADE``).

The image follows the radiological convention: the patient's right is on the image's left. Boxes are
``(x1, y1, x2, y2)`` in pixels, ``x2``/``y2`` exclusive, origin at the top-left.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy import ndimage

from harness.schema import Finding, Presence

GENERATOR_VERSION = "cxr-phantom/2"  # 2: grades in Finding.severity, device tip positions
SIDES = ("right", "left")
Box = tuple[int, int, int, int]

#: the drawn grade of an effusion or pneumothorax (the key of ``effusion_level`` / ``pneumothorax_collapse`` in
#: cxr_anatomy.yaml) -> ``Finding.severity``
SEVERITY_OF_GRADE = {"small": "mild", "moderate": "moderate", "large": "severe"}

#: what a normal study states, by (observation, anatomy); a positive finding of that observation replaces it
NORMAL_CXR = (("cardiomegaly", "heart"), ("consolidation", "lung"), ("pleural effusion", "pleura"),
              ("pneumothorax", "pleura"), ("nodule", "lung"))

#: the CheXpert label each synthetic observation sets (truth labels, stored with each case)
CHEXPERT_LABELS = ("No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion",
                   "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
                   "Pleural Other", "Fracture", "Support Devices")
CHEXPERT_OF = {"nodule": ("Lung Lesion",), "mass": ("Lung Lesion",), "pleural effusion": ("Pleural Effusion",),
               "cardiomegaly": ("Cardiomegaly", "Enlarged Cardiomediastinum"), "pneumothorax": ("Pneumothorax",),
               "consolidation": ("Consolidation", "Lung Opacity"), "atelectasis": ("Atelectasis", "Lung Opacity")}


@dataclass(frozen=True)
class CXRPhantomConfig:
    size: int = 512  # pixels, square
    p_normal: float = 0.25  # share of studies with no finding (devices aside)
    max_findings: int = 3
    p_device: float = 0.3
    noise: float = 0.012  # display units
    contrast_scale: float = 1.0  # difficulty knob: scales each finding's density difference
    min_nodule_mm: float = 6.0  # difficulty knob: smaller nodules are harder to see

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "p_normal": self.p_normal, "max_findings": self.max_findings,
                "p_device": self.p_device, "noise": self.noise, "contrast_scale": self.contrast_scale,
                "min_nodule_mm": self.min_nodule_mm}


@dataclass(frozen=True)
class GroundedFinding:
    finding: Finding
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class CXRPhantom:
    image: np.ndarray  # uint8 (rows, cols)
    pixel_spacing_mm: float
    grounded: tuple[GroundedFinding, ...]  # every positive finding with its boxes
    findings: tuple[Finding, ...]  # positives, then the normal statements of what is absent
    meta: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def anatomy() -> dict[str, Any]:
    return yaml.safe_load(resources.files("harness.data").joinpath("cxr_anatomy.yaml").read_text())


# -- geometry ---------------------------------------------------------------------------------------------
def _ellipse(u, v, center, radii) -> np.ndarray:
    return ((u - center[0]) / radii[0]) ** 2 + ((v - center[1]) / radii[1]) ** 2 <= 1.0


def _dome(u, spec) -> np.ndarray:
    return spec["apex"] + spec["depth"] * ((u - spec["center"]) / spec["half_width"]) ** 2


def _jitter(rng: np.random.Generator) -> dict[str, Any]:
    """Per-case anatomy: small shifts and scalings of the lungs, heart and diaphragm."""
    a = anatomy()
    geo = {"lungs": {}, "diaphragm": {}}
    dv = rng.uniform(-0.012, 0.012)
    for side in SIDES:
        lung = a["lungs"][side]
        s = rng.uniform(0.96, 1.04)
        geo["lungs"][side] = {"center": [lung["center"][0] + rng.uniform(-0.008, 0.008), lung["center"][1] + dv],
                              "radii": [lung["radii"][0] * s, lung["radii"][1] * s]}
        geo["diaphragm"][side] = {**a["diaphragm"][side], "apex": a["diaphragm"][side]["apex"] + dv
                                  + rng.uniform(-0.01, 0.01)}
    h = a["heart"]
    geo["heart"] = {"center": [h["center"][0] + rng.uniform(-0.01, 0.01), h["center"][1] + dv],
                    "radii": [h["radii"][0] * rng.uniform(0.95, 1.05), h["radii"][1] * rng.uniform(0.95, 1.05)]}
    return geo


def _lung_mask(side: str, u, v, geo, heart_radii=None) -> np.ndarray:
    a = anatomy()
    lung = geo["lungs"][side]
    mask = _ellipse(u, v, lung["center"], lung["radii"]) & (v < _dome(u, geo["diaphragm"][side]))
    mask &= np.abs(u - 0.5) >= a["mediastinum"]["half_width"]
    mask &= ~_ellipse(u, v, geo["heart"]["center"], heart_radii or geo["heart"]["radii"])
    return mask


def _bbox(mask: np.ndarray) -> Box | None:
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _segment_distance(u, v, p, q) -> np.ndarray:
    p, q = np.asarray(p, float), np.asarray(q, float)
    d = q - p
    t = np.clip(((u - p[0]) * d[0] + (v - p[1]) * d[1]) / max(float(d @ d), 1e-12), 0.0, 1.0)
    return np.hypot(u - (p[0] + t * d[0]), v - (p[1] + t * d[1]))


def _polyline(u, v, points, half_width: float) -> np.ndarray:
    mask = np.zeros(u.shape, dtype=bool)
    for p, q in zip(points[:-1], points[1:]):
        mask |= _segment_distance(u, v, p, q) <= half_width
    return mask


def _smooth_noise(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    field_ = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return field_ / (field_.std() + 1e-12)


def _lung_frame(mask: np.ndarray, side: str) -> tuple[int, int, int, int]:
    """(top, bottom, lateral, medial) pixel extents of a lung mask; lateral is the chest-wall edge."""
    x1, y1, x2, y2 = _bbox(mask)
    return (y1, y2, x1, x2) if side == "right" else (y1, y2, x2, x1)


# -- findings ---------------------------------------------------------------------------------------------
class _Canvas:
    """The density map being drawn, the coordinate grids, and the anatomy masks findings are placed in."""

    def __init__(self, config: CXRPhantomConfig, rng: np.random.Generator):
        self.n = config.size
        self.rng = rng
        self.config = config
        self.spacing = anatomy()["field_of_view_mm"] / self.n
        rows, cols = np.mgrid[0:self.n, 0:self.n]
        self.u = (cols + 0.5) / self.n
        self.v = (rows + 0.5) / self.n
        self.geo = _jitter(rng)
        self.heart_radii = list(self.geo["heart"]["radii"])

    def lung(self, side: str) -> np.ndarray:
        return _lung_mask(side, self.u, self.v, self.geo, self.heart_radii)

    def px(self, mm: float) -> float:
        """A length in mm as a fraction of the image width."""
        return mm / self.spacing / self.n


def _add_nodule(cv: _Canvas, dens: np.ndarray, side: str) -> GroundedFinding:
    a, rng = anatomy(), cv.rng
    is_mass = rng.random() < 0.25
    lo, hi = a["mass_size_mm"] if is_mass else a["nodule_size_mm"]
    size = float(round(rng.uniform(max(lo, cv.config.min_nodule_mm), max(hi, cv.config.min_nodule_mm + 1))))
    lung = cv.lung(side)
    radius_px = size / 2 / cv.spacing
    inside = ndimage.distance_transform_edt(lung) >= max(radius_px * 0.9, 2.0)
    top, bottom, _, _ = _lung_frame(lung, side)
    zones = list(a["zones"].items())
    order = rng.permutation(len(zones))
    for zi in order:  # a zone where the nodule fits (large masses may not fit an apex)
        zone, (f0, f1) = zones[zi]
        band = np.zeros_like(lung)
        band[int(top + f0 * (bottom - top)):int(top + f1 * (bottom - top)) + 1] = True
        candidates = np.argwhere(inside & band)
        if len(candidates):
            break
    else:
        raise RuntimeError("no room for a nodule")  # unreachable with the shipped anatomy and sizes
    r, c = candidates[rng.integers(len(candidates))]
    # the zone named in the report is where the centre falls
    frac = (r - top) / max(bottom - top, 1)
    zone = next(name for name, (f0, f1) in zones if f0 <= frac < f1 or (f1 == 1.0 and frac >= f1))
    d = np.hypot(cv.u - (c + 0.5) / cv.n, cv.v - (r + 0.5) / cv.n) * cv.n
    mask = d <= radius_px
    edge = np.clip(radius_px - d + 0.5, 0.0, 1.0)
    dens += cv.config.contrast_scale * 0.34 * edge
    finding = Finding("mass" if size >= 30 else "nodule", "lung", sub_location=zone, laterality=side,
                      size_mm=size, count=1)
    return GroundedFinding(finding, (_bbox(mask),))


def _add_effusion(cv: _Canvas, dens: np.ndarray, laterality: str) -> GroundedFinding:
    a, rng = anatomy(), cv.rng
    grade = ("small", "moderate", "large")[rng.choice(3, p=[0.45, 0.35, 0.2])]
    level = rng.uniform(*a["effusion_level"][grade])
    boxes = []
    for side in (SIDES if laterality == "bilateral" else (laterality,)):
        lung = cv.lung(side)
        top, bottom, lateral, medial = _lung_frame(lung, side)
        height = bottom - top
        cols = (cv.u * cv.n - 0.5)
        medialness = np.clip((cols - lateral) / (medial - lateral), 0.0, 1.0)
        # the meniscus: fluid rises higher along the lateral chest wall than medially
        surface = (bottom - level * height) / cv.n + 0.05 * (height / cv.n) * medialness
        dome = _dome(cv.u, cv.geo["diaphragm"][side])
        hemithorax = _ellipse(cv.u, cv.v, cv.geo["lungs"][side]["center"], cv.geo["lungs"][side]["radii"])
        hemithorax &= np.abs(cv.u - 0.5) >= anatomy()["mediastinum"]["half_width"]
        hemithorax &= ~_ellipse(cv.u, cv.v, cv.geo["heart"]["center"], cv.heart_radii)
        # fluid fills the lung below the surface and hides the hemidiaphragm's outline just under it
        fluid = hemithorax & (cv.v >= surface) & (cv.v < dome + 0.02)
        dens[fluid] = a["density"]["fluid"] * (1 - 0.15 * (1 - cv.config.contrast_scale)) \
            + 0.02 * np.clip((cv.v[fluid] - surface[fluid]) * 20, 0, 1)
        boxes.append(_bbox(fluid))
    finding = Finding("pleural effusion", "pleura", laterality=laterality, severity=SEVERITY_OF_GRADE[grade])
    return GroundedFinding(finding, tuple(boxes))


def _add_pneumothorax(cv: _Canvas, dens: np.ndarray, side: str) -> GroundedFinding:
    a, rng = anatomy(), cv.rng
    grade = "small" if rng.random() < 0.6 else "large"
    s = rng.uniform(*a["pneumothorax_collapse"][grade])
    lung = cv.lung(side)
    top, bottom, lateral, medial = _lung_frame(lung, side)
    hilum = ((medial + 0.5) / cv.n, (top + 0.62 * (bottom - top)) / cv.n)
    collapsed = _lung_mask(side, hilum[0] + (cv.u - hilum[0]) / s, hilum[1] + (cv.v - hilum[1]) / s, cv.geo,
                           cv.heart_radii) & lung
    air = lung & ~collapsed
    dens[air] = a["density"]["lung"] * (1 - 0.45 * cv.config.contrast_scale)  # no lung markings
    dens[collapsed] += 0.03 * cv.config.contrast_scale
    pleural_line = collapsed & ~ndimage.binary_erosion(collapsed, iterations=max(1, cv.n // 256)) & \
        ndimage.binary_dilation(air, iterations=2)
    dens[pleural_line] += 0.16 * cv.config.contrast_scale
    finding = Finding("pneumothorax", "pleura", laterality=side, severity=SEVERITY_OF_GRADE[grade])
    return GroundedFinding(finding, (_bbox(air),))


def _lobe_region(cv: _Canvas, side: str, lobe: str) -> np.ndarray:
    lung = cv.lung(side)
    top, bottom, lateral, medial = _lung_frame(lung, side)
    spec = anatomy()["lobes"][side][lobe]
    frac_v = (cv.v * cv.n - 0.5 - top) / max(bottom - top, 1)
    frac_u = (cv.u * cv.n - 0.5 - lateral) / (medial - lateral)
    return lung & (frac_v >= spec["v"][0]) & (frac_v <= spec["v"][1]) & (frac_u >= spec["u"][0]) & \
        (frac_u <= spec["u"][1])


def _add_airspace(cv: _Canvas, dens: np.ndarray, side: str, kind: str) -> GroundedFinding:
    """Consolidation (patchy lobar opacity) or atelectasis (a plate-like band) in one lobe."""
    rng = cv.rng
    lobes = list(anatomy()["lobes"][side])
    for i in rng.permutation(len(lobes)):  # a lobe the heart does not hide (a large heart can cover the lingula)
        lobe = lobes[i]
        region = _lobe_region(cv, side, lobe)
        inner = ndimage.binary_erosion(region, iterations=3)
        if inner.any():
            break
    else:
        raise RuntimeError(f"no visible lobe in the {side} lung")  # unreachable with the shipped anatomy
    x1, y1, x2, y2 = _bbox(region)
    middle = inner & (np.abs(cv.u * cv.n - (x1 + x2) / 2) <= 0.3 * (x2 - x1)) & \
        (np.abs(cv.v * cv.n - (y1 + y2) / 2) <= 0.3 * (y2 - y1))
    points = np.argwhere(middle if middle.any() else inner)
    r, c = points[rng.integers(len(points))]
    cu, cvv = (c + 0.5) / cv.n, (r + 0.5) / cv.n
    if kind == "consolidation":
        radii = (rng.uniform(0.35, 0.55) * (x2 - x1) / cv.n, rng.uniform(0.35, 0.55) * (y2 - y1) / cv.n)
        texture = _smooth_noise(rng, dens.shape, cv.n / 64)
        shape = _ellipse(cv.u, cv.v, (cu, cvv), radii)
        mask = region & shape & (texture > -0.6)
        mask = mask if mask.any() else region & shape
        dens[mask] += cv.config.contrast_scale * (0.28 + 0.04 * np.clip(texture[mask], -1, 1))
    else:
        angle = rng.uniform(-0.3, 0.3)
        length = rng.uniform(0.45, 0.75) * (x2 - x1) / cv.n / 2
        thick = max(cv.px(rng.uniform(4.0, 8.0)) / 2, 0.75 / cv.n)
        du, dv = np.cos(angle) * length, np.sin(angle) * length
        mask = region & (_segment_distance(cv.u, cv.v, (cu - du, cvv - dv), (cu + du, cvv + dv)) <= thick)
        dens[mask] += cv.config.contrast_scale * 0.26
    return GroundedFinding(Finding(kind, "lung", sub_location=lobe, laterality=side), (_bbox(mask),))


def _add_cardiomegaly(cv: _Canvas, scale: float) -> None:
    cv.heart_radii = [cv.geo["heart"]["radii"][0] * scale, cv.geo["heart"]["radii"][1] * (1 + 0.35 * (scale - 1))]


def _device(cv: _Canvas, kind: str) -> tuple[np.ndarray, Finding]:
    a, rng = anatomy(), cv.rng
    u, v = cv.u, cv.v
    w = max(cv.px(1.4), 1.0 / cv.n)
    carina = a["trachea"]["carina"]
    if kind == "endotracheal tube":
        tip = carina - rng.uniform(0.03, 0.06)
        off = 0.008
        mask = _polyline(u, v, [(0.5 - off, 0.0), (0.5 - off, tip)], w) | _polyline(u, v, [(0.5 + off, 0.0),
                                                                                          (0.5 + off, tip)], w)
        mask |= _polyline(u, v, [(0.5 - off, tip), (0.5 + off, tip)], w)
    elif kind == "nasogastric tube":
        stomach = (0.66 + rng.uniform(-0.02, 0.02), cv.geo["diaphragm"]["left"]["apex"] + rng.uniform(0.06, 0.1))
        pts = [(0.505, 0.0), (0.51, 0.30), (0.52, 0.60), (0.56, stomach[1] - 0.06), stomach,
               (stomach[0] + 0.03, stomach[1] + 0.02)]
        mask = _polyline(u, v, pts, w)
    elif kind == "central venous catheter":
        tip = carina + rng.uniform(0.03, 0.09)
        mask = _polyline(u, v, [(0.40, 0.0), (0.425, 0.12), (0.462, 0.25), (0.47, tip)], w)
    else:  # pacemaker: generator in the left upper chest, lead to the right ventricular apex
        gc = (0.74 + rng.uniform(-0.02, 0.02), 0.20 + rng.uniform(-0.02, 0.02))
        mask = (np.abs(u - gc[0]) <= 0.035) & (np.abs(v - gc[1]) <= 0.022)
        apex = (cv.geo["heart"]["center"][0] + 0.3 * cv.heart_radii[0],
                cv.geo["heart"]["center"][1] + 0.6 * cv.heart_radii[1])
        mask |= _polyline(u, v, [gc, (0.62, 0.25), (0.52, 0.42), (0.50, 0.58), apex], w)
    spec = a["devices"][kind]
    return mask, Finding(kind, spec["anatomy"], laterality=spec.get("laterality"),
                         attributes=frozenset({"support device"}), position=spec["position"])


def _bones(cv: _Canvas) -> np.ndarray:
    a = anatomy()
    u, v = cv.u, cv.v
    bone = np.zeros(u.shape, dtype=np.float32)
    ribs = a["ribs"]
    thorax = np.zeros(u.shape, dtype=bool)
    for side in SIDES:
        lung = cv.geo["lungs"][side]
        thorax |= _ellipse(u, v, lung["center"], [lung["radii"][0] * 1.12, lung["radii"][1] * 1.05])
    lateral = np.abs(u - 0.5) / 0.38
    for k in range(ribs["count"]):
        centre = ribs["first"] + k * ribs["step"] + ribs["droop"] * lateral ** 1.6
        bone += (np.abs(v - centre) <= ribs["thickness"] / 2) & thorax & (np.abs(u - 0.5) > 0.04)
    cl = a["clavicles"]
    for mirror in (False, True):
        med, lat = list(cl["medial"]), list(cl["lateral"])
        if mirror:
            med[0], lat[0] = 1 - med[0], 1 - lat[0]
        bone += _segment_distance(u, v, med, lat) <= cl["thickness"] / 2
    bone += (np.abs(u - 0.5) <= a["spine"]["half_width"]) * 0.6
    return np.clip(bone, 0, 1.2) * a["density"]["bone_add"]


# -- the phantom ------------------------------------------------------------------------------------------
def _choose_findings(rng: np.random.Generator, config: CXRPhantomConfig) -> list[str]:
    if rng.random() < config.p_normal:
        return []
    weights = anatomy()["finding_weights"]
    kinds = list(weights)
    p = np.array([weights[k] for k in kinds], float)
    k = int(rng.integers(1, config.max_findings + 1))
    return [kinds[i] for i in rng.choice(len(kinds), size=min(k, len(kinds)), replace=False, p=p / p.sum())]


def make_cxr_phantom(seed: int, config: CXRPhantomConfig = CXRPhantomConfig()) -> CXRPhantom:
    rng = np.random.default_rng(seed)
    a = anatomy()
    dn = a["density"]
    cv = _Canvas(config, rng)
    kinds = _choose_findings(rng, config)
    device = None
    if rng.random() < config.p_device:
        devices = list(a["devices"])
        device = devices[rng.integers(len(devices))]
    if "cardiomegaly" in kinds:
        _add_cardiomegaly(cv, rng.uniform(*a["heart"]["cardiomegaly_scale"]))

    u, v = cv.u, cv.v
    dens = np.full(u.shape, dn["air"], dtype=np.float64)
    body = _ellipse(u, v, a["body"]["center"], a["body"]["radii"])
    dens[body] = dn["soft_tissue"]
    dome_v = np.where(u < 0.5, _dome(u, cv.geo["diaphragm"]["right"]), _dome(u, cv.geo["diaphragm"]["left"]))
    dens[body & (v >= dome_v)] = dn["abdomen"]
    heart = _ellipse(u, v, cv.geo["heart"]["center"], cv.heart_radii)
    mediastinum = body & (np.abs(u - 0.5) < a["mediastinum"]["half_width"]) & (v < dome_v)
    dens[mediastinum | (heart & body)] = dn["mediastinum"]
    trachea = (np.abs(u - 0.5) <= a["trachea"]["half_width"]) & (v >= a["trachea"]["top"]) & \
        (v <= a["trachea"]["carina"])
    dens[trachea] = dn["trachea"]
    texture = _smooth_noise(rng, u.shape, config.size / 128)
    lungs = {side: cv.lung(side) for side in SIDES}
    for side, mask in lungs.items():
        # markings fade towards the periphery, as vessels do
        hilar = 1.0 - np.clip(np.abs(u - 0.5) / 0.4, 0, 1) * 0.6
        dens[mask] = dn["lung"] + dn["lung_texture"] * (texture[mask] * 0.6 + 0.6) * hilar[mask]

    # the order matters: anatomy-changing findings first, so that later ones see the final lungs
    grounded: list[GroundedFinding] = []
    if "cardiomegaly" in kinds:
        grounded.append(GroundedFinding(Finding("cardiomegaly", "heart"), (_bbox(heart & body),)))
    for kind in kinds:
        side = SIDES[rng.integers(2)]
        if kind == "pneumothorax":
            grounded.append(_add_pneumothorax(cv, dens, side))
        elif kind == "nodule":
            grounded.append(_add_nodule(cv, dens, side))
        elif kind in ("consolidation", "atelectasis"):
            grounded.append(_add_airspace(cv, dens, side, kind))
    if "pleural effusion" in kinds:  # last of the lung findings: fluid covers what lies under it
        side = ("right", "left", "bilateral")[rng.choice(3, p=[0.4, 0.4, 0.2])]
        grounded.append(_add_effusion(cv, dens, side))

    dens += _bones(cv) * body
    if device is not None:
        mask, finding = _device(cv, device)
        dens[mask] = dn["device"]
        grounded.append(GroundedFinding(finding, (_bbox(mask),)))

    dens = ndimage.gaussian_filter(dens, 0.6 * config.size / 512)
    dens += rng.normal(0.0, config.noise, size=dens.shape)
    image = np.clip(dens * 255.0 + 0.5, 0, 255).astype(np.uint8)

    positives = tuple(g.finding for g in grounded)
    stated = {f.observation for f in positives} | ({"nodule"} if any(f.observation == "mass" for f in positives)
                                                   else set())
    normals = tuple(Finding(obs, anat, presence=Presence.ABSENT) for obs, anat in NORMAL_CXR if obs not in stated)
    lung_span = _bbox(lungs["right"] | lungs["left"])
    heart_box = _bbox(heart & body)
    meta = {"cardiothoracic_ratio": round((heart_box[2] - heart_box[0]) / (lung_span[2] - lung_span[0]), 3),
            "chexpert": chexpert_labels(positives)}
    return CXRPhantom(image=image, pixel_spacing_mm=cv.spacing, grounded=tuple(grounded),
                      findings=positives + normals, meta=meta)


def chexpert_labels(positives: tuple[Finding, ...]) -> dict[str, float]:
    """The 14 CheXpert labels of a synthetic study from its truth (1 present, 0 absent; no uncertain ones)."""
    labels = dict.fromkeys(CHEXPERT_LABELS, 0.0)
    for f in positives:
        if "support device" in f.attributes:
            labels["Support Devices"] = 1.0
        for name in CHEXPERT_OF.get(f.observation, ()):
            labels[name] = 1.0
    labels["No Finding"] = float(not any(labels[k] for k in CHEXPERT_LABELS if k not in ("No Finding",
                                                                                          "Support Devices")))
    return labels


def image_digest(image: np.ndarray) -> str:
    h = hashlib.sha256(str(image.shape).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()[:16]


def render_boxes(image: np.ndarray, boxes: list[Box], value: int = 255) -> np.ndarray:
    """A copy of the image with box outlines drawn (for eyeballing the truth)."""
    out = image.copy()
    for x1, y1, x2, y2 in boxes:
        out[y1, x1:x2] = out[y2 - 1, x1:x2] = value
        out[y1:y2, x1] = out[y1:y2, x2 - 1] = value
    return out


__all__: list[str] = ["CXRPhantomConfig", "CXRPhantom", "GroundedFinding", "make_cxr_phantom", "NORMAL_CXR",
                      "CHEXPERT_LABELS", "chexpert_labels", "image_digest", "render_boxes", "GENERATOR_VERSION"]
