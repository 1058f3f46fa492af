"""The demo county's enforcement records: 2018 shows the speech's figures, other years
have records of their own for year-on-year comparison, and the same seed writes
the same records."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import transaction

from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.demo.accounts import build_accounts
from jindu.demo.county import build_departments, build_territory
from jindu.demo.steps import DemoContext, registered_steps
from jindu.enforcement.demo import demo_enforcement
from jindu.enforcement.models import Case, Seizure, Suspect, UserCaught

pytestmark = pytest.mark.django_db

# 破案7起，公诉犯罪嫌疑人9名，缴获海洛因113.3克、冰毒97.9克；查处吸毒人员16人次，其中滥用合成毒品4人次
SPEECH_2018 = {
    "cases_solved": 7,
    "suspects_prosecuted": 9,
    "seized_heroin_g": Decimal("113.3"),
    "seized_meth_g": Decimal("97.9"),
    "users_caught": 16,
    "users_caught_synthetic": 4,
}


def small_county(seed: int = 7) -> DemoContext:
    """A county of three townships with its departments and accounts, then this step."""
    ctx = DemoContext(seed=seed, townships_wanted=3, villages_wanted=9, log_stream=io.StringIO())
    build_territory(ctx)
    build_departments(ctx)
    build_accounts(ctx)
    demo_enforcement(ctx)
    return ctx


def test_the_step_is_registered_after_the_people():
    steps = {step.name: step.order for step in registered_steps()}
    assert steps["enforcement"] > steps["people"]


def test_the_demo_county_shows_the_speeches_2018_figures():
    ctx = small_county()
    county = ctx.county.path
    got = indicators.values(SPEECH_2018, county, Period.year(2018))
    assert got == SPEECH_2018


def test_the_2018_figures_add_up_over_the_townships():
    ctx = small_county()
    paths = [t.path for t in ctx.townships]
    for key, expected in SPEECH_2018.items():
        assert sum(indicators.by_units(key, paths, Period.year(2018)).values()) == expected, key


def test_the_edges_of_2018_fall_as_the_speech_counts_them():
    small_county()
    # Filed in 2017 and solved in 2018; filed in 2018 and solved in 2019.
    assert Case.objects.filter(filed_on__year=2017, solved_on__year=2018).count() == 1
    assert Case.objects.filter(filed_on__year=2018, solved_on__year=2019).count() == 1
    # A theft by a drug user was solved and its suspect referred in 2018, outside the figures.
    theft = Case.objects.get(offence="theft", filed_on__year=2018)
    assert theft.solved_on.year == 2018 and theft.caused_by_user
    assert Suspect.objects.filter(case=theft, prosecuted_on__year=2018).exists()
    assert Suspect.objects.filter(prosecuted_on__year=2018).count() == 10


def test_other_years_have_records_to_compare_with():
    ctx = small_county()
    county = ctx.county.path
    for year in (2017, 2019, 2020, 2021, 2022, 2023, 2024, 2025):
        period = Period.year(year)
        assert indicators.value("cases_solved", county, period) >= 3, year
        assert indicators.value("users_caught", county, period) >= 12, year
    change = indicators.yoy("users_caught", county, Period.year(2019))
    assert change.previous == 16 and change.current is not None
    assert Seizure.objects.filter(seized_on__year=2024).exists()
    assert UserCaught.objects.filter(person__isnull=True).count() >= 16


class _Undo(Exception):
    pass


def _records(seed: int) -> list:
    result: list = []
    try:
        with transaction.atomic():
            small_county(seed)
            # No ids: PostgreSQL's sequences do not roll back with the transaction.
            result = sorted(
                Case.objects.values_list("number", "offence", "filed_on", "solved_on")
            ) + sorted(Seizure.objects.values_list("seized_on", "drug_type", "weight_g"))
            raise _Undo
    except _Undo:
        return result


def test_the_same_seed_writes_the_same_records():
    first = _records(3)
    assert first and _records(3) == first
