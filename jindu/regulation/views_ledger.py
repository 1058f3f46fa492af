"""A unit's ledger: the book by item and month with running balances, entering a
line, voiding one, recording when a sale was reported, the Excel export, and
loading lines from a sheet."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.views_import import ImportPages
from jindu.regulation import ledger, selectors
from jindu.regulation.exports import LedgerExporter
from jindu.regulation.forms import EntryForm, ReportedForm, VoidForm, apply_errors
from jindu.regulation.models import INFLOWS, EntryKind, LedgerEntry, Substance
from jindu.regulation.views import unit_or_404


def _year(request: HttpRequest, years: list[int]) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return years[0]
    return year if year in years else years[0]


def _item(request: HttpRequest, items: list[Substance]) -> int | None:
    try:
        wanted = int(request.GET.get("item", ""))
    except ValueError:
        return None
    return wanted if any(s.pk == wanted for s in items) else None


def qty(value: Decimal | None) -> str:
    """A quantity as the ledger shows it: no trailing zeros, no exponent."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _row_html(
    e: selectors.BookEntry, line: selectors.BookLine, words: dict[str, str], links: dict[str, str]
) -> str:
    anchor = e.kind in (EntryKind.OPENING, EntryKind.COUNT)
    difference = qty(line.difference) if line.difference else ""
    if e.voided:
        css = ' class="text-decoration-line-through text-body-secondary"'
    elif difference:
        css = ' class="table-danger"'
    else:
        css = ""
    party = escape(e.counterparty_name)
    if e.notes:
        party += f' <span class="text-body-secondary">{escape(e.notes)}</span>'
    if e.voided:
        party += f' <span class="badge text-bg-secondary">{words["voided"]}：{escape(e.void_reason)}</span>'
    if anchor:
        amounts = ""
        if e.kind == EntryKind.COUNT and line.expected is not None:
            amounts = f"{words['book']} {qty(line.expected)}"
        if difference:
            amounts += f' <strong class="text-danger">{words["difference"]} {difference}</strong>'
        amounts = f'<td class="text-end small" colspan="2">{amounts}</td>'
    elif e.kind in INFLOWS:
        amounts = f'<td class="text-end small">{qty(e.quantity)}</td><td></td>'
    else:
        amounts = f'<td></td><td class="text-end small">{qty(e.quantity)}</td>'
    report = ""
    if e.kind == EntryKind.SALE:
        if e.reported_on:
            report = f"{e.reported_on.month:02d}-{e.reported_on.day:02d}"
        elif links and not e.voided:
            report = f'<a href="{links["reported"].format(e.pk)}">{words["unreported"]}</a>'
        else:
            report = words["unreported"]
    void = ""
    if links and not e.voided:
        void = (
            f'<a class="small text-danger" href="{links["void"].format(e.pk)}">{words["void"]}</a>'
        )
    return (
        f'<tr id="entry-{e.pk}"{css}>'
        f'<td class="text-nowrap small">{e.occurred_on.month:02d}-{e.occurred_on.day:02d}</td>'
        f'<td class="text-nowrap small">{words[e.kind]}</td>'
        f'<td class="small">{party}</td>'
        f'<td class="small d-none d-md-table-cell">{escape(e.document_no)}</td>'
        f"{amounts}"
        f'<td class="text-end small fw-semibold">{qty(line.balance)}</td>'
        f'<td class="small d-none d-md-table-cell text-nowrap">{report}</td>'
        f'<td class="text-end">{void}</td></tr>'
    )


def present(books: list[selectors.ItemBook], *, can_write: bool) -> list[dict[str, Any]]:
    """The books ready for the template, each month's rows already as HTML.

    A busy unit's year is hundreds of rows of nine cells; written here with every
    user-entered text escaped, they cost a few milliseconds, where the template
    language would spend most of the page's 50 ms on them.
    """
    words = {
        **{kind: escape(str(label)) for kind, label in EntryKind.choices},
        "book": escape(_("账面")),
        "difference": escape(_("差异")),
        "unreported": escape(_("未报告")),
        "void": escape(_("作废")),
        "voided": escape(_("已作废")),
    }
    links = {}
    if can_write:
        links = {
            "void": reverse("regulation:entry_void", args=[0]).replace("/0/", "/{}/"),
            "reported": reverse("regulation:entry_reported", args=[0]).replace("/0/", "/{}/"),
        }
    result = []
    for book in books:
        months = [
            {
                "label": _("%(y)d年%(m)d月") % {"y": month.month.year, "m": month.month.month},
                "opening": qty(month.opening),
                "inflow": qty(month.inflow),
                "outflow": qty(month.outflow),
                "closing": qty(month.closing),
                "rows": mark_safe(  # noqa: S308  (every entered text above is escaped)
                    "".join(_row_html(line.entry, line, words, links) for line in month.lines)
                ),
            }
            for month in book.months
        ]
        result.append(
            {
                "pk": book.substance.pk,
                "name": book.substance.name,
                "unit_label": book.unit_label,
                "carried": qty(book.carried),
                "closing": qty(book.closing),
                "differences": book.differences,
                "months": months,
            }
        )
    return result


@require(Perm.DASHBOARD_VIEW)
@require_GET
def ledger_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = unit_or_404(request, pk)
    today = timezone.localdate()
    years = selectors.ledger_years(unit, today)
    year = _year(request, years)
    items = selectors.items_of(unit)
    item = _item(request, items)
    books = selectors.book(unit, year, item, items=items)
    can_write = user.has_jindu_perm(Perm.RECORD_WRITE)
    return render(
        request,
        "regulation/ledger.html",
        {
            "unit": unit,
            "year": year,
            "years": years,
            "items": items,
            "item": item,
            "books": books,
            "shown": present(books, can_write=can_write),
            "can_write": can_write,
        },
    )


def _line(unit: Any, items: list[Substance], data: dict[str, Any]) -> ledger.LineInput:
    substance = next((s for s in items if s.pk == data.get("substance")), None)
    return ledger.LineInput(
        unit=unit,
        substance=substance,
        kind=data.get("kind") or "",
        occurred_on=data.get("occurred_on"),
        quantity=data.get("quantity") or "",
        measure_unit=data.get("measure_unit") or "",
        counterparty=data.get("counterparty") or "",
        document_no=data.get("document_no") or "",
        reported_on=data.get("reported_on"),
        notes=data.get("notes") or "",
    )


@require(Perm.RECORD_WRITE)
def entry_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = unit_or_404(request, pk)
    allowed = set(unit.allowances.values_list("substance_id", flat=True))
    items = [s for s in selectors.items_of(unit) if s.pk in allowed]
    form = EntryForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        try:
            entry = ledger.record_entry(actor=user, line=_line(unit, items, form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已记录：%(day)s %(kind)s %(name)s %(qty)s")
                % {
                    "day": entry.occurred_on,
                    "kind": entry.get_kind_display(),
                    "name": entry.substance.name,
                    "qty": entry.entered_quantity,
                },
            )
            url = reverse("regulation:ledger", args=[unit.pk])
            return redirect(
                f"{url}?year={entry.occurred_on.year}&item={entry.substance_id}#entry-{entry.pk}"
            )
    return render(
        request, "regulation/entry_form.html", {"form": form, "unit": unit, "items": items}
    )


def _entry(request: HttpRequest, pk: Any) -> LedgerEntry:
    return get_in_scope_or_404(
        LedgerEntry.objects.select_related("unit", "substance"), request.user, pk=pk
    )


def _back(entry: LedgerEntry) -> str:
    url = reverse("regulation:ledger", args=[entry.unit_id])
    return f"{url}?year={entry.occurred_on.year}&item={entry.substance_id}#entry-{entry.pk}"


@require(Perm.RECORD_WRITE)
def entry_void(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ledger.void_entry(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已作废该记录"))
            return redirect(_back(entry))
    return render(
        request,
        "regulation/entry_action.html",
        {
            "form": form,
            "entry": entry,
            "title": _("作废台账记录"),
            "back": _back(entry),
            "danger": True,
        },
    )


@require(Perm.RECORD_WRITE)
def entry_reported(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    form = ReportedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ledger.set_reported(
                actor=request.user, entry=entry, reported_on=form.cleaned_data["reported_on"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记报告日期"))
            return redirect(_back(entry))
    return render(
        request,
        "regulation/entry_action.html",
        {
            "form": form,
            "entry": entry,
            "title": _("登记销售报告日期"),
            "back": _back(entry),
            "danger": False,
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def ledger_export(request: HttpRequest, pk: int) -> HttpResponse:
    unit = unit_or_404(request, pk)
    years = selectors.ledger_years(unit, timezone.localdate())
    year = _year(request, years)
    books = selectors.book(unit, year)
    return export_response(
        LedgerExporter(unit, year, books),
        actor=request.user,
        object_type="regulation.ledgerentry",
        detail={"unit": unit.pk, "year": year},
    )


# ------------------------------------------------------------------ import


def _ledger_spec(request: HttpRequest, options: dict[str, Any]) -> Any:
    from jindu.regulation.importer import LedgerImport

    return LedgerImport(actor=request.user)


LEDGER_IMPORT = ImportPages(
    spec_key="ledger",
    upload_url="regulation:import",
    preview_url="regulation:import_preview",
    rejected_url="regulation:import_rejected",
    template_url="regulation:import_template",
    back_url="regulation:units",
    back_label=gettext_lazy("监管单位"),
    make_spec=_ledger_spec,
)


@require(Perm.RECORD_WRITE)
def ledger_import(request: HttpRequest) -> HttpResponse:
    return LEDGER_IMPORT.upload(request)


@require(Perm.RECORD_WRITE)
def ledger_import_preview(request: HttpRequest, token: str) -> HttpResponse:
    return LEDGER_IMPORT.preview(request, token)


@require(Perm.RECORD_WRITE)
def ledger_import_rejected(request: HttpRequest, token: str) -> HttpResponse:
    return LEDGER_IMPORT.rejected(request, token)


@require(Perm.RECORD_WRITE)
def ledger_import_template(request: HttpRequest) -> HttpResponse:
    return LEDGER_IMPORT.template(request)
