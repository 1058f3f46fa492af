"""Every template keeps to the Content-Security-Policy and loads nothing from another host.

A template with an inline script, an ``on…=`` handler, a ``style`` attribute or
a reference to any ``http(s)://`` address fails here before a browser would
silently refuse it; so does a ``{% static %}`` path that does not exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

import jindu

PACKAGE = Path(jindu.__file__).resolve().parent
TEMPLATES = sorted(p for p in PACKAGE.rglob("templates/**/*") if p.is_file())
OWN_STATIC = sorted(
    p
    for p in (PACKAGE / "static" / "jindu").rglob("*")
    if p.is_file() and p.suffix in {".css", ".js"}
)

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)
HANDLER_ATTR = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.I | re.S)
STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*["']""", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
OTHER_HOST = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)
ABSOLUTE_URL = re.compile(r"https?://", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)
STATIC_TAG = re.compile(r"""{%\s*static\s+["']([^"']+)["']""")


def problems(text: str) -> list[str]:
    """What in ``text`` (a template) the policy would refuse or that leaves the site."""
    found = []
    if INLINE_SCRIPT.search(text):
        found.append("inline <script> without src")
    if HANDLER_ATTR.search(text):
        found.append("on…= event handler attribute")
    if STYLE_ATTR.search(text):
        found.append('style="…" attribute')
    if STYLE_BLOCK.search(text):
        found.append("<style> block")
    if ABSOLUTE_URL.search(text):
        found.append("http(s):// reference")
    if JAVASCRIPT_URL.search(text):
        found.append("javascript: URL")
    return found


def _id(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def test_there_are_templates_to_check():
    names = {_id(p) for p in TEMPLATES}
    assert "templates/base.html" in names
    assert "templates/errors/500.html" in names


@pytest.mark.parametrize("template", TEMPLATES, ids=_id)
def test_template_keeps_to_the_csp(template):
    assert problems(template.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("template", TEMPLATES, ids=_id)
def test_every_static_path_in_a_template_exists(template):
    missing = [
        ref
        for ref in STATIC_TAG.findall(template.read_text(encoding="utf-8"))
        if finders.find(ref) is None
    ]
    assert missing == []


@pytest.mark.parametrize("asset", OWN_STATIC, ids=_id)
def test_own_static_files_load_nothing_from_another_host(asset):
    text = asset.read_text(encoding="utf-8")
    assert not OTHER_HOST.search(re.sub(r"/\*.*?\*/", "", text, flags=re.S))
    if asset.suffix == ".js":
        # No eval-like calls: the policy has no 'unsafe-eval'.
        assert not re.search(r"\beval\s*\(|new\s+Function\s*\(", text)


@pytest.mark.parametrize(
    "bad",
    [
        "<script>alert(1)</script>",
        "<SCRIPT type='text/javascript'>x()</SCRIPT>",
        '<button onclick="go()">x</button>',
        '<body\n  onload="init()">',
        '<div style="color:red">x</div>',
        "<style>p{}</style>",
        '<link rel="stylesheet" href="https://cdn.example.com/bootstrap.css">',
        '<img src="http://intranet.example/logo.png">',
        '<a href="javascript:void(0)">x</a>',
    ],
)
def test_the_scan_catches_what_the_policy_refuses(bad):
    assert problems(bad)


@pytest.mark.parametrize(
    "good",
    [
        "<script src=\"{% static 'jindu/app.js' %}\" defer></script>",
        '<button data-confirm="确定？" class="btn">x</button>',
        "<p>One only of the options</p>",
        '<div class="d-none" data-style="compact">x</div>',
    ],
)
def test_the_scan_lets_ordinary_markup_through(good):
    assert problems(good) == []


def test_the_static_check_notices_a_missing_file():
    assert finders.find("jindu/app.css") is not None
    assert finders.find("vendor/no-such-library/lib.min.js") is None
