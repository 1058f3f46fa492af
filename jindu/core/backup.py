"""Consistent online backups of the database, their restore, and the checks after it.

A backup is one tar file holding ``manifest.json`` and the database copy:

- SQLite: ``database.sqlite3``, made with SQLite's online backup API from one
  read snapshot (in WAL mode writers carry on meanwhile), then switched out of
  WAL so that the copy is a single self-contained file;
- PostgreSQL: ``database.pgdump``, ``pg_dump -Fc`` run inside a snapshot that
  this module exports, so that the row counts and the audit chain head written
  to the manifest describe exactly the rows in the dump.

The manifest records when and from what the copy was made, every table's row
count, the audit chain head and the SHA-256 of the database copy. A restore
refuses a copy whose checksum does not match, refuses to overwrite a database
that holds data unless told to, and afterwards checks the database's integrity,
the audit guards, the audit chain and the row counts against the manifest.

Both sides are audited (``BACKUP_MADE``, ``RESTORED``); the restore's row is
written after the restore, into the restored log.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import jindu

FORMAT = 1
MANIFEST_NAME = "manifest.json"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, in Chinese."""


@dataclass
class Manifest:
    format: int
    created_at: str
    jindu_version: str
    vendor: str
    database: str
    tables: dict[str, int]
    audit_head_seq: int | None
    audit_head_hash: str | None
    dump_name: str
    dump_sha256: str
    dump_size: int
    signature: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    def expected_signature(self) -> str:
        """A keyed MAC over everything else in the manifest.

        Whoever edits a backup and its checksum without ``JINDU_DATA_KEY`` cannot
        sign the edit; a restore on a machine with another key (which could not
        read the encrypted data or verify the audit chain either) is refused too.
        """
        from jindu.core.crypto import derive_key

        body = {k: v for k, v in asdict(self).items() if k != "signature"}
        canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hmac.new(derive_key("backup-manifest"), canonical.encode(), "sha256").hexdigest()

    def sign(self) -> None:
        self.signature = self.expected_signature()

    def signed(self) -> bool:
        return hmac.compare_digest(self.signature, self.expected_signature())

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            manifest = cls(
                **{
                    name: raw[name]
                    for name in cls.__dataclass_fields__
                    if name in raw or name != "signature"
                }
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(_("备份清单无法读取，文件不是 jindu 备份或已损坏")) from exc
        if manifest.format != FORMAT:
            raise BackupError(_("备份格式版本 %(v)s 不受支持") % {"v": manifest.format})
        if manifest.dump_name not in DUMP_NAMES.values():
            raise BackupError(_("备份清单中的数据文件名不正确"))
        return manifest


# ------------------------------------------------------------------ helpers
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_open(name: str | Path) -> sqlite3.Connection:
    """A plain sqlite3 connection set up as Django sets up its own.

    Django's functions (REGEXP and friends, used by CHECK constraints) are
    registered, else an integrity check of a table with such a constraint fails.
    """
    params = connection.get_connection_params()
    params["database"] = str(name)
    return connection.get_new_connection(params)


def _sqlite_facts(db: sqlite3.Connection) -> tuple[dict[str, int], int | None, str | None]:
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    # Names come from sqlite_master itself, quoted as identifiers.
    tables = {
        name: db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608
        for name in names
    }
    head = None
    if "audit_chain_head" in tables:
        head = db.execute("SELECT seq, hash FROM audit_chain_head WHERE id = 1").fetchone()
    return tables, (head[0] if head else None), (head[1] if head else None)


def _pg_env() -> dict[str, str]:
    """libpq's environment for the configured database: no password on a command line."""
    db = connection.settings_dict
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS") or {}
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if options.get(key):
            env[f"PG{key.upper()}"] = str(options[key])
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _("找不到 %(tool)s，请安装与数据库版本一致的 PostgreSQL 客户端") % {"tool": name}
        )
    return path


def _run(command: list[str]) -> None:
    done = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(
            _("%(tool)s 执行失败：%(error)s")
            % {"tool": Path(command[0]).name, "error": done.stderr.strip()[-2000:]}
        )


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


# ------------------------------------------------------------------ backup
def _sqlite_backup(dump: Path) -> tuple[dict[str, int], int | None, str | None]:
    source = _sqlite_open(connection.settings_dict["NAME"])
    target = _sqlite_open(dump)
    try:
        # One step (pages=-1): the whole copy comes from a single read snapshot.
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(_("备份副本完整性检查未通过：%(detail)s") % {"detail": check})
        return _sqlite_facts(target)
    finally:
        target.close()
        source.close()


def _pg_backup(dump: Path) -> tuple[dict[str, int], int | None, str | None]:
    pg_dump = _pg_tool("pg_dump")
    # A connection of our own, outside whatever transaction the caller is in, that
    # exports its snapshot to pg_dump and keeps it open until the dump is done.
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = False
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " ORDER BY tablename"
            )
            names = [row[0] for row in cursor.fetchall()]
            tables = {}
            for name in names:
                cursor.execute(f"SELECT COUNT(*) FROM {_quote(name)}")  # noqa: S608
                tables[name] = cursor.fetchone()[0]
            head = None
            if "audit_chain_head" in tables:
                cursor.execute("SELECT seq, hash FROM audit_chain_head WHERE id = 1")
                head = cursor.fetchone()
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                ]
            )
        raw.rollback()
    finally:
        raw.close()
    return tables, (head[0] if head else None), (head[1] if head else None)


def make_backup(
    target: Path, *, actor: Any = None, username: str = "", client_address: str | None = None
) -> Manifest:
    """Copy the live database into ``target`` (a tar file) while the app keeps serving."""
    from jindu.audit.actions import Action
    from jindu.audit.services import record

    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise BackupError(_("不支持备份 %(vendor)s 数据库") % {"vendor": vendor})
    target = Path(target)
    if target.exists():
        raise BackupError(_("文件 %(file)s 已存在，不会覆盖；请换一个文件名") % {"file": target})
    if not target.parent.is_dir():
        raise BackupError(_("目录 %(dir)s 不存在") % {"dir": target.parent})
    workdir = Path(tempfile.mkdtemp(prefix=".jindu-backup-", dir=target.parent))
    partial = target.with_name(f".{target.name}.partial")
    try:
        dump = workdir / DUMP_NAMES[vendor]
        facts = _sqlite_backup(dump) if vendor == "sqlite" else _pg_backup(dump)
        tables, head_seq, head_hash = facts
        manifest = Manifest(
            format=FORMAT,
            created_at=timezone.now().isoformat(),
            jindu_version=jindu.__version__,
            vendor=vendor,
            database=Path(str(connection.settings_dict["NAME"])).name,
            tables=tables,
            audit_head_seq=head_seq,
            audit_head_hash=head_hash,
            dump_name=dump.name,
            dump_sha256=_sha256(dump),
            dump_size=dump.stat().st_size,
        )
        manifest.sign()
        # The copy holds hashed passwords and encrypted personal data: owner only.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            body = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime, info.mode = len(body), int(timezone.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(body))
            tar.add(dump, arcname=dump.name)
        os.replace(partial, target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        partial.unlink(missing_ok=True)
    with transaction.atomic():
        record(
            actor=actor,
            action=Action.BACKUP_MADE,
            username=username,
            client_address=client_address,
            object_repr=target.name,
            detail={
                "file": str(target),
                "sha256": manifest.dump_sha256,
                "rows": manifest.total_rows,
                "tables": len(manifest.tables),
                "audit_head_seq": manifest.audit_head_seq,
                "vendor": vendor,
            },
        )
    return manifest


# ------------------------------------------------------------------ restore
def read_manifest(path: Path) -> Manifest:
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("备份文件 %(file)s 不存在") % {"file": path})
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.extractfile(MANIFEST_NAME)
            if member is None:
                raise KeyError(MANIFEST_NAME)
            return Manifest.from_json(member.read())
    except (tarfile.TarError, KeyError) as exc:
        raise BackupError(
            _("%(file)s 不是 jindu 备份文件（缺少备份清单）") % {"file": path}
        ) from exc


def _extract_dump(path: Path, manifest: Manifest, into: Path) -> Path:
    """The database copy, written out only if its checksum matches the manifest."""
    out = into / manifest.dump_name
    digest = hashlib.sha256()
    try:
        with tarfile.open(path, mode="r:") as tar:
            source = tar.extractfile(manifest.dump_name)
            if source is None:
                raise KeyError(manifest.dump_name)
            with out.open("wb") as handle:
                for block in iter(lambda: source.read(_CHUNK), b""):
                    digest.update(block)
                    handle.write(block)
    except (tarfile.TarError, KeyError) as exc:
        raise BackupError(_("备份文件中缺少数据库副本，文件不完整")) from exc
    if digest.hexdigest() != manifest.dump_sha256:
        raise BackupError(_("备份文件校验和与清单不符：文件已损坏或被改动，未做任何恢复"))
    return out


def _current_rows() -> dict[str, int]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        counts = {}
        for name in names:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(name)}")  # noqa: S608
            counts[name] = cursor.fetchone()[0]
    return counts


def _sqlite_restore(dump: Path) -> None:
    copy = _sqlite_open(dump)
    try:
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
    if check != "ok":
        raise BackupError(
            _("备份中的数据库副本完整性检查未通过，未做任何恢复：%(detail)s") % {"detail": check}
        )
    connection.close()
    source = _sqlite_open(dump)
    live = _sqlite_open(connection.settings_dict["NAME"])
    try:
        # Page by page through the live file's own pager, so its WAL stays
        # consistent; then fold the WAL back into the file.
        source.backup(live)
        live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        live.close()
        source.close()


def _pg_restore(dump: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    connection.close()
    # --no-owner/--no-privileges: the copy restores under the configured role,
    # whatever role owned it where it was made.
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ]
    )


@dataclass
class RestoreReport:
    manifest: Manifest
    integrity: list[str] = field(default_factory=list)
    guards_missing: list[str] = field(default_factory=list)
    verify_ok: bool = False
    verify_checked: int = 0
    verify_reason: str = ""
    head: tuple[int | None, str | None] = (None, None)
    mismatches: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    @property
    def integrity_ok(self) -> bool:
        return self.integrity == ["ok"]

    @property
    def head_ok(self) -> bool:
        return self.head == (self.manifest.audit_head_seq, self.manifest.audit_head_hash)

    @property
    def ok(self) -> bool:
        return (
            self.integrity_ok
            and not self.guards_missing
            and self.verify_ok
            and self.head_ok
            and not self.mismatches
        )

    def lines(self) -> list[str]:
        m = self.manifest
        yes, no = _("通过"), _("未通过")
        integrity = yes if self.integrity_ok else f"{no}（{'；'.join(self.integrity[:10])}）"
        guards = yes if not self.guards_missing else f"{no}（{'、'.join(self.guards_missing)}）"
        out = [
            _("备份时间：%(at)s，jindu %(version)s，%(vendor)s")
            % {"at": m.created_at, "version": m.jindu_version, "vendor": m.vendor},
            _("数据库完整性检查：%(r)s") % {"r": integrity},
            _("审计日志防篡改触发器：%(r)s") % {"r": guards},
            _("审计日志哈希链校验：%(r)s")
            % {
                "r": _("通过（共 %(n)s 条）") % {"n": self.verify_checked}
                if self.verify_ok
                else f"{no}（{self.verify_reason}）"
            },
            _("审计链尾与清单一致（第 %(seq)s 条）：%(r)s")
            % {"seq": m.audit_head_seq, "r": yes if self.head_ok else no},
        ]
        if self.mismatches:
            out.append(
                _("数据表行数与清单不符：")
                + "；".join(
                    _("%(table)s 应为 %(expected)s 行，实为 %(actual)s 行")
                    % {
                        "table": table,
                        "expected": expected,
                        "actual": _("（无此表）") if actual is None else actual,
                    }
                    for table, (expected, actual) in sorted(self.mismatches.items())
                )
            )
        else:
            out.append(
                _("数据表行数与清单一致：共 %(tables)s 张表，%(rows)s 行")
                % {"tables": len(m.tables), "rows": m.total_rows}
            )
        return out


def check_restored(manifest: Manifest) -> RestoreReport:
    """Integrity, guards, audit chain and row counts of the database as it is now."""
    from jindu.audit import dbguards
    from jindu.audit.models import AuditChainHead
    from jindu.audit.services import verify

    report = RestoreReport(manifest)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA integrity_check")
            report.integrity = [row[0] for row in cursor.fetchall()]
            cursor.execute("PRAGMA foreign_key_check")
            report.integrity += [
                _("%(table)s 第 %(row)s 行的外键指向不存在的记录")
                % {"table": row[0], "row": row[1]}
                for row in cursor.fetchall()
            ]
        else:
            # pg_restore --exit-on-error rebuilt every constraint and index, and
            # validated each against the rows; what is left to ask is that
            # no constraint is marked unvalidated.
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE NOT convalidated"
                " AND connamespace = current_schema()::regnamespace"
            )
            report.integrity = [
                _("约束 %(name)s 未校验") % {"name": row[0]} for row in cursor.fetchall()
            ] or ["ok"]
    report.guards_missing = dbguards.missing(connection)
    result = verify()
    report.verify_ok, report.verify_checked, report.verify_reason = (
        result.ok,
        result.checked,
        result.reason,
    )
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    report.head = (head[0], head[1]) if head else (None, None)
    actual = _current_rows()
    for table, expected in manifest.tables.items():
        if actual.get(table) != expected:
            report.mismatches[table] = (expected, actual.get(table))
    return report


def restore_backup(
    path: Path,
    *,
    force: bool = False,
    actor: Any = None,
    username: str = "",
    client_address: str | None = None,
) -> RestoreReport:
    """Bring a backup back into the configured database, then check and audit it.

    Stop the application first: the restore replaces the database under it.
    """
    from jindu.audit.actions import Action, Result
    from jindu.audit.services import record

    path = Path(path)
    manifest = read_manifest(path)
    if not manifest.signed():
        raise BackupError(
            _(
                "备份清单签名不符：备份文件被改动，或本机的 JINDU_DATA_KEY 与备份时不同。未做任何恢复"
            )
        )
    if manifest.vendor != connection.vendor:
        raise BackupError(
            _("这是 %(theirs)s 数据库的备份，不能恢复到 %(ours)s 数据库")
            % {"theirs": manifest.vendor, "ours": connection.vendor}
        )
    holding = {table: rows for table, rows in _current_rows().items() if rows}
    if holding and not force:
        raise BackupError(
            _(
                "目标数据库已有数据（%(tables)s 张表，共 %(rows)s 行），恢复会覆盖这些数据。"
                "确认无误后加 --yes 重新执行。"
            )
            % {"tables": len(holding), "rows": sum(holding.values())}
        )
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".jindu-restore-", dir=settings.VAR_DIR))
    try:
        dump = _extract_dump(path, manifest, workdir)
        if manifest.vendor == "sqlite":
            _sqlite_restore(dump)
        else:
            _pg_restore(dump)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = check_restored(manifest)
    with transaction.atomic():
        record(
            actor=actor,
            action=Action.RESTORED,
            username=username,
            client_address=client_address,
            object_repr=path.name,
            result=Result.SUCCESS if report.ok else Result.FAILURE,
            detail={
                "file": str(path),
                "sha256": manifest.dump_sha256,
                "backup_created_at": manifest.created_at,
                "audit_head_seq": manifest.audit_head_seq,
                "replaced_rows": sum(holding.values()),
                "checks_passed": report.ok,
            },
        )
    return report
