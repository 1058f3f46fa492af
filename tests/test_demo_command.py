"""``jindu demo --no-serve`` as a person runs it: a subprocess with its own var/ folder.

These runs use production settings (real password hashing, manifest static
files), not the test settings, so they prove what ``make demo`` gives.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from jindu.core.roles import ADMIN_ROLES, Role

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--townships", "3", "--villages", "8"]


def clean_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without the test suite's settings or database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JINDU_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["JINDU_VAR_DIR"] = str(var_dir)
    env.update(extra)
    return env


def jindu(var_dir: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jindu.cli", *args],
        cwd=REPO,
        env=clean_env(var_dir, **extra_env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def account_lines(stdout: str) -> list[list[str]]:
    return [line.split("\t") for line in stdout.splitlines()]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    var_dir = tmp_path_factory.mktemp("demo-var")
    result = jindu(var_dir, "demo", "--no-serve", *SMALL)
    assert result.returncode == 0, result.stderr
    return var_dir, result


def count(var_dir: Path, table: str) -> int:
    with sqlite3.connect(var_dir / "demo.sqlite3") as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_stdout_holds_only_tab_separated_account_lines(built):
    _var_dir, result = built
    lines = account_lines(result.stdout)
    assert len(lines) == len(Role) + 2
    for fields in lines:
        role, username, password, unit = fields[:4]
        assert Role(role)
        assert re.fullmatch(r"[a-z0-9]+", username)
        assert len(password) >= 8
        assert unit
        if Role(role) in ADMIN_ROLES:
            assert len(fields) == 5
            assert re.fullmatch(r"[A-Z2-7]{32}", fields[4])
        else:
            assert len(fields) == 4
    assert "演示" in result.stderr


def test_the_database_is_built_under_var_and_labelled_demo(built):
    var_dir, _result = built
    assert count(var_dir, "demo_demomarker") == 1
    assert count(var_dir, "orgs_orgunit") >= 1 + 3 + 8 + 8
    assert (var_dir / "static" / "staticfiles.json").exists()


def test_printed_passwords_sign_in_with_the_real_backend(built):
    var_dir, result = built
    accounts = [fields[:2] + fields[2:3] for fields in account_lines(result.stdout)]
    script = (
        "import json, os\n"
        "from django.contrib.auth import authenticate\n"
        "out = {}\n"
        "for role, username, password in json.loads(os.environ['DEMO_ACCOUNTS']):\n"
        "    user = authenticate(None, username=username, password=password)\n"
        "    out[username] = bool(user) and not user.needs_password_change() and (\n"
        "        user.totp_enrolled or not user.is_administrator)\n"
        "print(json.dumps(out))\n"
    )
    check = jindu(
        var_dir, "shell", "-c", script, JINDU_DEMO="1", DEMO_ACCOUNTS=json.dumps(accounts)
    )
    assert check.returncode == 0, check.stderr
    outcome = json.loads(check.stdout.strip().splitlines()[-1])
    assert outcome == {username: True for _role, username, _pw in accounts}


def test_running_again_keeps_the_county_and_prints_the_same_accounts(built):
    var_dir, first = built
    units = count(var_dir, "orgs_orgunit")
    again = jindu(var_dir, "demo", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert count(var_dir, "orgs_orgunit") == units
    assert "--reset" in again.stderr


def test_asking_for_another_seed_without_reset_is_refused(built):
    var_dir, first = built
    again = jindu(var_dir, "demo", "--no-serve", "--seed", "99")
    assert again.returncode != 0
    assert "--reset" in again.stderr
    assert again.stdout == ""


def test_reset_rebuilds_with_the_same_passwords_from_the_same_seed(built, tmp_path):
    built_dir, first = built
    var_dir = tmp_path / "var"
    # The database through SQLite's backup API, the rest as files: a copy file by file
    # could list a write-ahead log that a closing connection removes before it is read.
    shutil.copytree(built_dir, var_dir, ignore=shutil.ignore_patterns("demo.sqlite3*"))
    with (
        closing(sqlite3.connect(built_dir / "demo.sqlite3")) as source,
        closing(sqlite3.connect(var_dir / "demo.sqlite3")) as copy,
    ):
        source.backup(copy)
    again = jindu(var_dir, "demo", "--no-serve", "--reset", *SMALL)
    assert again.returncode == 0, again.stderr
    assert "删除原演示数据库" in again.stderr
    first_lines, again_lines = account_lines(first.stdout), account_lines(again.stdout)
    assert [f[:4] for f in again_lines] == [f[:4] for f in first_lines]
    # The administrators enrolled afresh, as a person would.
    assert [f[4:] for f in again_lines if len(f) == 5] != [
        f[4:] for f in first_lines if len(f) == 5
    ]
    assert count(var_dir, "demo_demomarker") == 1


def test_a_database_with_real_data_is_refused_and_left_alone(tmp_path):
    real = tmp_path / "county.sqlite3"
    url = f"sqlite:///{real}"
    assert jindu(tmp_path, "migrate", "-v", "0", JINDU_DATABASE_URL=url).returncode == 0
    made = jindu(
        tmp_path,
        "shell",
        "-c",
        "from jindu.orgs.services import create_unit\n"
        "create_unit(actor=None, name='某县', level='county', parent=None)\n",
        JINDU_DATABASE_URL=url,
    )
    assert made.returncode == 0, made.stderr
    before = snapshot(real)

    for extra in ([], ["--reset"]):
        refused = jindu(tmp_path, "demo", "--no-serve", *extra, JINDU_DATABASE_URL=url)
        assert refused.returncode != 0
        assert "没有演示数据标记" in refused.stderr
        assert refused.stdout == ""
    assert snapshot(real) == before
    assert before["demo_demomarker"] == 0


def snapshot(path: Path) -> dict[str, int]:
    """Every table and its row count."""
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_postgres_is_refused_without_allow_postgres(tmp_path):
    refused = jindu(
        tmp_path,
        "demo",
        "--no-serve",
        JINDU_DATABASE_URL="postgres://nobody@127.0.0.1:9/none",
        JINDU_SECRET_KEY="k" * 50,
        JINDU_DATA_KEY="d" * 32,
    )
    assert refused.returncode != 0
    assert "--allow-postgres" in refused.stderr
    assert refused.stdout == ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(address: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def test_serving_shows_the_demo_banner_with_debug_off(built):
    var_dir, _result = built
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "jindu.cli", "demo", "--port", str(port)],
        cwd=REPO,
        env=clean_env(var_dir, JINDU_DEBUG="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, "the demo server exited"
            assert time.monotonic() < deadline, "the demo server did not come up"
            time.sleep(0.3)
        status, login_page = fetch(base + "/accounts/login/")
        assert status == 200
        assert "演示数据" in login_page
        stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', login_page)
        # Manifest storage: collected files carry their content hash in the name.
        assert stylesheets and all(re.search(r"\.[0-9a-f]{12}\.css$", s) for s in stylesheets)
        assert all(fetch(base + s)[0] == 200 for s in stylesheets)
        # JINDU_DEBUG=true in the caller's environment does not turn on debug pages.
        status, missing = fetch(base + "/no-such-page/")
        assert status == 404
        assert "URLconf" not in missing
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert len(output.splitlines()) == len(Role) + 2


@pytest.mark.slow
def test_full_size_county_builds(tmp_path):
    result = jindu(tmp_path, "demo", "--no-serve")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        levels = dict(db.execute("SELECT level, count(*) FROM orgs_orgunit GROUP BY level"))
        departments = db.execute("SELECT count(*) FROM orgs_department").fetchone()[0]
    assert levels["county"] == 1
    assert levels["township"] == 15
    assert levels["village"] == 200
    assert 200 <= levels["grid"] <= 600
    assert departments == 16
