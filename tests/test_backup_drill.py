"""The backup drill, as an operator would run it, with the real ``jindu`` commands.

A writer keeps creating units and departments through the services (each with
its audit row) while ``jindu backup`` runs; then the copy is restored into a
fresh database, and the restore's checks (integrity, audit chain, row counts
against the manifest) must pass. On SQLite always; on PostgreSQL when the suite
runs against it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from jindu.core.backup import read_manifest

ROOT = Path(__file__).resolve().parent.parent
WRITER = r"""
import sys, pathlib
import django
django.setup()
from jindu.orgs import services as orgs
from jindu.orgs.models import OrgUnit

stop = pathlib.Path(sys.argv[1])
county = orgs.create_unit(actor=None, name="演练县", level="county", parent=None)
n = 0
while not stop.exists():
    n += 1
    orgs.create_unit(actor=None, name=f"演练镇{n}", level="township", parent=county)
    orgs.create_department(actor=None, county=county, name=f"演练局{n}", short_name=f"局{n}",
                           duties="演练")
    print(n, flush=True)
"""
# Generous bounds that only a hung process reaches; nothing here is timed.
DEADLINE = 120


@dataclass
class Site:
    """One installation: its own var directory and database, the same keys."""

    var_dir: Path
    database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("JINDU_", "DJANGO_"))}
        self.env.update(
            {
                "JINDU_VAR_DIR": str(self.var_dir),
                "JINDU_DATA_KEY": "drill-data-key-0123456789",
                "JINDU_SECRET_KEY": "drill-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                "DJANGO_SETTINGS_MODULE": "jindu.settings",
                "PYTHONPATH": str(ROOT),
            }
        )
        if self.database_url:
            self.env["JINDU_DATABASE_URL"] = self.database_url

    def jindu(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "jindu.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )

    def sql(self, query: str) -> list[tuple]:
        """A query straight at the database, bypassing the application."""
        if self.database_url is None:
            db = sqlite3.connect(self.var_dir / "jindu.sqlite3")
            try:
                return db.execute(query).fetchall()
            finally:
                db.close()
        import psycopg

        with psycopg.connect(self.database_url) as db:
            return db.execute(query).fetchall()


class Writer:
    """The writer process, and a thread that follows how many rounds it has written."""

    def __init__(self, site: Site, stop_file: Path) -> None:
        self.stop_file = stop_file
        self.rounds = 0
        self.progress = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(stop_file)],
            cwd=ROOT,
            env=site.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.reader = threading.Thread(target=self._follow, daemon=True)
        self.reader.start()

    def _follow(self) -> None:
        for line in self.process.stdout:
            with self.progress:
                self.rounds = int(line)
                self.progress.notify_all()
        with self.progress:
            self.progress.notify_all()

    def wait_for(self, rounds: int) -> int:
        with self.progress:
            reached = self.progress.wait_for(
                lambda: self.rounds >= rounds or self.process.poll() is not None, DEADLINE
            )
            assert reached and self.rounds >= rounds, self.process.stderr.read()
            return self.rounds

    def stop(self) -> int:
        self.stop_file.touch()
        assert self.process.wait(DEADLINE) == 0, self.process.stderr.read()
        self.reader.join(DEADLINE)
        return self.rounds


def _drill(source: Site, target: Site, tmp_path: Path) -> None:
    migrate = source.jindu("migrate", "-v0")
    assert migrate.returncode == 0, migrate.stderr

    writer = Writer(source, tmp_path / "stop")
    try:
        before = writer.wait_for(10)
        made = source.jindu("backup", str(tmp_path / "drill.tar"))
        assert made.returncode == 0, made.stderr
        at_end = source.sql("SELECT COUNT(*) FROM orgs_orgunit")[0][0]
        # Writes go on after the copy was taken (rounds = units - 1).
        writer.wait_for(at_end + 1)
    finally:
        final = writer.stop()

    manifest = read_manifest(tmp_path / "drill.tar")
    units, departments = manifest.tables["orgs_orgunit"], manifest.tables["orgs_department"]
    # The copy holds one moment during the writes: every round finished before
    # the backup started, nothing that came after it ended, and each department
    # with or one behind its round's unit (one county plus one unit per round).
    assert before + 1 <= units <= at_end
    assert departments in (units - 1, units - 2)
    live_units = source.sql("SELECT COUNT(*) FROM orgs_orgunit")[0][0]
    assert live_units == final + 1 > at_end

    restored = target.jindu("restore", str(tmp_path / "drill.tar"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    out = restored.stdout
    assert "数据库完整性检查：通过" in out
    assert "审计日志防篡改触发器：通过" in out
    assert f"审计日志哈希链校验：通过（共 {manifest.audit_head_seq} 条）" in out
    assert "数据表行数与清单一致" in out

    # Checked again from outside the application: counts as in the manifest, and
    # every unit and department has the audit row written in its transaction.
    assert target.sql("SELECT COUNT(*) FROM orgs_orgunit")[0][0] == units
    assert target.sql("SELECT COUNT(*) FROM orgs_department")[0][0] == departments
    audited = dict(
        target.sql(
            "SELECT object_type, COUNT(*) FROM audit_event WHERE action = 'record.created'"
            " GROUP BY object_type"
        )
    )
    assert audited == {"orgs.orgunit": units, "orgs.department": departments}
    verified = target.jindu("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    # The restore's own audit row follows the restored chain.
    assert f"共 {manifest.audit_head_seq + 1} 条" in verified.stdout

    # The busy source is not overwritten without --yes.
    refused = source.jindu("restore", str(tmp_path / "drill.tar"))
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert source.sql("SELECT COUNT(*) FROM orgs_orgunit")[0][0] == live_units


def test_sqlite_drill_backup_during_writes_restores_and_verifies(tmp_path):
    _drill(Site(tmp_path / "source"), Site(tmp_path / "target"), tmp_path)


def test_sqlite_writer_processes_append_to_one_consistent_chain(tmp_path):
    site = Site(tmp_path / "site")
    assert site.jindu("migrate", "-v0").returncode == 0
    writers = [Writer(site, tmp_path / "stop") for _ in range(2)]
    try:
        for writer in writers:
            writer.wait_for(20)
    finally:
        rounds = [writer.stop() for writer in writers]
    verified = site.jindu("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    # Per writer: its county, then a unit and a department per round; each audited.
    expected = sum(1 + 2 * n for n in rounds)
    assert f"共 {expected} 条" in verified.stdout
    seqs = [seq for (seq,) in site.sql("SELECT seq FROM audit_event ORDER BY id")]
    assert seqs == list(range(1, expected + 2))  # and the verify run's own row


def test_tampered_log_fails_jindu_audit_verify_with_exit_code_1(tmp_path):
    site = Site(tmp_path / "site")
    assert site.jindu("migrate", "-v0").returncode == 0
    for _ in range(3):
        assert site.jindu("audit", "verify").returncode == 0
    db = sqlite3.connect(site.var_dir / "jindu.sqlite3")
    db.execute("DROP TRIGGER audit_event_no_update")
    db.execute("UPDATE audit_event SET client_address = '10.6.6.6' WHERE seq = 2")
    db.commit()
    db.close()
    broken = site.jindu("audit", "verify")
    assert broken.returncode == 1
    assert "第 2 条" in broken.stderr and "篡改" in broken.stderr


@pytest.fixture
def pg_sites(tmp_path) -> Iterator[tuple[Site, Site]]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the PostgreSQL drill runs when the suite runs against PostgreSQL")
    import shutil

    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    import psycopg

    url = os.environ["JINDU_DATABASE_URL"]
    parts = urlsplit(url)
    names = [f"jindu_drill_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("source", "target")]
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield tuple(
            Site(tmp_path / name, urlunsplit(parts._replace(path=f"/{name}"))) for name in names
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_drill_backup_during_writes_restores_and_verifies(pg_sites, tmp_path):
    source, target = pg_sites
    _drill(source, target, tmp_path)
