"""The audit log's pages: only the audit administrator reads them, and reading is audited."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jindu.audit import dbguards
from jindu.audit.actions import Action, Result
from jindu.audit.models import AuditEvent
from jindu.audit.services import record
from jindu.audit.views import PAGE_SIZE
from jindu.core.roles import Perm
from tests.helpers import sign_in
from tests.personas import PERSONAS

URLS = [
    ("get", "audit:list", {}),
    ("get", "audit:detail", {"seq": 1}),
    ("post", "audit:export", {}),
    ("get", "audit:verify", {}),
    ("post", "audit:verify", {}),
]
REFUSED = [name for name in PERSONAS if name != "audit_admin"]


@pytest.fixture
def admin_client(client, personas):
    return sign_in(client, personas.audit_admin)


def _last(action: Action) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


# ------------------------------------------------------------------ who may
@pytest.mark.parametrize("method,name,kwargs", URLS)
@pytest.mark.parametrize("persona", REFUSED)
def test_everyone_but_the_audit_administrator_is_refused(
    client, personas, persona, method, name, kwargs
):
    sign_in(client, personas.users[persona])
    before = AuditEvent.objects.count()
    response = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 403
    # The refusal is itself audited, and nothing else happened.
    denial = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert denial.action == Action.PERMISSION_DENIED and denial.result == Result.DENIED
    assert denial.username == persona


@pytest.mark.parametrize("method,name,kwargs", URLS)
def test_anonymous_is_sent_to_sign_in(client, personas, method, name, kwargs):
    response = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_only_the_audit_administrator_role_carries_audit_read(personas):
    allowed = {
        name for name, user in personas.users.items() if user.has_jindu_perm(Perm.AUDIT_READ)
    }
    assert allowed == {"audit_admin"}


def test_navigation_offers_the_log_to_the_audit_administrator_only(client, personas):
    from jindu.portal.navigation import navigation_for

    def labels(user):
        return [e["url"] for area in navigation_for(user, "/") for e in area["entries"]]

    assert reverse("audit:list") in labels(personas.audit_admin)
    assert reverse("audit:list") not in labels(personas.sys_admin)
    assert reverse("audit:list") not in labels(personas.county_officer)


# ------------------------------------------------------------------ the list
def test_list_shows_rows_newest_first_without_auditing_a_plain_view(admin_client):
    searches = AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).count()
    response = admin_client.get(reverse("audit:list"))
    assert response.status_code == 200
    seqs = [row["event"].seq for row in response.context["rows"]]
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == AuditEvent.objects.latest("seq").seq
    assert AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).count() == searches
    assert "审计日志" in response.content.decode()


def test_action_select_lists_every_action_with_its_chinese_label(admin_client):
    html = admin_client.get(reverse("audit:list")).content.decode()
    for value, label in Action.choices:
        assert f'value="{value}"' in html and str(label) in html


def test_filters_narrow_the_rows_and_the_search_is_audited_once(admin_client, personas):
    record(
        actor=personas.cadre_a,
        action=Action.RECORD_CREATED,
        object_type="orgs.orgunit",
        object_id="42",
        object_repr="甲镇新村",
        client_address="10.12.0.7",
    )
    query = {
        "username": "cadre_a",
        "action": Action.RECORD_CREATED,
        "result": "success",
        "client_address": "10.12.",
        "object_type": "orgs.orgunit",
        "object_id": "42",
        "text": "新村",
    }
    response = admin_client.get(reverse("audit:list"), query)
    rows = [row["event"] for row in response.context["rows"]]
    assert [e.object_repr for e in rows] == ["甲镇新村"]
    search = _last(Action.AUDIT_SEARCHED)
    assert search.username == "audit_admin"
    assert search.detail_data["filters"] == query
    # Paging through the same search is not audited again ...
    admin_client.get(reverse("audit:list"), {**query, "before": rows[0].seq + 1})
    assert AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).count() == 1
    # ... submitting it again is.
    admin_client.get(reverse("audit:list"), {**query, "search": "1"})
    assert AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).count() == 2


def test_a_new_filter_in_a_paging_link_is_still_audited(admin_client):
    admin_client.get(reverse("audit:list"), {"username": "a", "search": "1"})
    admin_client.get(reverse("audit:list"), {"username": "b", "before": "999"})
    searched = AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).order_by("seq")
    assert [e.detail_data["filters"] for e in searched] == [{"username": "a"}, {"username": "b"}]


def test_search_button_marks_the_submission_and_paging_links_do_not(admin_client):
    for i in range(PAGE_SIZE + 1):
        record(actor=None, action=Action.IMPORTED, object_repr=f"导入{i}")
    response = admin_client.get(reverse("audit:list"), {"action": Action.IMPORTED, "search": "1"})
    html = response.content.decode()
    assert 'name="search" value="1"' in html
    assert "search=" not in response.context["older_query"]


def test_each_filter_on_its_own_excludes_other_rows(admin_client, personas):
    record(
        actor=personas.cadre_a,
        action=Action.RECORD_CREATED,
        object_repr="甲-目标",
        object_type="orgs.orgunit",
        object_id="7",
        client_address="10.9.0.1",
    )
    record(
        actor=personas.cadre_b,
        action=Action.RECORD_UPDATED,
        object_repr="乙-其他",
        object_type="orgs.department",
        object_id="8",
        client_address="172.16.0.1",
        result=Result.FAILURE,
    )
    for key, value in [
        ("username", "cadre_a"),
        ("action", Action.RECORD_CREATED),
        ("client_address", "10.9"),
        ("object_type", "orgs.orgunit"),
        ("object_id", "7"),
        ("text", "目标"),
    ]:
        response = admin_client.get(reverse("audit:list"), {key: value})
        reprs = {row["event"].object_repr for row in response.context["rows"]}
        assert "甲-目标" in reprs and "乙-其他" not in reprs, key
    response = admin_client.get(reverse("audit:list"), {"result": "failure"})
    assert {row["event"].object_repr for row in response.context["rows"]} == {"乙-其他"}


def test_time_range_is_inclusive_of_the_typed_minute(admin_client):
    past = timezone.localtime(timezone.now() - timedelta(days=3)).replace(second=30, microsecond=0)
    with mock.patch("jindu.audit.services.timezone.now", return_value=past):
        record(actor=None, action=Action.CODES_LOADED, object_repr="三天前")
    record(actor=None, action=Action.CODES_LOADED, object_repr="现在")
    minute = past.strftime("%Y-%m-%dT%H:%M")
    response = admin_client.get(reverse("audit:list"), {"start": minute, "end": minute})
    assert [r["event"].object_repr for r in response.context["rows"]] == ["三天前"]
    day = past.strftime("%Y-%m-%d")
    response = admin_client.get(reverse("audit:list"), {"end": day})
    reprs = [r["event"].object_repr for r in response.context["rows"]]
    assert "三天前" in reprs and "现在" not in reprs


def test_bad_input_is_explained_and_kept(admin_client):
    response = admin_client.get(
        reverse("audit:list"), {"start": "2026-13-45", "end": "", "username": "张三"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "时间格式不正确" in html
    assert 'value="2026-13-45"' in html and 'value="张三"' in html
    assert response.context["rows"] == []
    assert not AuditEvent.objects.filter(action=Action.AUDIT_SEARCHED).exists()


def test_end_before_start_is_refused(admin_client):
    response = admin_client.get(
        reverse("audit:list"), {"start": "2026-06-02T00:00", "end": "2026-06-01T00:00"}
    )
    assert "截止时间不能早于起始时间" in response.content.decode()


def test_unknown_action_is_refused_with_a_message(admin_client):
    response = admin_client.get(reverse("audit:list"), {"action": "drop.table"})
    assert response.status_code == 200 and response.context["form"].errors["action"]


def test_keyset_pages_walk_the_whole_log_without_offset_or_count(admin_client):
    for i in range(PAGE_SIZE + 5):
        record(actor=None, action=Action.CODES_LOADED, object_repr=f"批{i}")
    total = AuditEvent.objects.count()
    seen, query, pages = [], {}, 0
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    while True:
        with CaptureQueriesContext(conn) as queries:
            response = admin_client.get(reverse("audit:list"), query)
        sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
        assert " OFFSET " not in sql and "COUNT(" not in sql
        seen += [row["event"].seq for row in response.context["rows"]]
        pages += 1
        if not response.context["has_older"]:
            break
        query = {"before": response.context["rows"][-1]["event"].seq}
    assert pages >= 2
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == total
    # And back towards the newest.
    response = admin_client.get(reverse("audit:list"), {"after": seen[-1] - 1})
    assert response.context["has_newer"] and not response.context["has_older"]
    assert response.context["rows"][-1]["event"].seq == seen[-1]


def test_pages_keep_the_filter(admin_client):
    for i in range(PAGE_SIZE + 2):
        record(actor=None, action=Action.IMPORTED, object_repr=f"导入{i}")
    response = admin_client.get(reverse("audit:list"), {"action": Action.IMPORTED})
    assert response.context["has_older"]
    older = response.context["older_query"]
    assert "action=record.imported" in older
    page2 = admin_client.get(reverse("audit:list") + "?" + older)
    assert {r["event"].action for r in page2.context["rows"]} == {Action.IMPORTED}


def test_garbage_cursor_is_ignored(admin_client):
    response = admin_client.get(reverse("audit:list"), {"before": "abc", "after": "x1"})
    assert response.status_code == 200 and response.context["rows"]


# ------------------------------------------------------------------ one row
def test_detail_shows_every_field_pretty_json_and_both_hashes(admin_client, personas):
    event = record(
        actor=personas.cadre_a,
        action=Action.RECORD_UPDATED,
        object_repr="甲镇",
        detail={"changed": {"name": ["甲镇", "甲新镇"]}},
        client_address="10.1.1.1",
    )
    response = admin_client.get(reverse("audit:detail", kwargs={"seq": event.seq}))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        event.hash,
        event.prev_hash,
        "cadre_a",
        "10.1.1.1",
        "修改记录",
        "乡镇禁毒专干",
        "&quot;changed&quot;: {\n",
        "与内容一致",
        "与上一条一致",
    ):
        assert text in html
    assert response.context["own_ok"] and response.context["link_ok"]


def test_detail_of_a_tampered_row_says_so(admin_client):
    event = record(actor=None, action=Action.CODES_LOADED, object_repr="原样")
    dbguards.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET object_repr = '改过' WHERE seq = %s", [event.seq])
    dbguards.install(connection)
    response = admin_client.get(reverse("audit:detail", kwargs={"seq": event.seq}))
    assert response.context["own_ok"] is False
    assert "与内容不符" in response.content.decode()


def test_detail_of_a_missing_row_is_404(admin_client):
    assert admin_client.get(reverse("audit:detail", kwargs={"seq": 999999})).status_code == 404


# ------------------------------------------------------------------ export
def test_export_of_the_current_filter_is_a_workbook_and_audited(admin_client, personas):
    record(actor=personas.cadre_a, action=Action.RECORD_CREATED, object_repr="=cmd|' /C calc'!A0")
    record(actor=personas.cadre_b, action=Action.RECORD_CREATED, object_repr="乙镇的")
    response = admin_client.post(reverse("audit:export"), {"username": "cadre_a"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "时间", "用户名")
    assert {row[2] for row in rows[1:]} == {"cadre_a"}
    # A formula in a cell is neutralised.
    assert any(str(row[10]).startswith("'=") for row in rows[1:])
    exported = _last(Action.AUDIT_EXPORTED)
    assert exported.username == "audit_admin"
    assert exported.detail_data == {"filters": {"username": "cadre_a"}, "rows": len(rows) - 1}


def test_export_with_bad_filter_exports_nothing(admin_client):
    response = admin_client.post(reverse("audit:export"), {"start": "不是时间"})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=Action.AUDIT_EXPORTED).exists()


def test_export_too_large_is_refused_with_a_message(admin_client):
    with mock.patch("jindu.audit.views.WEB_MAX_ROWS", 3):
        response = admin_client.post(reverse("audit:export"), {}, follow=True)
    assert "超过 3 条" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.AUDIT_EXPORTED).exists()


def test_list_offers_export_with_the_filter_in_hidden_fields(admin_client, personas):
    record(actor=personas.cadre_a, action=Action.RECORD_CREATED)
    html = admin_client.get(reverse("audit:list"), {"username": "cadre_a"}).content.decode()
    assert '<input type="hidden" name="username" value="cadre_a">' in html
    assert reverse("audit:export") in html and "导出当前查询结果" in html


# ------------------------------------------------------------------ verify
def test_verify_button_runs_the_check_and_is_audited(admin_client):
    response = admin_client.post(reverse("audit:verify"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "审计日志校验通过" in html
    verified = _last(Action.AUDIT_VERIFIED)
    assert verified.result == Result.SUCCESS and verified.detail_data["ok"] is True
    assert verified.username == "audit_admin"


def test_verify_by_htmx_answers_only_the_result(admin_client):
    response = admin_client.post(reverse("audit:verify"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "审计日志校验通过" in html and "<html" not in html


def test_verify_names_the_first_broken_row(admin_client):
    record(actor=None, action=Action.CODES_LOADED)
    target = record(actor=None, action=Action.CODES_LOADED)
    dbguards.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_event WHERE seq = %s", [target.seq - 1])
    dbguards.install(connection)
    response = admin_client.post(reverse("audit:verify"))
    html = response.content.decode()
    assert "校验未通过" in html and f"第 {target.seq - 1} 条" in html
    verified = _last(Action.AUDIT_VERIFIED)
    assert verified.result == Result.FAILURE
    assert verified.detail_data["first_bad_seq"] == target.seq - 1


def test_verify_page_does_not_run_the_check_on_get(admin_client):
    before = AuditEvent.objects.count()
    response = admin_client.get(reverse("audit:verify"))
    assert response.status_code == 200 and "校验完整性" in response.content.decode()
    assert AuditEvent.objects.count() == before


# ------------------------------------------------------------------ no personal data
def test_the_log_holds_no_personal_data_for_the_administrator_to_see(
    admin_client, personas, monkeypatch
):
    from jindu.audit.services import record_change
    from jindu.orgs.models import OrgUnit

    unit = personas.territory.village_a
    monkeypatch.setattr(OrgUnit, "personal_fields", {"name": "phone"}, raising=False)
    event = record_change(
        actor=personas.cadre_a,
        action=Action.RECORD_UPDATED,
        obj=unit,
        before={"name": "13800138000"},
        after={"name": "13912345678"},
    )
    html = admin_client.get(reverse("audit:detail", kwargs={"seq": event.seq})).content.decode()
    assert "13800138000" not in html and "13912345678" not in html
    assert "138****8000" in html
    assert json.loads(event.detail)["changed"]["name"] == ["138****8000", "139****5678"]


# ------------------------------------------------------------------ scope
def test_an_audit_administrator_below_the_root_reads_only_their_subtree(client, personas):
    from jindu.accounts import services as accounts
    from tests.personas import PASSWORD

    township_auditor = accounts.create_user(
        actor=None,
        username="audit_a",
        full_name="甲镇审计员",
        org_unit=personas.territory.township_a,
        password=PASSWORD,
        roles={"audit_admin"},
        must_change_password=False,
    )
    mine = record(actor=personas.cadre_a, action=Action.RECORD_CREATED, object_repr="甲镇的")
    theirs = record(actor=personas.cadre_b, action=Action.RECORD_CREATED, object_repr="乙镇的")
    nobodys = record(actor=None, action=Action.LOGIN_FAILED, username="ghost")
    sign_in(client, township_auditor)
    response = client.get(reverse("audit:list"))
    seqs = {row["event"].seq for row in response.context["rows"]}
    assert mine.seq in seqs and theirs.seq not in seqs and nobodys.seq not in seqs
    assert client.get(reverse("audit:detail", kwargs={"seq": theirs.seq})).status_code == 404
    assert client.get(reverse("audit:detail", kwargs={"seq": mine.seq})).status_code == 200
    # The county's auditor sees everything, unit-less rows included.
    sign_in(client, personas.audit_admin)
    response = client.get(reverse("audit:list"))
    seqs = {row["event"].seq for row in response.context["rows"]}
    assert {mine.seq, theirs.seq, nobodys.seq} <= seqs
