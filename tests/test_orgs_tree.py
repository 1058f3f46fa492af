"""The territory pages as each persona sees them: the tree of their own subtree, a
unit's page, children loaded on demand, search, and the Excel export."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.orgs.models import OrgUnit
from tests.helpers import sign_in

VIEWERS = [
    "county_officer",
    "cadre_a",
    "cadre_b",
    "grid_worker",
    "police_officer",
    "dept_reporter",
    "leader",
    "sys_admin",
    "sec_admin",
]
REFUSED = ["audit_admin", "no_role"]
TOWNSHIP_B_NAMES = ("乙镇", "乙一村", "乙一村第一网格")


def _xlsx_rows(response) -> list[list]:
    from openpyxl import load_workbook

    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("name", VIEWERS)
def test_everyday_roles_and_system_admins_see_the_tree(client, personas, name):
    sign_in(client, personas.users[name])
    response = client.get(reverse("orgs:tree"))
    assert response.status_code == 200
    assert personas.users[name].org_unit.name in response.content.decode()


@pytest.mark.parametrize("name", REFUSED)
def test_roles_without_org_view_are_refused(client, personas, name):
    sign_in(client, personas.users[name])
    assert client.get(reverse("orgs:tree")).status_code == 403
    assert client.get(reverse("orgs:unit", args=[personas.territory.county.pk])).status_code == 403
    assert client.get(reverse("orgs:export")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, territory):
    for url in (
        reverse("orgs:tree"),
        reverse("orgs:unit", args=[territory.county.pk]),
        reverse("orgs:children", args=[territory.county.pk]),
        reverse("orgs:export"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_cadre_a_tree_holds_only_township_a(client, personas):
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("orgs:tree")).content.decode()
    assert "甲镇" in page and "甲一村" in page
    for name in (*TOWNSHIP_B_NAMES, "青岚县"):
        assert name not in page


def test_county_tree_shows_only_the_first_level_and_loads_the_rest_on_demand(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    page = client.get(reverse("orgs:tree")).content.decode()
    assert "甲镇" in page and "乙镇" in page
    assert "甲一村" not in page, "deeper levels come only when a node is opened"
    assert reverse("orgs:children", args=[t.township_a.pk]) in page
    fragment = client.get(
        reverse("orgs:children", args=[t.township_a.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "甲一村" in fragment and "<html" not in fragment
    assert "乙一村" not in fragment


def test_unit_page_shows_path_level_code_children_and_history(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    page = client.get(reverse("orgs:unit", args=[t.village_a.pk])).content.decode()
    assert reverse("orgs:unit", args=[t.county.pk]) in page
    assert reverse("orgs:unit", args=[t.township_a.pk]) in page
    assert "621199100201" in page and "村/社区" in page
    assert "甲一村第一网格" in page
    assert "新建" in page


def test_ancestors_above_a_cadres_subtree_are_named_but_not_linked(client, personas):
    t = personas.territory
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("orgs:unit", args=[t.village_a.pk])).content.decode()
    assert "青岚县" in page
    assert reverse("orgs:unit", args=[t.county.pk]) not in page
    assert reverse("orgs:unit", args=[t.township_a.pk]) in page


@pytest.mark.parametrize("view", ["orgs:unit", "orgs:children", "orgs:unit_edit", "orgs:unit_move"])
def test_township_b_units_answer_404_to_cadre_a(client, personas, view):
    sign_in(client, personas.cadre_a)
    for unit in (
        personas.territory.township_b,
        personas.territory.village_b,
        personas.territory.grid_b,
        personas.territory.county,
    ):
        response = client.get(reverse(view, args=[unit.pk]))
        # Editing pages refuse by role first (403); reading pages hide the unit (404).
        assert response.status_code in (
            (404,) if view in ("orgs:unit", "orgs:children") else (403,)
        )


def test_guessed_ids_beyond_the_tree_answer_404(client, personas):
    sign_in(client, personas.cadre_a)
    highest = OrgUnit.objects.order_by("-pk").first().pk
    for pk in (highest + 1, highest + 1000, 0):
        assert client.get(reverse("orgs:unit", args=[pk])).status_code == 404
    assert (
        client.get(reverse("orgs:export"), {"root": personas.territory.township_b.pk}).status_code
        == 404
    )
    assert client.get(reverse("orgs:export"), {"root": "abc"}).status_code == 404


def test_search_finds_units_by_name_or_code_inside_the_subtree_only(client, personas):
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("orgs:tree"), {"q": "一村"}).content.decode()
    assert "甲一村" in page and "乙一村" not in page
    page = client.get(reverse("orgs:tree"), {"q": "６２１１９９１０１"}).content.decode()
    assert "乙镇" not in page
    sign_in(client, personas.county_officer)
    page = client.get(reverse("orgs:tree"), {"q": "621199101"}).content.decode()
    assert "乙镇" in page and "乙一村" in page


def test_the_export_holds_the_subtree_with_levels_codes_parents_and_paths(client, personas):
    sign_in(client, personas.county_officer)
    response = client.get(reverse("orgs:export"))
    assert response.status_code == 200
    rows = _xlsx_rows(response)
    assert rows[0] == [
        "名称",
        "层级",
        "统计用区划代码",
        "上级单位",
        "上级区划代码",
        "完整路径",
        "状态",
    ]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {
        "青岚县",
        "甲镇",
        "甲一村",
        "甲一村第一网格",
        "乙镇",
        "乙一村",
        "乙一村第一网格",
    }
    assert by_name["甲一村"][1:6] == [
        "村/社区",
        "621199100201",
        "甲镇",
        "621199100000",
        "青岚县 / 甲镇 / 甲一村",
    ]
    assert by_name["甲一村第一网格"][2] in (None, "")
    assert by_name["青岚县"][3] in (None, "")


def test_cadre_a_export_and_counts_leave_out_township_b(client, personas):
    sign_in(client, personas.cadre_a)
    rows = _xlsx_rows(client.get(reverse("orgs:export")))
    names = {row[0] for row in rows[1:]}
    assert names == {"甲镇", "甲一村", "甲一村第一网格"}
    assert rows[1][5] == "青岚县 / 甲镇"
    page = client.get(reverse("orgs:tree")).content.decode()
    assert "村/社区 1" in page and "网格 1" in page


def test_exports_are_audited(client, personas):
    sign_in(client, personas.leader)
    client.get(reverse("orgs:export"), {"root": personas.territory.township_a.pk})
    event = AuditEvent.objects.filter(action=Action.EXPORTED).latest("seq")
    assert event.username == "leader" and '"rows":3' in event.detail


def test_unit_names_typed_as_formulas_are_exported_as_text(client, personas):
    from jindu.orgs import services

    services.create_unit(
        actor=None, name="=cmd|' /C calc'!A0", level="village", parent=personas.territory.township_a
    )
    sign_in(client, personas.county_officer)
    rows = _xlsx_rows(client.get(reverse("orgs:export")))
    assert "'=cmd|' /C calc'!A0" in [row[0] for row in rows]
