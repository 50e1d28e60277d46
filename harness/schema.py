"""The frozen records that flow between tasks, models, the runner and metrics."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Final, Mapping, Sequence

from harness.errors import HarnessError


#: Version of the findings JSON (``Finding.to_dict``). 2 added severity, graded certainty, temporal change and
#: device tip position; version-1 records (without them) still load. Results record the version they used.
FINDINGS_SCHEMA_VERSION = 2


class Presence(str, enum.Enum):
    """The certainty *class* findings are matched on: present (or probable), uncertain (possible), absent (or
    improbable)."""

    PRESENT = "present"
    ABSENT = "absent"
    UNCERTAIN = "uncertain"


class Certainty(str, enum.Enum):
    """Graded presence as a report states it; each grade belongs to one ``Presence`` class."""

    PRESENT = "present"
    PROBABLE = "probable"  # "likely", "consistent with", "favor"
    POSSIBLE = "possible"  # "possible", "cannot be excluded", "equivocal"
    IMPROBABLE = "improbable"  # "unlikely", "doubtful"
    ABSENT = "absent"

    @property
    def presence(self) -> Presence:
        return _CERTAINTY_CLASS[self]


_CERTAINTY_CLASS = {Certainty.PRESENT: Presence.PRESENT, Certainty.PROBABLE: Presence.PRESENT,
                    Certainty.POSSIBLE: Presence.UNCERTAIN, Certainty.IMPROBABLE: Presence.ABSENT,
                    Certainty.ABSENT: Presence.ABSENT}

_GRADED = frozenset({Certainty.PROBABLE, Certainty.IMPROBABLE})

#: Ordinal severity / extent scale; synonyms are mapped onto it by the reader's lexicon ("small" effusion = mild,
#: "large" = severe, "trace" = minimal).
SEVERITY_GRADES = ("minimal", "mild", "moderate", "severe", "massive")
#: Change against a prior study. "resolved" findings are absent now.
TEMPORAL_CHANGES = ("new", "stable", "increased", "decreased", "resolved")


@dataclass(frozen=True)
class Finding:
    """One statement of a report, in the structured form every metric, reward and writer shares.

    A normal organ is a finding too: ``Finding("lesion", "spleen", presence=ABSENT)``.

    ``presence`` is the certainty class matched on; ``certainty`` the grade as stated (``None``: the class
    itself). Giving ``certainty`` sets ``presence`` to its class. ``severity`` is one of ``SEVERITY_GRADES``,
    ``temporal`` one of ``TEMPORAL_CHANGES``, ``position`` a device's tip position ("cavoatrial junction").
    """

    observation: str
    anatomy: str
    sub_location: str | None = None
    laterality: str | None = None  # "left" | "right" | "bilateral" | None (unpaired organ)
    presence: Presence = Presence.PRESENT
    size_mm: float | None = None
    count: int | None = None
    attributes: frozenset[str] = frozenset()
    severity: str | None = None
    certainty: Certainty | None = None
    temporal: str | None = None
    position: str | None = None

    def __post_init__(self) -> None:
        if self.severity is not None and self.severity not in SEVERITY_GRADES:
            raise ValueError(f"Finding.severity: {self.severity!r} is not one of {', '.join(SEVERITY_GRADES)}")
        if self.temporal is not None and self.temporal not in TEMPORAL_CHANGES:
            raise ValueError(f"Finding.temporal: {self.temporal!r} is not one of {', '.join(TEMPORAL_CHANGES)}")
        if self.certainty is not None:
            certainty = Certainty(self.certainty)
            object.__setattr__(self, "presence", certainty.presence)
            # only the grades that differ from their class's plain grade are kept, so equal findings compare equal
            object.__setattr__(self, "certainty", certainty if certainty in _GRADED else None)

    @property
    def graded_presence(self) -> Certainty:
        """The stated grade; the class's plain grade when none was stated."""
        if self.certainty is not None:
            return self.certainty
        return {Presence.PRESENT: Certainty.PRESENT, Presence.UNCERTAIN: Certainty.POSSIBLE,
                Presence.ABSENT: Certainty.ABSENT}[self.presence]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["presence"] = self.presence.value
        d["certainty"] = self.certainty.value if self.certainty is not None else None
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
            severity=d.get("severity"),
            certainty=Certainty(d["certainty"]) if d.get("certainty") else None,
            temporal=d.get("temporal"),
            position=d.get("position"),
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


@dataclass(frozen=True)
class Dataset:
    """The cases of one split, with the hash that names them and where they came from."""

    cases: tuple[Case, ...]
    data_hash: str
    source: str  # "synthetic:<dir>" or the path of a real dataset
    info: Mapping[str, Any] = field(default_factory=dict)


class AnswerField:
    """The keys of ``Answer.fields`` read outside the task that writes them: by the evidence, format, grounding and
    grounding-score metrics, the trainer's rewards and the leaderboard's case pages (and, as written, by every
    ``samples.jsonl``). A task's ``parse`` sets those of the steps its protocol has; a key it leaves out means the
    task has no such step, a None value that the step was due but has no answer."""

    #: the 1-based number of the slice the report names as its evidence (None: none valid)
    KEY_SLICE: Final = "key_slice"
    #: that slice's z index in the volume (None: none valid)
    KEY_SLICE_Z: Final = "key_slice_z"
    #: the verification step: ``key_point`` [x, y, z], ``key_lesion``, ``visible`` lesions by plane and the
    #: parsed ``planes`` of the answer; None when no verification was asked
    VERIFY: Final = "verify"
    #: the probe put to the model (``Probe.to_dict()``) with the model's ``answer``; None when none was put
    PROBE: Final = "probe"
    #: the boxes parsed from a grounding answer (normalised x0, y0, x1, y1), None when none parsed, and the
    #: syntax they were read in
    BOXES: Final = "boxes"
    BOX_FORMAT: Final = "box_format"


#: how a probe is put to the model, rotating over cases: a yes/no question, a leading clinical history before the
#: report request, or a draft report to correct
PROBE_STYLES = ("yesno", "history", "draft")


@dataclass(frozen=True)
class Probe:
    """A true or a plausible false finding put to the model (the E-MRL rejection step); tasks build them from the
    truth, the probes metric reads them back from the request's info."""

    style: str  # one of PROBE_STYLES
    true: bool  # is the finding in the truth?
    kind: str  # "true", or how the false finding was made: "other_organ", "other_side", "wrong_count", ...
    finding: Finding
    claim: str  # noun phrase: "a mass in the left kidney", "two masses in the liver"

    def to_dict(self) -> dict[str, Any]:
        return {"style": self.style, "true": self.true, "kind": self.kind, "finding": self.finding.to_dict(),
                "claim": self.claim}


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


#: the anatomical axis codes a ``VolumeInput.orientation`` letter may be, in pairs of opposite directions
AXIS_CODES = (("L", "R"), ("P", "A"), ("I", "S"))


@dataclass(frozen=True)
class VolumeInput:
    """A 3D scan as a model is given it: ``array`` is channels x depth x height x width (float32, intensities
    already windowed or scaled by the task), ``spacing`` the voxel size in mm along depth, height and width, and
    ``orientation`` three axis codes (nibabel/MONAI convention) naming the direction each spatial axis runs
    towards: ``"SAR"`` is depth inferior->superior, height posterior->anterior, width left->right (the patient's).
    A model family reorients and resamples it to its own input grid; the task never needs to know which.
    """

    array: Any  # numpy array (C, D, H, W); may be memory-mapped: it is read when a backend preprocesses it
    spacing: tuple[float, float, float]
    orientation: str

    def __post_init__(self) -> None:
        shape = tuple(getattr(self.array, "shape", ()))
        if len(shape) != 4 or min(shape) < 1:
            raise ValueError(f"VolumeInput.array must be channels x depth x height x width, not shape {shape}")
        if len(self.spacing) != 3 or not all(float(s) > 0 for s in self.spacing):
            raise ValueError(f"VolumeInput.spacing must be three positive sizes in mm, not {self.spacing!r}")
        codes = str(self.orientation).upper()
        pairs = [next((i for i, pair in enumerate(AXIS_CODES) if c in pair), None) for c in codes]
        if len(codes) != 3 or None in pairs or len(set(pairs)) != 3:
            raise ValueError(f"VolumeInput.orientation must be three axis codes, one of each of L/R, P/A and I/S "
                             f"(e.g. 'SAR'), not {self.orientation!r}")
        object.__setattr__(self, "orientation", codes)
        object.__setattr__(self, "spacing", tuple(float(s) for s in self.spacing))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.array.shape)  # type: ignore[return-value]


@dataclass(frozen=True)
class Request:
    """One model call: chat messages whose image and volume parts are filled lazily.

    ``messages`` follow the transformers chat format with ``{"type": "image"}`` placeholders, and a
    ``{"type": "volume"}`` placeholder where a model that reads whole scans (M3D-LaMed) is to see the volume.
    The pixels are produced only when a backend needs them (``load_images``, ``load_volume``), so baselines
    never render a volume and a request stays cheap to build, hash and keep. A task may attach a volume beside
    the images: only a placeholder makes a backend load it.
    """

    case: Case
    kind: str  # the stage that asks it: "report", "verify", "probe", "grounding"; with the case id, its id
    messages: tuple[Mapping[str, Any], ...]
    load_images: Callable[[], list[Any]] = field(compare=False, repr=False, default=lambda: [])
    info: Mapping[str, Any] = field(default_factory=dict)
    #: the scan as one volume, or None when the task has none to give
    load_volume: Callable[[], VolumeInput] | None = field(compare=False, repr=False, default=None)

    @property
    def request_id(self) -> str:
        return f"{self.case.case_id}/{self.kind}"

    def count_parts(self, kind: str) -> int:
        """How many ``{"type": kind}`` placeholders the messages hold (``"image"``, ``"volume"``)."""
        return count_parts(self.messages, kind)

    def checked_images(self) -> list[Any]:
        """``load_images()``, checked against the image placeholders (not called when there are none): a
        mismatch would misalign every image, so it is refused by request id."""
        wanted = self.count_parts("image")
        images = list(self.load_images()) if wanted else []
        if len(images) != wanted:
            raise HarnessError(f"request {self.request_id} has {wanted} image placeholder(s) but "
                               f"load_images() gave {len(images)}")
        return images


def plain_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat ``messages`` as fresh plain dicts and lists (each message and part copied): processors inspect and
    adapters edit message content, and expect mutable JSON-like types."""
    return [{**message, "content": message["content"] if isinstance(message["content"], str)
             else [dict(part) for part in message["content"]]} for message in messages]


def count_parts(messages: Sequence[Mapping[str, Any]], kind: str) -> int:
    """How many ``{"type": kind}`` placeholders chat ``messages`` hold (``"image"``, ``"volume"``)."""
    return sum(1 for message in messages if not isinstance(message["content"], str)
               for part in message["content"] if part.get("type") == kind)


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
