"""Keeping the territory: creating, renaming, recoding, reordering, retiring,
restoring and moving units, as the county office and the system administrator."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.core.scoping import scoped_models
from jindu.orgs import services
from jindu.orgs.models import Department, OrgUnit, OrgUnitHistory
from tests.helpers import sign_in

MANAGERS = ["county_officer", "sys_admin"]
NOT_MANAGERS = [
    "cadre_a",
    "cadre_b",
    "grid_worker",
    "police_officer",
    "dept_reporter",
    "leader",
    "sec_admin",
    "audit_admin",
    "no_role",
]


def _snapshot():
    return list(
        OrgUnit.objects.order_by("pk").values_list(
            "name", "division_code", "parent_id", "path", "depth", "active", "sort_order"
        )
    )


# ------------------------------------------------------------------ who may


@pytest.mark.parametrize("name", NOT_MANAGERS)
def test_other_roles_are_refused_every_managing_page(client, personas, name):
    t = personas.territory
    sign_in(client, personas.users[name])
    pk = t.township_a.pk
    for url in (
        reverse("orgs:unit_add", args=[pk]),
        reverse("orgs:unit_edit", args=[pk]),
        reverse("orgs:unit_move", args=[pk]),
        reverse("orgs:import"),
    ):
        assert client.get(url).status_code == 403
    for url in (reverse("orgs:unit_retire", args=[pk]), reverse("orgs:unit_restore", args=[pk])):
        assert client.post(url).status_code == 403
    before = _snapshot()
    client.post(reverse("orgs:unit_add", args=[pk]), {"name": "偷建村", "sort_order": 0})
    assert _snapshot() == before


def test_anonymous_is_sent_to_sign_in(client, territory):
    response = client.post(reverse("orgs:unit_add", args=[territory.county.pk]), {"name": "x"})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", MANAGERS)
def test_managers_see_the_managing_pages(client, personas, name):
    t = personas.territory
    sign_in(client, personas.users[name])
    for url in (
        reverse("orgs:unit_add", args=[t.township_a.pk]),
        reverse("orgs:unit_edit", args=[t.township_a.pk]),
        reverse("orgs:unit_move", args=[t.village_a.pk]),
        reverse("orgs:import"),
    ):
        assert client.get(url).status_code == 200
    page = client.get(reverse("orgs:unit", args=[t.township_a.pk])).content.decode()
    assert reverse("orgs:unit_edit", args=[t.township_a.pk]) in page


def test_readers_see_no_managing_buttons(client, personas):
    sign_in(client, personas.leader)
    page = client.get(
        reverse("orgs:unit", args=[personas.territory.township_a.pk])
    ).content.decode()
    assert reverse("orgs:unit_edit", args=[personas.territory.township_a.pk]) not in page


# ------------------------------------------------------------------ create


def test_county_office_creates_a_village_with_its_code(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    response = client.post(
        reverse("orgs:unit_add", args=[t.township_a.pk]),
        {"name": "甲二村", "division_code": "６２１１９９１００２０２", "sort_order": 2},
    )
    unit = OrgUnit.objects.get(name="甲二村")
    assert response.status_code == 302 and response.url == reverse("orgs:unit", args=[unit.pk])
    assert (unit.level, unit.division_code, unit.parent_id) == (
        "village",
        "621199100202",
        t.township_a.pk,
    )
    assert unit.path == f"{t.township_a.path}{unit.pk}/"
    assert unit.history.get().change == "created"
    assert AuditEvent.objects.filter(action=Action.RECORD_CREATED, object_id=str(unit.pk)).exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("62119910020", "12位数字"),
        ("621199101202", "与上级单位代码“621199100000”不一致"),
        ("621199100000", "不是村/社区级代码"),
        ("621199100201", "已被其他单位使用"),
    ],
)
def test_a_bad_code_is_explained_next_to_the_field_and_nothing_is_created(
    client, personas, code, message
):
    t = personas.territory
    sign_in(client, personas.county_officer)
    before = _snapshot()
    response = client.post(
        reverse("orgs:unit_add", args=[t.township_a.pk]),
        {"name": "甲二村", "division_code": code, "sort_order": 0},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'id="id_division_code_errors"' in page
    assert 'value="甲二村"' in page, "what was typed is kept"
    assert _snapshot() == before


def test_grids_are_created_without_a_code_field(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    page = client.get(reverse("orgs:unit_add", args=[t.village_a.pk])).content.decode()
    assert 'name="division_code"' not in page
    client.post(reverse("orgs:unit_add", args=[t.village_a.pk]), {"name": "甲一村第二网格"})
    grid = OrgUnit.objects.get(name="甲一村第二网格")
    assert grid.level == "grid" and grid.division_code is None


def test_nothing_can_be_created_under_a_grid(client, personas):
    sign_in(client, personas.county_officer)
    before = _snapshot()
    response = client.post(
        reverse("orgs:unit_add", args=[personas.territory.grid_a.pk]), {"name": "x"}
    )
    assert response.status_code == 302
    assert _snapshot() == before


# ------------------------------------------------------------------ edit, retire, restore


def test_rename_recode_and_reorder_keep_history(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    client.post(
        reverse("orgs:unit_edit", args=[t.village_a.pk]),
        {"name": "甲一社区", "division_code": "621199100211", "sort_order": 5},
    )
    unit = OrgUnit.objects.get(pk=t.village_a.pk)
    assert (unit.name, unit.division_code, unit.sort_order) == ("甲一社区", "621199100211", 5)
    history = {h.change: h for h in unit.history.all()}
    assert (history["renamed"].old_name, history["renamed"].new_name) == ("甲一村", "甲一社区")
    assert (history["recoded"].old_code, history["recoded"].new_code) == (
        "621199100201",
        "621199100211",
    )
    assert history["renamed"].actor == personas.county_officer
    event = AuditEvent.objects.filter(action=Action.RECORD_UPDATED, object_id=str(unit.pk)).latest(
        "seq"
    )
    assert "甲一村" in event.detail and "甲一社区" in event.detail
    page = client.get(reverse("orgs:unit", args=[unit.pk])).content.decode()
    assert "甲一村 → 甲一社区" in page


def test_an_edit_with_a_bad_code_changes_nothing(client, personas):
    t = personas.territory
    sign_in(client, personas.sys_admin)
    before = _snapshot()
    response = client.post(
        reverse("orgs:unit_edit", args=[t.village_a.pk]),
        {"name": "甲一社区", "division_code": "621199101201", "sort_order": 0},
    )
    assert "不一致" in response.content.decode()
    assert _snapshot() == before


def test_a_unit_with_active_children_cannot_be_retired(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    client.post(reverse("orgs:unit_retire", args=[t.village_a.pk]))
    assert OrgUnit.objects.get(pk=t.village_a.pk).active


def test_retire_and_restore_keep_history_and_restore_needs_an_active_parent(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    client.post(reverse("orgs:unit_retire", args=[t.grid_a.pk]))
    client.post(reverse("orgs:unit_retire", args=[t.village_a.pk]))
    assert not OrgUnit.objects.get(pk=t.village_a.pk).active
    client.post(reverse("orgs:unit_restore", args=[t.grid_a.pk]))
    assert not OrgUnit.objects.get(pk=t.grid_a.pk).active, "its village is still retired"
    client.post(reverse("orgs:unit_restore", args=[t.village_a.pk]))
    client.post(reverse("orgs:unit_restore", args=[t.grid_a.pk]))
    assert OrgUnit.objects.get(pk=t.grid_a.pk).active
    changes = list(OrgUnitHistory.objects.filter(unit=t.grid_a).values_list("change", flat=True))
    assert changes.count("retired") == 1 and changes.count("restored") == 1


def test_retire_answers_only_to_post(client, personas):
    sign_in(client, personas.county_officer)
    assert (
        client.get(reverse("orgs:unit_retire", args=[personas.territory.grid_a.pk])).status_code
        == 405
    )


def test_a_user_cannot_retire_their_own_unit(client, personas):
    sign_in(client, personas.county_officer)
    with pytest.raises(ValidationError):
        services.update_unit(
            actor=personas.county_officer, unit=personas.territory.county, active=False
        )


# ------------------------------------------------------------------ move


def test_move_under_own_descendant_is_refused_and_nothing_changes(personas):
    t = personas.territory
    before = _snapshot()
    for target in (t.township_a, t.village_a, t.grid_a):
        with pytest.raises(ValidationError, match="自己或它的下级"):
            services.move_unit(actor=personas.county_officer, unit=t.township_a, new_parent=target)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("unit", "target", "message"),
    [
        ("township_a", "village_a", "不能把单位移到它自己或它的下级之下"),
        ("village_a", "county", "村/社区只能挂在乡镇/街道之下"),
    ],
)
def test_the_move_page_explains_a_refused_move_next_to_the_chooser(
    client, personas, unit, target, message
):
    t = personas.territory
    sign_in(client, personas.county_officer)
    before = _snapshot()
    response = client.post(
        reverse("orgs:unit_move", args=[getattr(t, unit).pk]), {"parent": getattr(t, target).pk}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page and 'id="id_parent_errors"' in page
    assert _snapshot() == before


def test_move_under_a_unit_of_the_wrong_level_is_refused(personas):
    t = personas.territory
    with pytest.raises(ValidationError, match="村/社区只能挂在乡镇/街道之下"):
        services.move_unit(actor=None, unit=t.village_a, new_parent=t.county)


def test_a_coded_village_moved_to_another_township_needs_a_fitting_code(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    before = _snapshot()
    response = client.post(
        reverse("orgs:unit_move", args=[t.village_a.pk]), {"parent": t.township_b.pk}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "不一致" in page
    assert _snapshot() == before
    response = client.post(
        reverse("orgs:unit_move", args=[t.village_a.pk]),
        {"parent": t.township_b.pk, "division_code": "621199101202"},
    )
    assert response.status_code == 302
    village = OrgUnit.objects.get(pk=t.village_a.pk)
    grid = OrgUnit.objects.get(pk=t.grid_a.pk)
    assert village.parent_id == t.township_b.pk and village.division_code == "621199101202"
    assert village.path == f"{t.township_b.path}{village.pk}/"
    assert grid.path == f"{village.path}{grid.pk}/" and grid.depth == village.depth + 1
    moved = village.history.get(change="moved")
    assert (moved.old_parent_id, moved.new_parent_id) == (t.township_a.pk, t.township_b.pk)
    assert AuditEvent.objects.filter(action=Action.UNIT_MOVED, object_id=str(village.pk)).exists()


def test_moving_a_village_moves_it_out_of_one_cadres_scope_and_into_the_others(client, personas):
    t = personas.territory
    services.move_unit(
        actor=personas.county_officer,
        unit=t.village_a,
        new_parent=t.township_b,
        division_code="621199101202",
    )
    assert not OrgUnit.objects.for_user(personas.cadre_a).filter(pk=t.grid_a.pk).exists()
    assert OrgUnit.objects.for_user(personas.cadre_b).filter(pk=t.grid_a.pk).exists()
    sign_in(client, personas.cadre_a)
    assert client.get(reverse("orgs:unit", args=[t.village_a.pk])).status_code == 404


def test_move_rewrites_the_org_path_of_every_scoped_record_and_keeps_history(personas):
    t = personas.territory
    city = services.create_unit(
        actor=None, name="示例市", level="city", parent=None, division_code="621100000000"
    )
    old_county_path = t.county.path
    services.move_unit(actor=None, unit=t.county, new_parent=city)
    county = OrgUnit.objects.get(pk=t.county.pk)
    assert county.path == f"{city.path}{county.pk}/"
    for dept in Department.objects.all():
        assert dept.org_path == county.path
    for model in scoped_models():
        assert not model.objects.filter(org_path__startswith=old_county_path).exists()
    for unit in OrgUnit.objects.exclude(pk=city.pk):
        assert unit.path.startswith(county.path)
        assert unit.depth == len(unit.ancestor_ids()) - 1
    from jindu.accounts.models import User

    officer = User.objects.get(pk=personas.county_officer.pk)
    assert Department.objects.for_user(officer).count() == 2
    assert county.history.filter(change="moved").exists()
    assert county.history.filter(change="created").exists()


def test_the_move_chooser_offers_only_units_of_the_right_level_in_the_users_subtree(
    client, personas
):
    t = personas.territory
    services.create_unit(
        actor=None, name="丙镇", level="township", parent=t.county, division_code="621199102000"
    )
    sign_in(client, personas.county_officer)
    page = client.get(reverse("orgs:unit_move", args=[t.village_a.pk])).content.decode()
    assert "乙镇" in page and "丙镇" in page
    assert f'value="{t.county.pk}"' not in page
    fragment = client.get(
        reverse("orgs:unit_move", args=[t.village_a.pk]), {"q": "丙"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "丙镇" in fragment and "乙镇" not in fragment


def test_a_move_target_outside_the_subtree_answers_404(client, personas):
    t = personas.territory
    city = services.create_unit(
        actor=None, name="示例市", level="city", parent=None, division_code="621100000000"
    )
    other = services.create_unit(
        actor=None, name="外县", level="county", parent=city, division_code="621198000000"
    )
    outside = services.create_unit(
        actor=None, name="外县一镇", level="township", parent=other, division_code="621198100000"
    )
    sign_in(client, personas.county_officer)
    before = _snapshot()
    response = client.post(
        reverse("orgs:unit_move", args=[t.village_a.pk]),
        {"parent": outside.pk, "division_code": "621198100201"},
    )
    assert response.status_code == 404
    assert _snapshot() == before


def test_a_user_cannot_move_their_own_unit(personas):
    t = personas.territory
    with pytest.raises(ValidationError):
        services.move_unit(actor=personas.cadre_a, unit=t.township_a, new_parent=t.county)


def test_absurd_numbers_are_answered_politely_and_change_nothing(client, personas):
    t = personas.territory
    sign_in(client, personas.county_officer)
    before = _snapshot()
    huge = "99999999999999999999999"
    assert client.get(f"/orgs/{huge}/").status_code == 404
    assert client.get(reverse("orgs:export"), {"root": huge}).status_code == 404
    response = client.post(reverse("orgs:unit_move", args=[t.village_a.pk]), {"parent": huge})
    assert response.status_code == 200 and 'id="id_parent_errors"' in response.content.decode()
    response = client.post(
        reverse("orgs:unit_edit", args=[t.village_a.pk]),
        {"name": "甲一村", "sort_order": "99999999999999"},
    )
    assert response.status_code == 200 and 'id="id_sort_order_errors"' in response.content.decode()
    assert _snapshot() == before
