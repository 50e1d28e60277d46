"""Training logs: one JSON line per logged step (each reward's mean, the loss...) and a plot of them at the end.

``train_log.jsonl`` holds every number TRL logs at a step (``rewards/<name>/mean``, ``reward``, ``loss``,
``completions/mean_length``...), flushed as it comes, so a killed run keeps its curve; ``training.png`` plots
each reward's mean per step (GRPO) or the loss (SFT), with matplotlib's file-only Agg backend.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

LOG_FILE = "train_log.jsonl"
PLOT_FILE = "training.png"
REWARD_PREFIX = "rewards/"


def make_callback(output_dir: str | Path, title: str, plot: bool = True) -> Any:
    """A transformers TrainerCallback (built here so that importing this module needs no transformers)."""
    from transformers import TrainerCallback

    class StepLog(TrainerCallback):
        def __init__(self) -> None:
            self.path = Path(output_dir) / LOG_FILE
            self.records: list[dict[str, Any]] = []

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text("")

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs or "train_runtime" in logs:
                return
            record = {"step": state.global_step, **{k: _number(v) for k, v in logs.items()}}
            self.records.append(record)
            with self.path.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
                fh.flush()

        def on_train_end(self, args, state, control, **kwargs):
            if state.is_world_process_zero and plot and self.records:
                plot_log(self.records, Path(output_dir) / PLOT_FILE, title)

    return StepLog()


def read_log(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def reward_names(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The rewards a log holds (``rewards/<name>/mean`` keys), in first-seen order."""
    names: dict[str, None] = {}
    for r in records:
        for key in r:
            if key.startswith(REWARD_PREFIX) and key.endswith("/mean"):
                names[key[len(REWARD_PREFIX):-len("/mean")]] = None
    return list(names)


def plot_log(records: Sequence[Mapping[str, Any]], out: Path, title: str) -> Path:
    """Each reward's mean per step (and the weighted total) if the log has rewards, else the loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = reward_names(records)
    series = ({n: f"{REWARD_PREFIX}{n}/mean" for n in names} | {"total (weighted)": "reward"}) if names \
        else {"loss": "loss"}
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, key in series.items():
        points = [(r["step"], r[key]) for r in records if _finite(r.get(key))]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", markersize=3, label=label,
                    linestyle="--" if key == "reward" else "-")
    ax.set_xlabel("step")
    ax.set_ylabel("mean reward per step" if names else "loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _number(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    return v


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
