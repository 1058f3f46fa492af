"""Pieces of markup the people lists draw in Python for each of their many rows
(the register list in ``views``, the worklists in ``followup_views``)."""

from __future__ import annotations

from django.utils.html import escape


def badges(labels: list[str], classes: str) -> str:
    """One Bootstrap badge per label, each label escaped."""
    return "".join(f'<span class="badge {classes}">{escape(label)}</span>' for label in labels)
