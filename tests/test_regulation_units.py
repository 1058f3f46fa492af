"""The register of regulated units: who may register what where, licence expiry by
date, the daily reminder to the responsible department, and a unit that moves."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from jindu.notifications.models import Notification
from jindu.regulation import reminders, selectors, services
from jindu.regulation.models import Finding, LedgerEntry, Licence, RegulatedUnit
from tests.helpers import sign_in, travelling_clock
from tests.test_regulation_factories import days_ago, line, make_unit, today


@pytest.fixture
def office(personas):
    return personas.county_officer


def _register(actor, place, department, **kw):
    values = {
        "name": "甲一试剂经营部",
        "kind": "trader",
        "department": department,
        "org_unit": place,
        "registered_on": days_ago(10),
    }
    values.update(kw)
    return services.register_unit(actor=actor, **values)


# ------------------------------------------------------------------ registering


def test_a_cadre_registers_units_in_their_township_only(personas, territory):
    unit = _register(personas.cadre_a, territory.village_a, territory.police_dept)
    assert unit.org_path == territory.village_a.path
    with pytest.raises(ValidationError) as caught:
        _register(personas.cadre_a, territory.village_b, territory.police_dept, name="乙某")
    assert caught.value.message_dict["org_unit"] == ["所在地不在您的管辖范围内"]


def test_a_unit_sits_in_a_township_or_village_not_a_grid(office, territory):
    with pytest.raises(ValidationError) as caught:
        _register(office, territory.grid_a, territory.police_dept)
    assert caught.value.message_dict["org_unit"] == ["所在地须为乡镇（街道）或村（社区）"]


def test_a_department_reporter_registers_only_their_departments_units(personas, territory):
    with pytest.raises(ValidationError) as caught:
        _register(personas.dept_reporter, territory.village_a, territory.police_dept)
    assert caught.value.message_dict["department"] == ["您只能登记本部门监管的单位"]
    unit = _register(personas.dept_reporter, territory.village_a, territory.education_dept)
    assert unit.department == territory.education_dept


def test_a_credit_code_is_checked_and_registered_once(office, territory):
    with pytest.raises(ValidationError) as caught:
        _register(office, territory.village_a, territory.police_dept, credit_code="12345")
    assert "18位" in caught.value.message_dict["credit_code"][0]
    _register(office, territory.village_a, territory.police_dept, credit_code="91621199MA0000001X")
    with pytest.raises(ValidationError) as caught:
        _register(
            office,
            territory.village_a,
            territory.police_dept,
            name="另一家",
            credit_code="91621199ma0000001x",
        )
    assert caught.value.message_dict["credit_code"] == ["该统一社会信用代码已登记"]


def test_registration_cannot_be_dated_after_the_first_ledger_line(office, territory):
    unit = make_unit(
        office, territory.village_a, territory.police_dept, registered_on=days_ago(100)
    )
    line(office, unit, "丙酮", "opening", days_ago(90), 10)
    with pytest.raises(ValidationError) as caught:
        services.update_unit(actor=office, unit=unit, registered_on=days_ago(80))
    assert "registered_on" in caught.value.message_dict


def test_a_unit_moved_to_another_village_takes_its_records_with_it(office, territory):
    unit = make_unit(office, territory.village_a, territory.police_dept)
    line(office, unit, "丙酮", "opening", days_ago(90), 10)
    line(office, unit, "丙酮", "count", days_ago(80), 9)
    from jindu.core.indicators import Period
    from jindu.regulation import reconcile

    reconcile.run(
        actor=office,
        units=RegulatedUnit.objects.all(),
        period=Period.between(days_ago(100), today()),
    )
    services.update_unit(actor=office, unit=unit, org_unit=territory.village_b)
    path = territory.village_b.path
    assert set(LedgerEntry.objects.values_list("org_path", flat=True)) == {path}
    assert set(Finding.objects.values_list("org_path", flat=True)) == {path}
    assert set(Licence.objects.values_list("org_path", flat=True)) == {path}


# ------------------------------------------------------------------ licences


def test_a_licence_cannot_end_before_it_starts(office, territory):
    unit = make_unit(office, territory.village_a, territory.police_dept)
    with pytest.raises(ValidationError) as caught:
        services.add_licence(
            actor=office,
            unit=unit,
            kind="precursor_trade",
            number="X-1",
            valid_from=today(),
            valid_until=days_ago(1),
        )
    assert caught.value.message_dict["valid_until"] == ["有效期截止日期不能早于起始日期"]


def test_expiry_is_flagged_from_the_dates_in_the_warning_window(office, territory):
    unit = make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=61),
    )
    licence = unit.licences.get()

    def flag():
        listed = selectors.units_for(office, selectors.UnitFilter(), today(), 60).get(pk=unit.pk)
        return selectors.licence_flag(listed, today(), 60)

    assert (licence.expiring(today(), 60), flag()) == (False, "")
    with travelling_clock() as clock:
        clock.advance(days=1)
        assert licence.expiring(today(), 60)
        assert flag() == "expiring"
        clock.advance(days=61)
        assert licence.expired(today())
        assert flag() == "expired"


def test_the_list_filters_expiring_and_expired_licences(office, territory):
    soon = make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=10),
    )
    make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=300),
    )
    gone = make_unit(office, territory.village_a, territory.police_dept, licence_until=days_ago(1))
    filters = selectors.UnitFilter(licence="expiring")
    assert [u.pk for u in selectors.units_for(office, filters, today(), 60)] == [soon.pk]
    filters = selectors.UnitFilter(licence="expired")
    assert [u.pk for u in selectors.units_for(office, filters, today(), 60)] == [gone.pk]


# ------------------------------------------------------------------ reminders


def test_the_responsible_departments_users_are_told_once_when_a_licence_enters_the_window(
    personas, office, territory
):
    unit = make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=30),
    )
    make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=200),
    )
    counts = reminders.remind_expiring_licences()
    assert counts["notified"] == 1
    notes = Notification.objects.filter(source__startswith="regulation.Licence:")
    # The police officer of 甲镇 works for 公安局 and 甲镇 holds the unit; the education
    # department's reporter is not responsible for it.
    assert [n.recipient.username for n in notes] == ["police_officer"]
    assert reverse("regulation:unit", args=[unit.pk]) == notes.get().link
    assert reminders.remind_expiring_licences()["notified"] == 0
    assert notes.count() == 1


def test_a_renewed_licence_is_announced_again_when_its_new_date_comes_near(office, territory):
    unit = make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=30),
    )
    reminders.remind_expiring_licences()
    licence = unit.licences.get()
    services.update_licence(actor=office, licence=licence, valid_until=today() + timedelta(days=40))
    assert reminders.remind_expiring_licences()["notified"] == 1


def test_a_unit_in_another_township_is_not_announced_to_this_townships_officer(
    personas, office, territory
):
    make_unit(
        office,
        territory.village_b,
        territory.police_dept,
        licence_until=today() + timedelta(days=5),
    )
    reminders.remind_expiring_licences()
    assert not Notification.objects.filter(source__startswith="regulation.Licence:").exists()


def test_jindu_regulation_remind_runs_from_the_console(office, territory):
    make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        licence_until=today() + timedelta(days=5),
    )
    out = io.StringIO()
    call_command("regulation", "remind", stdout=out)
    assert "本次提醒 1 个" in out.getvalue()
    out = io.StringIO()
    call_command("regulation", "remind", stdout=out)
    assert "本次提醒 0 个" in out.getvalue()


def test_jindu_regulation_reconcile_runs_a_year_from_the_console(office, territory):
    unit = make_unit(
        office, territory.village_a, territory.police_dept, registered_on=days_ago(400)
    )
    line(office, unit, "丙酮", "opening", today().replace(month=1, day=1), 10)
    line(office, unit, "丙酮", "count", today(), 8)
    out = io.StringIO()
    call_command("regulation", "reconcile", stdout=out)
    assert "发现问题 1 个" in out.getvalue()


# ------------------------------------------------------------------ the pages


def test_a_unit_registered_on_the_page_lands_in_the_register(client, office, territory):
    sign_in(client, office)
    response = client.post(
        reverse("regulation:unit_add"),
        {
            "name": "甲一新登记化工",
            "kind": "user",
            "department": territory.police_dept.pk,
            "org_unit": territory.village_a.pk,
            "registered_on": days_ago(3).isoformat(),
        },
    )
    unit = RegulatedUnit.objects.get(name="甲一新登记化工")
    assert response.status_code == 302 and response.url == reverse(
        "regulation:unit", args=[unit.pk]
    )


def test_a_refused_registration_keeps_what_was_typed(client, office, territory):
    sign_in(client, office)
    response = client.post(
        reverse("regulation:unit_add"),
        {
            "name": "甲一新登记化工",
            "credit_code": "BAD",
            "kind": "user",
            "department": territory.police_dept.pk,
            "org_unit": territory.village_a.pk,
            "registered_on": (today() + timedelta(days=3)).isoformat(),
            "address": "甲一村8号",
        },
    )
    body = response.content.decode()
    assert "登记日期不能晚于今天" in body and "统一社会信用代码应为18位" in body
    assert 'value="甲一村8号"' in body and 'value="甲一新登记化工"' in body
    assert not RegulatedUnit.objects.exists()


def test_contact_phones_are_shown_masked(client, office, territory):
    unit = make_unit(office, territory.village_a, territory.police_dept)
    services.add_contact(actor=office, unit=unit, name="赵安全", phone="13912345678")
    sign_in(client, office)
    body = client.get(reverse("regulation:unit", args=[unit.pk])).content.decode()
    assert "139****5678" in body and "13912345678" not in body


def test_a_bad_phone_is_refused_next_to_its_field(client, office, territory):
    unit = make_unit(office, territory.village_a, territory.police_dept)
    sign_in(client, office)
    response = client.post(
        reverse("regulation:contact_add", args=[unit.pk]), {"name": "赵", "phone": "abc"}
    )
    assert "联系电话格式不正确" in response.content.decode()
    assert not unit.contacts.exists()
