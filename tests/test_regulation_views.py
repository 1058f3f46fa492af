"""The regulation pages as each persona sees them: who may open and write, scoping by
township and by responsible department, the ledger book, the reconciliation
page, findings assigned and closed, exports."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jindu.audit.models import AuditEvent
from jindu.core.indicators import Period
from jindu.regulation import reconcile, services
from jindu.regulation.models import Finding, FindingKind, RegulatedUnit
from tests.helpers import sign_in
from tests.personas import ADMIN_PERSONAS
from tests.test_regulation_factories import days_ago, line, make_unit, today


@pytest.fixture
def office(personas):
    return personas.county_officer


@pytest.fixture
def units(office, territory):
    """A 公安-supervised trader in 甲一村 with a short count and a late sale, a
    教育局-supervised school laboratory in 甲镇, and a 公安 trader in 乙一村."""
    a = make_unit(office, territory.village_a, territory.police_dept, name="甲一化工经营部")
    line(office, a, "丙酮", "opening", days_ago(100), 100)
    line(office, a, "丙酮", "sale", days_ago(90), 10)
    line(office, a, "丙酮", "count", days_ago(80), 85)
    school = make_unit(
        office,
        territory.township_a,
        territory.education_dept,
        name="甲镇中学化学实验室",
        kind="user",
    )
    b = make_unit(office, territory.village_b, territory.police_dept, name="乙镇化工经营部")
    line(office, b, "丙酮", "opening", days_ago(100), 100)
    line(office, b, "丙酮", "count", days_ago(80), 90)
    reconcile.run(
        actor=office,
        units=RegulatedUnit.objects.all(),
        period=Period.between(days_ago(120), today()),
    )
    return a, school, b


def _get(client, user, name, *args, **query):
    sign_in(client, user)
    url = reverse(name, args=args)
    return client.get(url, query)


# ------------------------------------------------------------------ who may open what


READ_PAGES = [
    "regulation:units",
    "regulation:reconcile",
    "regulation:findings",
    "regulation:campaigns",
]


@pytest.mark.parametrize("name", READ_PAGES)
def test_the_administrators_and_a_user_without_role_are_refused_the_business_pages(
    client, personas, units, name
):
    for persona in (*ADMIN_PERSONAS, "no_role"):
        assert _get(client, personas.users[persona], name).status_code == 403, persona


@pytest.mark.parametrize("name", READ_PAGES)
def test_every_everyday_role_reads_the_pages(client, personas, units, name):
    for persona in (
        "county_officer",
        "cadre_a",
        "grid_worker",
        "police_officer",
        "dept_reporter",
        "leader",
    ):
        assert _get(client, personas.users[persona], name).status_code == 200, persona


def test_the_leader_reads_but_does_not_write(client, personas, units):
    a = units[0]
    leader = personas.leader
    assert _get(client, leader, "regulation:ledger", a.pk).status_code == 200
    assert _get(client, leader, "regulation:entry_add", a.pk).status_code == 403
    assert client.post(reverse("regulation:reconcile_run")).status_code == 403
    page = _get(client, leader, "regulation:unit", a.pk).content.decode()
    assert reverse("regulation:unit_edit", args=[a.pk]) not in page


def test_the_system_administrator_keeps_the_catalogue_and_adds_a_later_listing(client, personas):
    sys_admin = personas.sys_admin
    assert _get(client, sys_admin, "regulation:catalogue").status_code == 200
    response = client.post(
        reverse("regulation:substance_add"),
        {
            "code": "P2-12",
            "name": "4-哌啶酮",
            "category": "precursor_2",
            "unit": "kg",
            "listed_year": "2024",
        },
    )
    assert response.status_code == 302
    page = _get(client, personas.cadre_a, "regulation:catalogue").content.decode()
    assert "4-哌啶酮" in page and "2024年增补" in page
    assert _get(client, personas.county_officer, "regulation:substance_add").status_code == 403


def test_only_the_county_office_sets_the_rules(client, personas):
    assert _get(client, personas.county_officer, "regulation:policy").status_code == 200
    for persona in ("cadre_a", "leader", "sys_admin"):
        assert _get(client, personas.users[persona], "regulation:policy").status_code == 403


# ------------------------------------------------------------------ scope


def test_a_cadre_of_jia_gets_404_for_a_unit_of_yi(client, personas, units):
    b = units[2]
    for name in (
        "regulation:unit",
        "regulation:ledger",
        "regulation:ledger_export",
        "regulation:unit_edit",
    ):
        assert _get(client, personas.cadre_a, name, b.pk).status_code == 404, name
    finding = Finding.objects.get(unit=b)
    assert _get(client, personas.cadre_a, "regulation:finding", finding.pk).status_code == 404


def test_the_list_shows_a_cadre_only_their_townships_units(client, personas, units):
    body = _get(client, personas.cadre_a, "regulation:units").content.decode()
    assert "甲一化工经营部" in body and "乙镇化工经营部" not in body


def test_the_education_reporter_sees_no_police_supervised_unit(client, personas, units):
    a, school, b = units
    body = _get(client, personas.dept_reporter, "regulation:units").content.decode()
    assert "甲镇中学化学实验室" in body
    assert "甲一化工经营部" not in body and "乙镇化工经营部" not in body
    assert _get(client, personas.dept_reporter, "regulation:unit", a.pk).status_code == 404
    findings = _get(client, personas.dept_reporter, "regulation:findings").context["rows"]
    assert findings == []


def test_the_reconciliation_run_by_a_cadre_covers_their_township_only(client, personas, units):
    Finding.objects.all().delete()
    sign_in(client, personas.cadre_a)
    client.post(reverse("regulation:reconcile_run"), {"year": "", "quarter": "", "month": ""})
    assert {f.unit.name for f in Finding.objects.all()} == {"甲一化工经营部"}


# ------------------------------------------------------------------ the ledger


def test_the_ledger_shows_running_balances_by_month_and_the_counted_difference(
    client, office, units
):
    a = units[0]
    response = _get(client, office, "regulation:ledger", a.pk, year=days_ago(80).year)
    if days_ago(100).year != days_ago(80).year:
        pytest.skip("the lines straddle new year")
    (book,) = response.context["books"]
    lines = [bl for m in book.months for bl in m.lines]
    assert [(bl.entry.kind, bl.balance) for bl in lines] == [
        ("opening", 100),
        ("sale", 90),
        ("count", 85),
    ]
    assert lines[-1].difference == -5
    assert "差异 -5" in response.content.decode()


def test_the_ledger_page_reads_a_fixed_number_of_queries_however_long_the_ledger(
    client, office, units, django_assert_max_num_queries
):
    a = units[0]
    sign_in(client, office)
    url = reverse("regulation:ledger", args=[a.pk])
    client.get(url)
    for n in range(40):
        line(office, a, "丙酮", "use", days_ago(70 - n), 1)
    with django_assert_max_num_queries(16):
        client.get(url, {"year": today().year})


def test_the_ledger_export_is_audited(client, office, units):
    a = units[0]
    response = _get(client, office, "regulation:ledger_export", a.pk)
    assert response.status_code == 200
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.object_type) == ("record.exported", "regulation.ledgerentry")


# ------------------------------------------------------------------ reconciliation and findings


def test_the_reconciliation_page_groups_the_findings_by_kind_with_amounts(client, office, units):
    response = _get(client, office, "regulation:reconcile")
    groups = {g["summary"].kind: g for g in response.context["groups"]}
    assert set(groups) == {FindingKind.BALANCE, FindingKind.LATE_REPORT}
    balance = groups[FindingKind.BALANCE]["summary"]
    assert balance.count == 2 and balance.missing == [("升", 15)]
    link = groups[FindingKind.BALANCE]["rows"][0]["link"]
    assert "/ledger/?year=" in link and "#entry-" in link


def test_a_finding_is_assigned_to_the_responsible_department_and_closed_with_a_note(
    client, personas, office, units
):
    a = units[0]
    finding = Finding.objects.get(unit=a, kind=FindingKind.BALANCE)
    sign_in(client, office)
    response = client.post(
        reverse("regulation:finding_assign", args=[finding.pk]), {"assignee": f"d{a.department_id}"}
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == "assigned"
    assert personas.police_officer.notifications.filter(
        source=f"regulation.Finding:{finding.pk}:assigned"
    ).exists()
    response = client.post(reverse("regulation:finding_close", args=[finding.pk]), {"note": ""})
    assert response.status_code == 400 and "请填写办结说明" in response.content.decode()
    client.post(
        reverse("regulation:finding_close", args=[finding.pk]), {"note": "盘点漏计，已更正"}
    )
    finding.refresh_from_db()
    assert finding.status == "closed" and finding.close_note == "盘点漏计，已更正"


def test_a_finding_cannot_go_to_a_department_that_does_not_supervise_the_unit(
    client, office, units, territory
):
    finding = Finding.objects.get(unit=units[0], kind=FindingKind.BALANCE)
    sign_in(client, office)
    response = client.post(
        reverse("regulation:finding_assign", args=[finding.pk]),
        {"assignee": f"d{territory.education_dept.pk}"},
    )
    assert response.status_code == 400
    finding.refresh_from_db()
    assert finding.status == "open"


def test_the_findings_export_lists_the_users_findings(client, personas, units):
    response = _get(client, personas.cadre_a, "regulation:finding_export")
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["甲一化工经营部", "甲一化工经营部"]


def test_the_unit_export_never_holds_contact_phones(client, office, units):
    services.add_contact(actor=office, unit=units[0], name="赵安全", phone="13912345678")
    response = _get(client, office, "regulation:unit_export")
    assert b"13912345678" not in response.content


def test_a_finding_is_handed_to_a_user_whose_scope_holds_the_unit(client, personas, office, units):
    finding = Finding.objects.get(unit=units[0], kind=FindingKind.BALANCE)
    sign_in(client, office)
    page = client.get(reverse("regulation:finding", args=[finding.pk]))
    offered = dict(page.context["assign_form"].fields["assignee"].choices)
    assert f"u{personas.police_officer.pk}" in offered
    assert f"u{personas.cadre_b.pk}" not in offered  # 乙镇 does not hold a 甲镇 unit
    assert f"u{personas.dept_reporter.pk}" not in offered  # 教育局 does not supervise it
    client.post(
        reverse("regulation:finding_assign", args=[finding.pk]),
        {"assignee": f"u{personas.police_officer.pk}"},
    )
    finding.refresh_from_db()
    assert finding.assigned_user == personas.police_officer
    assert personas.police_officer.notifications.filter(
        link__contains=f"/findings/{finding.pk}/"
    ).exists()
