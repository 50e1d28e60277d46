"""The baseline zoo: the public VLMs researchers compare against, as model cards (one YAML file each) run
through the harness's backends behind a per-card prompt adapter. See README.md in this folder."""

from baselines.zoo.cards import CARDS_DIR, Card, Weights, find_weights, get_card, load_card, load_cards

__all__ = ["CARDS_DIR", "Card", "Weights", "find_weights", "get_card", "load_card", "load_cards"]
