"""A venue's colour follows from its record on a date, in the inspection period holding it.

Green: passed this period. Yellow: not inspected this period. Red: failed and not
fixed (whatever the deadline). Blue: failed, then fixed. Nothing is stored: the
same venue has one colour on one day and another on the next. Letters expire
by date too.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.inspections import selectors, services
from jindu.inspections.models import InspectionRules, Venue
from jindu.inspections.selectors import Colour, LetterState, Situation, VenueFilter
from tests.helpers import sign_in, travelling_clock
from tests.inspections_factories import inspect, make_venue

pytestmark = pytest.mark.django_db

# A past quarter, so that every date below may be recorded (no future dates).
Q2 = Period.quarter(2025, 2)
APRIL_10, MAY_5, MAY_20, JUNE_30 = (
    date(2025, 4, 10),
    date(2025, 5, 5),
    date(2025, 5, 20),
    date(2025, 6, 30),
)


def colour(user, venue, on: date) -> str:
    return selectors.one_venue(Venue.objects.filter(pk=venue.pk), Situation.on_day(on)).colour


@pytest.fixture
def venue(personas):
    return make_venue(personas.cadre_a, personas.territory.village_a)


def test_a_venue_never_inspected_this_period_is_yellow(personas, venue):
    inspect(personas.cadre_a, venue, date(2025, 3, 20))  # last quarter
    assert colour(personas.cadre_a, venue, APRIL_10) == Colour.YELLOW


def test_a_passed_inspection_makes_it_green_from_that_day(personas, venue):
    inspect(personas.cadre_a, venue, MAY_5)
    assert colour(personas.cadre_a, venue, MAY_5 - timedelta(days=1)) == Colour.YELLOW
    assert colour(personas.cadre_a, venue, MAY_5) == Colour.GREEN
    assert colour(personas.cadre_a, venue, JUNE_30) == Colour.GREEN


def test_the_next_period_turns_a_green_venue_yellow(personas, venue):
    inspect(personas.cadre_a, venue, MAY_5)
    assert colour(personas.cadre_a, venue, date(2025, 7, 1)) == Colour.YELLOW


def test_a_failed_inspection_is_red_until_fixed_then_blue(personas, venue):
    failed = inspect(personas.cadre_a, venue, APRIL_10, failed=("publicity",))
    assert colour(personas.cadre_a, venue, APRIL_10) == Colour.RED
    services.record_fix(
        actor=personas.cadre_a, inspection=failed, fixed_on=MAY_20, fix_note="已张贴宣传海报"
    )
    # The fix counts from its date, not from when it was typed in.
    assert colour(personas.cadre_a, venue, MAY_20 - timedelta(days=1)) == Colour.RED
    assert colour(personas.cadre_a, venue, MAY_20) == Colour.BLUE
    assert colour(personas.cadre_a, venue, JUNE_30) == Colour.BLUE


def test_red_stays_red_into_the_next_period_while_unfixed(personas, venue):
    inspect(personas.cadre_a, venue, JUNE_30 - timedelta(days=5), failed=("registration",))
    assert colour(personas.cadre_a, venue, date(2025, 8, 15)) == Colour.RED


def test_red_is_red_before_the_deadline_and_overdue_only_after_it(personas, venue):
    inspect(personas.cadre_a, venue, APRIL_10, failed=("publicity",), deadline=MAY_5)
    situation = Situation.on_day(MAY_5)
    before = selectors.one_venue(Venue.objects.filter(pk=venue.pk), situation)
    assert (before.colour, before.overdue) == (Colour.RED, False)
    after = selectors.one_venue(
        Venue.objects.filter(pk=venue.pk), Situation.on_day(MAY_5 + timedelta(days=1))
    )
    assert (after.colour, after.overdue) == (Colour.RED, True)


def test_a_passing_reinspection_of_the_failed_items_closes_the_failure(personas, venue):
    failed = inspect(personas.cadre_a, venue, APRIL_10, failed=("publicity",))
    reinspection = inspect(personas.cadre_a, venue, MAY_20, items=("publicity",))
    failed.refresh_from_db()
    assert failed.fixed_on == MAY_20
    assert failed.fixed_by_inspection == reinspection
    assert colour(personas.cadre_a, venue, MAY_20) == Colour.BLUE


def test_a_passing_inspection_that_skipped_the_failed_item_does_not_close_it(personas, venue):
    failed = inspect(personas.cadre_a, venue, APRIL_10, failed=("publicity",))
    inspect(personas.cadre_a, venue, MAY_20, items=("registration",))
    failed.refresh_from_db()
    assert failed.fixed_on is None
    assert colour(personas.cadre_a, venue, MAY_20) == Colour.RED


def test_a_failure_fixed_last_period_leaves_this_period_to_its_own_inspections(personas, venue):
    failed = inspect(personas.cadre_a, venue, date(2025, 3, 1), failed=("publicity",))
    services.record_fix(
        actor=personas.cadre_a, inspection=failed, fixed_on=date(2025, 3, 20), fix_note="已整改"
    )
    assert colour(personas.cadre_a, venue, APRIL_10) == Colour.YELLOW
    inspect(personas.cadre_a, venue, MAY_5)
    assert colour(personas.cadre_a, venue, MAY_5) == Colour.GREEN


def test_a_fix_recorded_this_period_for_an_older_failure_is_blue(personas, venue):
    failed = inspect(personas.cadre_a, venue, date(2025, 3, 1), failed=("publicity",))
    services.record_fix(
        actor=personas.cadre_a, inspection=failed, fixed_on=APRIL_10, fix_note="已整改"
    )
    assert colour(personas.cadre_a, venue, APRIL_10) == Colour.BLUE


def test_the_period_is_the_county_rule(personas, venue):
    inspect(personas.cadre_a, venue, MAY_5)
    assert colour(personas.cadre_a, venue, date(2025, 7, 1)) == Colour.YELLOW
    services.update_inspection_rules(actor=personas.county_officer, venue_period_months=6)
    assert colour(personas.cadre_a, venue, date(2025, 6, 1)) == Colour.GREEN
    assert colour(personas.cadre_a, venue, date(2025, 7, 1)) == Colour.YELLOW
    services.update_inspection_rules(actor=personas.county_officer, venue_period_months=12)
    assert colour(personas.cadre_a, venue, date(2025, 12, 31)) == Colour.GREEN
    services.update_inspection_rules(actor=personas.county_officer, venue_period_months=1)
    assert colour(personas.cadre_a, venue, date(2025, 6, 1)) == Colour.YELLOW


def test_colour_changes_on_the_venue_page_when_the_quarter_turns(personas, venue, client):
    """The page reads today's date: the same record shows green, then yellow next quarter."""
    with travelling_clock() as clock:
        inspect(personas.cadre_a, venue, APRIL_10)
        sign_in(client, personas.cadre_a)
        page = reverse("inspections:venue", kwargs={"pk": venue.pk})
        clock.advance(days=(MAY_5 - _today()).days)
        assert 'data-colour="green"' in client.get(page).content.decode()
        clock.advance(days=(date(2025, 7, 2) - _today()).days)
        assert 'data-colour="yellow"' in client.get(page).content.decode()


def _today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def test_venues_closed_or_not_yet_registered_are_not_counted(personas):
    unit = personas.territory.village_a
    make_venue(personas.cadre_a, unit, name="早已登记", registered_on=date(2024, 1, 1))
    later = make_venue(personas.cadre_a, unit, name="后来登记", registered_on=date(2025, 6, 1))
    closing = make_venue(personas.cadre_a, unit, name="将要停业", registered_on=date(2024, 1, 1))
    services.update_venue(actor=personas.cadre_a, venue=closing, closed_on=date(2025, 5, 1))
    names = lambda on: {  # noqa: E731
        v.name for v in selectors.venues(personas.cadre_a, Situation.on_day(on))
    }
    assert names(APRIL_10) == {"早已登记", "将要停业"}
    assert names(JUNE_30) == {"早已登记", later.name}


# ------------------------------------------------------------------ letters


def letter_state(venue, on: date) -> str:
    return selectors.one_venue(Venue.objects.filter(pk=venue.pk), Situation.on_day(on)).letter_state


def test_letter_states_by_date(personas, venue):
    assert letter_state(venue, APRIL_10) == LetterState.MISSING
    services.sign_letter(
        actor=personas.cadre_a, venue=venue, signed_on=date(2025, 1, 5), term_end=JUNE_30
    )
    assert letter_state(venue, date(2025, 1, 4)) == LetterState.MISSING
    assert letter_state(venue, APRIL_10) == LetterState.VALID
    assert letter_state(venue, JUNE_30 - timedelta(days=30)) == LetterState.EXPIRING
    assert letter_state(venue, JUNE_30) == LetterState.EXPIRING
    assert letter_state(venue, JUNE_30 + timedelta(days=1)) == LetterState.EXPIRED


def test_a_renewed_letter_is_valid_again(personas, venue):
    services.sign_letter(
        actor=personas.cadre_a, venue=venue, signed_on=date(2024, 7, 1), term_end=JUNE_30
    )
    services.sign_letter(
        actor=personas.cadre_a, venue=venue, signed_on=JUNE_30, term_end=date(2026, 6, 30)
    )
    assert letter_state(venue, date(2025, 6, 15)) == LetterState.EXPIRING
    assert letter_state(venue, date(2025, 7, 15)) == LetterState.VALID


def test_the_warning_window_is_the_county_rule(personas, venue):
    services.sign_letter(
        actor=personas.cadre_a, venue=venue, signed_on=date(2025, 1, 5), term_end=JUNE_30
    )
    assert letter_state(venue, date(2025, 5, 15)) == LetterState.VALID
    services.update_inspection_rules(actor=personas.county_officer, letter_warning_days=60)
    assert letter_state(venue, date(2025, 5, 15)) == LetterState.EXPIRING


def test_expiring_letters_are_flagged_and_filtered_in_the_list(personas, client):
    today = _today()
    soon = make_venue(personas.cadre_a, personas.territory.village_a, name="快到期宾馆")
    services.sign_letter(
        actor=personas.cadre_a,
        venue=soon,
        signed_on=today - timedelta(days=300),
        term_end=today + timedelta(days=10),
    )
    make_venue(
        personas.cadre_a, personas.territory.village_a, name="未签网吧", kind="internet_cafe"
    )
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("inspections:venues"), {"letter": "expiring"}).content.decode()
    assert "快到期宾馆" in body and "未签网吧" not in body
    # The flags above the list count every state whatever the filter.
    assert 'data-letter-state="expiring">即将到期 1<' in body
    assert 'data-letter-state="missing">未签订 1<' in body
    assert 'data-letter-state="expired">已过期 0<' in body


@pytest.mark.parametrize(
    ("signed", "term", "message"),
    [
        (None, date(2025, 6, 30), "请填写签订日期"),
        (date(2025, 6, 30), date(2025, 1, 1), "责任期限不能早于签订日期"),
        (date(2099, 1, 1), date(2099, 12, 31), "签订日期不能晚于今天"),
        (date(2020, 1, 1), date(2030, 1, 1), "责任期限不能超过五年"),
    ],
)
def test_a_bad_letter_is_refused_in_chinese(personas, venue, signed, term, message):
    with pytest.raises(ValidationError) as caught:
        services.sign_letter(actor=personas.cadre_a, venue=venue, signed_on=signed, term_end=term)
    assert message in str(caught.value)
    assert not venue.letters.exists()


# ------------------------------------------------------------------ counts, lists, indicators


@pytest.fixture
def four_colours(personas):
    """One venue of each colour in 甲一村 and one green one in 乙一村, on 2025-06-30."""
    a, b = personas.territory.village_a, personas.territory.village_b
    green = make_venue(personas.cadre_a, a, name="绿宾馆")
    inspect(personas.cadre_a, green, MAY_5)
    make_venue(personas.cadre_a, a, name="黄网吧", kind="internet_cafe")
    red = make_venue(personas.cadre_a, a, name="红足浴", kind="foot_massage")
    inspect(personas.cadre_a, red, MAY_5, failed=("publicity",))
    blue = make_venue(personas.cadre_a, a, name="蓝公寓", kind="apartment")
    failed = inspect(personas.cadre_a, blue, APRIL_10, failed=("registration",))
    services.record_fix(
        actor=personas.cadre_a, inspection=failed, fixed_on=MAY_20, fix_note="已整改"
    )
    other = make_venue(personas.cadre_b, b, name="乙镇宾馆")
    inspect(personas.cadre_b, other, MAY_5)
    return {"green": green, "red": red, "blue": blue, "other": other}


def test_counts_by_township_count_each_colour_once(personas, four_colours):
    rows = selectors.counts_by_township(personas.county_officer, Situation.on_day(JUNE_30))
    by_name = {row.name: row.counts for row in rows}
    assert by_name["甲镇"] == {"green": 1, "yellow": 1, "red": 1, "blue": 1}
    assert by_name["乙镇"] == {"green": 1}


def test_a_township_cadre_counts_only_their_township(personas, four_colours):
    rows = selectors.counts_by_township(personas.cadre_a, Situation.on_day(JUNE_30))
    assert [row.name for row in rows] == ["甲镇"]


def test_the_list_filters_by_colour_and_kind(personas, four_colours):
    situation = Situation.on_day(JUNE_30)
    reds = selectors.venues(personas.county_officer, situation, VenueFilter(colour="red"))
    assert [v.name for v in reds] == ["红足浴"]
    cafes = selectors.venues(personas.county_officer, situation, VenueFilter(kind="internet_cafe"))
    assert [v.name for v in cafes] == ["黄网吧"]


def test_the_list_puts_red_first(personas, four_colours):
    order = [v.colour for v in selectors.venues(personas.cadre_a, Situation.on_day(JUNE_30))]
    assert order == ["red", "yellow", "blue", "green"]


def test_colour_indicators_agree_with_the_list_for_one_or_many_townships(personas, four_colours):
    t = personas.territory
    paths = [t.township_a.path, t.township_b.path, t.county.path]
    expected = {
        "venues_green": {t.township_a.path: 1, t.township_b.path: 1, t.county.path: 2},
        "venues_yellow": {t.township_a.path: 1, t.township_b.path: 0, t.county.path: 1},
        "venues_red": {t.township_a.path: 1, t.township_b.path: 0, t.county.path: 1},
        "venues_blue": {t.township_a.path: 1, t.township_b.path: 0, t.county.path: 1},
        "venues_open": {t.township_a.path: 4, t.township_b.path: 1, t.county.path: 5},
        "venues_inspected": {t.township_a.path: 3, t.township_b.path: 1, t.county.path: 4},
    }
    for key, values in expected.items():
        assert indicators.by_units(key, paths, Q2) == values, key
        assert indicators.value(key, t.township_a.path, Q2) == values[t.township_a.path], key


def test_a_period_not_begun_has_no_colour_counts(personas, four_colours):
    assert (
        indicators.value("venues_green", personas.territory.county.path, Period.year(2999)) is None
    )


def test_the_venue_list_takes_the_same_number_of_queries_for_more_venues(personas, client):
    sign_in(client, personas.county_officer)
    url = reverse("inspections:venues")
    for n in range(3):
        make_venue(personas.cadre_a, personas.territory.village_a, name=f"宾馆{n}")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(12):
        venue = make_venue(personas.cadre_b, personas.territory.village_b, name=f"旅社{n}")
        inspect(personas.cadre_b, venue, MAY_5)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_recording_an_inspection_is_audited_with_its_failed_items(personas, venue):
    inspection = inspect(personas.cadre_a, venue, MAY_5, failed=("publicity",))
    row = AuditEvent.objects.get(
        action=Action.RECORD_CREATED,
        object_type="inspections.venueinspection",
        object_id=str(inspection.pk),
    )
    assert '"failed_items":["publicity"]' in row.detail


def test_the_rules_are_limited_and_audited(personas):
    with pytest.raises(ValidationError) as caught:
        services.update_inspection_rules(
            actor=personas.county_officer, venue_period_months=5, patrol_minimum=0
        )
    assert "检查周期" in str(caught.value) and "1至100" in str(caught.value)
    assert InspectionRules.current().venue_period_months == 3
    services.update_inspection_rules(actor=personas.county_officer, venue_period_months=1)
    row = AuditEvent.objects.filter(object_type="inspections.inspectionrules").latest("seq")
    assert '"venue_period_months":[3,1]' in row.detail
