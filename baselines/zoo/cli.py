"""``harness zoo list`` and ``harness zoo run``: the zoo's cards, run straight to the leaderboard.

Mounted by the main CLI as ``zoo`` on first use (the ``harness.commands`` entry point); this module does not
import ``harness.cli`` (no import cycle). ``harness baselines`` is the old name of ``harness zoo``: a hidden
alias that says so and runs the same commands (``deprecated_app``).

    harness zoo list --weights-dir /models
    harness zoo run --zoo qwen2_5_vl_7b --zoo medgemma_4b --task ct_tumor --weights-dir /models --submit
    harness zoo run --zoo qwen2_5_vl_3b --model-path qwen2_5_vl_3b=./my-ckpt --backend transformers

``harness model make-tiny`` (``model_app``) builds the zoo's tiny random-weight checkpoints of each family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from harness.cli_support import console, err_console, friendly_errors
from harness.errors import HarnessError
from harness.settings import parse_options
from leaderboard import DEFAULT_SUBMISSIONS

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="The baseline zoo: public VLMs as model cards, run through vLLM or transformers.")


def _overrides(model_path: list[str], cards: dict) -> dict[str, Path]:
    given = parse_options(model_path, "--model-path", json_values=False, allow_empty=False)
    paths = {name: Path(p) for name, p in given.items()}
    for name in paths:
        if name not in cards:
            raise HarnessError(f"--model-path names unknown card '{name}'; known: {', '.join(cards)}")
    return paths


WEIGHTS_DIR = typer.Option([], "--weights-dir", help="a folder holding checkpoints (org/name, name or the hub "
                                                     "cache layout); repeatable")
MODEL_PATH = typer.Option([], "--model-path", help="NAME=DIR: a local checkpoint for card NAME; repeatable")
CARDS = typer.Option([], "--cards", help="a folder of extra cards (YAML); repeatable")
HUB_CACHE = typer.Option(None, "--hub-cache", help="the Hugging Face hub cache [as huggingface_hub resolves it]")


@app.command("list")
@friendly_errors
def list_cards(
    weights_dir: list[Path] = WEIGHTS_DIR,
    model_path: list[str] = MODEL_PATH,
    cards_dir: list[Path] = CARDS,
    hub_cache: Optional[Path] = HUB_CACHE,
    markdown: bool = typer.Option(False, "--markdown", help="print the cards as a Markdown table (no weights "
                                                            "status), as in the zoo's README"),
) -> None:
    """The cards, with their licence and whether their weights are on this machine (and where it looked)."""
    from baselines.zoo.cards import STATUS_TEXT, find_weights, load_cards, markdown_table

    cards = load_cards(cards_dir)
    if markdown:
        print(markdown_table(cards))
        return
    overrides = _overrides(model_path, cards)
    table = Table(title=f"baseline zoo · {len(cards)} cards")
    for column in ("card", "model", "group", "family", "backend", "licence", "status", "weights"):
        table.add_column(column, overflow="fold")
    for name, card in cards.items():
        status = STATUS_TEXT[card.status]
        if card.status == "unsupported":
            weights = f"[dim]{card.notes}[/]"
        else:
            found = find_weights(card, weights_dir, hub_cache, overrides.get(name))
            weights = f"[green]{found.describe()}[/]" if found.found else f"[yellow]{found.describe()}[/]"
        licence = card.licence + (" (gated)" if card.gated else "")
        table.add_row(name, card.display_name, card.group, card.family, card.backend, licence, status, weights)
    console.print(table)


@app.command("run")
@friendly_errors
def run(
    zoo: list[str] = typer.Option(..., "--zoo", help="card name(s): repeatable or comma-separated; 'all' = every "
                                                     "card that is not unsupported"),
    task: str = typer.Option("ct_tumor", "--task", "-t", help="task name (see `harness list`)"),
    submit: bool = typer.Option(False, "--submit", help="add each finished run to the leaderboard"),
    weights_dir: list[Path] = WEIGHTS_DIR,
    model_path: list[str] = MODEL_PATH,
    cards_dir: list[Path] = CARDS,
    hub_cache: Optional[Path] = HUB_CACHE,
    limit: Optional[int] = typer.Option(None, "--limit", help="evaluate only the first N cases (not with --submit)"),
    backend: Optional[str] = typer.Option(None, "--backend", help="vllm or transformers [each card's]"),
    model_option: list[str] = typer.Option([], "--model-option", help="backend option KEY=VALUE over the card's "
                                                                      "engine arguments (repeatable)"),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="runs go to OUT/TASK/zoo-NAME"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="requests per backend call [the card's "
                                                                        "on its own backend, else the harness "
                                                                        "default]"),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="cap on generated tokens [the "
                                                                               "card's]"),
    seed: int = typer.Option(0, "--seed"),
    n_boot: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for the 95% CIs"),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="where synthetic sets are cached"),
    submissions: Path = typer.Option(DEFAULT_SUBMISSIONS, "--submissions", help="the leaderboard's submissions "
                                                                               "folder"),
    replace: bool = typer.Option(False, "--replace", help="with --submit: overwrite the card's earlier submission"),
) -> None:
    """Run zoo cards on a task (resuming finished predictions); a card whose weights are not on disk is skipped."""
    from harness.registry import TASKS

    from baselines.zoo.cards import BACKENDS, load_cards

    cards = load_cards(cards_dir)
    names = _card_names(zoo, cards)
    overrides = _overrides(model_path, cards)
    if backend is not None and backend not in BACKENDS:
        raise HarnessError(f"--backend must be one of {', '.join(BACKENDS)}, not '{backend}'")
    if submit and limit is not None:
        raise HarnessError("--submit needs every case of the leaderboard split; drop --limit")
    if batch_size is not None and batch_size < 1:
        raise HarnessError(f"--batch-size must be at least 1, got {batch_size}")
    if max_new_tokens is not None and max_new_tokens < 1:
        raise HarnessError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
    TASKS.get(task)  # an unknown task fails before any card runs
    _register_backend()
    options = parse_options(model_option, "--model-option", allow_empty=False)
    outcomes: list[tuple[str, str, str]] = []
    for name in names:
        card = cards[name]
        outcome = _run_card(card, task=task, submit=submit, weights_dirs=weights_dir, hub_cache=hub_cache,
                            override=overrides.get(name), limit=limit, backend=backend, options=options,
                            run_dir=out / task / f"zoo-{name}", batch_size=batch_size,
                            max_new_tokens=max_new_tokens, seed=seed, n_boot=n_boot,
                            cache_dir=cache_dir, cards_dirs=cards_dir, submissions=submissions, replace=replace)
        outcomes.append((name, *outcome))
    table = Table(title=f"baseline zoo · {task}")
    for column in ("card", "outcome", "detail"):
        table.add_column(column, overflow="fold")
    colour = {"ran": "green", "submitted": "green", "skipped": "yellow", "unsupported": "dim", "failed": "red"}
    for name, outcome, detail in outcomes:
        table.add_row(name, f"[{colour[outcome]}]{outcome}[/]", detail)
    console.print(table)
    if any(outcome == "failed" for _, outcome, _ in outcomes):
        raise typer.Exit(1)


def _card_names(zoo: list[str], cards: dict) -> list[str]:
    names: list[str] = []
    for entry in zoo:
        for name in (n.strip() for n in entry.split(",")):
            if not name:
                continue
            if name == "all":
                names += [n for n, c in cards.items() if c.status != "unsupported"]
            elif name not in cards:
                import difflib

                hint = difflib.get_close_matches(name, list(cards), n=1)
                raise HarnessError(f"unknown zoo card '{name}'" + (f"; did you mean '{hint[0]}'?" if hint else
                                                                  f"; known: {', '.join(cards)}"))
            else:
                names.append(name)
    if not names:
        raise HarnessError("--zoo names no card")
    return list(dict.fromkeys(names))


def _register_backend() -> None:
    """``zoo:NAME`` model specs, for this process (the ``harness.models`` entry point does it for good)."""
    from harness.registry import MODELS

    from baselines.zoo.backend import ZooBackend

    MODELS.register("zoo", ZooBackend)


def _run_card(card: Any, *, task: str, submit: bool, weights_dirs: list[Path], hub_cache: Optional[Path],
              override: Optional[Path], limit: Optional[int], backend: Optional[str], options: dict[str, Any],
              run_dir: Path, batch_size: Optional[int], max_new_tokens: Optional[int], seed: int, n_boot: int,
              cache_dir: Optional[Path], cards_dirs: list[Path], submissions: Path, replace: bool
              ) -> tuple[str, str]:
    """(outcome, detail) of one card: unsupported, skipped (no weights), failed (with the one-line reason),
    ran or submitted."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.evaluate import RunSpec, evaluate
    from harness.schema import Sampling

    from baselines.zoo.cards import find_weights

    if card.status == "unsupported":
        return "unsupported", card.notes
    weights = find_weights(card, weights_dirs, hub_cache, override)
    if not weights.found:
        return "skipped", weights.describe()
    chosen = backend or card.backend
    spec = RunSpec(
        model=f"zoo:{card.name}", task=task, limit=limit, seed=seed,
        batch_size=batch_size or (card.batch_size if chosen == card.backend else RunSpec.batch_size),
        sampling=Sampling(**{**card.sampling.model_dump(),
                             **({"max_new_tokens": max_new_tokens} if max_new_tokens else {})}, seed=seed),
        model_options={"path": str(weights.path), "backend": chosen, "options": dict(options),
                       "cards": [str(d) for d in cards_dirs]},
        n_boot=n_boot, cache_dir=str(cache_dir) if cache_dir else None)
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True) as bar:
            handle = bar.add_task(f"{task} · {card.name} ({chosen})", total=None)
            result = evaluate(spec, run_dir, progress=lambda done, total: bar.update(handle, completed=done,
                                                                                      total=total))
    except HarnessError as exc:
        return "failed", str(exc)
    detail = f"{_headline(result.results)} · {run_dir}"
    if not submit:
        return "ran", detail
    try:
        path = _submit(card, run_dir, submissions, replace, chosen)
    except HarnessError as exc:
        return "failed", f"ran ({detail}) but was not submitted: {exc}"
    return "submitted", f"{detail} · {path}"


def _headline(results: dict[str, Any]) -> str:
    """The task's primary metric (or the first that ran), and the request counts."""
    from harness.registry import TASKS

    metrics = results.get("metrics") or {}
    primary = getattr(TASKS.get(results["task"]), "primary_metric", None)
    ok = {name: m for name, m in metrics.items() if m.get("status") == "ok"}
    name = primary if primary in ok else next(iter(ok), None)
    requests = results.get("requests") or {}
    counts = f"{requests.get('generated', 0)} generated, {requests.get('cached', 0)} cached"
    return f"{name} {ok[name]['value']:.3f} ({counts})" if name else f"no metric ran ({counts})"


def _submit(card: Any, run_dir: Path, submissions: Path, replace: bool, backend: str) -> Path:
    try:
        from leaderboard.submit import submission_from_run, write_submission
    except ImportError as exc:
        raise HarnessError(f"the leaderboard's submit function is not available ({exc})") from None
    sub = submission_from_run(run_dir, name=card.display_name, url=card.url, organisation=card.organisation,
                              description=f"{card.hub_id} ({card.licence}), baseline zoo card '{card.name}', "
                                          f"{backend} backend")
    return write_submission(sub, submissions, replace=replace)


#: ``harness baselines``: the zoo's old command name, hidden from ``harness --help``; the same commands after a
#: one-line notice (the non-neural baselines are ``baseline:NAME`` models, not this)
deprecated_app = typer.Typer(add_completion=False, no_args_is_help=True, hidden=True,
                             help="Deprecated name of `harness zoo`.")
deprecated_app.registered_commands = app.registered_commands


@deprecated_app.callback()
def _deprecated_name() -> None:
    err_console.print("[yellow]`harness baselines` is deprecated: it is now `harness zoo`[/]", highlight=False)


#: ``harness model``: model utilities of the packages around the core (the tiny checkpoints are built here, with
#: the zoo's families, so the core imports no builder)
model_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Model utilities.")


@model_app.callback()
def _model() -> None:
    """Model utilities."""


@model_app.command("make-tiny")
@friendly_errors
def model_make_tiny(
    out: Path = typer.Argument(..., help="directory to write the checkpoint into"),
    family: str = typer.Option("qwen2_5_vl", "--family", help="qwen2_vl, qwen2_5_vl, qwen3_vl, gemma3, llava, "
                               "or lamed (M3D-LaMed, volume input)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Build a tiny random-weight checkpoint offline (tokenizer trained locally), for tests and demos."""
    from baselines.zoo.tiny_families import build_tiny_family

    path = build_tiny_family(out, family=family, seed=seed)
    console.print(f"wrote a tiny {family} checkpoint to {path}")
