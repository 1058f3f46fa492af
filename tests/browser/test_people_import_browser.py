"""A township cadre imports a legacy register with a few bad rows, in headless Chromium.

Upload, the progress panel while the background worker checks the sheet, the
preview with the row errors in Chinese, confirming the valid rows, the progress
panel while the worker writes them, the result, downloading the rejected rows; a
screenshot of each step lands in test-output/screenshots/. Every page is watched
for CSP violations, script errors and static files that fail to load.

The worker runs in the test's own thread (``jindu worker --once``), when the test
says: the panel is seen waiting first. The test database is SQLite in memory,
shared with the live server's thread through one connection, so the page's polls
are let through only while the test waits on the browser, never while the
worker runs.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from jindu.people.models import Person
from tests.browser.conftest import DESKTOP, sign_in
from tests.people_factories import make_id_number
from tests.test_people_import import row, sheet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run_the_worker() -> None:
    call_command("worker", "--once", stdout=io.StringIO())


def _polls_while_the_test_waits(page) -> None:
    """Let the progress panel's polls reach the server only from inside a Playwright call
    (the handler runs in the test's thread and waits for the answer)."""

    def through(route) -> None:
        route.fulfill(response=route.fetch())

    page.route(re.compile(r"/people/import/[A-Za-z0-9_-]+/\?progress=1$"), through)


def test_a_cadre_imports_a_sheet_with_bad_rows_and_downloads_them(
    open_page, live_server, personas, tmp_path, settings
):
    settings.JOBS_INLINE = False  # a worker does the checking and the writing
    good = [
        row(i, name=f"人员{i}", id_number=make_id_number(date(1980 + i, 1, 1), i))
        for i in range(1, 5)
    ]
    bad = [
        row(5, name="错号", id_number="62119919800101123"),
        row(6, name="外镇", id_number=make_id_number(date(1991, 2, 3), 7), unit="乙一村"),
        row(7, name="早于出生", id_number=make_id_number(date(1992, 2, 3), 9), **{"首次发现时间": "1980-1-1"}),
    ]  # fmt: skip
    path = tmp_path / "青岚县吸毒人员登记表.xlsx"
    path.write_bytes(sheet(good + bad))

    watched = open_page(DESKTOP)
    page = watched.page
    _polls_while_the_test_waits(page)
    sign_in(page, live_server, "cadre_a")

    page.locator(f"#jd-sidenav a[href='{reverse('people:import')}']").click()
    page.wait_for_url(live_server.url + reverse("people:import"))
    page.get_by_text("下载空白模板").wait_for()
    watched.screenshot("people-import-1-upload")

    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_url(re.compile(r"/people/import/[A-Za-z0-9_-]{16,}/$"))
    main = page.locator("#jd-main")
    panel = main.locator("#jd-job")
    panel.get_by_text("正在检查表格").wait_for()
    assert panel.get_attribute("data-job-status") == "queued"
    assert "排队等候" in panel.inner_text()
    # A poll has come back and put the panel in again: it is still waiting.
    with page.expect_response(re.compile(r"\?progress=1$")):
        pass
    main.locator("#jd-job progress").wait_for()
    watched.screenshot("people-import-2-checking")

    _run_the_worker()
    # The next poll finds the check over and the page shows the preview.
    panel.wait_for(state="detached")
    main.get_by_text("识别的列").wait_for()
    assert "导入前检查" in main.inner_text()
    text = main.inner_text()
    assert "第 9 行" in text and "公民身份号码" in text and "身份证号应为18位" in text
    assert "责任单位“乙一村”不在您的管辖范围（甲镇）内" in text
    assert "初次发现日期（1980-01-01）不能早于出生日期" in text
    assert not Person.objects.exists(), "nothing is written before the cadre confirms"
    watched.screenshot("people-import-3-preview-with-errors")

    assert page.locator("#mode-partial").is_checked()
    page.get_by_role("button", name="确认导入").click()
    panel.get_by_text("正在导入").wait_for()
    assert not Person.objects.exists(), "the worker writes, not the page"
    watched.screenshot("people-import-4-writing")

    _run_the_worker()
    main.get_by_text("导入结果").first.wait_for()
    assert "新增 4 条" in main.inner_text()
    assert sorted(Person.objects.values_list("name", flat=True)) == [
        f"人员{i}" for i in range(1, 5)
    ]
    watched.screenshot("people-import-5-written")

    with page.expect_download() as info:
        main.get_by_role("link", name=re.compile("下载有误的 3 行")).click()
    download = info.value
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_read(download)))
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    header = next(r for r in rows if r and r[-1] == "错误说明")
    assert "公民身份号码" in header
    names = {r[1]: r[-1] for r in rows if r and r[1] in ("错号", "外镇", "早于出生")}
    assert set(names) == {"错号", "外镇", "早于出生"}
    assert "不在您的管辖范围" in names["外镇"]
    watched.screenshot("people-import-6-after-download")
    assert watched.problems() == []


def _read(download) -> bytes:
    with open(download.path(), "rb") as handle:
        return handle.read()
