"""A third-party package (tests/plugin_pkg) installed with pip adds a task, a metric, a data set loader and a training
reward through entry points only: `harness list` shows them, `harness run` evaluates the task on the loader's data
with a baseline and the plug-in metric, and a 2-step `harness train emrl` on the tiny model trains with the plug-in
reward and the plug-in metric as a reward."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "plugin_pkg"
HARNESS = Path(sys.executable).parent / "harness"
SWATCHES = "s1 red\ns2 blue\ns3 green\ns4 red\n"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """The plug-in installed (pip, no network) into a folder of its own, on the path of the harness it runs."""
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(PLUGIN, work / "src")  # a build writes its egg-info beside the sources, not here
    site = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(source)], check=True, capture_output=True)
    # no empty entry: it would put the working directory first on the path, and a stale egg-info there would
    # hide the harness's own entry points
    paths = [str(site), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    data = work / "swatches"
    data.mkdir()
    (data / "swatches.txt").write_text(SWATCHES)
    return env, data


def harness(env, *args, timeout=600):
    done = subprocess.run([str(HARNESS), *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_list_shows_the_plugins_entries(plugin_env):
    env, _ = plugin_env
    listed = " ".join(harness(env, "list").split())
    for name in ("toy_colour", "toy_says_colour", "toy_swatches", "toy_brevity", "swatch study records",
                 "ct_tumor", "finding_f1", "msd", "cross_view"):  # beside the built-ins
        assert name in listed, name


def test_run_evaluates_the_plugin_task_on_the_plugin_loaders_data(plugin_env, tmp_path):
    env, data = plugin_env
    harness(env, "run", "--task", "toy_colour", "--model", "baseline:oracle", "--data", data, "--out",
            tmp_path / "run", "--bootstrap", "0")
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["n_cases"] == 4 and results["data_info"]["dataset"] == "toy_swatches"
    assert results["metrics"]["says_colour"]["value"] == 1.0


def test_train_emrl_two_steps_with_the_plugin_reward_and_metric(plugin_env, tiny_vlm_dir, tmp_path):
    pytest.importorskip("trl")
    env, data = plugin_env
    out = tmp_path / "emrl"
    off = [arg for name in ("format", "clinical", "localization", "cross_view", "rejection")
           for arg in ("--set", f"rewards.{name}=0")]
    cpu = {"use_cpu": True, "bf16": False, "gradient_checkpointing": False, "save_strategy": "no",
           "dataloader_num_workers": 0, "per_device_train_batch_size": 4, "num_generations": 2,
           "max_completion_length": 8, "logging_steps": 1}
    harness(env, "train", "emrl", "--model", tiny_vlm_dir, "--out", out, "--task", "toy_colour", "--max-steps", "2",
            "--set", f"data={data}", "--set", f"trl={json.dumps(cpu)}", *off,
            "--set", "rewards.toy_brevity=1", "--set", "rewards.toy_says_colour=1", "--set", "plot=false")
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["rewards"] == ["toy_brevity", "toy_says_colour"] and summary["steps"] == 2
