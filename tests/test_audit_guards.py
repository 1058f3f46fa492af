"""The audit log cannot be changed: not by the application, not by raw SQL while the
guards are in force; and transactional tests still get their tables emptied."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from jindu.audit import dbguards
from jindu.audit.actions import Action
from jindu.audit.chain import GENESIS
from jindu.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from jindu.audit.services import record, verify


def _rows(count: int) -> list[AuditEvent]:
    return [
        record(actor=None, action=Action.CODES_LOADED, object_repr=f"第{i}批") for i in range(count)
    ]


def _old_rows(count: int, days: int = 400) -> list[AuditEvent]:
    past = timezone.now() - timedelta(days=days)
    with mock.patch("jindu.audit.services.timezone.now", return_value=past):
        return _rows(count)


def _raw(sql: str, params: list | None = None) -> None:
    # A savepoint, so that a refused statement leaves the test's transaction usable.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


# ------------------------------------------------------------------ the application
def test_model_save_of_an_existing_row_is_refused(db):
    event = _rows(1)[0]
    event.object_repr = "改过"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_model_delete_is_refused(db):
    event = _rows(1)[0]
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_queryset_update_is_refused(db):
    _rows(2)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(username="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(username="x")


def test_queryset_delete_is_refused(db):
    _rows(2)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


# ------------------------------------------------------------------ the database
def test_guards_are_installed_by_the_migrations(db):
    assert dbguards.missing(connection) == []


def test_raw_update_of_a_row_is_refused(db):
    _rows(2)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE audit_event SET object_repr = 'forged' WHERE seq = 1")
    assert AuditEvent.objects.get(seq=1).object_repr == "第0批"


def test_raw_update_of_an_old_row_is_refused_too(db):
    _old_rows(1)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE audit_event SET username = 'x'")


def test_raw_delete_of_a_young_row_is_refused(db):
    _rows(3)
    with pytest.raises(DatabaseError, match="180 days"):
        _raw("DELETE FROM audit_event WHERE seq = 2")
    assert AuditEvent.objects.count() == 3


def test_raw_delete_of_a_row_past_the_legal_minimum_is_let_through(db):
    _old_rows(1, days=181)
    _raw("DELETE FROM audit_event WHERE seq = 1")
    assert not AuditEvent.objects.exists()


def test_raw_truncate_is_refused_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE is guarded above")
    _rows(1)
    with pytest.raises(DatabaseError, match="truncated"):
        _raw("TRUNCATE audit_event")


def test_chain_head_cannot_be_rewound(db):
    _rows(3)
    with pytest.raises(DatabaseError, match="backwards"):
        _raw("UPDATE audit_chain_head SET seq = 2 WHERE id = 1")
    with pytest.raises(DatabaseError, match="backwards"):
        _raw("UPDATE audit_chain_head SET anchor_seq = anchor_seq - 1 WHERE id = 1")
    assert AuditChainHead.objects.get(pk=1).seq == 3


def test_chain_head_cannot_be_deleted(db):
    with pytest.raises(DatabaseError, match="deleted"):
        _raw("DELETE FROM audit_chain_head")
    assert AuditChainHead.objects.filter(pk=1).exists()


def test_guards_removed_by_a_dba_are_reported_missing(db):
    dbguards.remove(connection)
    assert len(dbguards.missing(connection)) == 4
    dbguards.install(connection)
    assert dbguards.missing(connection) == []


def test_lifted_puts_the_guards_back_even_when_the_block_fails(db):
    with pytest.raises(RuntimeError), dbguards.lifted(connection):
        assert len(dbguards.missing(connection)) == 4
        raise RuntimeError("maintenance failed")
    assert dbguards.missing(connection) == []


# ------------------------------------------------------------------ transactional tests
@pytest.mark.django_db(transaction=True)
def test_transactional_test_writes_audit_rows_under_the_guards():
    # The teardown flush of this test deletes young audit rows: it errors
    # unless conftest lifts the guards for the flush.
    _rows(3)
    assert dbguards.missing(connection) == []
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM audit_event")
    assert verify().ok


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_and_restores_head_and_guards():
    _rows(2)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash, head.anchor_seq) == (0, GENESIS, 0)
    assert dbguards.missing(connection) == []
    # The log starts again from the beginning and verifies.
    assert _rows(1)[0].seq == 1
    assert verify().ok
