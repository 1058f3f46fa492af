"""The demo's own steps: the territory, the member departments and the accounts."""

from __future__ import annotations


def register() -> None:
    pass
