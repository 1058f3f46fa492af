"""The dashboards: each persona by capability, what a township and the county see, going
down a level, audited exports of every table, a saved case showing on the next request,
the big screen and its polled panel, and the speech's 2018 rates on the demo county."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core import indicators
from jindu.core.indicators import Period
from jindu.core.roles import Perm, has_perm
from jindu.dashboards import exports
from jindu.targets import services
from tests.helpers import sign_in
from tests.personas import PERSONAS
from tests.test_enforcement_factories import make_case

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _today():
    """Today as each test starts, not as the module was collected (a run may pass
    midnight in China)."""
    global TODAY
    TODAY = timezone.localdate()


PAGES = ("dashboards:county", "dashboards:screen", "dashboards:screen_panel")


def _solved(personas, unit, day=None):
    day = day or TODAY
    return make_case(
        personas.county_officer, unit, personas.territory.police_dept,
        filed_on=day, solved_on=day,
    )  # fmt: skip


def _chart(response, name="dashboard-data"):
    body = response.content.decode()
    start = body.index(f'id="{name}"')
    start = body.index(">", start) + 1
    return json.loads(body[start : body.index("</script>", start)])


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_persona_opens_the_dashboards_by_capability(client, personas, persona):
    user = personas.users[persona]
    sign_in(client, user)
    allowed = has_perm(user.role_codes, Perm.DASHBOARD_VIEW)
    for name in PAGES:
        assert client.get(reverse(name)).status_code == (200 if allowed else 403), name
    if persona in ("sys_admin", "sec_admin", "audit_admin"):
        assert not allowed


def test_anonymous_is_sent_to_sign_in(client, personas):
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_the_county_sees_the_sum_of_its_townships_side_by_side(client, personas):
    t = personas.territory
    _solved(personas, t.village_a)
    _solved(personas, t.village_a)
    _solved(personas, t.village_b)
    sign_in(client, personas.county_officer)
    response = client.get(reverse("dashboards:county"))
    assert response.context["unit"] == t.county
    side = {row.unit.name: row.values[0] for row in response.context["side"]}
    assert side == {"甲镇": 2, "乙镇": 1}
    headline = dict(
        (i.key, c.current) for i, c in client.get(reverse("dashboards:screen")).context["headline"]
    )
    assert headline["cases_solved"] == 3
    chart = _chart(response)
    assert chart["units"] == ["甲镇", "乙镇"]
    assert chart["side"][0]["data"] == [2, 1]
    assert sum(chart["trend"]["series"][0]["data"]) == 3


def test_a_township_cadre_sees_only_their_township(client, personas):
    t = personas.territory
    _solved(personas, t.village_a)
    _solved(personas, t.village_b)
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("dashboards:county"))
    assert response.context["unit"] == t.township_a
    body = response.content.decode()
    assert "乙镇" not in body
    assert [row.unit for row in response.context["side"]] == [t.village_a]
    assert response.context["side"][0].values[0] == 1
    screen = client.get(reverse("dashboards:screen"))
    assert dict((i.key, c.current) for i, c in screen.context["headline"])["cases_solved"] == 1
    assert "乙镇" not in screen.content.decode()


@pytest.mark.parametrize("persona", ["cadre_a", "grid_worker", "police_officer"])
def test_township_b_dashboard_is_404_outside_its_subtree(client, personas, persona):
    sign_in(client, personas.users[persona])
    url = reverse("dashboards:unit", kwargs={"pk": personas.territory.township_b.pk})
    assert client.get(url).status_code == 404
    assert client.get(url + "?export=units").status_code == 404


def test_the_county_clicks_down_to_a_township(client, personas):
    t = personas.territory
    _solved(personas, t.village_b)
    sign_in(client, personas.county_officer)
    county = client.get(reverse("dashboards:county")).content.decode()
    down = reverse("dashboards:unit", kwargs={"pk": t.township_b.pk})
    assert down in county
    response = client.get(down)
    assert response.status_code == 200
    assert response.context["unit"] == t.township_b
    assert [row.unit for row in response.context["side"]] == [t.village_b]
    # The way back up is offered, to the county.
    assert [a.pk for a in response.context["ancestors"]][-1] == t.county.pk


def test_a_saved_case_shows_on_the_next_request(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)

    def solved_now():
        response = client.get(reverse("dashboards:county"))
        return {row.unit.name: row.values[0] for row in response.context["side"]}["甲镇"]

    before = solved_now()
    _solved(personas, t.village_a)
    assert solved_now() == (before or 0) + 1
    panel = client.get(reverse("dashboards:screen_panel"))
    assert dict((i.key, c.current) for i, c in panel.context["headline"])["cases_solved"] == 1


def test_the_completion_table_shows_the_target_and_its_colour(client, personas):
    t = personas.territory
    target = services.set_target(
        actor=personas.county_officer, county=t.county, year=TODAY.year, key="cases_solved",
        value="4",
    )  # fmt: skip
    services.set_breakdown(
        actor=personas.county_officer, target=target,
        townships={t.township_a: "2", t.township_b: "2"}, departments={},
    )  # fmt: skip
    _solved(personas, t.village_a)
    sign_in(client, personas.county_officer)
    rows = client.get(reverse("dashboards:county")).context["progress"]
    assert [(p.key, p.target, p.actual, p.completion_shown) for p in rows] == [
        ("cases_solved", Decimal("4"), 1, Decimal("25.0"))
    ]
    sign_in(client, personas.cadre_a)
    rows = client.get(reverse("dashboards:county")).context["progress"]
    assert [(p.target, p.actual, p.completion_shown) for p in rows] == [
        (Decimal("2"), 1, Decimal("50.0"))
    ]


def test_a_zero_target_is_not_applicable(client, personas):
    t = personas.territory
    services.set_target(
        actor=personas.county_officer, county=t.county, year=TODAY.year, key="cases_solved",
        value="0",
    )  # fmt: skip
    sign_in(client, personas.county_officer)
    response = client.get(reverse("dashboards:county"))
    assert response.context["progress"][0].completion is None
    assert "不适用" in response.content.decode()


@pytest.mark.parametrize("table", sorted(exports.TABLES))
def test_every_table_exports_and_is_audited(client, personas, table):
    from openpyxl import load_workbook

    _solved(personas, personas.territory.village_a)
    services.set_target(
        actor=personas.county_officer, county=personas.territory.county, year=TODAY.year,
        key="cases_solved", value="4",
    )  # fmt: skip
    sign_in(client, personas.county_officer)
    before = AuditEvent.objects.filter(action=Action.EXPORTED).count()
    response = client.get(reverse("dashboards:county"), {"export": table})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) > 1
    event = AuditEvent.objects.filter(action=Action.EXPORTED).order_by("-pk").first()
    assert AuditEvent.objects.filter(action=Action.EXPORTED).count() == before + 1
    assert event.object_type == "dashboards.dashboard"


def test_the_townships_export_has_the_pages_figures(client, personas):
    from openpyxl import load_workbook

    t = personas.territory
    _solved(personas, t.village_a)
    _solved(personas, t.village_b)
    _solved(personas, t.village_b)
    sign_in(client, personas.county_officer)
    response = client.get(reverse("dashboards:county"), {"export": "units"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][1] == "破案数（起）"
    assert [(r[0], r[1]) for r in rows[1:]] == [("甲镇", "1"), ("乙镇", "2")]


def test_an_unknown_table_is_404(client, personas):
    sign_in(client, personas.county_officer)
    assert client.get(reverse("dashboards:county"), {"export": "nope"}).status_code == 404


def test_people_by_status_counts_the_register_in_scope(client, personas):
    from tests.people_factories import make_person

    t = personas.territory
    make_person(personas.county_officer, t.village_a)
    make_person(personas.county_officer, t.village_b)
    sign_in(client, personas.county_officer)
    assert client.get(reverse("dashboards:county")).context["status_total"] == 2
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("dashboards:county")).context["status_total"] == 1


def test_alerts_link_to_the_people_and_letters(client, personas):
    sign_in(client, personas.county_officer)
    response = client.get(reverse("dashboards:county"))
    alerts = {a.key: a for a in response.context["alerts"]}
    assert set(alerts) == {"tests_overdue", "lost_control", "teams_complete_rate",
                           "letters_unsigned"}  # fmt: skip
    assert alerts["lost_control"].url.startswith(reverse("people:list"))
    assert "flags=lost_contact" in alerts["lost_control"].url
    assert alerts["letters_unsigned"].url.startswith(reverse("targets:letters"))


def test_the_big_screen_polls_its_panel_every_minute(client, personas):
    sign_in(client, personas.leader)
    body = client.get(reverse("dashboards:screen")).content.decode()
    assert 'hx-trigger="every 60s"' in body
    assert reverse("dashboards:screen_panel") in body
    panel = client.get(reverse("dashboards:screen_panel")).content.decode()
    assert "<html" not in panel
    assert 'id="screen-data"' in panel
    # HTMX removes scripts from what it swaps in: the panel's chart data is an attribute.
    assert "<script" not in panel


def test_the_pages_carry_no_inline_code_or_style(client, personas):
    import re

    sign_in(client, personas.county_officer)
    for name in PAGES:
        body = client.get(reverse(name)).content.decode()
        assert not re.search(r"\son[a-z]+=", body), name
        assert ' style="' not in body, name
        for script in re.findall(r"<script([^>]*)>(.*?)</script>", body, re.S):
            attrs, code = script
            assert "src=" in attrs or 'type="application/json"' in attrs, (name, attrs)


def test_the_dashboard_reads_in_a_bounded_number_of_queries(
    client, personas, django_assert_max_num_queries
):
    t = personas.territory
    for _ in range(3):
        _solved(personas, t.village_a)
        _solved(personas, t.village_b)
    sign_in(client, personas.county_officer)
    client.get(reverse("dashboards:county"))
    with django_assert_max_num_queries(200) as first:
        client.get(reverse("dashboards:county"))
    for _ in range(5):
        _solved(personas, t.village_b)
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(reverse("dashboards:county"))


# ------------------------------------------------------------------ the demo county


@pytest.fixture(scope="module")
def demo_county(django_db_setup, django_db_blocker):
    from django.db import transaction

    from jindu.demo.accounts import build_accounts
    from jindu.demo.county import build_departments, build_territory
    from jindu.demo.steps import DemoContext, registered_steps
    from jindu.people.demo import build_people
    from jindu.targets.demo import demo_targets

    with django_db_blocker.unblock(), transaction.atomic():
        ctx = DemoContext(seed=11, townships_wanted=3, villages_wanted=9, log_stream=io.StringIO())
        build_territory(ctx)
        build_departments(ctx)
        build_accounts(ctx)
        build_people(ctx)
        demo_targets(ctx)
        steps = {step.name: step for step in registered_steps()}
        steps["enforcement"].func(ctx)
        yield ctx
        transaction.set_rollback(True)


# 分别完成市上下达任务的87.5%、85.7%、87.2%、489.8%、35.6%、40%、46.7%、50%、25%
SPEECH_RATES = {
    "cases_solved": Decimal("87.5"),
    "suspects_prosecuted": Decimal("85.7"),
    "seized_heroin_g": Decimal("87.2"),
    "seized_meth_g": Decimal("489.8"),
    "users_caught": Decimal("35.6"),
    "users_caught_synthetic": Decimal("40.0"),
    "new_users_found": Decimal("46.7"),
    "isolation_ordered": Decimal("50.0"),
    "community_detox_ordered": Decimal("25.0"),
}


def test_the_demo_countys_2018_dashboard_shows_the_speechs_nine_rates(client, demo_county):
    sign_in(client, demo_county.users["office"])
    response = client.get(reverse("dashboards:county"), {"year": 2018})
    assert response.context["unit"] == demo_county.county
    rates = {p.key: p.completion_shown for p in response.context["progress"]}
    assert {k: rates.get(k) for k in SPEECH_RATES} == SPEECH_RATES
    body = response.content.decode()
    for rate in ("87.5%", "489.8%", "46.7%", "25.0%"):
        assert rate in body
    # The townships side by side add up to the county's figure.
    side = response.context["side"]
    county_cases = indicators.value("cases_solved", demo_county.county.path, Period.year(2018))
    assert sum(row.values[0] or 0 for row in side) == county_cases
    assert date(2018, 12, 31) == response.context["on"]
