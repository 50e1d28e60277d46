"""What the base Task gives every task: loading from a synthetic set or a set on disk, one way."""

from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.task import Dataset, Task


class _Minimal(Task):
    name = "minimal"
    version = "1"

    def requests(self, case, stage, previous):
        return ()

    def parse(self, case, predictions):
        raise NotImplementedError


def test_a_task_without_a_synthetic_set_asks_for_data():
    with pytest.raises(HarnessError, match="minimal has no built-in synthetic set: pass --data PATH"):
        _Minimal().load()


@pytest.mark.parametrize("task", ["ct_tumor", "cxr_report", "cxr_grounding"])
def test_a_dataset_layout_needs_data(task):
    from harness.registry import TASKS

    with pytest.raises(HarnessError, match="--dataset msd needs --data PATH"):
        TASKS.get(task)().load(dataset="msd")


def test_a_set_on_disk_goes_through_the_tasks_hook(monkeypatch, tmp_path):
    import harness.loaders

    seen = {}
    given = Dataset(cases=(), data_hash="h", source=str(tmp_path))

    def fake_load_data(path, task_name, **kwargs):
        seen.update(kwargs, path=path, task=task_name)
        return given

    class _Hooked(_Minimal):
        def on_disk(self, ds, *, skip_bad, limit, cache_dir):
            return Dataset(cases=(), data_hash=ds.data_hash + "+checked", source=ds.source)

    monkeypatch.setattr(harness.loaders, "load_data", fake_load_data)
    ds = _Hooked().load(data=tmp_path, limit=3, skip_bad=True)
    assert ds.data_hash == "h+checked" and seen["task"].name == "minimal" and seen["limit"] == 3 and seen["skip_bad"]


def test_a_subclass_outside_a_package_keeps_its_parents_config():
    from tasks.ct_tumor.task import CTTumorTask

    class _Local(CTTumorTask):
        pass

    class _LocalUnset(CTTumorTask):
        config_package = None

    _Local.__module__ = _LocalUnset.__module__ = "test_module_without_package"
    assert _Local().cfg == CTTumorTask().cfg == _LocalUnset().cfg


def test_a_loader_plugin_serves_the_tasks_that_read_what_it_gives(tmp_path):
    """A loader names no task: it declares its modality and record shape, and a task its own."""
    from harness.loaders import detect_dataset, load_dataset
    from harness.loaders.base import Loader
    from harness.registry import LOADERS
    from harness.schema import Case

    class _Sonar(Loader):
        name, title = "sonar", "ultrasound clips"
        modality, record = "us", "study"

        @classmethod
        def detect(cls, path):
            return (path / "sonar.txt").is_file()

        def load(self, path, task, split, bad, cache_dir, limit=None):
            case = Case(case_id="s1", task=self.task, image_path=None, label_path=None, reference_report="ok",
                        findings=())
            return [case], {}

    class _Ultrasound(_Minimal):
        name = "ultrasound"
        modality, records = "us", ("study",)

    (tmp_path / "sonar.txt").write_text("x")
    LOADERS.register("sonar", _Sonar)
    try:
        assert detect_dataset(tmp_path, _Ultrasound()) == "sonar"
        (case,) = _Ultrasound().load(data=tmp_path, cache_dir=tmp_path / "cache").cases
        assert case.task == "ultrasound"
        with pytest.raises(HarnessError, match="looks like sonar, which gives us study records; ct_tumor reads ct "
                                               "study records"):
            load_dataset(tmp_path, "ct_tumor")
        with pytest.raises(HarnessError, match="dataset .sonar. gives us study records; minimal reads no data set"):
            load_dataset(tmp_path, _Minimal(), dataset="sonar")
    finally:
        LOADERS.unregister("sonar")
