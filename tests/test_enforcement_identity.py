"""Identities in enforcement records: ID numbers encrypted at rest, masked on every page
and export, revealed only with a reason and an audit row, and never to administrators."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.enforcement.identity import id_index
from jindu.enforcement.models import DrugDrivingTest, Suspect, UserCaught
from tests.helpers import sign_in
from tests.people_factories import make_id_number
from tests.test_enforcement_factories import add_suspect, catch, d, driving, make_case

ID = make_id_number(date(1986, 6, 6), 61)
MASKED = ID[:6] + "********" + ID[-4:]


@pytest.fixture
def suspect(personas, territory):
    case = make_case(personas.county_officer, territory.village_a, territory.police_dept)
    return add_suspect(personas.county_officer, case, name="孙甲", id_number=ID)


def test_the_database_holds_no_id_number_in_clear(personas, territory, suspect):
    office, police, place = personas.county_officer, territory.police_dept, territory.village_a
    catch(office, place, police, d("2023-05-05"), id_number=ID)
    driving(office, place, police, d("2023-05-06"), id_number=ID)
    for model in (Suspect, UserCaught, DrugDrivingTest):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id_number, id_index FROM {table}")  # noqa: S608
            ((raw, index),) = cursor.fetchall()
        assert ID.encode() not in bytes(raw) and ID[6:14].encode() not in bytes(raw), table
        assert bytes(index) == id_index(ID) and len(bytes(index)) == 16
    assert Suspect.objects.get().id_number == ID


def test_the_blind_index_finds_the_same_person_across_records(personas, territory, suspect):
    catch(personas.county_officer, territory.village_a, territory.police_dept, d("2023-05-05"),
          id_number=ID.lower())  # fmt: skip
    assert UserCaught.objects.get().id_index == suspect.id_index


def test_the_case_page_shows_the_id_number_masked(client, personas, suspect):
    sign_in(client, personas.police_officer)
    body = client.get(reverse("enforcement:case", args=[suspect.case_id])).content.decode()
    assert "孙甲" in body and MASKED in body
    assert ID not in body and ID[6:14] not in body


def test_revealing_needs_a_reason_and_is_audited(client, personas, suspect):
    sign_in(client, personas.police_officer)
    url = reverse("enforcement:suspect_reveal", args=[suspect.pk])
    headers = {"HX-Request": "true"}
    body = client.post(url, {"reason": "核实"}, headers=headers).content.decode()
    assert "至少4个字" in body and ID not in body
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).exists()
    body = client.post(url, {"reason": "移送起诉核对身份"}, headers=headers).content.decode()
    assert ID in body
    event = AuditEvent.objects.get(action=Action.PERSONAL_REVEALED)
    assert event.object_type == "enforcement.suspect" and event.username == "police_officer"
    assert "移送起诉核对身份" in event.detail and ID not in event.detail and MASKED in event.detail


def test_revealing_without_htmx_is_a_page_of_its_own(client, personas, suspect):
    sign_in(client, personas.county_officer)
    url = reverse("enforcement:suspect_reveal", args=[suspect.pk])
    body = client.post(url, {"reason": "核对户籍信息"}).content.decode()
    assert "<html" in body and ID in body


def test_roles_without_reveal_cannot_reveal(client, personas, suspect):
    for name in ("grid_worker", "dept_reporter", "leader"):
        sign_in(client, personas.users[name])
        response = client.post(
            reverse("enforcement:suspect_reveal", args=[suspect.pk]), {"reason": "想看一下号码"}
        )
        assert response.status_code == 403, name
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).exists()


def test_user_caught_and_driver_ids_are_revealed_the_same_way(client, personas, territory):
    office, police, place = personas.county_officer, territory.police_dept, territory.village_a
    record = catch(office, place, police, d("2023-05-05"), id_number=ID)
    test = driving(office, place, police, d("2023-05-06"), id_number=ID)
    sign_in(client, personas.police_officer)
    listing = client.get(reverse("enforcement:caught")).content.decode()
    assert MASKED in listing and ID not in listing
    for name, pk in (
        ("enforcement:caught_reveal", record.pk),
        ("enforcement:driving_reveal", test.pk),
    ):
        body = client.post(reverse(name, args=[pk]), {"reason": "核实驾驶人身份"}).content.decode()
        assert ID in body
    assert AuditEvent.objects.filter(action=Action.PERSONAL_REVEALED).count() == 2


def test_administrators_see_no_identities(personas, suspect):
    for name in ("sys_admin", "sec_admin", "audit_admin"):
        assert not Suspect.objects.for_user(personas.users[name]).exists()
