"""Sentences that differ only in their sizes ("a nodule measuring 1.9 cm in the left upper lobe", the same with
2.4 cm) are read once and the reading reused with each sentence's own sizes: most sentences a report writer makes
new are new only in their numbers, and reading them was most of the reader's time.

A reading is reused only where it provably does not depend on the sizes' values:

- it is kept by the sentence's normalised tokens with every number left out (the rewrites of ``sentences``, some of
  which read a number's value, run on every sentence as before), with the other arguments of the reading;
- every number of the sentence is in a measurement the scan reads with ``scan._parse_size`` from its first token
  ("1.9 cm", "2 x 3 cm"), whose value is the only thing read from its digits: no bare number (a count, a list of
  sizes sharing a unit), no number a lexicon phrase might take in (the word before a measurement never comes
  before a number in a phrase), and no reordering of the tokens;
- the first reading of such a sentence is made with its sizes as ``TrackedSize`` values, which note any use of the
  value (a comparison, arithmetic, hashing, formatting: an organ's size against its normal limit, the largest of two
  sizes, a prior size against the current one) beyond passing it on; a reading that used one is not reused;
- a size may end up only as a finding's ``size_mm`` or the reading's ``prior_size``, and no text of the reading
  holds a digit.

Each later sentence with the same key gets the reading with its own sizes, each measurement re-read from its first
token with ``_parse_size``. Tests in ``tests/test_findings_extract.py`` check that readings reused this way equal
the readings of the same sentences read on their own, for random sizes.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Any, Callable

from harness.findings.report import ParsedFinding
from harness.findings.scan import Span, _parse_size


def _noting(name: str) -> Callable:
    base = getattr(float, name)

    def use(self, *args):
        self.uses.append(name)
        return base(self, *args)
    use.__name__ = name
    return use


class TrackedSize(float):
    """A size whose every use beyond being passed on is noted (in ``uses``, its sentence's list; no state shared
    between readings); it behaves as the float it is."""

    __slots__ = ("k", "uses")  # which measurement of the sentence it is; where its uses are noted

    def __new__(cls, value: float, k: int, uses: list[str]) -> TrackedSize:
        self = super().__new__(cls, value)
        self.k = k
        self.uses = uses
        return self

    def __eq__(self, other: Any) -> Any:
        if other is not self and isinstance(other, (int, float)):
            self.uses.append("==")
        return float.__eq__(self, other)

    def __ne__(self, other: Any) -> Any:
        if other is not self and isinstance(other, (int, float)):
            self.uses.append("!=")
        return float.__ne__(self, other)

    def __hash__(self) -> int:
        self.uses.append("hash")
        return float.__hash__(self)


for _name in ("__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__add__", "__radd__", "__sub__", "__rsub__",
              "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__rmod__", "__divmod__", "__rdivmod__", "__pow__", "__rpow__", "__neg__", "__pos__", "__abs__",
              "__int__", "__float__", "__round__", "__trunc__", "__floor__", "__ceil__", "__format__", "__repr__",
              "__str__", "is_integer", "as_integer_ratio", "hex", "conjugate", "__reduce__", "__reduce_ex__",
              "__getnewargs__"):
    setattr(TrackedSize, _name, _noting(_name))


_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DIGIT = re.compile(r"[0-9]")


def number_key(tokens: list[str], *rest: Any) -> tuple | None:
    """The key a sentence's reading is kept by for reuse, None when the sentence has no number."""
    words = tuple([None if t[:1].isdecimal() else t for t in tokens])
    return (words, *rest) if None in words else None


class SizeTracker:
    """What the first reading of a sentence reads of its sizes: ``spans_scanned`` is called on its scan."""

    def __init__(self, tokens: list[str], number_preceders: frozenset[str]) -> None:
        self.tokens = tokens
        self.numbers = [k for k, t in enumerate(tokens) if t[:1].isdecimal()]
        self.number_preceders = number_preceders
        #: each measurement's first and next token, in the order of its TrackedSize's k
        self.measurements: list[tuple[int, int]] = []
        self.reusable = all(_PLAIN_NUMBER.fullmatch(tokens[k]) for k in self.numbers)
        self.uses: list[str] = []  # the uses of the sizes' values the reading made

    def spans_scanned(self, tokens: list[str], spans: list[Span]) -> None:
        """Give every measurement a TrackedSize value; the reading is not reusable where a number is read otherwise
        (or the tokens were reordered: a rare case, not worth following)."""
        if tokens is not self.tokens or not self.reusable:
            self.reusable = False
            return
        left = set(self.numbers)
        for s in spans:
            if s.cat == "SIZE":
                if s.start > 0 and tokens[s.start - 1] in self.number_preceders:
                    self.reusable = False  # a phrase might take the number in ("segment 7", "x 3")
                    return
                s.value = TrackedSize(s.value, len(self.measurements), self.uses)
                self.measurements.append((s.start, s.end))
                left.difference_update(range(s.start, s.end))
        if left:
            self.reusable = False  # a bare number: a count, a list of sizes sharing a unit, a code


def _plain(values: list[Any]) -> bool:
    """The values hold no size and no text with a digit (a reading's fields: texts, sides, flags, enums, counts, and
    tuples and sets of these)."""
    texts = []
    for value in values:
        kind = type(value)
        if kind is str:
            texts.append(value)
        elif kind is tuple or kind is frozenset:
            values.extend(value)  # (looked at in turn by this loop)
        elif not (value is None or kind is bool or kind is int or kind is float or isinstance(value, enum.Enum)):
            return False  # a TrackedSize (no float by its type), or anything not known to be free of the sizes
    return _DIGIT.search(" ".join(texts)) is None


def _replaced(obj: Any, **changes: Any) -> Any:
    """A copy of a frozen dataclass with some fields changed: ``dataclasses.replace`` without its generic field walk
    and ``__init__`` (each reuse of a reading makes a few; the fields are valid already)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


@dataclasses.dataclass(frozen=True)
class SizedReading:
    """A sentence's reading with the places its sizes fill: ``read`` gives it with another sentence's sizes."""

    reading: Any  # extract.SentenceReading, with TrackedSize values where the sizes go
    #: each measurement's first and next token (the scan reads it with _parse_size from its first token)
    measurements: tuple[tuple[int, int], ...]
    #: (the finding's index, the measurement's index) for every finding sized by the sentence
    sized: tuple[tuple[int, int], ...]
    prior_size: int | None  # the measurement that is the reading's prior_size

    @classmethod
    def of(cls, tracked: Any, tracker: SizeTracker) -> tuple[SizedReading | None, Any | None]:
        """The reading kept for reuse (None where it depends on its sizes, or the tracker found it may), and the
        sentence's own reading with plain floats for its sizes (None where it cannot be told: read it afresh)."""
        if tracker.uses or not tracker.reusable or not tracker.measurements:
            return None, untracked(tracked)
        sized = []
        values: list[Any] = [v for name, v in tracked.__dict__.items()
                             if name not in ("findings", "in_context", "prior_size")]
        for i, it in enumerate(tracked.findings):
            size = it.finding.size_mm
            if type(size) is TrackedSize:
                sized.append((i, size.k))
            values += [it.observation_text, it.anatomy_text,
                       *(v for v in it.finding.__dict__.values() if v is not size)]
        prior = tracked.prior_size
        if not _plain(values) or not (prior is None or type(prior) is TrackedSize):
            return None, untracked(tracked)
        kept = cls(tracked, tuple(tracker.measurements), tuple(sized), None if prior is None else prior.k)
        # each size as _parse_size reads it from its first token (what ``read`` does): a size the scan made
        # otherwise (a bare number given the unit of a list) is not reused
        sizes = kept.sizes(tracker.tokens)
        if sizes is None or any(float.__ne__(tracked.findings[i].finding.size_mm, sizes[k]) for i, k in sized) \
                or (prior is not None and float.__ne__(prior, sizes[prior.k])):
            return None, untracked(tracked)
        return kept, kept.with_sizes(sizes)

    def sizes(self, tokens: list[str]) -> list[float] | None:
        """The sizes of ``tokens`` (normalised tokens with this reading's key); None where a measurement does not
        read as it did here."""
        sizes = []
        for start, end in self.measurements:
            size, stop = _parse_size(tokens, start)
            if size is None or stop != end:
                return None
            sizes.append(size)
        return sizes

    def read(self, tokens: list[str]) -> Any | None:
        """The reading with the sizes of ``tokens``; None where a measurement does not read as it did here (the
        caller then reads the sentence afresh)."""
        sizes = self.sizes(tokens)
        return None if sizes is None else self.with_sizes(sizes)

    def with_sizes(self, sizes: list[float]) -> Any:
        findings = list(self.reading.findings)
        for i, k in self.sized:
            it = findings[i]
            findings[i] = ParsedFinding(_replaced(it.finding, size_mm=sizes[k]), it.observation_text, it.anatomy_text)
        return _replaced(self.reading, findings=tuple(findings), in_context={},
                         prior_size=None if self.prior_size is None else sizes[self.prior_size])


def untracked(reading: Any) -> Any | None:
    """A reading made with TrackedSize values, with plain floats in their place (the values are the same: every use
    of a TrackedSize is a float's); None where one sits elsewhere than a finding's size or the prior size."""
    findings = list(reading.findings)
    for i, it in enumerate(findings):
        size = it.finding.size_mm
        if any(type(v) is TrackedSize for v in it.finding.__dict__.values() if v is not size):
            return None
        if type(size) is TrackedSize:
            findings[i] = ParsedFinding(_replaced(it.finding, size_mm=float.__float__(size)), it.observation_text,
                                        it.anatomy_text)
    if any(type(v) is TrackedSize or (type(v) is tuple and any(type(w) is TrackedSize for w in v))
           for name, v in reading.__dict__.items() if name not in ("findings", "prior_size")):
        return None
    prior = reading.prior_size
    return _replaced(reading, findings=tuple(findings), in_context={},
                     prior_size=float.__float__(prior) if type(prior) is TrackedSize else prior)
