"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against live_server.

The tests skip when Chromium is absent; CI installs it. Playwright never
downloads a browser of its own here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# The machines have no network beyond the package registries: without these
# flags Chromium keeps trying to reach Google's services.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# Playwright's sync API keeps an event loop in the test's thread, and Django
# refuses ORM calls from such a thread unless told that it is deliberate. The
# fixtures and the flush after each test use the ORM in this thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CSP_MESSAGE = re.compile(r"Content[- ]Security[- ]Policy", re.IGNORECASE)


@dataclass
class Watched:
    """A page and what went wrong on it: CSP violations, script errors, failed static files."""

    page: Any
    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    failed_static: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if CSP_MESSAGE.search(message.text):
            self.csp_violations.append(message.text)

    def on_page_error(self, error: Any) -> None:
        self.script_errors.append(str(error))

    def on_response(self, response: Any) -> None:
        if "/static/" in response.url and response.status >= 400:
            self.failed_static.append(f"{response.status} {response.url}")

    def problems(self) -> list[str]:
        return self.csp_violations + self.script_errors + self.failed_static

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="session", autouse=True)
def _static_root_exists() -> None:
    """WhiteNoise warns about a missing STATIC_ROOT; the test settings serve from finders."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


# One browser per test run. Test modules outside tests/browser import these
# fixtures, which makes pytest set up a second copy of this session fixture; a
# second Playwright cannot start inside the first one's event loop, so every
# copy shares the browser the first one launched (and the first closes it).
_shared: dict[str, Any] = {}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (CI installs Debian's chromium)"
        # CI sets this, so that a missing browser fails the run instead of skipping it.
        if os.environ.get("JINDU_BROWSER_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    if "browser" in _shared:
        yield _shared["browser"]
        return
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        _shared["browser"] = browser
        try:
            yield browser
        finally:
            _shared.clear()
            browser.close()


@pytest.fixture
def open_page(chromium: Any, live_server: Any) -> Iterator[Callable[..., Watched]]:
    """Open a fresh browser context (no cookies) at a given window size, in Chinese."""
    contexts = []

    def _open(viewport: dict[str, int] = DESKTOP, *, phone: bool = False) -> Watched:
        context = chromium.new_context(
            viewport=viewport, locale="zh-CN", is_mobile=phone, has_touch=phone
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page)
        page.on("console", watched.on_console)
        page.on("pageerror", watched.on_page_error)
        page.on("response", watched.on_response)
        return watched

    yield _open
    for context in contexts:
        context.close()


def sign_in(page_or_watched: Any, live_server: Any, username: str) -> None:
    """Sign a persona in through the real sign-in page and wait for the home page."""
    from django.urls import reverse

    from tests.personas import PASSWORD

    page = getattr(page_or_watched, "page", page_or_watched)
    page.goto(live_server.url + reverse("accounts:login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(live_server.url + reverse("portal:home"))
