"""``harness train sft`` and ``harness train emrl``: a typer app the harness CLI mounts as ``train``.

Also runnable on its own, which is how several GPUs are used::

    accelerate launch --config_file baselines/trainer/accelerate/zero2.yaml \\
        -m baselines.trainer.cli emrl --config baselines/trainer/configs/emrl.yaml --model CKPT --out runs/emrl
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

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


def _train_command(mode: str, doc: str, train: Callable[[], Callable[[Any], Any]]) -> None:
    """One sub-command per training mode, with the same options: SFT and E-MRL differ in the trainer they run."""

    def command(
        config: Optional[Path] = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
        model: Optional[str] = typer.Option(None, "--model", "-m", help="local checkpoint directory to start from"),
        out: Optional[Path] = typer.Option(None, "--out", "-o",
                                           help="output directory (final checkpoint in OUT/final)"),
        task: Optional[str] = typer.Option(None, "--task", "-t"),
        limit: Optional[int] = typer.Option(None, "--limit", help="train on the first N cases"),
        seed: Optional[int] = typer.Option(None, "--seed"),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", help="shortcut for --set trl.max_steps=N"),
        set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    ) -> None:
        from baselines.trainer.config import load_config

        cfg = load_config(mode, config, set_, **_explicit(model, out, task, limit, seed, max_steps))
        _done(train()(cfg))

    command.__doc__ = doc
    command.__name__ = mode
    app.command(name=mode)(friendly_errors(command))


def _sft_trainer() -> Callable[[Any], Any]:
    from baselines.trainer.sft import train_sft

    return train_sft


def _emrl_trainer() -> Callable[[Any], Any]:
    from baselines.trainer.grpo import train_emrl

    return train_emrl


_train_command("sft", "Supervised cold start (TRL SFTTrainer) on the oracle's answers to every protocol step.",
               _sft_trainer)
_train_command("emrl", "E-MRL GRPO (TRL GRPOTrainer): format, clinical, localization, cross-view and rejection "
                       "rewards.", _emrl_trainer)


if __name__ == "__main__":  # `accelerate launch -m baselines.trainer.cli ...`
    app()
