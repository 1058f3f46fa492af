"""Responsibility letters as Word documents: the default templates, checking an uploaded
template, and filling a template's placeholders.

A template is an ordinary .docx with placeholders in double braces. Text
placeholders ({{单位}}, {{年度}}, {{签订日期}}, {{县名}}, {{县签字人}},
{{单位签字人}}) may sit anywhere in a paragraph or a table cell; block
placeholders ({{目标任务表}}, {{职责}}, {{整治任务}}) stand alone in a paragraph,
which is replaced by a table or by one paragraph per line. Word often splits
typed text into several runs; a paragraph holding a placeholder is therefore
rewritten as one run, in the formatting of its first.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
TEXT_FIELDS = ("单位", "年度", "签订日期", "县名", "县签字人", "单位签字人")
BLOCKS = ("目标任务表", "职责", "整治任务")
REQUIRED = ("单位", "目标任务表")
MAX_TEMPLATE_BYTES = 2 * 1024 * 1024

Table = tuple[Sequence[str], Sequence[Sequence[str]]]


# ------------------------------------------------------------------ default templates


def default_template(key_township: bool = False) -> bytes:
    """The letter the county office starts from until it uploads its own form."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(12)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading = (
        "{{年度}}年度毒品问题重点整治责任书"
        if key_township
        else "{{年度}}年度禁毒工作目标管理责任书"
    )
    run = title.add_run(heading)
    run.bold = True
    run.font.size = Pt(18)
    document.add_paragraph("责任单位：{{单位}}")
    document.add_paragraph(
        "为全面落实禁毒工作责任制，推进禁毒人民战争，根据{{县名}}禁毒委员会年度工作部署，"
        "经研究，与{{单位}}签订本责任书。"
    )
    if key_township:
        document.add_paragraph(
            "{{单位}}被列为毒品问题重点整治乡镇。党政主要负责同志是整治工作第一责任人，"
            "须按下列任务和时限完成整治，力争尽快摘掉重点整治乡镇的帽子。"
        )
        document.add_heading("一、整治任务", level=2)
        document.add_paragraph("{{整治任务}}")
        document.add_heading("二、目标任务", level=2)
        document.add_paragraph("{{目标任务表}}")
        document.add_heading("三、工作职责", level=2)
    else:
        document.add_heading("一、目标任务", level=2)
        document.add_paragraph("{{目标任务表}}")
        document.add_heading("二、工作职责", level=2)
    document.add_paragraph("{{职责}}")
    document.add_heading("四、考核奖惩" if key_township else "三、考核奖惩", level=2)
    document.add_paragraph(
        "本责任书执行情况纳入年度禁毒工作考核。对完成目标任务成绩突出的予以表彰；"
        "对工作不力、目标任务未完成的予以通报、约谈，并依规依纪追究责任。"
    )
    document.add_paragraph("本责任书一式两份，双方各执一份，自签订之日起生效。")
    signatures = document.add_table(rows=2, cols=2)
    signatures.cell(0, 0).text = "{{县名}}禁毒委员会（盖章）"
    signatures.cell(0, 1).text = "{{单位}}（盖章）"
    signatures.cell(1, 0).text = "主任：{{县签字人}}"
    signatures.cell(1, 1).text = "负责人：{{单位签字人}}"
    document.add_paragraph("签订日期：{{签订日期}}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ checking an upload


def placeholders_in(data: bytes) -> set[str]:
    """The placeholder names a .docx holds (after its runs are joined per paragraph)."""
    from docx import Document

    document = Document(io.BytesIO(data))
    found: set[str] = set()
    for paragraph in _paragraphs(document):
        found.update(PLACEHOLDER.findall("".join(r.text for r in paragraph.runs)))
    return {name.strip() for name in found}


def _braced(name: str) -> str:
    return "{{" + name + "}}"


def check_template(upload: Any) -> bytes:
    """A template upload: a real .docx (judged by its content), at most 2 MB, with at
    least {{单位}} and {{目标任务表}}; unknown placeholders are named."""
    name = str(getattr(upload, "name", "") or _("模板"))[:80]
    upload.seek(0)
    data = upload.read(MAX_TEMPLATE_BYTES + 1)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise ValidationError(_("“%(name)s”超过2MB") % {"name": name})
    invalid = ValidationError(
        _("“%(name)s”不是有效的Word文档，请上传.docx格式的文件（不支持.doc）") % {"name": name}
    )
    if not data.startswith(b"PK"):
        raise invalid
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise invalid
        names = placeholders_in(data)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise invalid from exc
    except Exception as exc:  # python-docx raises a variety of XML errors on bad files
        raise invalid from exc
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise ValidationError(
            _("模板中缺少占位符：%(names)s") % {"names": "、".join(_braced(n) for n in missing)}
        )
    unknown = sorted(names - set(TEXT_FIELDS) - set(BLOCKS))
    if unknown:
        raise ValidationError(
            _("模板中有无法识别的占位符：%(names)s；可用的有：%(known)s")
            % {
                "names": "、".join(_braced(n) for n in unknown),
                "known": "、".join(_braced(n) for n in (*TEXT_FIELDS, *BLOCKS)),
            }
        )
    return data


# ------------------------------------------------------------------ filling


def _paragraphs(document: Any) -> list[Any]:
    """Every paragraph of the body, its tables (nested too), headers and footers."""
    result: list[Any] = []

    def from_container(container: Any) -> None:
        result.extend(container.paragraphs)
        for table in getattr(container, "tables", []):
            for row in table.rows:
                for cell in row.cells:
                    from_container(cell)

    from_container(document)
    for section in document.sections:
        for part in (section.header, section.footer):
            from_container(part)
    return result


def _insert_table(document: Any, paragraph: Any, table: Table) -> None:
    header, rows = table
    grid = document.add_table(rows=1 + max(len(rows), 1), cols=len(header))
    # An uploaded template may not carry Word's built-in table style.
    with contextlib.suppress(KeyError):
        grid.style = document.styles["Table Grid"]
    for i, text in enumerate(header):
        cell = grid.cell(0, i)
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    if not rows:
        grid.cell(1, 0).text = _("（无）")
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row):
            grid.cell(r, c).text = str(text)
    paragraph._p.addprevious(grid._tbl)


def _insert_lines(paragraph: Any, lines: Sequence[str]) -> None:
    for line in lines:
        paragraph.insert_paragraph_before(line, style=paragraph.style)


def _remove(paragraph: Any) -> None:
    element = paragraph._element
    element.getparent().remove(element)


def fill(
    template: bytes,
    fields: dict[str, str],
    *,
    tables: dict[str, Table] | None = None,
    lines: dict[str, Sequence[str]] | None = None,
) -> bytes:
    """The template with every placeholder replaced; an unknown one is left as typed."""
    from docx import Document

    document = Document(io.BytesIO(template))
    tables = tables or {}
    lines = lines or {}
    for paragraph in _paragraphs(document):
        text = "".join(run.text for run in paragraph.runs)
        if "{{" not in text:
            continue
        alone = PLACEHOLDER.fullmatch(text.strip())
        block = alone.group(1).strip() if alone else ""
        if block in tables:
            _insert_table(document, paragraph, tables[block])
            _remove(paragraph)
            continue
        if block in lines:
            _insert_lines(paragraph, lines[block])
            _remove(paragraph)
            continue
        replaced = PLACEHOLDER.sub(_replacer(fields), text)
        runs = paragraph.runs
        runs[0].text = replaced
        for run in runs[1:]:
            run.text = ""
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replacer(fields: dict[str, str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return fields.get(match.group(1).strip(), match.group(0))

    return replace


def text_of(data: bytes) -> str:
    """Every paragraph's and table cell's text, one per line (for tests and previews)."""
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)
