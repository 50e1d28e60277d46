"""A task's settings with ``--task-option`` overrides, checked against the packaged defaults before any work.

Every override must name a setting that exists (at any depth: ``views.nope`` is refused like ``nope``) and have
the type of its default (``views.n_axial=abc`` is refused by name, not 70 lines into a traceback). The defaults'
types are the schema: a task's ``config.yaml`` says what each setting is by what it holds.

``parse_options`` and ``nest`` read the command line's ``KEY=VALUE`` pairs (``--task-option``,
``--model-option``, ``--model-path``) into the mappings merged here; ``option_record``, ``positive_int`` and
``as_bool`` check a model backend's options (strings from the command line, or typed values from Python).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Mapping

import yaml

from harness.errors import HarnessError


@lru_cache(maxsize=None)
def packaged_settings(package: str) -> dict[str, Any]:
    """The default settings a task package ships as ``config.yaml`` (read once; never modify the result)."""
    return yaml.safe_load(resources.files(package).joinpath("config.yaml").read_text())


def parse_value(text: str) -> Any:
    """A command-line value: read as JSON when it is JSON (numbers, true/false, null, lists, objects), else kept
    as the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_options(pairs: Iterable[str], what: str, *, json_values: bool = True,
                  allow_empty: bool = True) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of the option ``what`` (e.g. ``--task-option``) as a mapping; values go through
    :func:`parse_value` unless ``json_values`` is false; ``allow_empty=False`` refuses ``KEY=``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or (not value and not allow_empty):
            raise HarnessError(f"{what} '{pair}' is not KEY=VALUE")
        out[key] = parse_value(value) if json_values else value
    return out


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys as nested mappings: ``{"views.n_axial": 16}`` -> ``{"views": {"n_axial": 16}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def merge_settings(task_name: str, defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None,
                   prefix: str = "") -> dict[str, Any]:
    """``defaults`` with ``overrides`` merged in at every depth; unknown names and wrong types are one-line errors."""
    out = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in defaults.items()}
    for key, value in (overrides or {}).items():
        name = f"{prefix}{key}"
        if key not in defaults:
            known = ", ".join(f"{prefix}{k}" for k in sorted(defaults))
            raise HarnessError(f"{task_name} has no setting '{name}' (settings: {known})")
        default = defaults[key]
        if isinstance(default, Mapping):
            if not isinstance(value, Mapping):
                first = next(iter(default), "KEY")
                raise HarnessError(f"{task_name} setting '{name}' is a group ({', '.join(default)}); set one of "
                                   f"them, e.g. --task-option {name}.{first}=VALUE")
            out[key] = merge_settings(task_name, default, value, prefix=f"{name}.")
        else:
            out[key] = _typed(task_name, name, default, value)
    return out


def _typed(task_name: str, name: str, default: Any, value: Any) -> Any:
    """``value`` as the type of ``default``, or a one-line error saying what the setting takes."""
    def refuse(what: str) -> HarnessError:
        return HarnessError(f"{task_name} setting '{name}' takes {what}, got {value!r}")

    if default is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise refuse("true or false")
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise refuse("a whole number")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise refuse("a number")
        return float(value)
    if isinstance(default, str):
        if isinstance(value, (Mapping, list)):
            raise refuse("a text")
        return str(value)
    if isinstance(default, list):
        if not isinstance(value, list) or len(value) != len(default):
            raise refuse(f"a list of {len(default)} values, e.g. {default}")
        return [_typed(task_name, f"{name}[{i}]", d, v) for i, (d, v) in enumerate(zip(default, value))]
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def option_record(cls: Any, options: Mapping[str, Any], what: str) -> Any:
    """``cls(**options)`` for a backend's options dataclass, an unknown name refused in one line naming the known
    (``what``: e.g. "transformers backend")."""
    unknown = sorted(set(options) - set(cls.__dataclass_fields__))
    if unknown:
        raise HarnessError(f"unknown {what} option(s) {', '.join(unknown)}; "
                           f"known: {', '.join(cls.__dataclass_fields__)}")
    return cls(**options)


def positive_int(name: str, value: Any, alternative: str = "") -> int:
    """``value`` (an int or its text) as an integer >= 1; ``alternative`` names another accepted value in the
    error (" or auto")."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or (isinstance(value, float) and not value.is_integer()):
        raise HarnessError(f"{name} must be a positive integer{alternative}, not {value!r}")
    return number


def as_bool(name: str, value: Any) -> bool:
    """``value`` (a bool, or 1/0, true/false, yes/no, on/off) as a bool."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in _TRUE + _FALSE:
        return str(value).lower() in _TRUE
    raise HarnessError(f"{name} must be true or false, not {value!r}")
