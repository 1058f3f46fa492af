"""Reconciliation rules on hand-made ledgers with known discrepancies, and a clean one.

Each test writes a small ledger through the entry service, runs the
reconciliation over a period and reads the findings it made.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jindu.core.indicators import Period
from jindu.regulation import ledger, reconcile, selectors, services
from jindu.regulation.models import Finding, FindingKind, RegulatedUnit, RegulationPolicy
from tests.test_regulation_factories import days_ago, line, make_unit, today


def _period(back: int = 200) -> Period:
    return Period.between(days_ago(back), today())


def _run(actor, period=None):
    return reconcile.run(
        actor=actor, units=RegulatedUnit.objects.for_user(actor), period=period or _period()
    )


def _found(kind=None):
    qs = Finding.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("id"))


@pytest.fixture
def office(personas):
    return personas.county_officer


@pytest.fixture
def trader(office, territory):
    return make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        name="甲一化工经营部",
        items={"丙酮": None, "1-苯基-2-丙酮": None, "硫酸": 100},
    )


@pytest.fixture
def buyer(office, territory):
    return make_unit(
        office,
        territory.village_b,
        territory.police_dept,
        name="乙一制药厂",
        kind="user",
        items={"丙酮": None, "硫酸": 100},
    )


# ------------------------------------------------------------------ a clean ledger


def test_a_clean_ledger_gives_no_finding(office, trader, buyer):
    line(office, trader, "丙酮", "opening", days_ago(150), 100)
    line(office, trader, "丙酮", "purchase", days_ago(140), 50)
    line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(130),
        30,
        counterparty="乙一制药厂",
        reported_on=days_ago(129),
    )
    line(office, buyer, "丙酮", "purchase", days_ago(128), 30, counterparty="甲一化工经营部")
    line(office, buyer, "丙酮", "use", days_ago(120), 30)
    line(office, buyer, "丙酮", "count", days_ago(100), 0)
    line(office, trader, "丙酮", "use", days_ago(120), 10)
    line(office, trader, "丙酮", "count", days_ago(100), 110)
    line(office, trader, "丙酮", "loss", days_ago(90), 1)
    line(office, trader, "丙酮", "count", days_ago(60), 109)
    result = _run(office)
    assert result.total == 0
    assert _found() == []


# ------------------------------------------------------------------ balance


def test_a_count_short_of_the_book_is_a_balance_finding_with_the_missing_amount(office, trader):
    line(office, trader, "丙酮", "opening", days_ago(150), 100)
    line(office, trader, "丙酮", "purchase", days_ago(140), 50)
    line(office, trader, "丙酮", "use", days_ago(130), 20)
    count = line(office, trader, "丙酮", "count", days_ago(100), 124.5)
    _run(office)
    (finding,) = _found(FindingKind.BALANCE)
    assert finding.amount == Decimal("-5.500")
    assert finding.entry_id == count.pk
    assert finding.unit_id == trader.pk
    assert (finding.period_start, finding.period_end) == (days_ago(150), days_ago(100))


def test_each_count_is_checked_against_the_one_before_it(office, trader):
    line(office, trader, "丙酮", "opening", days_ago(150), 10)
    line(office, trader, "丙酮", "count", days_ago(120), 12)  # 2 more than the book
    line(office, trader, "丙酮", "purchase", days_ago(110), 5)
    line(office, trader, "丙酮", "count", days_ago(90), 17)  # right, counted from 12
    _run(office)
    (finding,) = _found(FindingKind.BALANCE)
    assert finding.amount == Decimal("2.000")
    assert finding.period_end == days_ago(120)


def test_within_a_day_the_opening_comes_first_and_the_count_last(office, trader):
    day = days_ago(50)
    line(office, trader, "丙酮", "count", day, 70)
    line(office, trader, "丙酮", "sale", day, 30, reported_on=day)
    line(office, trader, "丙酮", "opening", day, 100)
    _run(office)
    assert _found(FindingKind.BALANCE) == []


def test_a_count_without_an_opening_is_checked_from_zero(office, trader):
    line(office, trader, "丙酮", "purchase", days_ago(100), 40)
    line(office, trader, "丙酮", "count", days_ago(90), 40)
    line(office, trader, "丙酮", "count", days_ago(80), 39)
    _run(office)
    (finding,) = _found(FindingKind.BALANCE)
    assert finding.amount == Decimal("-1.000")


def test_a_voided_line_is_left_out_of_the_balance(office, trader):
    line(office, trader, "丙酮", "opening", days_ago(100), 100)
    wrong = line(office, trader, "丙酮", "use", days_ago(90), 10)
    line(office, trader, "丙酮", "count", days_ago(80), 100)
    _run(office)
    (finding,) = _found(FindingKind.BALANCE)
    assert finding.amount == Decimal("10.000")
    ledger.void_entry(actor=office, entry=wrong, reason="重复录入")
    assert reconcile.balance_discrepancies(RegulatedUnit.objects.all(), _period()) == []


def test_counts_outside_the_period_are_not_judged(office, trader):
    line(office, trader, "丙酮", "opening", days_ago(300), 100)
    line(office, trader, "丙酮", "count", days_ago(250), 90)
    _run(office, _period(200))
    assert _found(FindingKind.BALANCE) == []
    _run(office, _period(299))
    assert len(_found(FindingKind.BALANCE)) == 1


def test_the_ledger_page_and_the_reconciliation_agree_on_the_difference(office, trader):
    line(office, trader, "丙酮", "opening", days_ago(100), 100)
    line(office, trader, "丙酮", "purchase", days_ago(95), 33.3, measure="L")
    line(office, trader, "丙酮", "use", days_ago(90), 12.25)
    count = line(office, trader, "丙酮", "count", days_ago(80), 120)
    _run(office, _period(120))
    (finding,) = _found(FindingKind.BALANCE)
    books = selectors.book(trader, count.occurred_on.year) + selectors.book(
        trader, count.occurred_on.year - 1
    )
    differences = [
        bl.difference for b in books for m in b.months for bl in m.lines if bl.entry.pk == count.pk
    ]
    assert differences == [finding.amount]


# ------------------------------------------------------------------ sales and purchases


def test_a_sale_the_buyer_did_not_record_is_an_unmatched_sale(office, trader, buyer):
    sale = line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(60),
        30,
        counterparty="乙一制药厂",
        reported_on=days_ago(60),
    )
    _run(office)
    (finding,) = _found(FindingKind.UNMATCHED_SALE)
    assert (finding.entry_id, finding.amount, finding.unit_id) == (
        sale.pk,
        Decimal("30.000"),
        trader.pk,
    )
    assert _found(FindingKind.UNMATCHED_PURCHASE) == []


def test_a_purchase_the_seller_did_not_record_is_an_unmatched_purchase(office, trader, buyer):
    purchase = line(
        office, buyer, "丙酮", "purchase", days_ago(60), 30, counterparty="甲一化工经营部"
    )
    _run(office)
    (finding,) = _found(FindingKind.UNMATCHED_PURCHASE)
    assert (finding.entry_id, finding.unit_id) == (purchase.pk, buyer.pk)


def test_a_sale_matches_a_purchase_within_the_tolerance_and_the_window(office, trader, buyer):
    line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(60),
        100,
        counterparty="乙一制药厂",
        reported_on=days_ago(60),
    )
    # 0.8 % less, five days later: within 1 % and 7 days
    line(office, buyer, "丙酮", "purchase", days_ago(55), 99.2, counterparty="甲一化工经营部")
    _run(office)
    assert _found() == []


@pytest.mark.parametrize(
    "bought,later",
    [(97, 2), (100, 9)],
    ids=["quantity-off-by-3-percent", "dates-nine-days-apart"],
)
def test_a_purchase_outside_the_tolerance_or_the_window_matches_nothing(
    office, trader, buyer, bought, later
):
    line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(60),
        100,
        counterparty="乙一制药厂",
        reported_on=days_ago(60),
    )
    line(
        office,
        buyer,
        "丙酮",
        "purchase",
        days_ago(60 - later),
        bought,
        counterparty="甲一化工经营部",
    )
    _run(office)
    assert {f.kind for f in _found()} == {
        FindingKind.UNMATCHED_SALE,
        FindingKind.UNMATCHED_PURCHASE,
    }


def test_a_wider_window_in_the_rules_matches_what_a_narrow_one_did_not(office, trader, buyer):
    line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(60),
        100,
        counterparty="乙一制药厂",
        reported_on=days_ago(60),
    )
    line(office, buyer, "丙酮", "purchase", days_ago(51), 100, counterparty="甲一化工经营部")
    services.update_policy(actor=office, match_window_days=10)
    _run(office)
    assert _found() == []


def test_a_sale_to_an_unregistered_party_is_never_unmatched(office, trader):
    line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(60),
        30,
        counterparty="外省某公司",
        reported_on=days_ago(59),
    )
    _run(office)
    assert _found() == []


def test_a_sale_younger_than_the_window_is_not_judged_yet(office, trader, buyer):
    line(
        office,
        trader,
        "丙酮",
        "sale",
        days_ago(3),
        30,
        counterparty="乙一制药厂",
        reported_on=days_ago(3),
    )
    _run(office)
    assert _found(FindingKind.UNMATCHED_SALE) == []


# ------------------------------------------------------------------ reporting deadlines


@pytest.mark.parametrize(
    "item,reported_after,late",
    [
        ("1-苯基-2-丙酮", 5, None),
        ("1-苯基-2-丙酮", 6, 1),
        ("丙酮", 30, None),
        ("丙酮", 33, 3),
    ],
    ids=[
        "category-1-on-day-5",
        "category-1-on-day-6",
        "category-3-on-day-30",
        "category-3-on-day-33",
    ],
)
def test_sales_are_reported_within_5_days_for_category_1_and_30_for_category_3(
    office, trader, item, reported_after, late
):
    sold = days_ago(80)
    line(office, trader, item, "sale", sold, 5, reported_on=days_ago(80 - reported_after))
    _run(office)
    found = _found(FindingKind.LATE_REPORT)
    assert [f.days for f in found] == ([late] if late else [])


def test_an_unreported_sale_is_late_once_its_deadline_has_passed(office, trader):
    old = line(office, trader, "1-苯基-2-丙酮", "sale", days_ago(9), 2)
    line(office, trader, "1-苯基-2-丙酮", "sale", days_ago(4), 2)  # still within 5 days
    _run(office)
    (finding,) = _found(FindingKind.LATE_REPORT)
    assert (finding.entry_id, finding.days) == (old.pk, 4)


def test_the_county_sets_its_own_deadlines(office, trader):
    line(office, trader, "丙酮", "sale", days_ago(80), 5, reported_on=days_ago(70))
    policy = RegulationPolicy.current()
    assert policy.deadline_days("precursor_3") == 30
    services.update_policy(actor=office, report_days={**policy.report_days, "precursor_3": 7})
    _run(office)
    assert [f.days for f in _found(FindingKind.LATE_REPORT)] == [3]


# ------------------------------------------------------------------ yearly allowance


def test_purchases_beyond_the_yearly_allowance_stand_out_with_the_excess(office, trader):
    year_start = today().replace(month=1, day=1)
    first = max(year_start, days_ago(200))
    line(office, trader, "硫酸", "purchase", first, 60)
    crossing = line(office, trader, "硫酸", "purchase", today(), 50)
    _run(office, Period.year(today().year))
    (finding,) = _found(FindingKind.OVER_ALLOWANCE)
    assert (finding.amount, finding.entry_id) == (Decimal("10.000"), crossing.pk)
    assert finding.period_start == year_start


def test_purchases_within_the_allowance_or_without_one_do_not_stand_out(office, trader):
    line(office, trader, "硫酸", "purchase", today(), 100)
    line(office, trader, "丙酮", "purchase", today(), 100000)
    _run(office, Period.year(today().year))
    assert _found(FindingKind.OVER_ALLOWANCE) == []


# ------------------------------------------------------------------ findings


def test_running_again_finds_the_same_findings_and_adds_none(office, trader, buyer):
    line(office, trader, "丙酮", "opening", days_ago(100), 100)
    line(office, trader, "丙酮", "count", days_ago(90), 90)
    line(office, trader, "丙酮", "sale", days_ago(80), 5, counterparty="乙一制药厂")
    first = _run(office)
    assert first.created == 3  # balance, unmatched sale, late report
    second = _run(office)
    assert (second.total, second.created) == (3, 0)
    # A longer period holding the same evidence finds them again, too.
    third = _run(office, _period(300))
    assert third.created == 0
    assert Finding.objects.count() == 3


def test_a_rerun_refreshes_the_amount_of_an_open_finding_but_not_a_closed_one(office, trader):
    from jindu.regulation.campaigns import close_finding

    line(office, trader, "丙酮", "opening", days_ago(100), 100)
    extra = line(office, trader, "丙酮", "use", days_ago(95), 4)
    line(office, trader, "丙酮", "count", days_ago(90), 90)
    _run(office)
    (finding,) = _found(FindingKind.BALANCE)
    assert finding.amount == Decimal("-6.000")
    ledger.void_entry(actor=office, entry=extra, reason="录错")
    _run(office)
    finding.refresh_from_db()
    assert finding.amount == Decimal("-10.000")
    close_finding(actor=office, finding=finding, note="已约谈企业负责人，补录损耗")
    line(office, trader, "丙酮", "use", days_ago(95), 3)
    _run(office)
    finding.refresh_from_db()
    assert finding.amount == Decimal("-10.000")


def test_a_township_runs_over_its_own_units_only(personas, office, trader, buyer):
    line(office, trader, "丙酮", "opening", days_ago(100), 100)
    line(office, trader, "丙酮", "count", days_ago(90), 90)
    line(office, buyer, "丙酮", "opening", days_ago(100), 100)
    line(office, buyer, "丙酮", "count", days_ago(90), 90)
    result = _run(personas.cadre_a)
    assert result.total == 1
    assert [f.unit_id for f in _found()] == [trader.pk]
    assert Finding.objects.get().org_path == trader.org_path
