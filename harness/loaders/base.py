"""What every dataset loader shares: the loader contract, bad-record handling, CSV reading with row numbers.

A malformed record (a bad CSV row, a missing image, a truncated DICOM) raises ``DataError`` naming the file and
the row; in skip-bad mode the loader records it instead, finishes the rest, and the count and the first messages
go into ``Dataset.info``. Problems with a whole file (a missing column, an unreadable index) are never skipped.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from harness.errors import DataError

T = TypeVar("T")
MAX_MESSAGES = 50
csv.field_size_limit(1 << 26)  # radiology reports in one CSV cell can exceed the default 128 KiB


class Ignored(Exception):
    """A well-formed record the task cannot use (a study with no frontal image): counted by reason, no error."""


@dataclass
class BadRecords:
    """Strict (raise on the first bad record) or skip-bad (count it and go on)."""

    skip: bool = False
    count: int = 0
    messages: list[str] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # well-formed records the task cannot use, by reason

    def fail(self, message: str) -> None:
        if not self.skip:
            raise DataError(message + " (use --skip-bad to skip bad records and finish the rest)")
        self.count += 1
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)

    def attempt(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``fn(*args)``, or None when it raised ``DataError`` and bad records are skipped (or ``Ignored``)."""
        try:
            return fn(*args, **kwargs)
        except Ignored as exc:
            self.ignore(str(exc))
            return None
        except DataError as exc:
            self.fail(str(exc).removesuffix(" (use --skip-bad to skip bad records and finish the rest)"))
            return None

    def collect(self, make: Callable[..., T | None], jobs: Iterable[tuple], limit: int | None = None) -> list[T]:
        """``make(*job)`` for each job in turn through :meth:`attempt`, until ``limit`` results: the loop every
        loader runs over its records. ``jobs`` is read lazily, so a ``--limit`` run does no work past the last
        case it keeps."""
        out: list[T] = []
        for job in jobs:
            if limit is not None and len(out) >= limit:
                break
            result = self.attempt(make, *job)
            if result is not None:
                out.append(result)
        return out

    def ignore(self, reason: str) -> None:
        self.ignored[reason] = self.ignored.get(reason, 0) + 1

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"skipped": self.count}
        if self.messages:
            out["skipped_examples"] = list(self.messages)
        if self.ignored:
            out["ignored"] = dict(self.ignored)
        return out


@dataclass(frozen=True)
class Record:
    """One CSV data row: ``row`` counts data rows from 1 (the header is row 0); ``line`` is the file line."""

    path: Path
    row: int
    line: int
    values: dict[str, str]

    def where(self) -> str:
        return f"{self.path}, row {self.row} (line {self.line})"

    def get(self, column: str, default: str = "") -> str:
        value = self.values.get(column)
        return default if value is None else value.strip()

    def require(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise DataError(f"{self.where()}: empty '{column}'")
        return value

    def number(self, column: str) -> float:
        raw = self.require(column)
        try:
            value = float(raw)
        except ValueError:
            raise DataError(f"{self.where()}: '{column}' is not a number ({raw[:30]!r})") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise DataError(f"{self.where()}: '{column}' is not a finite number ({raw[:30]!r})")
        return value


def _open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_csv(path: Path, required: Sequence[str], bad: BadRecords) -> Iterator[Record]:
    """Rows of a CSV (``.csv`` or ``.csv.gz``) as ``Record``s; a row with the wrong number of fields or broken
    quoting is a bad record; a missing required column is an error for the whole file."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise DataError(f"{path}: the file is empty") from None
            header = [h.strip() for h in header]
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(missing)} (columns: {', '.join(header)})")
            row = 0
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row += 1
                    bad.fail(f"{path}, row {row} (line {reader.line_num}): malformed CSV ({exc})")
                    continue
                row += 1
                if not values or all(not v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    bad.fail(f"{path}, row {row} (line {reader.line_num}): {len(values)} fields, the header has "
                             f"{len(header)}")
                    continue
                yield Record(path, row, reader.line_num, dict(zip(header, values)))
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None


def find_file(root: Path, names: Sequence[str]) -> Path | None:
    """The first of ``names`` (globs allowed) found directly under ``root``."""
    for name in names:
        hits = sorted(root.glob(name))
        if hits:
            return hits[0]
    return None


def file_stamp(path: Path) -> list[Any]:
    """What identifies a file's version cheaply: name, size and modification time."""
    st = os.stat(path)
    return [str(path), st.st_size, int(st.st_mtime_ns)]


class TextSource:
    """Report files by relative path, from a folder or from inside a zip (MIMIC-CXR ships reports zipped)."""

    def __init__(self, directory: Path | None = None, archive: Path | None = None, prefix: str = ""):
        self.directory = directory
        self.archive = archive
        self.prefix = prefix
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}

    def _open_zip(self) -> zipfile.ZipFile:
        if self._zip is None:
            try:
                self._zip = zipfile.ZipFile(self.archive)
            except (OSError, zipfile.BadZipFile) as exc:
                raise DataError(f"{self.archive}: cannot be read as a zip archive ({exc})") from None
            for name in self._zip.namelist():  # members may sit under a top folder ("mimic-cxr-reports/files/...")
                key = name.split("files/", 1)[1] if "files/" in name else name
                self._names.setdefault(key, name)
        return self._zip

    def describe(self, rel: str) -> str:
        return f"{self.archive}:{rel}" if self.archive else str((self.directory or Path()) / rel)

    def read(self, rel: str) -> str | None:
        """The text, or None when there is no such file."""
        if self.directory is not None:
            p = self.directory / rel
            if not p.exists():
                return None
            return p.read_text(encoding="utf-8", errors="replace")
        z = self._open_zip()
        key = rel.split("files/", 1)[1] if "files/" in rel else rel
        name = self._names.get(key)
        return None if name is None else z.read(name).decode("utf-8", errors="replace")


#: the record shapes a loader can produce: ``study`` (an image or a volume with its report and/or the masks its
#: findings are written from), ``phrase_boxes`` (an image with phrase -> box pairs); a plug-in may add its own
RECORD_SHAPES = ("study", "phrase_boxes")


class Loader(ABC):
    """One dataset family. ``detect`` looks at a path cheaply; ``load`` returns its cases for a task.

    A loader names no task: it declares the ``modality`` of its images (``ct``, ``cxr``) and the ``record`` shape
    of its cases (:data:`RECORD_SHAPES`), and serves every task that reads them (``Task.modality`` and
    ``Task.records``). Loaders are registered under the ``harness.loaders`` entry-point group."""

    name: str
    title: str
    modality: str
    record: str

    def __init__(self, task: str = ""):
        self.task = task  # the name the cases are loaded for (``Case.task``)

    @classmethod
    def serves(cls, task: Any) -> bool:
        """Does a task (class or instance) read what this loader produces?"""
        return getattr(task, "modality", None) == cls.modality and cls.record in getattr(task, "records", ())

    @classmethod
    @abstractmethod
    def detect(cls, path: Path) -> bool:
        """Does ``path`` look like this dataset (file names and folder layout only; reads no images)?"""

    @abstractmethod
    def load(self, path: Path, task: str, split: str, bad: BadRecords, cache_dir: Path,
             limit: int | None = None) -> tuple[list, dict]:
        """(cases, info) of ``split`` for ``task``; with ``limit``, at most that many (the first ones), so that an
        expensive loader (masks to findings, DICOM to NIfTI) does only the work a ``--limit`` run needs."""


SECTION_RE = re.compile(r"^[ \t]*([A-Z][A-Z &/()-]{2,40}):", re.M)


def report_sections(text: str) -> dict[str, str]:
    """A free-text radiology report's sections by upper-case header ("FINDINGS:", "IMPRESSION:"), whitespace
    normalised; text before the first header goes under ""."""
    out: dict[str, str] = {}
    matches = list(SECTION_RE.finditer(text))
    if not matches or matches[0].start() > 0:
        out[""] = text[:matches[0].start()] if matches else text
    for m, nxt in zip(matches, matches[1:] + [None]):
        body = text[m.end():nxt.start() if nxt else len(text)]
        out[m.group(1).strip()] = body
    return {k: " ".join(v.split()) for k, v in out.items()}


def reference_text(findings: str, impression: str) -> str:
    """The reference report in the harness's form: "FINDINGS: ... IMPRESSION: ..." (empty parts left out)."""
    parts = []
    if findings.strip():
        parts.append("FINDINGS: " + " ".join(findings.split()))
    if impression.strip():
        parts.append("IMPRESSION: " + " ".join(impression.split()))
    return " ".join(parts)
