"""Shipped training configs (YAML); `--config NAME` finds them by name."""
