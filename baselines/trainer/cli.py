"""``harness train sft`` and ``harness train emrl``: a typer app the harness CLI mounts as ``train``.

Also runnable on its own, which is how several GPUs are used::

    accelerate launch --config_file baselines/trainer/accelerate/zero2.yaml \\
        -m baselines.trainer.cli emrl --config baselines/trainer/configs/emrl.yaml --model CKPT --out runs/emrl
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from harness.cli_support import friendly_errors

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Train a model: SFT cold start on oracle answers, then E-MRL GRPO with the harness's rewards.")

CONFIG_HELP = "YAML config (see baselines/trainer/configs/); CLI options and --set override it"
SET_HELP = "override KEY=VALUE, dotted (trl.learning_rate=1e-5, rewards.text=1, lora.r=8); repeatable"


def _explicit(model: Optional[str], out: Optional[Path], task: Optional[str], limit: Optional[int],
              seed: Optional[int], max_steps: Optional[int]) -> dict[str, Any]:
    given: dict[str, Any] = {"model": model, "output_dir": str(out) if out else None, "task": task,
                             "limit": limit, "seed": seed}
    if max_steps is not None:
        given["trl"] = {"max_steps": max_steps}
    return given


def _done(result: Any) -> None:
    typer.echo(f"checkpoint: {result.checkpoint}")
    typer.echo(f"log: {result.output_dir / 'train_log.jsonl'} · plot: {result.output_dir / 'training.png'}")
    typer.echo(f"evaluate: {result.summary['evaluate']}")


@app.command()
@friendly_errors
def sft(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="local checkpoint directory to start from"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (final checkpoint in OUT/final)"),
    task: Optional[str] = typer.Option(None, "--task", "-t"),
    limit: Optional[int] = typer.Option(None, "--limit", help="train on the first N cases"),
    seed: Optional[int] = typer.Option(None, "--seed"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="shortcut for --set trl.max_steps=N"),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
) -> None:
    """Supervised cold start (TRL SFTTrainer) on the oracle's answers to every protocol step."""
    from baselines.trainer.config import load_config
    from baselines.trainer.sft import train_sft

    cfg = load_config("sft", config, set_, **_explicit(model, out, task, limit, seed, max_steps))
    _done(train_sft(cfg))


@app.command()
@friendly_errors
def emrl(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="local checkpoint directory to start from"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (final checkpoint in OUT/final)"),
    task: Optional[str] = typer.Option(None, "--task", "-t"),
    limit: Optional[int] = typer.Option(None, "--limit", help="train on the first N cases"),
    seed: Optional[int] = typer.Option(None, "--seed"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="shortcut for --set trl.max_steps=N"),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
) -> None:
    """E-MRL GRPO (TRL GRPOTrainer): format, clinical, localization, cross-view and rejection rewards."""
    from baselines.trainer.config import load_config
    from baselines.trainer.grpo import train_emrl

    cfg = load_config("emrl", config, set_, **_explicit(model, out, task, limit, seed, max_steps))
    _done(train_emrl(cfg))


if __name__ == "__main__":  # `accelerate launch -m baselines.trainer.cli ...`
    app()
