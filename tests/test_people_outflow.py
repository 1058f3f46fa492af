"""Outflow (外流吸毒/贩毒): recording, linking to the register, yearly counts, pages, scope."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jindu.people import movement
from jindu.people.models import Outflow
from tests.helpers import sign_in
from tests.people_factories import make_id_number, make_person

TODAY = timezone.localdate


def _outflow(personas, *, kind="using", day=date(2023, 4, 1), unit=None, actor=None, **kw):
    return movement.record_outflow(
        actor=actor or personas.cadre_a,
        kind=kind,
        caught_on=day,
        place="某省某市某区",
        name=kw.pop("name", "外流某"),
        org_unit=unit or personas.territory.village_a,
        **kw,
    )


def test_counts_by_year_split_using_and_trafficking_within_the_path(personas):
    t = personas.territory
    _outflow(personas, kind="using", day=date(2023, 1, 1))
    _outflow(personas, kind="using", day=date(2023, 12, 31), unit=t.grid_a)
    _outflow(personas, kind="trafficking", day=date(2023, 7, 1))
    _outflow(personas, kind="trafficking", day=date(2022, 12, 31))
    _outflow(
        personas, kind="trafficking", day=date(2023, 3, 3), unit=t.village_b, actor=personas.cadre_b
    )
    assert movement.outflow_counts(t.township_a.path, 2023) == {"using": 2, "trafficking": 1}
    assert movement.outflow_counts(t.township_a.path, 2022) == {"using": 0, "trafficking": 1}
    assert movement.outflow_counts(t.township_b.path, 2023) == {"using": 0, "trafficking": 1}
    assert movement.outflow_counts(t.county.path, 2023) == {"using": 2, "trafficking": 2}


def test_a_registered_person_is_linked_and_named_from_the_register(personas):
    person = make_person(personas.cadre_a, personas.territory.grid_a, name="钱外流")
    outflow = movement.record_outflow(
        actor=personas.cadre_a,
        kind="trafficking",
        caught_on=date(2024, 2, 2),
        place="外省某县",
        person=person,
        name="别的名字",
    )
    assert outflow.person_id == person.pk and outflow.name == "钱外流"
    assert outflow.org_path == personas.territory.grid_a.path


def test_missing_facts_are_all_reported_at_once(personas):
    with pytest.raises(ValidationError) as exc:
        movement.record_outflow(actor=personas.cadre_a, kind="", caught_on=None, place=" ")
    assert set(exc.value.message_dict) == {"kind", "caught_on", "place", "name", "org_unit"}


def test_a_future_date_is_refused(personas):
    with pytest.raises(ValidationError, match="不能晚于今天"):
        _outflow(personas, day=TODAY() + timedelta(days=1))


def test_a_unit_outside_the_scope_is_refused(personas):
    with pytest.raises(ValidationError, match="管辖范围"):
        _outflow(personas, unit=personas.territory.village_b)


def test_a_person_outside_the_scope_cannot_be_linked(personas):
    person = make_person(personas.cadre_b, personas.territory.village_b)
    with pytest.raises(PermissionDenied):
        movement.record_outflow(
            actor=personas.cadre_a,
            kind="using",
            caught_on=date(2024, 1, 1),
            place="外省某县",
            person=person,
        )


# ------------------------------------------------------------------ pages


def test_the_form_links_a_person_found_by_id_number(client, personas):
    number = make_id_number(date(1985, 3, 3), 41)
    person = make_person(
        personas.cadre_a, personas.territory.village_a, id_number=number, name="孙外流"
    )
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:outflow_add"),
        {
            "kind": "using",
            "caught_on": "2024-05-06",
            "place": "外省某市",
            "id_number": number.lower(),
        },
    )
    assert response.status_code == 302
    outflow = Outflow.objects.get()
    assert outflow.person_id == person.pk and outflow.name == "孙外流"


def test_an_unknown_id_number_without_a_name_asks_for_one_and_keeps_the_input(client, personas):
    number = make_id_number(date(1986, 4, 4), 43)
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:outflow_add"),
        {
            "kind": "trafficking",
            "caught_on": "2024-05-06",
            "place": "外省某市",
            "caught_by": "某市公安局",
            "id_number": number,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "未找到该身份证号" in page and "某市公安局" in page and number in page
    assert not Outflow.objects.exists()


def test_an_invalid_id_number_is_explained(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:outflow_add"),
        {
            "kind": "using",
            "caught_on": "2024-05-06",
            "place": "外省某市",
            "id_number": "123456789012345678",
            "name": "某人",
        },
    )
    assert response.status_code == 200 and "身份证号" in response.content.decode()
    assert not Outflow.objects.exists()


def test_someone_not_on_the_register_is_recorded_by_name_and_unit(client, personas):
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:outflow_add")).content.decode()
    assert "甲镇 / 甲一村" in page and "乙一村" not in page
    response = client.post(
        reverse("people:outflow_add"),
        {
            "kind": "using",
            "caught_on": "2024-05-06",
            "place": "外省某市",
            "name": "周未登",
            "org_unit": personas.territory.village_a.pk,
        },
    )
    assert response.status_code == 302
    outflow = Outflow.objects.get()
    assert (outflow.person_id, outflow.name, outflow.org_unit_id) == (
        None,
        "周未登",
        personas.territory.village_a.pk,
    )


def test_the_list_shows_the_scope_only_with_yearly_counts(client, personas):
    year = TODAY().year
    _outflow(personas, name="甲外流", day=date(year, 1, 1), kind="trafficking")
    _outflow(
        personas,
        name="乙外流",
        day=date(year, 1, 1),
        unit=personas.territory.village_b,
        actor=personas.cadre_b,
    )
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("people:outflow_list"))
    page = response.content.decode()
    assert "甲外流" in page and "乙外流" not in page
    assert response.context["counts"][0] == (year, {"using": 0, "trafficking": 1})
    page = client.get(reverse("people:outflow_list"), {"kind": "using"}).content.decode()
    assert "甲外流" not in page


def test_the_export_is_scoped_and_audited(client, personas):
    from jindu.audit.models import AuditEvent

    _outflow(personas, name="甲外流")
    _outflow(personas, name="乙外流", unit=personas.territory.village_b, actor=personas.cadre_b)
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("people:outflow_export"), {"year": "2023"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["甲外流"]
    event = AuditEvent.objects.get(action="record.exported", username="cadre_a")
    assert '"year":2023' in event.detail


@pytest.mark.parametrize(
    "name", ["people:outflow_list", "people:outflow_add", "people:outflow_export"]
)
@pytest.mark.parametrize("admin", ["sys_admin", "sec_admin", "audit_admin"])
def test_administrators_are_refused(client, personas, name, admin):
    sign_in(client, personas.users[admin])
    assert client.get(reverse(name)).status_code == 403
