"""The baseline zoo: the public VLMs researchers compare against, as model cards (one YAML file each) run
through the harness's backends behind a per-card prompt adapter. See README.md in this folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["CARDS_DIR", "Card", "Weights", "find_weights", "get_card", "load_card", "load_cards"]

if TYPE_CHECKING:
    from baselines.zoo.cards import CARDS_DIR, Card, Weights, find_weights, get_card, load_card, load_cards


def __getattr__(name: str) -> Any:
    """The card names are imported on first use: every `harness` command imports ``baselines.zoo.cli`` to list the
    zoo's sub-commands, and the cards module (pydantic models) would cost each one about 0.2 s."""
    if name in __all__:
        from baselines.zoo import cards

        return getattr(cards, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
