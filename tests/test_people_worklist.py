"""'My people' and the township's overdue list: who is on them, in what order, what is
due, and how many queries they cost.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.people import followup, worklist
from jindu.people.models import Measure, Person
from jindu.people.schedule import Task
from tests.helpers import sign_in, travelling_clock
from tests.test_people_followup import member, test_on, under_detox


def _names(rows):
    return [r.person.name for r in rows]


def _row(rows, person):
    return next(r for r in rows if r.person.pk == person.pk)


# ------------------------------------------------------------------ who is on "my people"


def test_grid_worker_sees_the_people_of_their_grid(personas):
    t = personas.territory
    in_grid = under_detox(personas.cadre_a, t.grid_a, name="网格内")
    in_village = under_detox(personas.cadre_a, t.village_a, name="村直管")
    other = under_detox(personas.cadre_b, t.grid_b, name="乙镇人")
    rows = worklist.my_people(personas.grid_worker, timezone.localdate())
    assert _names(rows) == [in_grid.name]
    assert in_village.name not in _names(rows) and other.name not in _names(rows)


def test_township_manager_and_police_see_the_people_whose_team_they_are_in(personas):
    t = personas.territory
    helped = under_detox(personas.cadre_a, t.village_a, name="帮教对象")
    under_detox(personas.cadre_a, t.village_a, name="别人帮教")
    member(personas.cadre_a, helped, "township_cadre", personas.cadre_a)
    member(personas.cadre_a, helped, "community_police", personas.police_officer)
    today = timezone.localdate()
    assert _names(worklist.my_people(personas.cadre_a, today)) == ["帮教对象"]
    assert _names(worklist.my_people(personas.police_officer, today)) == ["帮教对象"]


def test_a_membership_that_ended_or_a_person_outside_the_scope_is_not_mine(personas):
    from jindu.people import teams

    t = personas.territory
    left = under_detox(personas.cadre_a, t.village_a, name="已退出")
    joined = member(personas.cadre_a, left, "community_police", personas.police_officer)
    teams.end_team_membership(actor=personas.cadre_a, member=joined, left_on=timezone.localdate())
    # The county office puts the 甲镇 officer on a 乙镇 person's team: the person
    # stays outside the officer's scope, and off their list.
    far = under_detox(personas.cadre_b, t.grid_b, name="乙镇帮教")
    member(personas.county_officer, far, "community_police", personas.police_officer)
    assert worklist.my_people(personas.police_officer, timezone.localdate()) == []


def test_the_dead_and_the_moved_away_leave_my_people(personas):
    from jindu.people import services

    person = under_detox(personas.cadre_a, personas.territory.grid_a)
    services.update_person(actor=personas.cadre_a, person=person, died_on=timezone.localdate())
    assert worklist.my_people(personas.grid_worker, timezone.localdate()) == []


# ------------------------------------------------------------------ what is due, in what order


def test_my_people_are_ordered_by_urgency(personas):
    grid = personas.territory.grid_a
    today = timezone.localdate()
    worker = personas.grid_worker
    long_overdue = under_detox(personas.cadre_a, grid, reported_days_ago=200, name="久未检测")
    test_on(worker, long_overdue, today - timedelta(days=190))
    short_overdue = under_detox(personas.cadre_a, grid, reported_days_ago=200, name="上月漏检")
    test_on(worker, short_overdue, today - timedelta(days=45))
    on_track = under_detox(personas.cadre_a, grid, reported_days_ago=200, name="本月已检")
    test_on(worker, on_track, today)
    from tests.people_factories import make_person

    free = make_person(personas.cadre_a, grid, name="无措施")
    rows = worklist.my_people(worker, today)
    assert _names(rows) == ["久未检测", "上月漏检", "本月已检", "无措施"]
    assert _row(rows, long_overdue).state.tasks[Task.TEST].overdue
    assert not _row(rows, on_track).state.tasks[Task.TEST].overdue
    assert _row(rows, free).state is None


def test_a_recorded_test_takes_the_due_test_off_the_card(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=3)
    today = timezone.localdate()
    row = _row(worklist.my_people(personas.grid_worker, today), person)
    assert row.test_due
    assert [line.task for line in row.task_lines if line.state != "overdue"][0] == Task.TEST
    test_on(personas.grid_worker, person, today)
    row = _row(worklist.my_people(personas.grid_worker, today), person)
    assert not row.test_due
    assert Task.TEST not in [line.task for line in row.task_lines]


def test_due_becomes_due_this_week_then_overdue_as_the_days_pass(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=0)
    anchor = timezone.localdate()
    with travelling_clock() as clock:
        row = _row(worklist.my_people(personas.grid_worker, timezone.localdate()), person)
        assert row.test_due and not row.due_this_week and not row.overdue
        # A month's period ends the day before the same day next month.
        from jindu.people.dates import add_months

        end = add_months(anchor, 1)
        clock.advance(days=(end - anchor).days - 3)
        row = _row(worklist.my_people(personas.grid_worker, timezone.localdate()), person)
        assert row.due_this_week and not row.overdue
        assert row.task_lines[0].state == "soon"
        clock.advance(days=3)
        row = _row(worklist.my_people(personas.grid_worker, timezone.localdate()), person)
        assert row.overdue
        assert row.task_lines[0].state == "overdue"
        assert row.task_lines[0].day == end


def test_refused_and_evaded_tests_do_not_meet_a_period(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=3)
    today = timezone.localdate()
    test_on(personas.grid_worker, person, today, "refused")
    assert _row(worklist.my_people(personas.grid_worker, today), person).test_due
    test_on(personas.grid_worker, person, today, "positive")
    assert not _row(worklist.my_people(personas.grid_worker, today), person).test_due


def test_a_test_not_linked_to_the_measure_is_read_for_what_it_is(personas):
    """Tests recorded before the measure was entered are checked by their decrypted result."""
    from jindu.people import services
    from tests.people_factories import make_person

    person = make_person(personas.cadre_a, personas.territory.grid_a)
    today = timezone.localdate()
    test_on(personas.grid_worker, person, today - timedelta(days=2), "evaded")
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=today - timedelta(days=10),
        report_in_date=today - timedelta(days=5),
    )
    assert Measure.objects.get(person=person).evaded_count == 0
    assert _row(worklist.my_people(personas.grid_worker, today), person).test_due


def test_a_person_silent_for_long_is_overdue_since_their_last_test_however_old(personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=400)
    today = timezone.localdate()
    last = today - timedelta(days=380)
    test_on(personas.grid_worker, person, last)
    test_on(personas.grid_worker, person, today - timedelta(days=20), "evaded")
    row = _row(worklist.my_people(personas.grid_worker, today), person)
    full = followup_view_schedule(person, today)
    assert row.state.tasks[Task.TEST].overdue_since == full.tasks[Task.TEST].overdue_since
    assert row.state.tasks[Task.TEST].last_done == last


def followup_view_schedule(person, today):
    from jindu.people.followup_views import person_followup

    return person_followup(Person.objects.get(pk=person.pk), today)["schedule"]["state"]


def test_worklist_schedules_agree_with_the_persons_own_page(personas):
    import random

    rng = random.Random(7)
    today = timezone.localdate()
    people = []
    for i in range(8):
        person = under_detox(
            personas.cadre_a, personas.territory.grid_a, reported_days_ago=rng.randrange(20, 1000)
        )
        anchor = person.measure_anchor
        for _ in range(rng.randrange(0, 6)):
            day = anchor + timedelta(days=rng.randrange(0, (today - anchor).days + 1))
            result = rng.choice(["negative", "negative", "positive", "refused", "evaded"])
            test_on(personas.grid_worker, person, day, result)
        if i % 3 == 0:
            followup.record_visit(
                actor=personas.grid_worker,
                person=person,
                kind="summary",
                visited_on=today - timedelta(days=rng.randrange(0, 200)),
            )
        people.append(person)
    rows = worklist.my_people(personas.grid_worker, today)
    for person in people:
        row = _row(rows, person)
        own = followup_view_schedule(person, today)
        for task in Task.ORDER:
            a, b = row.state.tasks[task], own.tasks[task]
            assert (a.due, a.overdue) == (b.due, b.overdue), (person.name, task)


def test_each_persons_latest_test_carried_out_inside_and_before_the_recent_window(personas):
    """The list reads tests from a recent window and goes further back only for those with
    none carried out in it; evaded and refused tests never count."""
    from jindu.people.models import FollowUpPolicy

    grid, worker = personas.territory.grid_a, personas.grid_worker
    today = timezone.localdate()
    recent = under_detox(personas.cadre_a, grid, reported_days_ago=900, name="近期已检")
    test_on(worker, recent, today - timedelta(days=400))
    test_on(worker, recent, today - timedelta(days=10), "positive")
    # Year two of the measure: the window holds about four months; the only test is older.
    old = under_detox(personas.cadre_a, grid, reported_days_ago=500, name="久未检")
    test_on(worker, old, today - timedelta(days=300))
    # Evaded and refused inside the window: the negative before it is the latest.
    dodged = under_detox(personas.cadre_a, grid, reported_days_ago=700, name="逃检")
    test_on(worker, dodged, today - timedelta(days=250))
    test_on(worker, dodged, today - timedelta(days=20), "evaded")
    test_on(worker, dodged, today - timedelta(days=5), "refused")
    # A test from before the measure began does not count for it.
    never = under_detox(personas.cadre_a, grid, reported_days_ago=30, name="未检")
    followup.record_test(
        actor=worker, person=never, tested_on=today - timedelta(days=60), method="urine",
        result="negative",
    )  # fmt: skip
    people = Person.objects.filter(pk__in=[recent.pk, old.pk, dodged.pk, never.pk])
    scope = worklist.Scope.of(people)
    anchors = {p.pk: p.measure_anchor for p in people}
    intervals = [int(i) for i in FollowUpPolicy.current().test_intervals]
    latest = worklist._latest_tests(
        scope, worklist._running_measures(scope, today), anchors, today, intervals
    )
    assert latest == {
        recent.pk: today - timedelta(days=10),
        old.pk: today - timedelta(days=300),
        dodged.pk: today - timedelta(days=250),
    }


# ------------------------------------------------------------------ the overdue list


@pytest.fixture
def township(personas):
    """甲镇 and 乙镇 people in every state the overdue list tells apart."""
    t = personas.territory
    today = timezone.localdate()
    worker = personas.grid_worker
    people = {}
    people["on_track"] = under_detox(personas.cadre_a, t.grid_a, reported_days_ago=40, name="按期")
    test_on(worker, people["on_track"], today - timedelta(days=35))
    test_on(worker, people["on_track"], today)
    followup.record_visit(actor=worker, person=people["on_track"], kind="summary", visited_on=today)
    followup.record_visit(
        actor=worker, person=people["on_track"], kind="assessment", visited_on=today
    )
    people["overdue"] = under_detox(
        personas.cadre_a, t.village_a, reported_days_ago=70, name="漏检"
    )
    people["absconded"] = under_detox(personas.cadre_a, t.grid_a, reported_days_ago=5, name="外逃")
    followup.record_absence(
        actor=worker, person=people["absconded"], left_on=today, authorised=False
    )
    people["b_overdue"] = under_detox(
        personas.cadre_b, t.grid_b, reported_days_ago=70, name="乙镇漏检"
    )
    return people


def test_the_overdue_list_holds_overdue_and_flagged_people_of_the_scope_only(personas, township):
    today = timezone.localdate()
    rows = worklist.overdue_rows(personas.cadre_a, today)
    assert set(_names(rows)) == {"漏检", "外逃"}
    assert _names(rows)[0] == "漏检"  # overdue before a flag with nothing overdue yet
    county = worklist.overdue_rows(personas.county_officer, today)
    assert set(_names(county)) == {"漏检", "外逃", "乙镇漏检"}
    assert set(_names(worklist.overdue_rows(personas.cadre_b, today))) == {"乙镇漏检"}


def test_the_overdue_list_groups_people_by_village(personas, township):
    rows = worklist.overdue_rows(personas.cadre_a, timezone.localdate())
    groups = worklist.by_village(rows)
    assert [g.village.name for g in groups] == ["甲一村"]
    assert set(_names(groups[0].rows)) == {"漏检", "外逃"}


def test_overdue_page_shows_the_townships_people_grouped_or_by_urgency(client, personas, township):
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("people:overdue")).content.decode()
    assert "漏检" in body and "外逃" in body and "脱管" in body
    assert "按期" not in body and "乙镇" not in body and "乙一村" not in body
    assert "甲一村" in body
    flat = client.get(reverse("people:overdue") + "?order=urgency").content.decode()
    assert flat.index("漏检") < flat.index("外逃")


def test_overdue_export_is_masked_audited_and_scoped(client, personas, township):
    from openpyxl import load_workbook

    sign_in(client, personas.cadre_a)
    response = client.get(reverse("people:overdue_export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, data = rows[0], rows[1:]
    assert header[:5] == ["村（社区）", "责任单位", "姓名", "性别", "身份证号"]
    assert {r[2] for r in data} == {"漏检", "外逃"}
    for person_row in data:
        person = Person.objects.get(name=person_row[2])
        masked = person_row[4]
        assert masked == person.id_number[:6] + "********" + person.id_number[-4:]
        assert person.id_number not in str(rows)
    event = AuditEvent.objects.filter(action=Action.EXPORTED).latest("seq")
    assert event.username == "cadre_a"
    assert event.detail_data["rows"] == 2 and event.detail_data["personal_data"] is True


# ------------------------------------------------------------------ cost


def _count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_lists_cost_the_same_number_of_queries_for_few_and_many_people(personas):
    today = timezone.localdate()
    grid = personas.territory.grid_a

    def add(n):
        for i in range(n):
            person = under_detox(personas.cadre_a, grid, reported_days_ago=30 + 40 * i)
            member(personas.cadre_a, person, "township_cadre", personas.cadre_a)
            test_on(personas.grid_worker, person, today - timedelta(days=5 + i), "negative")
            test_on(personas.grid_worker, person, today - timedelta(days=2), "refused")
            followup.record_absence(
                actor=personas.grid_worker, person=person, left_on=today, authorised=bool(i % 2)
            )

    add(2)
    few = (
        _count_queries(lambda: worklist.my_people(personas.grid_worker, today)),
        _count_queries(lambda: worklist.overdue_rows(personas.cadre_a, today)),
    )
    add(10)
    many = (
        _count_queries(lambda: worklist.my_people(personas.grid_worker, today)),
        _count_queries(lambda: worklist.overdue_rows(personas.cadre_a, today)),
    )
    assert few == many
    assert max(many) <= 10


def test_pages_cost_a_fixed_number_of_queries(client, personas):
    today = timezone.localdate()
    sign_in(client, personas.cadre_a)

    def page_queries():
        counts = []
        for name in ("people:my_people", "people:overdue"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse(name)).status_code == 200
            counts.append(len(ctx.captured_queries))
        return counts

    for i in range(2):
        person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=90 + i)
        member(personas.cadre_a, person, "township_cadre", personas.cadre_a)
    few = page_queries()
    for i in range(6):
        person = under_detox(
            personas.cadre_a, personas.territory.village_a, reported_days_ago=50 + i
        )
        member(personas.cadre_a, person, "township_cadre", personas.cadre_a)
        test_on(personas.cadre_a, person, today)
    assert page_queries() == few


# ------------------------------------------------------------------ pages and personas


@pytest.mark.parametrize(
    "url_name", ["people:my_people", "people:overdue", "people:overdue_export"]
)
def test_each_persona_on_the_lists(client, personas, url_name):
    under_detox(personas.cadre_b, personas.territory.grid_b, reported_days_ago=70, name="乙镇漏检")
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    expected = {
        "county_officer": 200,
        "cadre_a": 200,
        "cadre_b": 200,
        "grid_worker": 200,
        "police_officer": 200,
        "dept_reporter": 200,
        "leader": 403,
        "sys_admin": 403,
        "sec_admin": 403,
        "audit_admin": 403,
        "no_role": 403,
    }
    for name, status in expected.items():
        client.logout()
        sign_in(client, personas.users[name])
        response = client.get(url)
        assert response.status_code == status, name
        if (
            name in ("cadre_a", "grid_worker", "police_officer")
            and url_name != "people:overdue_export"
        ):
            assert "乙镇漏检" not in response.content.decode(), name


def test_my_people_page_on_a_phone_has_big_buttons_to_record_a_test(client, personas):
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=3)
    sign_in(client, personas.grid_worker)
    body = client.get(reverse("people:my_people")).content.decode()
    assert person.name in body
    assert "登记尿检" in body and "btn-lg" in body
    assert reverse("people:test_add", kwargs={"pk": person.pk}) in body
    assert "尿检" in body and "应于" in body


def test_my_people_filters_keep_the_overdue_and_the_week(client, personas):
    grid = personas.territory.grid_a
    late = under_detox(personas.cadre_a, grid, reported_days_ago=70, name="逾期者")
    fine = under_detox(personas.cadre_a, grid, reported_days_ago=3, name="新报到")
    sign_in(client, personas.grid_worker)
    body = client.get(reverse("people:my_people") + "?show=overdue").content.decode()
    assert late.name in body and fine.name not in body


# ------------------------------------------------------------------ homes


@pytest.mark.parametrize("name", ["grid_worker", "cadre_a", "police_officer"])
def test_field_roles_homes_show_my_people(client, personas, name):
    person = under_detox(
        personas.cadre_a, personas.territory.grid_a, reported_days_ago=70, name="首页可见"
    )
    if name != "grid_worker":
        role = "township_cadre" if name == "cadre_a" else "community_police"
        member(personas.cadre_a, person, role, personas.users[name])
    sign_in(client, personas.users[name])
    response = client.get(reverse("portal:home"))
    body = response.content.decode()
    assert "我的人员" in body and "首页可见" in body
    assert response.context["my_people"].overdue == 1
    assert reverse("people:my_people") in body


@pytest.mark.parametrize("name", ["county_officer", "leader", "dept_reporter", "sys_admin"])
def test_other_roles_homes_have_no_my_people_section(client, personas, name):
    sign_in(client, personas.users[name])
    response = client.get(reverse("portal:home"))
    assert "my_people" not in response.context


def test_the_overdue_page_comes_in_pages_with_the_counts_of_all(client, personas, monkeypatch):
    from jindu.people import followup_views

    t = personas.territory
    for name, unit in (("甲甲", t.grid_a), ("甲乙", t.village_a), ("甲丙", t.grid_a)):
        under_detox(personas.cadre_a, unit, reported_days_ago=70, name=name)
    monkeypatch.setattr(followup_views, "OVERDUE_PAGE", 2)
    sign_in(client, personas.cadre_a)
    first = client.get(reverse("people:overdue") + "?order=urgency")
    second = client.get(reverse("people:overdue") + "?order=urgency&page=2")
    assert len(first.context["rows"]) == 2 and len(second.context["rows"]) == 1
    assert first.context["total"] == 3 and first.context["counts"]["overdue"] == 3
    shown = {r.person.name for r in first.context["rows"]} | {
        r.person.name for r in second.context["rows"]
    }
    assert shown == {"甲甲", "甲乙", "甲丙"}
    assert "order=urgency&amp;page=2" in first.content.decode()
    grouped = client.get(reverse("people:overdue")).context["groups"]
    assert [g.village.name for g in grouped] == ["甲一村"]


def test_rows_drawn_in_python_escape_names_and_places(client, personas):
    # The rows of both lists are drawn by followup_views rather than by templates:
    # what they show is escaped as a template would.
    t = personas.territory
    odd = '<b>"王&五"</b>'
    under_detox(personas.cadre_a, t.grid_a, reported_days_ago=70, name=odd)
    escaped = "&lt;b&gt;&quot;王&amp;五&quot;&lt;/b&gt;"
    for user, url in (
        (personas.grid_worker, reverse("people:my_people")),
        (personas.cadre_a, reverse("people:overdue")),
        (personas.cadre_a, reverse("people:overdue") + "?order=urgency"),
    ):
        client.logout()
        sign_in(client, user)
        body = client.get(url).content.decode()
        assert escaped in body, url
        assert odd not in body, url
