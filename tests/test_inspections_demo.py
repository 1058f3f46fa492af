"""The demo county's venues, outlets and patrols: every colour shows, one township falls
short of the patrol rule, one has a national finding, and the same seed builds
the same records."""

from __future__ import annotations

import io

import pytest
from django.db import transaction
from django.utils import timezone

from jindu.demo import builder, steps
from jindu.inspections import coverage
from jindu.inspections.models import CourierInspection, CourierOutlet, Patrol, Venue
from jindu.inspections.selectors import Situation, colour_counts_by_path, open_on, with_colour

pytestmark = pytest.mark.django_db

# The demo's own steps and this area's; the other areas' steps have their own tests.
STEPS = {"territory", "departments", "accounts", "inspections"}


@pytest.fixture(autouse=True)
def only_these_steps(monkeypatch):
    kept = {name: step for name, step in steps._STEPS.items() if name in STEPS}
    assert set(kept) == STEPS
    monkeypatch.setattr(steps, "_STEPS", kept)


def build(seed: int = 5) -> None:
    builder.generate(seed=seed, townships=4, villages=12, log=io.StringIO())


def test_the_demo_shows_every_colour_and_a_season_with_a_shortfall_and_a_veto():
    build()
    situation = Situation.on_day(timezone.localdate())
    venues = with_colour(open_on(Venue.objects.all(), situation.on), situation.on, situation.period)
    colours = {colour for _path, colour, _n in colour_counts_by_path(venues)}
    assert colours == {"green", "yellow", "red", "blue"}
    assert Venue.objects.count() >= 12
    assert CourierOutlet.objects.count() == 12 and CourierInspection.objects.count() >= 36

    county = Venue.objects.first().org_path.split("/")[1]
    path = f"/{county}/"
    year = Patrol.objects.filter(check_level="national").get().patrolled_on.year
    rows = coverage.coverage(path, year)
    assert len(rows) == 4
    assert sum(1 for row in rows if not row.met) == 1
    assert len(coverage.veto_townships(path, year)) == 1


class _Undo(Exception):
    pass


def built_records(seed: int) -> tuple[list, list]:
    """What one build writes, read and then rolled back so that the next build starts empty."""
    result: tuple[list, list] = ([], [])
    try:
        with transaction.atomic():
            build(seed)
            result = (
                list(Venue.objects.order_by("id").values_list("name", "kind", "registered_on")),
                list(Patrol.objects.order_by("id").values_list("patrolled_on", "plants_found")),
            )
            raise _Undo
    except _Undo:
        return result


def test_the_same_seed_builds_the_same_records():
    first, again = built_records(5), built_records(5)
    assert first[0] and first[1]
    assert first == again
