"""What a new user needs before the first command, kept in the README (and the demo that shows it)."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_says_how_to_avoid_the_cuda_torch_download():
    assert "about 6 GB" in README and "--index-url https://download.pytorch.org/whl/cpu" in README


def test_readme_says_make_tiny_needs_the_hf_extra_and_the_browser_test_needs_chromium():
    make_tiny = README[README.index("`harness model make-tiny DIR`"):][:300]
    assert "pip install -e '.[hf]'" in make_tiny
    assert "apt-get install -y chromium chromium-driver" in README


def test_the_demo_ends_with_a_comparison_of_the_baselines_and_says_where_its_runs_are():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    commands = [c.strip() for c in tox["testenv:demo"]["commands"].strip().splitlines()]
    runs = [c.split("--out ")[1] for c in commands if c.startswith("harness run")]
    assert commands[-1] == "harness compare " + " ".join(runs)
    assert ".tox/demo/tmp/runs/" in README


def test_the_reader_table_is_rendered_from_the_committed_result_file():
    import json

    from harness.metrics.metacheck import readme_table

    record = json.loads((ROOT / "benchmarks" / "results" / "reader_eval.json").read_text())
    assert readme_table(record) in README
