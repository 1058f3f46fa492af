"""The demo county's regulated units: dozens of units with a year of ledgers, a few
planted discrepancies of every kind found by the reconciliation, findings
followed up, a campaign half done, and the same seed building the same records."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.db import transaction

from jindu.demo import builder
from jindu.regulation import selectors
from jindu.regulation.models import Campaign, Finding, FindingKind, LedgerEntry, RegulatedUnit

pytestmark = pytest.mark.django_db


def build(seed: int = 5) -> None:
    builder.generate(seed=seed, townships=4, villages=12, log=io.StringIO())


def test_the_demo_plants_every_kind_of_discrepancy_and_the_reconciliation_finds_them():
    build()
    assert RegulatedUnit.objects.count() >= 30
    assert LedgerEntry.objects.count() >= 2000
    kinds = Counter(Finding.objects.values_list("kind", flat=True))
    assert set(kinds) == set(FindingKind.values)
    assert all(2 <= n <= 6 for n in kinds.values()), kinds
    statuses = Counter(f.status for f in Finding.objects.all())
    assert statuses["assigned"] >= 1 and statuses["closed"] == 1


def test_the_demo_campaign_is_half_done():
    build()
    campaign = Campaign.objects.get()
    office = campaign.created_by
    total, townships = selectors.coverage(office, campaign)
    assert total.listed >= 30 and total.checked == total.listed // 2
    assert townships


class _Undo(Exception):
    pass


def built(seed: int) -> list:
    result: list = []
    try:
        with transaction.atomic():
            build(seed)
            # No ids: PostgreSQL's sequences do not roll back with the transaction.
            result = sorted(
                Finding.objects.values_list(
                    "kind", "unit__name", "substance__name", "amount", "days", "period_end"
                )
            ) + list(RegulatedUnit.objects.order_by("id").values_list("name", "kind"))
            raise _Undo
    except _Undo:
        return result


def test_the_same_seed_builds_the_same_units_and_findings():
    first = built(3)
    assert first and built(3) == first
