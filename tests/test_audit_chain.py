"""The hash chain: what ``verify`` and ``jindu audit verify`` catch, purging to an anchor,
rollback of the business change with its audit row, concurrent appends, masking."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

from jindu.audit import dbguards
from jindu.audit.actions import Action, Result
from jindu.audit.chain import GENESIS, canonical
from jindu.audit.models import AuditChainHead, AuditEvent
from jindu.audit.services import (
    PurgeRefused,
    audit_repr,
    masked_value,
    purge,
    record,
    record_change,
    verify,
)
from jindu.orgs import services as orgs
from jindu.orgs.models import OrgUnit


def _rows(count: int) -> list[AuditEvent]:
    return [
        record(actor=None, action=Action.CODES_LOADED, object_repr=f"第{i}批", detail={"i": i})
        for i in range(count)
    ]


def _old_rows(count: int, days: int = 400) -> list[AuditEvent]:
    past = timezone.now() - timedelta(days=days)
    with mock.patch("jindu.audit.services.timezone.now", return_value=past):
        return _rows(count)


def _sql(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@pytest.fixture
def dba(db):
    """Ten rows, and the guards dropped as a DBA would (the test's rollback restores them)."""
    _rows(10)
    dbguards.remove(connection)
    return connection


def _caught(seq: int, words: str) -> None:
    """Both ``verify`` and the command name row ``seq`` and say why."""
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == seq, result.reason
    assert f"第 {seq} 条" in result.reason and words in result.reason
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify")
    assert caught.value.returncode == 1
    assert f"第 {seq} 条" in str(caught.value) and words in str(caught.value)


# ------------------------------------------------------------------ intact chains
def test_intact_chain_verifies_and_counts_rows(db):
    _rows(7)
    result = verify()
    assert result.ok and result.checked == 7 and result.head_seq == 7
    assert result.message() == "审计日志校验通过：共 7 条"


def test_empty_log_verifies(db):
    assert verify().ok and verify().checked == 0


def test_command_reports_success_and_is_attributed_to_the_os_user(db, capsys):
    _rows(3)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "审计日志校验通过：共 3 条" in out
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == Action.AUDIT_VERIFIED and event.result == Result.SUCCESS
    assert event.client_address == "cli" and event.username.startswith("os:")
    assert event.user_id is None


# ------------------------------------------------------------------ tampering
def test_raw_edit_of_a_middle_rows_content_is_caught(dba):
    _sql("UPDATE audit_event SET object_repr = '改过的对象' WHERE seq = 5")
    _caught(5, "篡改")


def test_raw_edit_of_a_middle_rows_time_is_caught(dba):
    _sql("UPDATE audit_event SET username = 'someone' WHERE seq = 4")
    _caught(4, "篡改")


def test_deleted_middle_row_is_caught(dba):
    _sql("DELETE FROM audit_event WHERE seq = 6")
    _caught(6, "缺失")


def test_rows_with_swapped_sequence_numbers_are_caught(dba):
    _sql("UPDATE audit_event SET seq = -1 WHERE seq = 5")
    _sql("UPDATE audit_event SET seq = 5 WHERE seq = 6")
    _sql("UPDATE audit_event SET seq = 6 WHERE seq = -1")
    _caught(5, "前序摘要")


def test_rows_with_swapped_content_are_caught(dba):
    five = AuditEvent.objects.get(seq=5)
    six = AuditEvent.objects.get(seq=6)
    _sql(
        "UPDATE audit_event SET object_repr = %s, detail = %s WHERE seq = 5",
        [six.object_repr, six.detail],
    )
    _sql(
        "UPDATE audit_event SET object_repr = %s, detail = %s WHERE seq = 6",
        [five.object_repr, five.detail],
    )
    _caught(5, "篡改")


def test_rows_moved_in_storage_order_are_caught(dba):
    # Whole rows swapped between ids: each seq still carries its own content and hashes.
    _sql("UPDATE audit_event SET id = -1 WHERE seq = 5")
    _sql("UPDATE audit_event SET id = (SELECT id FROM audit_event WHERE seq = 6) - 1 WHERE seq = 6")
    _sql("UPDATE audit_event SET id = (SELECT id FROM audit_event WHERE seq = 6) + 1 WHERE seq = 5")
    _caught(6, "存储顺序")


def test_deleted_last_row_is_caught(dba):
    _sql("DELETE FROM audit_event WHERE seq = 10")
    _caught(10, "缺失")


def _forge(seq: int, prev_hash: str, algo: str) -> str:
    row = {
        "seq": seq,
        "at": timezone.now(),
        "user_id": None,
        "username": "forger",
        "roles": "",
        "org_path": "",
        "org_name": "",
        "client_address": "10.0.0.9",
        "action": str(Action.LOGIN),
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "result": "success",
        "detail": "",
    }
    digest = hashlib.new(algo, prev_hash.encode() + b"\x00" + canonical(row)).hexdigest()
    _sql(
        "INSERT INTO audit_event (seq, at, user_id, username, roles, org_path, org_name,"
        " client_address, action, object_type, object_id, object_repr, result, detail,"
        " algorithm, prev_hash, hash) VALUES (%s, %s, NULL, %s, '', '', '', %s, %s, '', '', '',"
        " 'success', '', %s, %s, %s)",
        [
            seq,
            row["at"],
            row["username"],
            row["client_address"],
            row["action"],
            algo,
            prev_hash,
            digest,
        ],
    )
    return digest


@pytest.mark.parametrize("algo", ["sha256", "sm3"])
def test_forged_row_with_an_unkeyed_hash_is_caught(dba, algo):
    if algo not in hashlib.algorithms_available:
        pytest.skip(f"{algo} is not available here")
    head = AuditChainHead.objects.get(pk=1)
    digest = _forge(11, head.hash, algo)
    # The forger moves the head too, so the row looks like the chain's end.
    _sql("UPDATE audit_chain_head SET seq = 11, hash = %s WHERE id = 1", [digest])
    _caught(11, "篡改")


def test_forged_row_beyond_the_head_is_caught(dba):
    head = AuditChainHead.objects.get(pk=1)
    _forge(11, head.hash, "sha256")
    _caught(11, "伪造")


def test_prefix_cut_off_with_a_moved_anchor_is_caught(dba):
    # Rows 1-3 removed and the anchor moved to fit: no purge row explains it.
    third = AuditEvent.objects.get(seq=3)
    _sql("DELETE FROM audit_event WHERE seq <= 3")
    _sql("UPDATE audit_chain_head SET anchor_seq = 3, anchor_hash = %s WHERE id = 1", [third.hash])
    _caught(3, "清理记录")


def test_edited_head_hash_is_caught(dba):
    _sql("UPDATE audit_chain_head SET hash = %s WHERE id = 1", ["f" * 64])
    _caught(10, "链头")


def test_missing_head_is_reported(dba):
    _sql("DELETE FROM audit_chain_head")
    result = verify()
    assert not result.ok and "链头" in result.reason


# ------------------------------------------------------------------ purging
def test_purge_removes_only_old_rows_and_the_chain_still_verifies(db):
    _old_rows(4)
    _rows(3)
    assert purge(actor=None) == 4
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == [5, 6, 7, 8]
    head = AuditChainHead.objects.get(pk=1)
    assert head.anchor_seq == 4
    purged = AuditEvent.objects.get(seq=8)
    assert purged.action == Action.AUDIT_PURGED
    assert purged.detail_data["deleted"] == 4 and purged.detail_data["through_seq"] == 4
    assert verify().ok and verify().checked == 4
    # Rows after a purge continue the chain.
    _rows(2)
    assert verify().ok and verify().checked == 6


def test_purge_keeps_a_prefix_only_even_when_older_rows_follow_a_young_one(db):
    _old_rows(2)
    _rows(1)
    _old_rows(2)  # a clock set back: old times after a young row
    assert purge(actor=None) == 2
    assert AuditEvent.objects.order_by("seq").first().seq == 3
    assert verify().ok


def test_purge_refuses_fewer_than_180_days(db):
    _old_rows(2, days=100)
    with pytest.raises(PurgeRefused, match="180"):
        purge(actor=None, older_than_days=90)
    assert AuditEvent.objects.count() == 2


def test_purge_leaves_young_rows_alone(db):
    _old_rows(2, days=100)
    _rows(2)
    assert purge(actor=None, older_than_days=180) == 0
    assert AuditEvent.objects.count() == 4


def test_purge_refuses_to_destroy_a_broken_chain(db):
    _old_rows(3)
    _rows(2)
    dbguards.remove(connection)
    _sql("UPDATE audit_event SET username = 'x' WHERE seq = 2")
    dbguards.install(connection)
    with pytest.raises(PurgeRefused, match="第 2 条"):
        purge(actor=None)
    assert AuditEvent.objects.count() == 5


def test_purge_command_refuses_short_retention_and_purges_old_rows(db, capsys):
    _old_rows(3)
    with pytest.raises(CommandError, match="180"):
        call_command("audit", "purge", "--days", "30")
    call_command("audit", "purge", "--days", "200")
    assert "已清理 3 条" in capsys.readouterr().out
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == Action.AUDIT_PURGED and event.client_address == "cli"
    assert verify().ok


def test_purge_of_every_row_still_verifies(db):
    _old_rows(3)
    assert purge(actor=None) == 3
    assert verify().ok
    assert AuditEvent.objects.get().action == Action.AUDIT_PURGED


# ------------------------------------------------------------------ transactions
def test_failed_audit_write_rolls_back_the_unit(db):
    with (
        mock.patch.object(AuditEvent, "save", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        orgs.create_unit(actor=None, name="失败县", level="county", parent=None)
    assert not OrgUnit.objects.filter(name="失败县").exists()
    assert AuditChainHead.objects.get(pk=1).seq == 0


@pytest.mark.django_db(transaction=True)
def test_failed_chain_head_rolls_back_the_committed_transaction():
    # Outside any test transaction: create_unit's own transaction must roll back.
    with (
        mock.patch("jindu.audit.services.row_hash", side_effect=RuntimeError("no key")),
        pytest.raises(RuntimeError),
    ):
        orgs.create_unit(actor=None, name="失败县", level="county", parent=None)
    assert not OrgUnit.objects.exists()
    assert not AuditEvent.objects.exists()
    orgs.create_unit(actor=None, name="成功县", level="county", parent=None)
    assert verify().ok and verify().checked == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_consistent():
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database serialises every writer")
    per_thread, errors = 25, []
    start = threading.Barrier(3)

    def append(name: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    record(actor=None, action=Action.CODES_LOADED, object_repr=f"{name}-{i}")
        except Exception as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(f"t{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    # Verifying while others append never reports the rows they are adding as strays.
    during = []
    while any(thread.is_alive() for thread in threads):
        during.append(verify())
    for thread in threads:
        thread.join()
    assert errors == []
    assert during and all(result.ok for result in during), [r.reason for r in during]
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 76))
    result = verify()
    assert result.ok and result.checked == 75


# ------------------------------------------------------------------ personal data
def test_record_change_masks_personal_fields(db, monkeypatch):
    unit = orgs.create_unit(actor=None, name="青岚县", level="county", parent=None)
    monkeypatch.setattr(OrgUnit, "personal_fields", {"name": "address"}, raising=False)
    event = record_change(
        actor=None,
        action=Action.RECORD_UPDATED,
        obj=unit,
        before={"name": "青岚县城关镇幸福路12号"},
        after={"name": "青岚县城关镇和平路8号"},
    )
    old, new = json.loads(event.detail)["changed"]["name"]
    assert "幸福路" not in old and "和平路" not in new and old.endswith("****")


def test_masked_value_masks_by_kind():
    class Person:
        personal_fields = {"id_number": "id_number", "phone": "phone"}

    assert masked_value(Person, "id_number", "11010519491231002X") == "110105********002X"
    assert masked_value(Person, "phone", "13800138000") == "138****8000"
    assert masked_value(Person, "name", "张三") == "张三"


def test_audit_repr_of_a_personal_record_without_a_label_names_no_person():
    class Person:
        personal_data = True
        pk = 7
        _meta = SimpleNamespace(verbose_name="登记人员")

        def __str__(self) -> str:
            return "张三"

    assert audit_repr(Person()) == "登记人员 #7"


def test_genesis_is_the_first_rows_predecessor(db):
    assert _rows(1)[0].prev_hash == GENESIS


def test_writes_outside_a_request_are_attributed_to_the_os_account(db):
    from jindu.core import context

    event = record(actor=None, action=Action.CODES_LOADED)
    assert event.username.startswith("os:") and event.client_address == "cli"
    token = context.set_current(context.RequestInfo(client_address="10.1.2.3"))
    try:
        anonymous = record(actor=None, action=Action.LOGIN_FAILED, username="ghost")
        nobody = record(actor=None, action=Action.PERMISSION_DENIED)
    finally:
        context.reset(token)
    assert (anonymous.username, anonymous.client_address) == ("ghost", "10.1.2.3")
    assert nobody.username == ""
