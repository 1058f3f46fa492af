"""Responsibility letters: generated from the template and read back with python-docx,
a template of the office's own, issuing and signing with a scan judged by its
content, who has not signed, and key townships with their own letter and tasks."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from jindu.targets import documents, letters, services
from jindu.targets.models import LetterKind, ResponsibilityLetter
from tests.helpers import sign_in

TODAY = timezone.localdate()
YEAR = TODAY.year


@pytest.fixture(autouse=True)
def _today():
    """Today as each test starts, not as the module was collected (a run may pass
    midnight in China)."""
    global TODAY, YEAR
    TODAY = timezone.localdate()
    YEAR = TODAY.year


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def pdf(name="签字.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def shared(personas):
    """Two targets broken down to 甲镇 and to the police."""
    t, office = personas.territory, personas.county_officer
    for key, value, share in (("new_users_found", "15", "6"), ("isolation_ordered", "18", "7.5")):
        target = services.set_target(actor=office, county=t.county, year=YEAR, key=key, value=value)
        services.set_breakdown(
            actor=office, target=target, townships={t.township_a: share},
            departments={t.police_dept: value},
        )  # fmt: skip
    return personas


def read_back(letter):
    from docx import Document

    with letter.document.open("rb") as handle:
        return Document(io.BytesIO(handle.read()))


def text_of(document):
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_a_township_letter_holds_its_name_targets_duties_and_signatories(shared):
    t = shared.territory
    letter = letters.draft_letter(
        actor=shared.county_officer, year=YEAR, unit=t.township_a,
        county_signatory="林主任", unit_signatory="甲镇书记",
    )  # fmt: skip
    document = read_back(letter)
    text = text_of(document)
    assert "甲镇" in text and f"{YEAR}年度禁毒工作目标管理责任书" in text
    assert "青岚县禁毒委员会" in text and "林主任" in text and "甲镇书记" in text
    assert "“4+X”帮教小组" in text  # the township's duties
    assert "{{" not in text
    (targets,) = [tb for tb in document.tables if tb.rows[0].cells[1].text == "目标任务"]
    rows = [[c.text for c in row.cells] for row in targets.rows[1:]]
    assert ["1", "新发现吸毒人员", "6", "人"] in rows
    assert ["2", "强制隔离戒毒", "7.5", "人"] in rows


def test_a_department_letter_holds_the_department_duties_and_its_parts(shared):
    t = shared.territory
    letter = letters.draft_letter(actor=shared.county_officer, year=YEAR, department=t.police_dept)
    text = text_of(read_back(letter))
    assert "青岚县公安局" in text
    assert "打击毒品违法犯罪，查处吸毒人员。" in text
    assert "15" in text and "18" in text
    assert letter.org_unit == t.county


def test_drafting_all_covers_every_township_and_department_once(shared):
    t = shared.territory
    assert letters.draft_all(actor=shared.county_officer, county=t.county, year=YEAR) == 4
    assert letters.draft_all(actor=shared.county_officer, county=t.county, year=YEAR) == 0
    assert ResponsibilityLetter.objects.count() == 4


def test_an_uploaded_template_is_used_and_a_bad_one_refused(shared):
    t = shared.territory
    from docx import Document

    document = Document()
    document.add_paragraph("自定义责任书：{{单位}}（{{年度}}）")
    document.add_paragraph("{{目标任务表}}")
    buffer = io.BytesIO()
    document.save(buffer)
    letters.upload_template(
        actor=shared.county_officer, county=t.county, kind=LetterKind.STANDARD,
        upload=SimpleUploadedFile("模板.docx", buffer.getvalue()),
    )  # fmt: skip
    letter = letters.draft_letter(actor=shared.county_officer, year=YEAR, unit=t.township_a)
    assert f"自定义责任书：甲镇（{YEAR}）" in text_of(read_back(letter))
    for upload, message in (
        (SimpleUploadedFile("假.docx", b"not a word file"), "不是有效的Word文档"),
        (
            SimpleUploadedFile("缺.docx", documents.fill(buffer.getvalue(), {"单位": "x"})),
            "缺少占位符",
        ),
    ):
        with pytest.raises(ValidationError) as caught:
            letters.upload_template(
                actor=shared.county_officer, county=t.county, kind=LetterKind.STANDARD,
                upload=upload,
            )  # fmt: skip
        assert message in caught.value.messages[0]


def test_issue_then_sign_with_a_scan_judged_by_its_content(shared):
    t = shared.territory
    office = shared.county_officer
    letter = letters.draft_letter(actor=office, year=YEAR, unit=t.township_a)
    with pytest.raises(ValidationError):
        letters.sign_letter(actor=office, letter=letter, signed_on=TODAY, scan=pdf())
    letter = letters.issue_letter(actor=office, letter=letter, issued_on=TODAY - timedelta(days=2))
    with pytest.raises(ValidationError):
        letters.draft_letter(actor=office, year=YEAR, unit=t.township_a)  # issued: fixed
    for bad in (
        SimpleUploadedFile("scan.pdf", b"just text pretending", content_type="application/pdf"),
        SimpleUploadedFile("scan.jpg", b"GIF89a....", content_type="image/jpeg"),
        pdf(data=b"%PDF-1.4\n" + b"0" * (letters.MAX_SCAN_BYTES + 10) + b"\n%%EOF\n"),
    ):
        with pytest.raises(ValidationError) as caught:
            letters.sign_letter(actor=office, letter=letter, signed_on=TODAY, scan=bad)
        assert "scan" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        letters.sign_letter(
            actor=office, letter=letter, signed_on=TODAY - timedelta(days=5), scan=pdf()
        )
    assert "signed_on" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        letters.sign_letter(actor=shared.cadre_b, letter=letter, signed_on=TODAY, scan=pdf())
    letter = letters.sign_letter(actor=shared.cadre_a, letter=letter, signed_on=TODAY, scan=pdf())
    assert letter.status == ResponsibilityLetter.Status.SIGNED
    assert letter.scan_type == "application/pdf"
    assert "签字" not in letter.scan.name  # stored under a random name


def test_the_scan_is_served_only_inside_the_scope(client, shared):
    t = shared.territory
    office = shared.county_officer
    letter = letters.draft_letter(actor=office, year=YEAR, unit=t.township_a)
    letter = letters.issue_letter(actor=office, letter=letter, issued_on=TODAY)
    letter = letters.sign_letter(actor=office, letter=letter, signed_on=TODAY, scan=pdf())
    url = reverse("targets:letter_scan", kwargs={"pk": letter.pk})
    sign_in(client, shared.cadre_a)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "no-store" in response["Cache-Control"]
    sign_in(client, shared.cadre_b)
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("targets:letter_download", kwargs={"pk": letter.pk})).status_code == 404
    )


def test_the_office_sees_who_has_not_signed(client, shared):
    t = shared.territory
    office = shared.county_officer
    letters.draft_all(actor=office, county=t.county, year=YEAR)
    letter = ResponsibilityLetter.objects.get(org_unit=t.township_a)
    letter = letters.issue_letter(actor=office, letter=letter, issued_on=TODAY)
    letters.sign_letter(actor=office, letter=letter, signed_on=TODAY, scan=pdf())
    rows = {r.name: r for r in letters.status_table(office, t.county, YEAR)}
    assert not rows["甲镇"].unsigned
    assert rows["乙镇"].unsigned and rows["青岚县公安局"].unsigned
    sign_in(client, office)
    body = client.get(reverse("targets:letters")).content.decode()
    assert body.count('data-unsigned="1"') == 3
    sign_in(client, shared.cadre_a)
    body = client.get(reverse("targets:letters")).content.decode()
    assert "甲镇" in body and "乙镇" not in body and "公安局" not in body


def test_a_key_township_has_its_letter_and_tasks_until_delisted(shared):
    t = shared.territory
    office = shared.county_officer
    key = letters.list_key_township(
        actor=office, township=t.township_a, listed_on=TODAY - timedelta(days=60),
        listed_by="市禁毒委", reason="吸毒人员超过百人",
    )  # fmt: skip
    with pytest.raises(ValidationError):
        letters.list_key_township(actor=office, township=t.township_a, listed_on=TODAY)
    task = letters.add_task(
        actor=office, key=key, task="排查出租屋", deadline=TODAY + timedelta(days=10)
    )
    letter = letters.draft_letter(actor=office, year=YEAR, key_township=key)
    text = text_of(read_back(letter))
    assert "毒品问题重点整治责任书" in text and "排查出租屋" in text and "甲镇" in text
    assert letter.kind == LetterKind.KEY_TOWNSHIP
    with pytest.raises(PermissionDenied):
        letters.complete_task(actor=shared.cadre_b, item=task, done_on=TODAY)
    letters.complete_task(actor=shared.cadre_a, item=task, done_on=TODAY, note="已建台账")
    with pytest.raises(ValidationError):
        letters.delist_key_township(actor=office, key=key, delisted_on=TODAY - timedelta(days=90))
    letters.delist_key_township(actor=office, key=key, delisted_on=TODAY)
    with pytest.raises(ValidationError):
        letters.add_task(actor=office, key=key, task="再排查", deadline=TODAY)
