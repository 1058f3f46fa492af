"""Each targets page as each persona, the four-up four-down board and its export, and
what a township, a department and the county see."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jindu.audit.models import AuditEvent
from jindu.core.indicators import Change
from jindu.core.roles import has_perm
from jindu.targets import board, letters, reporting, services
from jindu.targets.board import BOARD_KEYS
from tests.helpers import sign_in
from tests.people_factories import make_person
from tests.personas import PERSONAS

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _today():
    """Today as each test starts, not as the module was collected (a run may pass
    midnight in China)."""
    global TODAY
    TODAY = timezone.localdate()


PAGES = {
    "targets:list": "dashboard_view",
    "targets:board": "dashboard_view",
    "targets:reported": "dashboard_view",
    "targets:letters": "dashboard_view",
    "targets:key_townships": "dashboard_view",
    "targets:target_add": "targets_manage",
    "targets:templates": "targets_manage",
    "targets:export": "dashboard_view",
    "targets:board_export": "dashboard_view",
}


@pytest.fixture
def county_year(personas):
    """This year's target with parts, 甲镇's letter and key township, 乙镇's survey."""
    t, office = personas.territory, personas.county_officer
    target = services.set_target(
        actor=office, county=t.county, year=TODAY.year, key="new_users_found", value="10"
    )
    services.set_breakdown(
        actor=office, target=target, townships={t.township_a: "6", t.township_b: "4"},
        departments={t.education_dept: "10"},
    )  # fmt: skip
    letters.draft_all(actor=office, county=t.county, year=TODAY.year)
    letters.list_key_township(
        actor=office, township=t.township_a, listed_on=TODAY - timedelta(days=9)
    )
    reporting.save_reported_value(
        actor=personas.cadre_b, key="awareness_rate", unit=t.township_b, year=TODAY.year,
        value="88.8", submit=True,
    )  # fmt: skip
    return personas


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_page_answers_each_persona_by_capability(client, county_year, persona):
    user = county_year.users[persona]
    sign_in(client, user)
    for name, perm in PAGES.items():
        response = client.get(reverse(name))
        allowed = has_perm(user.role_codes, _perm(perm))
        assert response.status_code == (200 if allowed else 403), f"{name} as {persona}"


def _perm(code):
    from jindu.core.roles import Perm

    return Perm(code)


@pytest.mark.parametrize("persona", ["cadre_a", "grid_worker", "police_officer"])
def test_township_a_personas_never_see_township_b(client, county_year, persona):
    sign_in(client, county_year.users[persona])
    for name in ("targets:list", "targets:board", "targets:reported", "targets:letters",
                 "targets:key_townships"):  # fmt: skip
        body = client.get(reverse(name)).content.decode()
        assert "乙镇" not in body, name
        assert "88.8" not in body, name


def test_the_department_reporter_sees_its_own_department_only(client, county_year):
    sign_in(client, county_year.dept_reporter)
    body = client.get(reverse("targets:list")).content.decode()
    assert "青岚县教育局承担的目标任务" in body
    body = client.get(reverse("targets:letters")).content.decode()
    assert "青岚县教育局" in body and "公安局" not in body and "甲镇" not in body


def test_the_county_sees_every_township_side_by_side(client, county_year):
    sign_in(client, county_year.county_officer)
    body = client.get(reverse("targets:list")).content.decode()
    assert 'id="townships"' in body and "甲镇" in body and "乙镇" in body
    body = client.get(reverse("targets:board")).content.decode()
    assert 'id="board-townships"' in body and "乙镇" in body


def test_the_board_has_the_eight_indicators_and_whether_each_moved_the_right_way(personas):
    t, actor = personas.territory, personas.county_officer
    last = TODAY.year - 1
    for day in (date(last - 1, 3, 1), date(last - 1, 4, 1), date(last, 5, 1)):
        make_person(actor, t.village_a, first_found_on=day)
    rows = board.board(t.county.path, last)
    assert [r.key for r in rows] == list(BOARD_KEYS)
    assert [r.should_rise for r in rows] == [True] * 4 + [False] * 4
    growth = next(r for r in rows if r.key == "new_users_growth")
    # One found last year against two the year before: the growth rate went from
    # "no figure" (nobody the year before that) to -50 %: not comparable.
    assert growth.current == -50 and growth.previous is None
    assert growth.moved_right_way is None and str(growth.verdict) == "无法比较"
    assert Change(3, 5).moved_right_way(False) is True
    side = board.board_by_units([t.township_a.path, t.township_b.path], last)
    assert side["new_users_growth"][t.township_a.path].current == -50
    assert side["new_users_growth"][t.township_b.path].current is None


def test_the_board_export_is_audited_and_names_the_indicators(client, county_year):
    from openpyxl import load_workbook

    sign_in(client, county_year.county_officer)
    response = client.get(reverse("targets:board_export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert {"群众禁毒知晓率", "外地抓获本地籍贩毒人员", "甲镇", "乙镇"} <= cells
    assert AuditEvent.objects.filter(object_type="targets.board").exists()


def test_the_completion_export_shows_not_applicable_for_a_zero_target(client, personas):
    from openpyxl import load_workbook

    services.set_target(
        actor=personas.county_officer, county=personas.territory.county, year=TODAY.year,
        key="lost_control", value="0",
    )  # fmt: skip
    sign_in(client, personas.county_officer)
    response = client.get(reverse("targets:export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "不适用" in {str(c.value) for row in sheet.iter_rows() for c in row}
