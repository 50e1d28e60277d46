"""Model cards of the baseline zoo: a pydantic schema, loading with one-line errors, and weights discovery.

A card is one YAML file in this folder (or in a folder given with ``--cards``), named after the card: what
the model is (hub id, licence, architecture family), whether our backends can serve it, how (backend, engine
arguments), what it is shown (the prompt adapter) and how it decodes (sampling). Cards are data: nothing
here knows a model by name.

Weights are never downloaded. A card's hub id is looked for, in order, at an explicit path
(``--model-path NAME=DIR``), in each ``--weights-dir`` (``DIR/org/name``, ``DIR/name`` or a hub-cache layout
``DIR/models--org--name``), and in the Hugging Face hub cache (``models--org--name/snapshots/<rev>``, the
revision ``refs/main`` points at). Every place looked is reported when nothing is found.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import HarnessError

CARDS_DIR = Path(__file__).resolve().parent
CARD_SUFFIX = ".yaml"
_CARD_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")

#: architecture family -> the ``model_type`` values of checkpoints that belong to it. A checkpoint found on
#: disk whose config names another model_type (e.g. LLaVA-Med's original ``llava_mistral``) is not served.
FAMILIES: dict[str, tuple[str, ...]] = {
    "qwen2_5_vl": ("qwen2_5_vl",),
    "qwen3_vl": ("qwen3_vl", "qwen3_vl_moe"),
    "gemma3": ("gemma3",),
    "llava": ("llava",),
    "internvl": ("internvl",),
    "mllama": ("mllama",),
    "lamed": ("lamed_phi3", "lamed_llama"),  # M3D-LaMed: remote code, a volume instead of images
    "custom": (),  # remote-code models outside transformers' Auto classes; never served
}
BACKENDS = ("vllm", "transformers")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Engine(_Strict):
    """Engine arguments. All go to vLLM; the transformers backend takes ``max_pixels`` and
    ``trust_remote_code`` and picks its dtype itself ("auto": the checkpoint's on CUDA, float32 on CPU)."""

    tensor_parallel_size: int = Field(default=1, ge=1)
    data_parallel_size: int = Field(default=1, ge=1)
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    max_model_len: Optional[int] = Field(default=None, ge=1)
    max_pixels: Optional[int] = Field(default=None, ge=1)  # per image; Qwen-VL-style processors only
    mm_processor_kwargs: dict[str, Any] = Field(default_factory=dict)
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    trust_remote_code: bool = False
    enforce_eager: bool = False


class Montage(_Strict):
    """How a ``montage`` layout tiles a request's views into one image."""

    columns: Optional[int] = Field(default=None, ge=1)  # None: the smallest square grid that holds them
    tile_size: int = Field(default=128, ge=16, le=2048)  # pixels per tile side


class Prompt(_Strict):
    """The prompt adapter: what a task's request becomes before the backend sees it.

    The task asks for the views and the tagged answer itself (``<report>...</report><key_slice>N</key_slice>``
    for ct_tumor); the adapter adds the model's system prompt and fits the views to the model's image slots:
    ``max_images`` subsamples a labelled series (``Slice 7:`` + image) evenly, keeping every other view and the
    original numbers, so the key slice the model names still maps to the task's slice list; ``montage`` tiles
    all views into one captioned image, for models trained on one image per prompt; ``volume`` replaces all
    views with the request's scan as one volume (``{"type": "volume"}``), for models that read whole scans.
    """

    system: Optional[str] = None
    layout: Literal["interleaved", "montage", "volume"] = "interleaved"
    max_images: Optional[int] = Field(default=None, ge=1)
    view_label: str = r"^\s*(.{1,40}?)\s*:\s*$"  # a text part right before an image that names it
    series_label: str = r"^Slice (\d+)$"  # a view label belonging to the subsampled series
    subsample_note: str = ("Only {shown} of the {total} numbered axial slices are shown; each keeps its "
                           "number. Name the key slice by that number.")
    montage: Montage = Montage()
    montage_note: str = ("The {n} views are tiled into this one image, left to right and top to bottom, each "
                         "captioned in its top-left corner: {labels}.")
    volume_note: str = "The scan is given as one 3D volume in place of the {n} images named here ({labels})."
    answer_hint: Optional[str] = None  # appended to the last user message

    @field_validator("view_label", "series_label")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        if pattern.groups < 1:
            raise ValueError("needs one capture group (the label, or the slice number)")
        return value

    @field_validator("subsample_note")
    @classmethod
    def _subsample_fields(cls, value: str) -> str:
        return _format_check(value, shown=1, total=2)

    @field_validator("montage_note", "volume_note")
    @classmethod
    def _montage_fields(cls, value: str) -> str:
        return _format_check(value, n=2, labels="a, b")


class SamplingCard(_Strict):
    max_new_tokens: int = Field(default=512, ge=1)
    temperature: float = Field(default=0.0, ge=0)  # 0 = greedy
    top_p: float = Field(default=1.0, gt=0, le=1)


class Card(_Strict):
    """One baseline model. ``name`` is the file's stem and is not written in the file."""

    name: str
    display_name: str = Field(min_length=1, max_length=120)
    hub_id: str
    organisation: str = Field(min_length=1, max_length=200)
    licence: str = Field(min_length=1, max_length=200)
    licence_url: Optional[str] = None
    gated: bool = False  # the hub asks users to accept the licence before downloading
    group: Literal["general", "medical", "ct_native"]
    family: str
    status: Literal["supported", "needs_conversion", "unsupported"] = "supported"
    notes: str = ""
    backend: Literal["vllm", "transformers"] = "vllm"
    batch_size: int = Field(default=256, ge=1)  # requests per backend call (vLLM schedules them itself)
    #: the box syntax the family emits (tasks/cxr_grounding/boxes.py FORMATS); the grounding task asks and reads it
    box_format: str = "norm1"
    engine: Engine = Engine()
    prompt: Prompt = Prompt()
    sampling: SamplingCard = SamplingCard()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _CARD_NAME.match(value):
            raise ValueError("a card's file name must be lower-case letters, digits and '_' (e.g. qwen2_5_vl_7b)")
        return value

    @field_validator("hub_id")
    @classmethod
    def _hub(cls, value: str) -> str:
        if not _HUB_ID.match(value):
            raise ValueError(f"'{value}' is not a hub id of the form org/name")
        return value

    @field_validator("box_format")
    @classmethod
    def _box_format(cls, value: str) -> str:
        from tasks.cxr_grounding.boxes import FORMATS

        if value not in FORMATS:
            raise ValueError(f"unknown box format '{value}'; known: {', '.join(FORMATS)}")
        return value

    @field_validator("family")
    @classmethod
    def _family(cls, value: str) -> str:
        if value not in FAMILIES:
            raise ValueError(f"unknown family '{value}'; known: {', '.join(FAMILIES)}")
        return value

    @model_validator(mode="after")
    def _status_consistent(self) -> "Card":
        if self.status != "supported" and not self.notes:
            raise ValueError(f"status '{self.status}' needs notes saying why and what would make it servable")
        if self.family == "custom" and self.status != "unsupported":
            raise ValueError("family 'custom' (remote code outside transformers' Auto classes) must have "
                             "status 'unsupported'")
        if self.prompt.layout == "volume" and self.backend != "transformers":
            raise ValueError("prompt layout 'volume' needs backend 'transformers' (the one that feeds volumes)")
        return self

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.hub_id}"

    def backend_options(self, backend: str) -> dict[str, Any]:
        """The options ``backend`` is built with, from the engine arguments and the prompt adapter's image count."""
        e = self.engine
        if backend == "vllm" and self.prompt.layout == "volume":
            raise HarnessError(f"zoo card '{self.name}' shows the model a volume, which only the transformers "
                               "backend feeds; run it with --backend transformers")
        if backend == "vllm":
            options: dict[str, Any] = {
                "tensor_parallel_size": e.tensor_parallel_size, "data_parallel_size": e.data_parallel_size,
                "dtype": e.dtype, "gpu_memory_utilization": e.gpu_memory_utilization,
                "trust_remote_code": e.trust_remote_code, "enforce_eager": e.enforce_eager,
            }
            if e.max_model_len is not None:
                options["max_model_len"] = e.max_model_len
            if e.max_pixels is not None:
                options["max_pixels"] = e.max_pixels
            if e.mm_processor_kwargs:
                options["mm_processor_kwargs"] = dict(e.mm_processor_kwargs)
            images = self.images_per_prompt
            if images is not None:
                options["limit_mm_per_prompt"] = images
            return options
        if backend == "transformers":
            options = {"trust_remote_code": e.trust_remote_code}
            if e.max_pixels is not None:
                options["max_pixels"] = e.max_pixels
            return options
        raise HarnessError(f"zoo cards run on {' or '.join(BACKENDS)}, not '{backend}'")

    def box_settings(self, backend_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The grounding task's ``boxes`` settings for this card: its box format and, for Qwen2.5-VL (pixels of
        the processor's resized image), the pixel bounds the processor resizes within, which ``backend_options``
        (the user's ``--model-option options=...``) may override as they override the engine's."""
        settings: dict[str, Any] = {"format": self.box_format}
        if self.box_format == "qwen2_5_vl":
            given = {**self.engine.mm_processor_kwargs, **({"max_pixels": self.engine.max_pixels}
                                                           if self.engine.max_pixels is not None else {})}
            for source in (dict((backend_options or {}).get("mm_processor_kwargs") or {}), backend_options or {}):
                given.update({k: source[k] for k in ("min_pixels", "max_pixels") if source.get(k) is not None})
            resize = {k: int(given[k]) for k in ("min_pixels", "max_pixels") if k in given}
            if resize:
                settings["qwen2_5_vl_resize"] = resize
        return settings

    @property
    def images_per_prompt(self) -> Optional[int]:
        """Images one adapted request carries at most, when the card fixes it (else: the task decides)."""
        if self.prompt.layout == "montage":
            return 1
        if self.prompt.layout == "volume":
            return 0
        return self.prompt.max_images


def _format_check(value: str, **fields: Any) -> str:
    try:
        value.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"may use only the fields {{{'}, {'.join(fields)}}} ({exc!r})") from None
    return value


# -- loading --------------------------------------------------------------------------------------------------
def load_card(path: Path) -> Card:
    """One card; every problem is one line naming the file and the field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HarnessError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise HarnessError(f"{path}: not valid YAML{where} ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: a card must be a YAML mapping of fields, not {type(data).__name__}")
    if "name" in data:
        raise HarnessError(f"{path}: field 'name': a card is named by its file name; remove the field")
    try:
        return Card(name=path.stem, **data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        field = ".".join(str(part) for part in first["loc"]) or "(card)"
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise HarnessError(f"{path}: field '{field}': {message}{more}") from None


def card_files(dirs: Iterable[Path] = ()) -> list[Path]:
    """The built-in cards, then those of ``dirs``."""
    files: list[Path] = []
    for directory in (CARDS_DIR, *map(Path, dirs)):
        if not directory.is_dir():
            raise HarnessError(f"cards folder '{directory}' does not exist")
        files += sorted(directory.glob(f"*{CARD_SUFFIX}"))
    return files


def load_cards(dirs: Iterable[Path] = ()) -> dict[str, Card]:
    """Every card by name; two files of one name are refused."""
    cards: dict[str, Card] = {}
    origin: dict[str, Path] = {}
    for path in card_files(dirs):
        card = load_card(path)
        if card.name in cards:
            raise HarnessError(f"{path}: a card named '{card.name}' is already defined in {origin[card.name]}")
        cards[card.name] = card
        origin[card.name] = path
    return cards


def get_card(name: str, dirs: Iterable[Path] = ()) -> Card:
    cards = load_cards(dirs)
    if name not in cards:
        hint = difflib.get_close_matches(name, list(cards), n=1)
        raise HarnessError(f"unknown zoo card '{name}'" + (f"; did you mean '{hint[0]}'?" if hint else
                                                          f"; known: {', '.join(cards)}"))
    return cards[name]


# -- weights discovery ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Weights:
    """Where a card's checkpoint is on this machine, or every place it was looked for."""

    path: Optional[Path]
    looked: tuple[str, ...]
    problem: Optional[str] = None  # found a directory, but it cannot be served as this card

    @property
    def found(self) -> bool:
        return self.path is not None and self.problem is None

    def describe(self) -> str:
        if self.found:
            return f"weights found at {self.path}"
        if self.problem:
            return self.problem
        return f"not found: looked in {', '.join(self.looked)}"


def default_hub_cache() -> Path:
    """The Hugging Face hub cache as huggingface_hub resolves it (HF_HUB_CACHE, HF_HOME, ~/.cache)."""
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE)
    except ImportError:
        return Path.home() / ".cache" / "huggingface" / "hub"


def find_weights(card: Card, weights_dirs: Iterable[Path] = (), hub_cache: Optional[Path] = None,
                 override: Optional[Path] = None) -> Weights:
    """The card's checkpoint directory: ``override``, else in ``weights_dirs``, else in ``hub_cache``."""
    if override is not None:
        path = Path(override).expanduser()
        looked = (str(path),)
        if not _is_checkpoint(path):
            return Weights(None, looked, f"not found: {path} is not a checkpoint directory "
                                         "(no config.json with weights beside it)")
        return _checked(card, path.resolve(), looked)
    org, repo = card.hub_id.split("/")
    cache_name = f"models--{org}--{repo}"
    candidates: list[Path] = []
    for directory in map(lambda d: Path(d).expanduser(), weights_dirs):
        candidates += [directory / org / repo, directory / repo, directory / cache_name]
    candidates.append(Path(hub_cache if hub_cache is not None else default_hub_cache()).expanduser() / cache_name)
    looked: list[str] = []
    for candidate in candidates:
        looked.append(str(candidate))
        path = _snapshot(candidate) if candidate.name == cache_name else candidate
        if path is not None and _is_checkpoint(path):
            return _checked(card, path.resolve(), tuple(looked))
    return Weights(None, tuple(looked))


def _snapshot(repo_dir: Path) -> Optional[Path]:
    """The snapshot a hub-cache repo folder's ``refs/main`` names, else its newest complete snapshot."""
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        pinned = snapshots / ref.read_text().strip()
        if _is_checkpoint(pinned):
            return pinned
    complete = [p for p in snapshots.iterdir() if _is_checkpoint(p)]
    return max(complete, key=lambda p: p.stat().st_mtime) if complete else None


def _is_checkpoint(path: Path) -> bool:
    from harness.models.hf import WEIGHT_PATTERNS

    return (path / "config.json").is_file() and any(any(path.glob(p)) for p in WEIGHT_PATTERNS)


def _checked(card: Card, path: Path, looked: tuple[str, ...]) -> Weights:
    """A checkpoint of another architecture than the card's family is reported, not served."""
    try:
        config = json.loads((path / "config.json").read_text())
        model_type = config.get("model_type") if isinstance(config, Mapping) else None
    except (OSError, ValueError):
        model_type = None
    wanted = FAMILIES[card.family]
    if wanted and model_type not in wanted:
        return Weights(path, looked, f"found {path}, but its model_type is '{model_type}', not "
                                     f"{' or '.join(repr(t) for t in wanted)} ({card.family}); "
                                     f"{card.notes or 'it cannot be served as this card'}")
    return Weights(path, looked)


# -- documentation --------------------------------------------------------------------------------------------
STATUS_TEXT = {"supported": "supported", "needs_conversion": "needs conversion", "unsupported": "unsupported"}


def markdown_table(cards: Mapping[str, Card]) -> str:
    """The zoo as a Markdown table (README.md holds it; the leaderboard site can render it too)."""
    lines = ["| card | model | group | licence | backend | status |", "|---|---|---|---|---|---|"]
    for name, card in cards.items():
        licence = card.licence + (" (gated)" if card.gated else "")
        backend = "-" if card.status == "unsupported" else card.backend
        lines.append(f"| `{name}` | [{card.display_name}]({card.url}) | {card.group.replace('_', '-')} | {licence} "
                     f"| {backend} | {STATUS_TEXT[card.status]} |")
    return "\n".join(lines)
