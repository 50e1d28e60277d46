"""The entry-point registries: a name two installed packages declare differently is an error, not a silent pick."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

import harness.registry as registry
from harness.errors import HarnessError


@pytest.fixture
def fake_group(monkeypatch):
    def install(*eps: EntryPoint):
        monkeypatch.setattr(registry, "entry_points", lambda group: [ep for ep in eps if ep.group == group])
        registry._group.cache_clear()
        registry._clashes.cache_clear()

    yield install
    registry._group.cache_clear()
    registry._clashes.cache_clear()


def test_a_name_declared_twice_with_different_targets_is_an_error_naming_both(fake_group):
    fake_group(EntryPoint("task", "pkg_a:DEFAULT", "harness.test_defaults"),
               EntryPoint("task", "pkg_b:DEFAULT", "harness.test_defaults"),
               EntryPoint("other", "json:dumps", "harness.test_defaults"))
    reg = registry.Registry("harness.test_defaults", "default")
    with pytest.raises(HarnessError, match="more than one installed package") as err:
        reg.get("task")
    assert "pkg_a:DEFAULT" in str(err.value) and "pkg_b:DEFAULT" in str(err.value)
    import json

    assert reg.get("other") is json.dumps  # the rest of the group still loads


def test_the_same_target_declared_twice_is_one_entry(fake_group):
    fake_group(EntryPoint("dumps", "json:dumps", "harness.test_group"),
               EntryPoint("dumps", "json:dumps", "harness.test_group"))
    import json

    assert registry.Registry("harness.test_group", "thing").get("dumps") is json.dumps
