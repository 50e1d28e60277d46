"""The frozen records that flow between tasks, models, the runner and metrics."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping


class Presence(str, enum.Enum):
    PRESENT = "present"
    ABSENT = "absent"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Finding:
    """One statement of a report, in the structured form every metric, reward and writer shares.

    A normal organ is a finding too: ``Finding("lesion", "spleen", presence=ABSENT)``.
    """

    observation: str
    anatomy: str
    sub_location: str | None = None
    laterality: str | None = None  # "left" | "right" | "bilateral" | None (unpaired organ)
    presence: Presence = Presence.PRESENT
    size_mm: float | None = None
    count: int | None = None
    attributes: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["presence"] = self.presence.value
        d["attributes"] = sorted(self.attributes)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Finding":
        return cls(
            observation=d["observation"],
            anatomy=d["anatomy"],
            sub_location=d.get("sub_location"),
            laterality=d.get("laterality"),
            presence=Presence(d.get("presence", "present")),
            size_mm=d.get("size_mm"),
            count=d.get("count"),
            attributes=frozenset(d.get("attributes", ())),
        )


@dataclass(frozen=True)
class Lesion:
    """Voxel-level truth of one tumor: which label value marks it and which axial slices it spans."""

    label: int
    finding: Finding
    z_range: tuple[int, int]  # inclusive, in the RAS-oriented volume
    center_ras_mm: tuple[float, float, float]
    hu: float


@dataclass(frozen=True)
class Case:
    """One evaluation item. Pixels stay on disk; paths and truth travel."""

    case_id: str
    task: str
    image_path: str | None
    label_path: str | None
    reference_report: str
    findings: tuple[Finding, ...]
    lesions: tuple[Lesion, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_masks(self) -> bool:
        return self.label_path is not None


@dataclass(frozen=True)
class Sampling:
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Request:
    """One model call: chat messages whose image parts are filled lazily by ``load_images``.

    ``messages`` follow the transformers chat format with ``{"type": "image"}`` placeholders; the images
    themselves are produced only when a backend needs pixels, so baselines never render a volume.
    """

    case: Case
    kind: str  # the protocol step: "report", "local", "probe:..."
    messages: tuple[Mapping[str, Any], ...]
    load_images: Callable[[], list[Any]] = field(compare=False, repr=False, default=lambda: [])
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def request_id(self) -> str:
        return f"{self.case.case_id}/{self.kind}"


@dataclass(frozen=True)
class Prediction:
    key: str
    case_id: str
    kind: str
    model_id: str
    text: str
    latency_s: float
    info: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Prediction":
        return cls(**{k: d[k] for k in ("key", "case_id", "kind", "model_id", "text", "latency_s")},
                   info=d.get("info", {}))


@dataclass(frozen=True)
class MetricValue:
    """An aggregated metric. ``status`` is "ok" or "not_run"; a metric that did not run has no value."""

    name: str
    status: str
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    variant: str = ""
    reason: str | None = None
    higher_is_better: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hash of a JSON-able object, independent of dict order and Python's hash seed."""
    blob = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def case_to_dict(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.case_id, "task": case.task, "image_path": case.image_path, "label_path": case.label_path,
        "reference_report": case.reference_report, "findings": [f.to_dict() for f in case.findings],
        "lesions": [{"label": l.label, "finding": l.finding.to_dict(), "z_range": list(l.z_range),
                     "center_ras_mm": list(l.center_ras_mm), "hu": l.hu} for l in case.lesions],
        "meta": dict(case.meta),
    }


def case_from_dict(d: Mapping[str, Any]) -> Case:
    return Case(
        case_id=d["case_id"], task=d["task"], image_path=d.get("image_path"), label_path=d.get("label_path"),
        reference_report=d["reference_report"],
        findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
        lesions=tuple(Lesion(label=l["label"], finding=Finding.from_dict(l["finding"]),
                             z_range=tuple(l["z_range"]), center_ras_mm=tuple(l["center_ras_mm"]), hu=l["hu"])
                      for l in d.get("lesions", ())),
        meta=d.get("meta", {}),
    )
