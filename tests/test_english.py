"""The English catalogue: chosen with the language cookie, complete for the foundation pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.helpers import sign_in

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
FOUNDATION = (
    "jindu/templates/base.html",
    "jindu/templates/portal/",
    "jindu/templates/accounts/",
    "jindu/templates/errors/",
)


def _english(client):
    client.cookies["django_language"] = "en"
    return client


def test_login_page_in_english_with_the_cookie(client):
    response = _english(client).get(reverse("accounts:login"))
    html = response.content.decode()
    assert response["Content-Language"] == "en"
    assert "Sign in to the Drug Control Work Platform" in html
    assert "Username" in html
    assert "Password" in html
    assert ">Sign in</button>" in html
    assert "登录禁毒工作平台" not in html


def test_login_page_in_chinese_without_the_cookie(client):
    response = client.get(reverse("accounts:login"))
    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert "登录禁毒工作平台" in html
    assert "Sign in to the Drug Control Work Platform" not in html


def test_signed_in_navigation_in_english(client, personas):
    sign_in(_english(client), personas.users["county_officer"])
    html = client.get(reverse("portal:home")).content.decode()
    for label in ("Home", "Notifications", "Sign out", "Drug Control Work Platform"):
        assert label in html
    assert "Detox and supervision" in html
    assert "戒毒管控" not in html


def test_signed_in_navigation_in_chinese_by_default(client, personas):
    sign_in(client, personas.users["county_officer"])
    html = client.get(reverse("portal:home")).content.decode()
    assert "首页" in html
    assert "戒毒管控" in html
    assert "Detox and supervision" not in html


def test_catalogue_is_compiled():
    assert CATALOGUE.with_suffix(".mo").is_file()


def _entries(path: Path) -> list[dict]:
    """Parse a .po file into entries: references, flags and the strings of each field."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"refs": [], "flags": [], "fields": {}}
        field = None
        for line in block.splitlines():
            if line.startswith("#:"):
                entry["refs"] += line[2:].split()
            elif line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry["fields"][field] += line.strip()[1:-1]
            else:
                field, _, value = line.partition(" ")
                entry["fields"][field] = value.strip()[1:-1]
        if entry["fields"].get("msgid"):
            entries.append(entry)
    return entries


@pytest.mark.parametrize("prefix", FOUNDATION)
def test_foundation_strings_are_translated(prefix):
    entries = [
        entry
        for entry in _entries(CATALOGUE)
        if any(ref.startswith(prefix) for ref in entry["refs"])
    ]
    assert entries, f"no strings found for {prefix}"
    missing = [
        entry["fields"]["msgid"]
        for entry in entries
        if "fuzzy" in entry["flags"]
        or not all(
            value.strip() for name, value in entry["fields"].items() if name.startswith("msgstr")
        )
    ]
    assert not missing, missing
