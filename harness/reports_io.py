"""Reading report files people already have: id -> report text(s), with errors that name the file and the record.

Formats, chosen by extension: ``.json`` (an object ``{id: text}`` or ``{id: [text, ...]}``, as R2Gen-style
``test_result.json`` / ``test_refs.json``), ``.jsonl`` / ``.ndjson`` (one object per line with an id and a text
field), ``.csv`` / ``.tsv`` (a header row with id and text columns), anything else: plain text, one report per line,
matched to the other file by line number.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import DataError

TEXT_FIELDS = ("report", "text", "prediction", "generated", "reference", "caption")  # tried in this order
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv", ".tsv")


@dataclass(frozen=True)
class ReportFile:
    """The reports of one file, in file order; ``texts[id]`` is every text given for that id."""

    path: Path
    format: str  # json | jsonl | csv | lines
    texts: Mapping[str, tuple[str, ...]]
    sha256: str
    options: Mapping[str, Any] = field(default_factory=dict)  # the id/text field actually used

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "sha256": self.sha256, "n": len(self.texts),
                **self.options}


@dataclass(frozen=True)
class ReadOptions:
    text_field: str | None = None  # JSONL field / CSV column of the text; detected from TEXT_FIELDS when None
    id_field: str = "id"


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    return "lines"


def read_reports(path: Path, options: ReadOptions = ReadOptions()) -> ReportFile:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise DataError(f"{path}: empty file")
    fmt = file_format(path)
    reader = {"json": _read_json, "jsonl": _read_jsonl, "csv": _read_csv, "lines": _read_lines}[fmt]
    texts, used = reader(path, text, options)
    if not texts:
        raise DataError(f"{path}: no reports in the file")
    return ReportFile(path=path, format=fmt, texts=texts, sha256=digest, options=used)


def _reject_duplicates(path: Path):
    def hook(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise DataError(f"{path}: id '{key}' appears twice")
            out[key] = value
        return out
    return hook


def _texts_of(path: Path, where: str, value: Any) -> tuple[str, ...]:
    """A text or a non-empty list of texts; anything else is an error naming the record."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, list):
        if not value:
            raise DataError(f"{path}: {where}: an empty list, expected a text")
        bad = next(v for v in value if not isinstance(v, str))
        raise DataError(f"{path}: {where}: a list holding {_kind(bad)}, expected texts")
    raise DataError(f"{path}: {where}: {_kind(value)}, expected a text or a list of texts")


def _kind(value: Any) -> str:
    return {type(None): "null", bool: "a boolean", int: "a number", float: "a number", dict: "an object",
            list: "a list"}.get(type(value), type(value).__name__)


def _read_json(path: Path, text: str, options: ReadOptions):
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object of id -> text, found {_kind(data)}"
                        + ("; use a .jsonl file for one record per line" if isinstance(data, list) else ""))
    return {str(k): _texts_of(path, f"id '{k}'", v) for k, v in data.items()}, {}


def _record_id(path: Path, where: str, record: Mapping[str, Any], id_field: str) -> str:
    if id_field not in record:
        raise DataError(f"{path}: {where}: no '{id_field}' field (fields: {', '.join(map(str, record)) or 'none'}; "
                        f"set --id-column)")
    value = record[id_field]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"{path}: {where}: '{id_field}' is {_kind(value)}, expected a string or an integer")
    return str(value)


def _text_field(path: Path, where: str, fields: Sequence[str], options: ReadOptions, flag: str) -> str:
    if options.text_field is not None:
        if options.text_field not in fields:
            raise DataError(f"{path}: {where}: no '{options.text_field}' field (fields: {', '.join(fields)})")
        return options.text_field
    found = next((f for f in TEXT_FIELDS if f in fields), None)
    if found is None:
        raise DataError(f"{path}: {where}: none of the text fields {', '.join(TEXT_FIELDS)} (fields: "
                        f"{', '.join(fields)}); set {flag}")
    return found


def _read_jsonl(path: Path, text: str, options: ReadOptions):
    out: dict[str, tuple[str, ...]] = {}
    first_line: dict[str, int] = {}
    text_key: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: {where}: not valid JSON ({exc.msg}, column {exc.colno})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}: {where}: expected a JSON object, found {_kind(record)}")
        rid = _record_id(path, where, record, options.id_field)
        text_key = text_key or _text_field(path, where, list(record), options, "--field")
        if text_key not in record:
            raise DataError(f"{path}: {where} (id '{rid}'): no '{text_key}' field")
        if rid in out:
            raise DataError(f"{path}: {where}: id '{rid}' already given on line {first_line[rid]}")
        out[rid] = _texts_of(path, f"{where} (id '{rid}')", record[text_key])
        first_line[rid] = lineno
    return out, {"id_field": options.id_field, "text_field": text_key}


def _read_csv(path: Path, text: str, options: ReadOptions):
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        rows = list(csv.reader(text.splitlines(), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise DataError(f"{path}: not valid CSV ({exc})") from None
    header, body = rows[0], rows[1:]
    if options.id_field not in header:
        raise DataError(f"{path}: line 1: no '{options.id_field}' column (columns: {', '.join(header)}; "
                        f"set --id-column)")
    text_key = _text_field(path, "line 1", header, options, "--text-column")
    id_at, text_at = header.index(options.id_field), header.index(text_key)
    out: dict[str, tuple[str, ...]] = {}
    first_line: dict[str, int] = {}
    # csv.reader joins quoted multi-line fields, so a row's line number is counted from the raw text
    line_of = _csv_row_lines(text, delimiter)
    for i, row in enumerate(body):
        lineno = line_of[i + 1] if i + 1 < len(line_of) else i + 2
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{path}: line {lineno}: {len(row)} fields, the header has {len(header)}")
        rid = row[id_at]
        if rid in out:
            raise DataError(f"{path}: line {lineno}: id '{rid}' already given on line {first_line[rid]}")
        out[rid] = (row[text_at],)
        first_line[rid] = lineno
    return out, {"id_field": options.id_field, "text_field": text_key}


def _csv_row_lines(text: str, delimiter: str) -> list[int]:
    """The 1-based line on which each CSV row starts."""
    starts, lineno = [], 1
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    while True:
        starts.append(lineno)
        try:
            next(reader)
        except StopIteration:
            break
        lineno = reader.line_num + 1
    return starts


def _read_lines(path: Path, text: str, options: ReadOptions):
    lines = text.splitlines()
    while lines and not lines[-1].strip():  # a trailing blank line is the end of the file, not an empty report
        lines.pop()
    return {str(i): (line,) for i, line in enumerate(lines, start=1)}, {"ids": "line numbers"}
