"""Backup and restore inside the test process: what a backup holds, what a restore refuses,
and what it checks afterwards. The drill under concurrent writes is in test_backup_drill.py."""

from __future__ import annotations

import io
import json
import shutil
import stat
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from jindu.audit.actions import Action, Result
from jindu.audit.models import AuditChainHead, AuditEvent
from jindu.audit.services import verify
from jindu.core import backup
from jindu.orgs import services as orgs
from jindu.orgs.models import Department, OrgUnit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "postgresql" and shutil.which("pg_dump") is None,
        reason="pg_dump is not installed",
    ),
]


@pytest.fixture
def county():
    county = orgs.create_unit(
        actor=None, name="青岚县", level="county", parent=None, division_code="621199000000"
    )
    orgs.create_unit(
        actor=None, name="甲镇", level="township", parent=county, division_code="621199100000"
    )
    orgs.create_department(
        actor=None,
        county=county,
        name="青岚县公安局",
        short_name="公安局",
        duties="打击毒品违法犯罪。",
    )
    return county


def _rewrite(
    source: Path, target: Path, *, manifest: dict | None = None, dump: bytes | None = None
) -> None:
    """A copy of a backup with its manifest or its database bytes replaced."""
    with tarfile.open(source) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    if manifest is not None:
        members[backup.MANIFEST_NAME] = json.dumps(manifest).encode()
    if dump is not None:
        name = next(n for n in members if n != backup.MANIFEST_NAME)
        members[name] = dump
    with tarfile.open(target, "w") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


def test_backup_writes_a_private_tar_with_a_signed_manifest(county, tmp_path):
    target = tmp_path / "b.tar"
    manifest = backup.make_backup(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with tarfile.open(target) as tar:
        assert sorted(tar.getnames()) == sorted([backup.MANIFEST_NAME, manifest.dump_name])
    again = backup.read_manifest(target)
    assert again == manifest and again.signed()
    assert again.vendor == connection.vendor
    assert again.tables["orgs_orgunit"] == 2 and again.tables["orgs_department"] == 1
    head = AuditChainHead.objects.get(pk=1)
    # The manifest's head is the snapshot's; the backup's own audit row came after it.
    assert again.audit_head_seq == head.seq - 1
    made = AuditEvent.objects.get(seq=head.seq)
    assert made.action == Action.BACKUP_MADE
    assert made.detail_data["sha256"] == manifest.dump_sha256
    assert manifest.audit_head_hash == AuditEvent.objects.get(seq=head.seq - 1).hash


def test_backup_refuses_to_overwrite_a_file(county, tmp_path):
    target = tmp_path / "b.tar"
    target.write_bytes(b"keep me")
    with pytest.raises(backup.BackupError, match="已存在"):
        backup.make_backup(target)
    assert target.read_bytes() == b"keep me"


def test_restore_brings_back_the_backup_and_checks_it(county, tmp_path):
    target = tmp_path / "b.tar"
    manifest = backup.make_backup(target)
    orgs.create_unit(
        actor=None, name="乙镇", level="township", parent=county, division_code="621199101000"
    )
    report = backup.restore_backup(target, force=True)
    assert report.ok, report.lines()
    assert not OrgUnit.objects.filter(name="乙镇").exists()
    assert OrgUnit.objects.count() == 2 and Department.objects.count() == 1
    lines = "\n".join(report.lines())
    assert "数据库完整性检查：通过" in lines
    assert "审计日志防篡改触发器：通过" in lines
    assert f"审计日志哈希链校验：通过（共 {manifest.audit_head_seq} 条）" in lines
    assert "数据表行数与清单一致" in lines
    # The restore is audited after it, into the restored log, which still verifies.
    last = AuditEvent.objects.order_by("-seq").first()
    assert last.action == Action.RESTORED and last.result == Result.SUCCESS
    assert last.seq == manifest.audit_head_seq + 1
    assert verify().ok


def test_restore_refuses_a_database_holding_data_without_yes(county, tmp_path):
    target = tmp_path / "b.tar"
    backup.make_backup(target)
    orgs.create_unit(actor=None, name="乙镇", level="township", parent=county)
    with pytest.raises(backup.BackupError, match="--yes"):
        backup.restore_backup(target)
    assert OrgUnit.objects.filter(name="乙镇").exists()


def test_restore_refuses_a_damaged_copy_and_changes_nothing(county, tmp_path):
    good, bad = tmp_path / "b.tar", tmp_path / "bad.tar"
    manifest = backup.make_backup(good)
    with tarfile.open(good) as tar:
        dump = bytearray(tar.extractfile(manifest.dump_name).read())
    dump[len(dump) // 2] ^= 0xFF
    _rewrite(good, bad, dump=bytes(dump))
    orgs.create_unit(actor=None, name="乙镇", level="township", parent=county)
    with pytest.raises(backup.BackupError, match="校验和"):
        backup.restore_backup(bad, force=True)
    assert OrgUnit.objects.filter(name="乙镇").exists()


def test_restore_refuses_an_edited_manifest(county, tmp_path):
    good, bad = tmp_path / "b.tar", tmp_path / "bad.tar"
    manifest = backup.make_backup(good)
    edited = json.loads(manifest.to_json())
    edited["tables"]["orgs_orgunit"] = 99
    _rewrite(good, bad, manifest=edited)
    with pytest.raises(backup.BackupError, match="签名"):
        backup.restore_backup(bad, force=True)


def test_restore_refuses_a_backup_of_the_other_database_vendor(county, tmp_path, settings):
    good, other = tmp_path / "b.tar", tmp_path / "other.tar"
    manifest = backup.make_backup(good)
    manifest.vendor = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    manifest.sign()
    _rewrite(good, other, manifest=json.loads(manifest.to_json()))
    with pytest.raises(backup.BackupError, match="不能恢复到"):
        backup.restore_backup(other, force=True)


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all")
    with pytest.raises(backup.BackupError, match="不是 jindu 备份文件"):
        backup.restore_backup(junk, force=True)
    with pytest.raises(backup.BackupError, match="不存在"):
        backup.restore_backup(tmp_path / "missing.tar", force=True)


def test_checks_report_rows_that_do_not_match_the_manifest(county, tmp_path):
    manifest = backup.make_backup(tmp_path / "b.tar")
    orgs.create_unit(actor=None, name="乙镇", level="township", parent=county)
    report = backup.check_restored(manifest)
    assert not report.ok
    assert report.mismatches["orgs_orgunit"] == (2, 3)
    assert "orgs_orgunit 应为 2 行，实为 3 行" in "\n".join(report.lines())


def test_checks_report_a_broken_chain(county, tmp_path):
    from jindu.audit import dbguards

    manifest = backup.make_backup(tmp_path / "b.tar")
    dbguards.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_event SET username = 'x' WHERE seq = 1")
    finally:
        dbguards.install(connection)
    report = backup.check_restored(manifest)
    assert not report.verify_ok and not report.ok
    assert "第 1 条" in "\n".join(report.lines())


def test_commands_print_their_results_and_are_attributed_to_the_os_user(county, tmp_path, capsys):
    target = tmp_path / "c.tar"
    call_command("backup", str(target))
    out = capsys.readouterr().out
    assert "备份完成" in out and str(target) in out
    made = AuditEvent.objects.filter(action=Action.BACKUP_MADE).get()
    assert made.client_address == "cli" and made.username.startswith("os:")
    with pytest.raises(CommandError, match="--yes") as refused:
        call_command("restore", str(target))
    assert refused.value.returncode == 1
    call_command("restore", str(target), "--yes")
    out = capsys.readouterr().out
    assert "恢复完成，检查全部通过" in out
    restored = AuditEvent.objects.order_by("-seq").first()
    assert restored.action == Action.RESTORED and restored.client_address == "cli"
