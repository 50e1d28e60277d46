"""What every ``harness`` sub-command shares: the consoles and the rule that user errors are one line."""

from __future__ import annotations

import functools
from typing import Any, Callable

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError

console = Console()
err_console = Console(stderr=True)


def friendly_errors(fn: Callable) -> Callable:
    """User errors become one red line and exit code 2, never a traceback; Ctrl-C says the work is kept."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HarnessError as exc:
            # escaped: messages quote paths and install hints ('emrl-harness[hf]') that Rich would eat as markup
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted: finished work is saved; rerun to resume[/]")
            raise typer.Exit(130) from None

    return wrapper
