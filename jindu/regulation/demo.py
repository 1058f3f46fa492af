"""Demo data for regulation (filled in below)."""

from __future__ import annotations

from jindu.demo.steps import DemoContext


def demo_regulation(ctx: DemoContext) -> None:
    return None
