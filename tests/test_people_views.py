"""The register's list and person page: scope, filters, keyset pages, counts, the
search by ID number, and who may open them at all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jindu.people import selectors, services
from jindu.people.models import Person, TeamMember
from tests.helpers import sign_in
from tests.people_factories import make_id_number, make_person
from tests.personas import ADMIN_PERSONAS

LIST = reverse("people:list")
SEARCH = reverse("people:search")


def _names(response) -> list[str]:
    return [row["person"].name for row in response.context["rows"]]


@pytest.fixture
def people(personas, territory):
    """Two people of 甲镇 and one of 乙镇."""
    a1 = make_person(personas.cadre_a, territory.village_a, name="孙甲一")
    a2 = make_person(personas.cadre_a, territory.grid_a, name="孙甲二")
    b1 = make_person(personas.cadre_b, territory.village_b, name="钱乙一")
    return a1, a2, b1


def _community(person, actor, *, days_ago: int, reported: bool = True, **kw):
    decided = timezone.localdate() - timedelta(days=days_ago)
    return services.add_measure(
        actor=actor,
        person=person,
        kind="community_detox",
        decision_date=decided,
        report_in_date=decided if reported else None,
        **kw,
    )


# ------------------------------------------------------------------ who sees what


def test_a_township_cadre_lists_only_their_township(client, personas, people):
    sign_in(client, personas.cadre_a)
    response = client.get(LIST)
    assert sorted(_names(response)) == ["孙甲一", "孙甲二"]
    assert "钱乙一" not in response.content.decode()


def test_the_county_office_lists_every_township(client, personas, people):
    sign_in(client, personas.county_officer)
    assert sorted(_names(client.get(LIST))) == ["孙甲一", "孙甲二", "钱乙一"]


def test_a_grid_worker_lists_only_their_grid(client, personas, people):
    sign_in(client, personas.grid_worker)
    assert _names(client.get(LIST)) == ["孙甲二"]


def test_another_townships_person_answers_404_on_every_page(client, personas, people):
    b1 = people[2]
    measure = _community(b1, personas.cadre_b, days_ago=5)
    sign_in(client, personas.cadre_a)
    urls = [
        reverse("people:detail", args=[b1.pk]),
        reverse("people:edit", args=[b1.pk]),
        reverse("people:reveal", args=[b1.pk, "id_number"]),
        reverse("people:measure_add", args=[b1.pk]),
        reverse("people:measure_edit", args=[b1.pk, measure.pk]),
        reverse("people:measure_end", args=[b1.pk, measure.pk]),
        reverse("people:measure_report_in", args=[b1.pk, measure.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for url in urls[1:]:  # the person page itself is read-only (405 to a POST)
        assert client.post(url, {"name": "改", "reason": "核实身份信息"}).status_code == 404, url
    b1.refresh_from_db()
    assert b1.name == "钱乙一"


def test_a_guessed_id_answers_404(client, personas, people):
    sign_in(client, personas.cadre_a)
    missing = Person.objects.order_by("-pk").first().pk + 1000
    assert client.get(reverse("people:detail", args=[missing])).status_code == 404


def test_a_measure_of_another_person_answers_404(client, personas, people):
    a1, a2, _b1 = people
    measure = _community(a2, personas.cadre_a, days_ago=5)
    sign_in(client, personas.cadre_a)
    url = reverse("people:measure_edit", args=[a1.pk, measure.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", ADMIN_PERSONAS)
def test_administrators_are_refused_every_people_page(client, personas, people, name):
    a1 = people[0]
    measure = _community(a1, personas.cadre_a, days_ago=5)
    sign_in(client, personas.users[name])
    urls = [
        LIST,
        SEARCH,
        reverse("people:count"),
        reverse("people:export"),
        reverse("people:create"),
        reverse("people:detail", args=[a1.pk]),
        reverse("people:edit", args=[a1.pk]),
        reverse("people:reveal", args=[a1.pk, "phone"]),
        reverse("people:measure_add", args=[a1.pk]),
        reverse("people:measure_edit", args=[a1.pk, measure.pk]),
        reverse("people:measure_end", args=[a1.pk, measure.pk]),
        reverse("people:measure_report_in", args=[a1.pk, measure.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"id_number": a1.id_number}).status_code == 403, url


@pytest.mark.parametrize("name", ["leader", "no_role"])
def test_roles_without_personal_data_are_refused_the_list(client, personas, name):
    sign_in(client, personas.users[name])
    assert client.get(LIST).status_code == 403


def test_the_register_is_in_the_navigation_for_field_roles_only(client, personas):
    sign_in(client, personas.grid_worker)
    assert LIST in client.get(reverse("portal:home")).content.decode()
    client.logout()
    sign_in(client, personas.leader)
    assert f'href="{LIST}"' not in client.get(reverse("portal:home")).content.decode()


# ------------------------------------------------------------------ list columns and filters


def test_a_row_shows_age_masked_id_unit_status_and_last_contact(client, personas, territory):
    person = make_person(
        personas.cadre_a,
        territory.village_a,
        name="李甲",
        id_number=make_id_number(date(1990, 1, 1), 11),
    )
    _community(person, personas.cadre_a, days_ago=5)
    sign_in(client, personas.cadre_a)
    response = client.get(LIST)
    (row,) = response.context["rows"]
    assert row["masked_id"] == "621199********0113"[:14] + person.id_number[-4:]
    assert row["status"].label == "社区戒毒中"
    page = response.content.decode()
    assert row["masked_id"] in page and "甲一村" in page
    assert person.id_number not in page


def test_the_status_filter_follows_the_measures(client, personas, territory):
    under = make_person(personas.cadre_a, territory.village_a, name="在戒")
    _community(under, personas.cadre_a, days_ago=5)
    make_person(personas.cadre_a, territory.village_a, name="未在措施")
    dead = make_person(personas.cadre_a, territory.village_a, name="已故")
    services.update_person(actor=personas.cadre_a, person=dead, died_on=date(2024, 1, 1))
    sign_in(client, personas.cadre_a)
    assert _names(client.get(LIST, {"status": "community_detox"})) == ["在戒"]
    assert _names(client.get(LIST, {"status": "died"})) == ["已故"]
    assert _names(client.get(LIST, {"status": "free"})) == ["未在措施"]


def test_the_unit_filter_takes_a_subtree(client, personas, people):
    sign_in(client, personas.county_officer)
    assert sorted(_names(client.get(LIST, {"unit": personas.territory.township_a.pk}))) == [
        "孙甲一",
        "孙甲二",
    ]
    assert _names(client.get(LIST, {"unit": personas.territory.grid_a.pk})) == ["孙甲二"]


def test_a_unit_outside_the_scope_is_ignored_with_a_note(client, personas, people):
    sign_in(client, personas.cadre_a)
    response = client.get(LIST, {"unit": personas.territory.township_b.pk})
    assert sorted(_names(response)) == ["孙甲一", "孙甲二"]
    assert "已忽略该条件" in response.content.decode()


def test_the_name_filter_matches_part_of_a_name(client, personas, people):
    sign_in(client, personas.county_officer)
    assert _names(client.get(LIST, {"name": "甲二"})) == ["孙甲二"]


def test_flags_on_the_persons_own_fields_filter_in_sql(client, personas, territory):
    today = timezone.localdate()
    make_person(
        personas.cadre_a,
        territory.village_a,
        name="重点",
        key_person=True,
        key_person_reason="多次复吸",
    )
    make_person(personas.cadre_a, territory.village_a, name="病残", sick_or_disabled=True)
    make_person(personas.cadre_a, territory.village_a, name="致贫", poverty_by_drugs=True)
    make_person(
        personas.cadre_a,
        territory.village_a,
        name="少年",
        birth=today.replace(year=today.year - 16) - timedelta(days=3),
    )
    make_person(
        personas.cadre_a,
        territory.village_a,
        name="成年",
        birth=today.replace(year=today.year - 18) - timedelta(days=1),
    )
    sign_in(client, personas.cadre_a)
    assert _names(client.get(LIST, {"flags": "key_person"})) == ["重点"]
    assert _names(client.get(LIST, {"flags": "sick_or_disabled"})) == ["病残"]
    assert _names(client.get(LIST, {"flags": "poverty"})) == ["致贫"]
    response = client.get(LIST, {"flags": "minor"})
    assert _names(response) == ["少年"]
    assert "未成年" in response.content.decode()


def test_lost_contact_not_reported_and_incomplete_team_filter_and_show(client, personas, territory):
    lost = make_person(personas.cadre_a, territory.village_a, name="失联者")
    _community(lost, personas.cadre_a, days_ago=100)
    late = make_person(personas.cadre_a, territory.village_a, name="未报到者")
    _community(late, personas.cadre_a, days_ago=20, reported=False)
    fresh = make_person(personas.cadre_a, territory.village_a, name="新决定")
    _community(fresh, personas.cadre_a, days_ago=5, reported=False)
    for role in TeamMember.REQUIRED:
        member = TeamMember(person=fresh, role=role, name=f"{role}成员", phone="")
        member.set_org_unit(territory.village_a)
        member.save()
    make_person(personas.cadre_a, territory.village_a, name="无措施")
    sign_in(client, personas.cadre_a)
    assert _names(client.get(LIST, {"flags": "lost_contact"})) == ["失联者"]
    assert _names(client.get(LIST, {"flags": "not_reported"})) == ["未报到者"]
    assert sorted(_names(client.get(LIST, {"flags": "team_incomplete"}))) == ["失联者", "未报到者"]
    page = client.get(LIST).content.decode()
    assert "失控" in page and "逾期未报到" in page and "帮教小组缺" in page


def test_an_unknown_flag_or_status_is_ignored_not_fatal(client, personas, people):
    sign_in(client, personas.cadre_a)
    response = client.get(LIST, {"flags": "nonsense", "status": "nonsense"})
    assert response.status_code == 200
    assert sorted(_names(response)) == ["孙甲一", "孙甲二"]


def test_flags_are_drawn_with_a_fixed_number_of_queries(
    client, personas, territory, django_assert_max_num_queries
):
    for n in range(12):
        person = make_person(personas.cadre_a, territory.village_a if n % 2 else territory.grid_a)
        _community(person, personas.cadre_a, days_ago=30 + n, reported=bool(n % 3))
    sign_in(client, personas.cadre_a)
    client.get(LIST)  # warm the session and policy rows
    with django_assert_max_num_queries(20) as captured:
        response = client.get(LIST)
    assert len(response.context["rows"]) == 12
    few = len(captured.captured_queries)
    for _n in range(12):
        make_person(personas.cadre_a, territory.village_a)
    with django_assert_max_num_queries(few):
        assert len(client.get(LIST).context["rows"]) == 24


# ------------------------------------------------------------------ keyset pages


def test_keyset_pages_return_every_row_once_in_order(client, personas, territory, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    units = [territory.village_a, territory.grid_a, territory.village_b, territory.grid_b]
    for n in range(19):
        make_person(personas.county_officer, units[n % 4])
    expected = list(Person.objects.order_by("org_path", "id").values_list("pk", flat=True))
    sign_in(client, personas.county_officer)
    seen, pages, params = [], [], {}
    while True:
        response = client.get(LIST, params)
        page = response.context["page"]
        rows = [row["person"].pk for row in response.context["rows"]]
        pages.append((params.get("after"), rows))
        seen.extend(rows)
        if not page.next_cursor:
            break
        assert f"after={page.next_cursor.replace('/', '%2F').replace(',', '%2C')}" in (
            response.content.decode()
        )
        params = {"after": page.next_cursor}
    assert seen == expected
    assert len(pages) == 5
    # Back from the third page lands on the second.
    third = client.get(LIST, {"after": pages[2][0]})
    back = client.get(LIST, {"before": third.context["page"].prev_cursor})
    assert [row["person"].pk for row in back.context["rows"]] == pages[1][1]


def test_keyset_pages_with_a_confirmed_flag_still_see_every_row_once(personas, territory):
    today = timezone.localdate()
    for n in range(9):
        person = make_person(personas.cadre_a, territory.village_a)
        _community(person, personas.cadre_a, days_ago=30)
        if n % 2 == 0:
            for role in TeamMember.REQUIRED:
                member = TeamMember(person=person, role=role, name=f"{role}成员", phone="")
                member.set_org_unit(territory.village_a)
                member.save()
    filters = selectors.PersonFilter(flags=frozenset({"team_incomplete"}))
    assert selectors.confirmed_flags(filters)
    qs = selectors.filtered(personas.cadre_a, filters, today)
    seen, after = [], None
    while True:
        page = selectors.page(
            qs,
            scope=personas.cadre_a.scope_path,
            today=today,
            after=after,
            size=2,
            confirm=selectors.confirmed_flags(filters),
        )
        seen.extend(p.pk for p in page.rows)
        if not page.next_cursor:
            break
        after = selectors.decode_cursor(page.next_cursor)
    assert len(seen) == len(set(seen)) == 4


def test_a_malformed_cursor_starts_at_the_first_page(client, personas, people):
    sign_in(client, personas.cadre_a)
    for bad in ("x", "/1/,abc", "1,2", "/a/,1"):
        response = client.get(LIST, {"after": bad})
        assert response.status_code == 200
        assert len(response.context["rows"]) == 2


def test_a_page_never_uses_offset(personas, territory, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_person(personas.cadre_a, territory.village_a)
    qs = selectors.filtered(personas.cadre_a, selectors.PersonFilter(), timezone.localdate())
    with CaptureQueriesContext(connection) as captured:
        selectors.page(
            qs, scope=personas.cadre_a.scope_path, today=timezone.localdate(), after=("/1/", 0)
        )
    sql = captured.captured_queries[0]["sql"].upper()
    assert "OFFSET" not in sql and "LIMIT 51" in sql


# ------------------------------------------------------------------ counts


def test_the_count_is_exact_below_the_cap_and_capped_above(
    client, personas, territory, monkeypatch
):
    for _n in range(4):
        make_person(personas.cadre_a, territory.village_a)
    make_person(personas.cadre_b, territory.village_b)
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("people:count")).content.decode().strip().startswith("4 人")
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    assert client.get(reverse("people:count")).content.decode().strip().startswith("3+ 人")


def test_the_count_follows_the_filter(client, personas, people):
    sign_in(client, personas.county_officer)
    response = client.get(reverse("people:count"), {"name": "乙"})
    assert response.content.decode().strip().startswith("1 人")


# ------------------------------------------------------------------ search by ID number


def test_searching_an_id_number_goes_to_the_person_without_putting_it_in_a_url(
    client, personas, territory
):
    person = make_person(
        personas.cadre_a, territory.village_a, id_number=make_id_number(date(1988, 8, 8), 71)
    )
    sign_in(client, personas.cadre_a)
    response = client.post(SEARCH, {"id_number": person.id_number})
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[person.pk])
    assert person.id_number not in response.url


@pytest.mark.parametrize("spaced", [False, True])
def test_search_takes_the_fifteen_digit_form_and_spaces(client, personas, territory, spaced):
    person = make_person(
        personas.cadre_a, territory.village_a, id_number=make_id_number(date(1988, 8, 8), 71)
    )
    number = person.id_number
    typed = f"{number[:6]} {number[6:14]} {number[14:]}" if spaced else "621199880808071"
    sign_in(client, personas.cadre_a)
    assert client.post(SEARCH, {"id_number": typed}).url == reverse(
        "people:detail", args=[person.pk]
    )


def test_search_takes_a_lower_case_x(client, personas, territory):
    person = make_person(personas.cadre_a, territory.village_a, id_number="11010519491231002X")
    sign_in(client, personas.cadre_a)
    assert client.post(SEARCH, {"id_number": "11010519491231002x"}).url == reverse(
        "people:detail", args=[person.pk]
    )


def test_search_does_not_find_another_townships_person(client, personas, people):
    sign_in(client, personas.cadre_a)
    response = client.post(SEARCH, {"id_number": people[2].id_number})
    assert response.status_code == 200
    page = response.content.decode()
    assert "您的管辖范围内没有登记该身份证号的人员" in page
    assert "钱乙一" not in page


def test_a_malformed_id_number_is_explained_and_kept(client, personas, people):
    sign_in(client, personas.cadre_a)
    response = client.post(SEARCH, {"id_number": "62119919880808"})
    page = response.content.decode()
    assert "身份证号应为18位" in page
    assert 'value="62119919880808"' in page


def test_search_by_get_carries_nothing_and_goes_to_the_list(client, personas, people):
    sign_in(client, personas.cadre_a)
    response = client.get(SEARCH, {"id_number": people[0].id_number})
    assert response.status_code == 302 and response.url == LIST


# ------------------------------------------------------------------ person page sections


def test_the_person_page_shows_status_flags_and_measures(client, personas, territory):
    person = make_person(
        personas.cadre_a, territory.village_a, key_person=True, key_person_reason="涉嫌以贩养吸"
    )
    _community(person, personas.cadre_a, days_ago=20, reported=False, authority="青岚县公安局")
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "社区戒毒中" in page
    assert "逾期未报到" in page and "重点人员" in page and "涉嫌以贩养吸" in page
    assert "青岚县公安局" in page and "未报到" in page


def test_sections_that_do_not_exist_are_skipped(client, personas, territory, monkeypatch):
    from jindu.people import views

    monkeypatch.setattr(views, "SECTIONS", ("people/no_such/_person_section.html",))
    person = make_person(personas.cadre_a, territory.village_a)
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("people:detail", args=[person.pk])).status_code == 200


def test_sections_that_exist_are_included(client, personas, territory, monkeypatch):
    from jindu.people import views

    monkeypatch.setattr(views, "SECTIONS", ("people/_flags.html",))
    person = make_person(personas.cadre_a, territory.village_a)
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("people:detail", args=[person.pk]))
    assert "people/_flags.html" in [t.name for t in response.templates]


# ------------------------------------------------------------------ the unit chooser


def test_the_unit_chooser_opens_the_chosen_units_children(client, personas, people):
    territory = personas.territory
    sign_in(client, personas.county_officer)
    options = client.get(LIST).context["unit_options"]
    assert [o["unit"].name for o in options if o["depth"] > 0] == ["甲镇", "乙镇"]
    options = client.get(LIST, {"unit": territory.village_a.pk}).context["unit_options"]
    names = [(o["unit"].name, o["selected"]) for o in options if o["depth"] > 0]
    assert names == [("甲镇", False), ("甲一村", True), ("甲一村第一网格", False)]


def test_the_unit_chooser_lists_the_way_down_and_one_level_of_children(client, personas, people):
    """Never the whole subtree: a province has tens of thousands of units."""
    sign_in(client, personas.county_officer)
    response = client.get(LIST, {"unit": personas.territory.township_a.pk})
    names = [o["unit"].name for o in response.context["unit_options"]]
    assert names == ["青岚县", "甲镇", "甲一村"]


def test_keyset_pages_combine_with_the_status_and_flag_filters(personas, territory):
    """The cursor's condition is put in front of the filtered query; the status
    annotation and the flags' subqueries must survive that."""
    today = timezone.localdate()
    for _n in range(7):
        person = make_person(personas.cadre_a, territory.village_a)
        _community(person, personas.cadre_a, days_ago=10)
    make_person(personas.cadre_a, territory.village_a)
    filters = selectors.PersonFilter(status="community_detox", flags=frozenset({"team_incomplete"}))
    qs = selectors.filtered(personas.cadre_a, filters, today)
    seen, after = [], None
    while True:
        page = selectors.page(
            qs,
            scope=personas.cadre_a.scope_path,
            today=today,
            after=after,
            size=2,
            confirm=selectors.confirmed_flags(filters),
        )
        seen.extend(p.pk for p in page.rows)
        if not page.next_cursor:
            break
        after = selectors.decode_cursor(page.next_cursor)
    assert len(seen) == len(set(seen)) == 7
    back = selectors.page(qs, scope=personas.cadre_a.scope_path, today=today, before=after, size=2)
    # The last cursor is that of the sixth row: the two rows before it.
    assert [p.pk for p in back.rows] == seen[3:5]
