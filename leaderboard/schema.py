"""The submission file: a pydantic schema, and a loader whose every error names the file and the field.

A submission holds what a model said (its raw answer to each request, by case id and request kind) and who made
it. ``claimed_metrics`` (the numbers of the run it came from) are kept only to show when they disagree with the
re-scored values: the leaderboard never ranks on them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Optional
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import HarnessError

FORMAT = "emrl-harness-submission/1"
MAX_FILE_BYTES = 64 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


def _no_control(value: Optional[str], what: str) -> Optional[str]:
    if value is not None and _CONTROL.search(value):
        raise ValueError(f"{what} contains a control character")
    return value


class ModelInfo(_Strict):
    """Who and what made the predictions. Every string here is shown on the site, escaped."""

    name: str = Field(min_length=1, max_length=120)
    model_id: str = Field(min_length=1, max_length=300)
    backend: Optional[str] = Field(default=None, max_length=100)
    url: Optional[str] = Field(default=None, max_length=500)
    organisation: Optional[str] = Field(default=None, max_length=200)
    description: Optional[str] = Field(default=None, max_length=2000)

    @field_validator("name", "model_id", "backend", "organisation")
    @classmethod
    def _single_line(cls, v: Optional[str], info: Any) -> Optional[str]:
        return _no_control(v, info.field_name)

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: Optional[str]) -> Optional[str]:
        if v is None or v == "":
            return None
        _no_control(v, "url")
        parts = urlsplit(v)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in v:
            raise ValueError("url must be an http:// or https:// address")
        return v


class SamplingInfo(_Strict):
    max_new_tokens: int = Field(ge=1)
    temperature: float = Field(ge=0.0)
    top_p: float = Field(gt=0.0, le=1.0)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


class PredictionRecord(_Strict):
    """One raw model answer; ``kind`` is the protocol step of the request it answers ("report", "local"...)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=False)

    case_id: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=100)
    text: str = Field(max_length=100_000)


class Submission(_Strict):
    format: Literal[FORMAT]  # type: ignore[valid-type]
    task: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    task_version: str = Field(min_length=1, max_length=100)
    split: str = Field(min_length=1, max_length=100)
    data_hash: str = Field(min_length=1, max_length=100)
    n_cases: int = Field(ge=1)
    model: ModelInfo
    sampling: SamplingInfo
    submitted: datetime
    harness_version: str = Field(min_length=1, max_length=100)
    claimed_metrics: dict[str, Optional[float]] = Field(default_factory=dict)
    predictions: list[PredictionRecord] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_request_once(self) -> "Submission":
        seen: set[tuple[str, str]] = set()
        for i, p in enumerate(self.predictions):
            if (p.case_id, p.kind) in seen:
                raise ValueError(f"field 'predictions.{i}': case id '{p.case_id}' has a second '{p.kind}' prediction "
                                 "(duplicate case id)")
            seen.add((p.case_id, p.kind))
        n = len({p.case_id for p in self.predictions})
        if n != self.n_cases:
            raise ValueError(f"field 'n_cases': {self.n_cases} cases, but the predictions cover {n} case ids")
        return self

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def _where(error: dict[str, Any]) -> str:
    loc = ".".join(str(part) for part in error.get("loc", ()))
    return f"field '{loc}': " if loc else ""


def parse_submission(obj: Any, source: str) -> Submission:
    """Validate a decoded JSON object; errors read ``SOURCE: field 'a.b': what is wrong``."""
    try:
        return Submission.model_validate(obj)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        msg = first.get("msg", "invalid").removeprefix("Value error, ")
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise HarnessError(f"{source}: {_where(first)}{msg}{more}") from None


def load_submission(path: Path) -> Submission:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise HarnessError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise HarnessError(f"{path}: {size} bytes, over the {MAX_FILE_BYTES} byte limit for a submission")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise HarnessError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return parse_submission(obj, str(path))
