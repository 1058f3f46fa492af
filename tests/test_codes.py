"""Code lists (字典): everyone reads them; the system administrator adds lists and
entries, relabels, reorders, retires and restores; nothing is ever deleted."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.codes import registry, services
from jindu.codes.models import CodeItem, CodeList
from tests.helpers import sign_in

ALL_SIGNED_IN = [
    "county_officer",
    "cadre_a",
    "cadre_b",
    "grid_worker",
    "police_officer",
    "dept_reporter",
    "leader",
    "sys_admin",
    "sec_admin",
    "audit_admin",
    "no_role",
]
NOT_SYS_ADMIN = [name for name in ALL_SIGNED_IN if name != "sys_admin"]


def _items():
    return list(
        CodeItem.objects.order_by("pk").values_list(
            "code_list_id", "code", "label", "sort_order", "active"
        )
    )


@pytest.fixture
def drugs(db):
    return CodeList.objects.get(key="drug_type")


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize("name", ALL_SIGNED_IN)
def test_every_signed_in_user_reads_the_lists(client, personas, name):
    sign_in(client, personas.users[name])
    assert "毒品种类" in client.get(reverse("codes:lists")).content.decode()
    page = client.get(reverse("codes:list", args=["drug_type"])).content.decode()
    assert "海洛因" in page and "heroin" in page


@pytest.mark.parametrize("name", NOT_SYS_ADMIN)
def test_only_the_system_administrator_sees_the_keeping_controls(client, personas, name):
    sign_in(client, personas.users[name])
    page = client.get(reverse("codes:list", args=["drug_type"])).content.decode()
    assert reverse("codes:item_add", args=["drug_type"]) not in page
    assert reverse("codes:list_add") not in client.get(reverse("codes:lists")).content.decode()


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(reverse("codes:lists"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_an_unknown_list_answers_404(client, personas):
    sign_in(client, personas.leader)
    assert client.get(reverse("codes:list", args=["no_such_list"])).status_code == 404


# ------------------------------------------------------------------ who may change


@pytest.mark.parametrize("name", NOT_SYS_ADMIN)
def test_other_roles_cannot_change_anything(client, personas, name):
    sign_in(client, personas.users[name])
    before = _items()
    lists = CodeList.objects.count()
    assert (
        client.post(
            reverse("codes:item_add", args=["drug_type"]), {"code": "x1", "label": "新毒品"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("codes:item_edit", args=["drug_type", "heroin"]), {"label": "改名"}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("codes:item_retire", args=["drug_type", "heroin"])).status_code == 403
    )
    assert (
        client.post(reverse("codes:list_add"), {"key": "new_list", "name": "新字典"}).status_code
        == 403
    )
    assert client.get(reverse("codes:list_edit", args=["drug_type"])).status_code == 403
    assert _items() == before and CodeList.objects.count() == lists


# ------------------------------------------------------------------ keeping


def test_sys_admin_adds_an_entry_and_it_becomes_a_choice(client, personas, drugs):
    sign_in(client, personas.sys_admin)
    response = client.post(
        reverse("codes:item_add", args=["drug_type"]),
        {"code": "tramadol", "label": "曲马多", "sort_order": ""},
    )
    assert response.status_code == 302
    item = CodeItem.objects.get(code_list=drugs, code="tramadol")
    assert item.sort_order > drugs.items.exclude(pk=item.pk).order_by("-sort_order")[0].sort_order
    assert ("tramadol", "曲马多") in registry.choices("drug_type")
    event = AuditEvent.objects.filter(
        action=Action.RECORD_CREATED, object_type="codes.codeitem"
    ).get()
    assert "曲马多" in event.detail and event.username == "sys_admin"


@pytest.mark.parametrize(
    ("code", "label", "field", "message"),
    [
        ("bad code", "坏代码", "code", "字母、数字和下划线"),
        ("冰毒", "中文代码", "code", "字母、数字和下划线"),
        ("HEROIN", "海洛因二", "code", "已在本字典中"),
        ("new_one", "海洛因", "label", "已是本字典的启用项"),
        ("new_two", "", "label", "必填"),
    ],
)
def test_bad_entries_are_explained_and_what_was_typed_is_kept(
    client, personas, drugs, code, label, field, message
):
    sign_in(client, personas.sys_admin)
    before = _items()
    response = client.post(
        reverse("codes:item_add", args=["drug_type"]), {"code": code, "label": label}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'id="id_{field}_errors"' in page
    if code:
        assert f'value="{code}"' in page
    assert _items() == before


def test_relabel_and_reorder_are_audited_with_before_and_after(client, personas):
    sign_in(client, personas.sys_admin)
    client.post(
        reverse("codes:item_edit", args=["drug_type", "heroin"]),
        {"label": "海洛因（白粉）", "sort_order": 99},
    )
    item = CodeItem.objects.get(code_list__key="drug_type", code="heroin")
    assert (item.label, item.sort_order) == ("海洛因（白粉）", 99)
    event = AuditEvent.objects.filter(
        action=Action.RECORD_UPDATED, object_type="codes.codeitem"
    ).get()
    assert '"label":["海洛因","海洛因（白粉）"]' in event.detail
    assert '"sort_order":[10,99]' in event.detail


def test_a_retired_entry_stays_readable_on_old_records_but_is_no_longer_offered(client, personas):
    sign_in(client, personas.sys_admin)
    client.post(reverse("codes:item_retire", args=["drug_type", "opium"]))
    assert not CodeItem.objects.get(code_list__key="drug_type", code="opium").active
    assert registry.label("drug_type", "opium") == "鸦片（已停用）"
    assert "opium" not in dict(registry.choices("drug_type"))
    assert dict(registry.choices("drug_type", current="opium"))["opium"] == "鸦片（已停用）"
    page = client.get(reverse("codes:list", args=["drug_type"])).content.decode()
    assert "鸦片（已停用）" in page
    client.post(reverse("codes:item_restore", args=["drug_type", "opium"]))
    assert registry.label("drug_type", "opium") == "鸦片"
    events = AuditEvent.objects.filter(action=Action.RECORD_UPDATED, object_type="codes.codeitem")
    assert events.count() == 2
    assert '"active":[true,false]' in events.order_by("seq").first().detail


def test_entries_are_never_deleted_and_a_retired_code_cannot_be_reused(personas, drugs):
    services.update_code_item(
        actor=personas.sys_admin, item=drugs.items.get(code="cocaine"), active=False
    )
    with pytest.raises(ValidationError, match="已在本字典中"):
        services.add_code_item(
            actor=personas.sys_admin, code_list=drugs, code="cocaine", label="可卡因新"
        )
    assert drugs.items.filter(code="cocaine").count() == 1


def test_restoring_an_entry_whose_label_is_taken_is_refused(personas, drugs):
    cocaine = drugs.items.get(code="cocaine")
    services.update_code_item(actor=personas.sys_admin, item=cocaine, active=False)
    services.add_code_item(
        actor=personas.sys_admin, code_list=drugs, code="cocaine2", label="可卡因"
    )
    with pytest.raises(ValidationError, match="已是本字典的启用项"):
        services.update_code_item(actor=personas.sys_admin, item=cocaine, active=True)


def test_sys_admin_adds_a_new_list_and_edits_its_name(client, personas):
    sign_in(client, personas.sys_admin)
    response = client.post(
        reverse("codes:list_add"),
        {"key": "school_kind", "name": "学校类别", "description": "青骄第二课堂用"},
    )
    assert response.status_code == 302
    code_list = CodeList.objects.get(key="school_kind")
    assert not code_list.builtin
    client.post(
        reverse("codes:item_add", args=["school_kind"]), {"code": "primary", "label": "小学"}
    )
    assert registry.choices("school_kind") == [("primary", "小学")]
    client.post(
        reverse("codes:list_edit", args=["school_kind"]), {"name": "学校类型", "description": ""}
    )
    assert CodeList.objects.get(key="school_kind").name == "学校类型"
    assert AuditEvent.objects.filter(object_type="codes.codelist").count() == 2


@pytest.mark.parametrize("key", ["Bad-Key", "1abc", "drug_type", "new", "x"])
def test_a_bad_or_taken_list_key_is_refused(client, personas, key):
    sign_in(client, personas.sys_admin)
    lists = CodeList.objects.count()
    response = client.post(reverse("codes:list_add"), {"key": key, "name": "某字典"})
    assert response.status_code == 200 and 'id="id_key_errors"' in response.content.decode()
    assert CodeList.objects.count() == lists


def test_retire_answers_only_to_post(client, personas):
    sign_in(client, personas.sys_admin)
    response = client.get(reverse("codes:item_retire", args=["drug_type", "heroin"]))
    assert response.status_code == 405
    assert CodeItem.objects.get(code_list__key="drug_type", code="heroin").active


def test_the_code_lists_are_in_the_system_navigation(client, personas):
    sign_in(client, personas.grid_worker)
    page = client.get(reverse("portal:home")).content.decode()
    assert reverse("codes:lists") in page and reverse("orgs:tree") in page
    sign_in(client, personas.audit_admin)
    page = client.get(reverse("codes:lists")).content.decode()
    assert reverse("orgs:tree") not in page
