"""Personal data is masked on every page; revealing one value needs the capability and a
reason and is audited; and the database itself holds no ID number or phone in clear."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from tests.helpers import sign_in
from tests.people_factories import make_id_number, make_person

ID = make_id_number(date(1987, 7, 7), 33)
PHONE = "13987654321"
ADDRESS = "青岚县甲镇甲一村五组十七号"


@pytest.fixture
def person(personas, territory):
    return make_person(
        personas.cadre_a,
        territory.village_a,
        name="周甲",
        id_number=ID,
        phone=PHONE,
        current_address=ADDRESS,
        household_address=ADDRESS,
    )


def _reveal(client, person, field, reason="核实身份，办理报到", htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("people:reveal", args=[person.pk, field]), {"reason": reason}, headers=headers
    )


def test_the_list_shows_the_id_number_masked(client, personas, person):
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:list")).content.decode()
    assert "621199********" + ID[-4:] in page
    assert ID not in page and ID[6:14] not in page


def test_the_person_page_masks_id_phone_and_addresses(client, personas, person):
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "621199********" + ID[-4:] in page
    assert "139****4321" in page
    assert ID not in page and PHONE not in page and ADDRESS not in page


def test_the_person_page_is_not_audited_as_a_view_of_personal_data(client, personas, person):
    sign_in(client, personas.cadre_a)
    client.get(reverse("people:detail", args=[person.pk]))
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).exists()


@pytest.mark.parametrize("name", ["cadre_a", "police_officer", "county_officer"])
def test_who_may_reveal_sees_a_button_per_masked_field(client, personas, person, name):
    sign_in(client, personas.users[name])
    page = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    for field in ("id_number", "phone", "household_address", "current_address"):
        assert reverse("people:reveal", args=[person.pk, field]) in page


@pytest.mark.parametrize("name", ["grid_worker", "dept_reporter"])
def test_who_may_not_reveal_sees_no_button_and_is_refused(client, personas, territory, name):
    person = make_person(personas.cadre_a, territory.grid_a, id_number=ID, phone=PHONE)
    sign_in(client, personas.users[name])
    page = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "/reveal/" not in page
    assert _reveal(client, person, "id_number").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).exists()


def test_revealing_asks_for_a_reason_first(client, personas, person):
    sign_in(client, personas.cadre_a)
    response = client.get(
        reverse("people:reveal", args=[person.pk, "id_number"]), headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert "查看完整身份证号的原因" in page
    assert ID not in page and "<html" not in page


def test_revealing_without_a_reason_is_refused_in_chinese(client, personas, person):
    sign_in(client, personas.cadre_a)
    for reason in ("", "看看"):
        page = _reveal(client, person, "id_number", reason=reason).content.decode()
        assert "请填写查看原因（至少4个字）" in page
        assert ID not in page
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).exists()


def test_revealing_with_a_reason_shows_the_value_and_audits_the_reason(client, personas, person):
    sign_in(client, personas.cadre_a)
    page = _reveal(client, person, "id_number").content.decode()
    assert ID in page
    event = AuditEvent.objects.get(action=Action.PERSONAL_REVEALED)
    detail = json.loads(event.detail)
    assert detail["field"] == "id_number"
    assert detail["reason"] == "核实身份，办理报到"
    assert event.username == "cadre_a" and event.object_id == str(person.pk)
    # The log itself keeps the number masked.
    assert ID not in event.detail


@pytest.mark.parametrize(("field", "value"), [("phone", PHONE), ("current_address", ADDRESS)])
def test_each_masked_field_is_revealed_on_its_own(client, personas, person, field, value):
    sign_in(client, personas.police_officer)
    page = _reveal(client, person, field).content.decode()
    assert value in page and ID not in page
    assert (
        json.loads(AuditEvent.objects.get(action=Action.PERSONAL_REVEALED).detail)["field"] == field
    )


def test_reveal_works_without_scripts_as_a_page(client, personas, person):
    sign_in(client, personas.cadre_a)
    response = _reveal(client, person, "phone", htmx=False)
    page = response.content.decode()
    assert "<html" in page and PHONE in page


def test_an_unknown_field_answers_404(client, personas, person):
    sign_in(client, personas.cadre_a)
    assert _reveal(client, person, "name").status_code == 404
    assert _reveal(client, person, "id_index").status_code == 404


def test_another_townships_person_cannot_be_revealed(client, personas, person):
    sign_in(client, personas.cadre_b)
    assert _reveal(client, person, "id_number").status_code == 404
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).exists()


# ------------------------------------------------------------------ the stored bytes


def _database_text() -> str:
    """Every row of every table as text, as a raw read of the database would see it."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT t::text FROM {quoted} AS t")  # noqa: S608 (own table names)
            parts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(parts)


def test_the_database_holds_no_id_number_or_phone_in_clear(client, personas, territory):
    sign_in(client, personas.cadre_a)
    response = client.post(
        reverse("people:create"),
        {
            "name": "吴甲",
            "id_number": "621199870707033",  # the 15-digit form of ID
            "org_unit": territory.village_a.pk,
            "phone": PHONE,
            "current_address": ADDRESS,
            "household_address": ADDRESS,
            "household_local": "on",
        },
    )
    assert response.status_code == 302
    person_pk = int(response.url.rstrip("/").rsplit("/", 1)[1])
    from jindu.people.models import Person

    person = Person.objects.get(pk=person_pk)
    assert person.id_number == ID and person.phone == PHONE
    client.get(reverse("people:detail", args=[person_pk]))
    _reveal(client, person, "id_number")
    dump = _database_text()
    assert "吴甲" in dump  # the dump does hold the register's rows
    for secret in (ID, "621199870707033", PHONE, ADDRESS, ID[6:14] + ID[14:17]):
        assert secret not in dump
