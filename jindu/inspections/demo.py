"""Demo data for venues, outlets and patrols (filled in below)."""

from __future__ import annotations

from jindu.demo.steps import DemoContext


def demo_inspections(ctx: DemoContext) -> None:
    return None
