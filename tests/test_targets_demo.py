"""The demo county's targets: with the people and enforcement steps, its 2018 completion
rates are the speech's nine; the key township is an invented one; letters, tasks and
reported values are there to look at."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from jindu.core.indicators import Period
from jindu.demo.accounts import build_accounts
from jindu.demo.county import build_departments, build_territory
from jindu.demo.steps import DemoContext, registered_steps
from jindu.people.demo import build_people
from jindu.targets import completion
from jindu.targets.board import board
from jindu.targets.demo import SPEECH_TARGETS, demo_targets
from jindu.targets.models import KeyTownship, ReportedValue, ResponsibilityLetter, TargetShare

pytestmark = pytest.mark.django_db

# 分别完成市上下达任务的87.5%、85.7%、87.2%、489.8%、35.6%、40%、46.7%、50%、25%
SPEECH_RATES = {
    "cases_solved": Decimal("87.5"),
    "suspects_prosecuted": Decimal("85.7"),
    "seized_heroin_g": Decimal("87.2"),
    "seized_meth_g": Decimal("489.8"),
    "users_caught": Decimal("35.6"),
    "users_caught_synthetic": Decimal("40.0"),
    "new_users_found": Decimal("46.7"),
    "isolation_ordered": Decimal("50.0"),
    "community_detox_ordered": Decimal("25.0"),
}


@pytest.fixture(scope="module")
def small_demo(django_db_setup, django_db_blocker):
    """Three townships with people, this step and (when installed) enforcement's, built once."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            ctx = DemoContext(
                seed=11, townships_wanted=3, villages_wanted=9, log_stream=io.StringIO()
            )
            build_territory(ctx)
            build_departments(ctx)
            build_accounts(ctx)
            build_people(ctx)
            demo_targets(ctx)
            steps = {step.name: step for step in registered_steps()}
            if "enforcement" in steps:
                steps["enforcement"].func(ctx)
            yield ctx
            transaction.set_rollback(True)


def test_the_step_runs_after_the_people_and_before_enforcement():
    steps = {step.name: step.order for step in registered_steps()}
    assert steps["people"] < steps["targets"]
    if "enforcement" in steps:
        assert steps["targets"] < steps["enforcement"]


def test_2018_people_figures_are_exactly_the_speeches(small_demo):
    from jindu.core import indicators

    got = indicators.values(
        ("new_users_found", "isolation_ordered", "community_detox_ordered"),
        small_demo.county.path,
        Period.year(2018),
    )
    assert got == {"new_users_found": 7, "isolation_ordered": 9, "community_detox_ordered": 3}


def test_2018_completion_rates_are_the_speeches_nine(small_demo):
    steps = {step.name for step in registered_steps()}
    if "enforcement" not in steps:
        pytest.skip("the enforcement app, which holds six of the nine figures, is not installed")
    rows = completion.completion_for(small_demo.county, 2018, Period.year(2018).last_day)
    got = {row.key: row.completion_shown for row in rows}
    assert got == SPEECH_RATES


def test_2018_breakdown_adds_up_for_every_speech_target(small_demo):
    for key, value in SPEECH_TARGETS.items():
        parts = TargetShare.objects.filter(
            target__year=2018, target__indicator_key=key, department=None
        )
        assert sum(p.value for p in parts) == Decimal(value), key


def test_the_key_township_is_an_invented_one_with_tasks_and_a_letter(small_demo):
    key = KeyTownship.objects.get()
    assert key.org_unit in small_demo.townships
    assert key.org_unit.name != "平襄镇"
    assert key.tasks.count() == 4 and key.tasks.filter(done_on__isnull=False).exists()
    assert ResponsibilityLetter.objects.filter(key_township=key).exists()


def test_letters_in_every_state_and_reported_rates_for_two_years(small_demo):
    states = set(ResponsibilityLetter.objects.values_list("status", flat=True))
    assert states == {"drafted", "issued", "signed"}
    assert ReportedValue.objects.filter(status="approved").count() == 2 * 2 * 3
    from django.utils import timezone

    last_year = timezone.localdate().year - 1
    rows = {row.key: row for row in board(small_demo.county.path, last_year)}
    assert rows["awareness_rate"].current is not None
    assert rows["awareness_rate"].previous is not None


@pytest.mark.parametrize("total", ["8", "10.5", "19.988", "130", "0"])
def test_a_demo_target_splits_over_fifteen_townships_exactly_and_never_below_zero(total):
    import random

    from jindu.targets.demo import _split

    shares = _split(Decimal(total), 15, random.Random(3))
    assert sum(shares) == Decimal(total)
    assert all(share >= 0 for share in shares)
