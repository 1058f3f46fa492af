"""Key venue pages: the list by township with each colour counted, a venue's page, its
forms (venue, letter, inspection, fix), the Excel export, and the scoped views
that answer a photo or a letter's scan."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.masking import mask
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.inspections import selectors, services, stash
from jindu.inspections.exports import VenueExporter
from jindu.inspections.forms import (
    FixForm,
    InspectionForm,
    LetterForm,
    VenueFilterForm,
    VenueForm,
    apply_errors,
)
from jindu.inspections.models import (
    Patrol,
    Photo,
    ResponsibilityLetter,
    Venue,
    VenueInspection,
)
from jindu.inspections.periods import RollUp
from jindu.inspections.selectors import COLOUR_CSS, COLOUR_MEANING, Colour, Situation

PAGE_SIZE = 30


def _venue(request: HttpRequest, pk: Any) -> Venue:
    return get_in_scope_or_404(
        Venue.objects.select_related("org_unit", "department"), request.user, pk=pk
    )


def colour_badge(colour: str) -> dict[str, Any]:
    value = Colour(colour)
    return {
        "key": value.value,
        "label": value.label,
        "meaning": COLOUR_MEANING[value],
        "css": COLOUR_CSS[value],
    }


# ------------------------------------------------------------------ list


def _list_state(request: HttpRequest) -> tuple[VenueFilterForm, selectors.VenueFilter, Situation]:
    form = VenueFilterForm(request.user, request.GET or None)
    return form, form.to_filter(), Situation.on_day(form.day())


@require(Perm.DASHBOARD_VIEW)
@require_GET
def venue_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, filters, situation = _list_state(request)
    townships = selectors.counts_by_township(user, situation, filters)
    qs = selectors.venues(user, situation, filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    roll = RollUp([row.unit.path for row in townships if row.unit is not None])
    names = {row.unit.path: row.name for row in townships if row.unit is not None}
    kinds = registry.labels("venue_kind")
    rows = [
        {
            "venue": venue,
            "township": names.get(roll.owner(venue.org_path) or "", ""),
            "kind": kinds.get(venue.kind, venue.kind),
        }
        for venue in page.object_list
    ]
    totals = selectors.totals(townships)
    letters = selectors.letter_counts(user, situation, filters)
    return render(
        request,
        "inspections/venue_list.html",
        {
            "form": form,
            "filters": filters,
            "situation": situation,
            "page_obj": page,
            "rows": rows,
            "townships": townships,
            "totals": [(colour_badge(c), totals.get(c, 0)) for c in Colour.values],
            "total": sum(totals.values()),
            "chart": selectors.chart_data(townships),
            "colours": [colour_badge(c) for c in Colour.values],
            "letter_flags": [
                (state, letters[state.value])
                for state in (
                    selectors.LetterState.MISSING,
                    selectors.LetterState.EXPIRED,
                    selectors.LetterState.EXPIRING,
                )
            ],
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "is_today": situation.on == timezone.localdate(),
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def venue_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    _form, filters, situation = _list_state(request)
    townships = [
        row.unit
        for row in selectors.counts_by_township(user, situation, filters)
        if row.unit is not None
    ]
    exporter = VenueExporter(
        selectors.venues(user, situation, filters), townships, situation.period
    )
    return export_response(
        exporter,
        actor=user,
        object_type="inspections.venue",
        detail={"filter": filters.describe(), "on": f"{situation.on:%Y-%m-%d}"},
    )


# ------------------------------------------------------------------ one venue


def _explain(venue: Venue, inspections: list[VenueInspection], situation: Situation) -> str:
    """Why the venue has its colour, in a sentence (the colour itself comes from SQL)."""
    on, period = situation.on, situation.period
    known = [i for i in inspections if i.inspected_on <= on]
    if venue.colour == Colour.RED:
        failure = next(
            (i for i in known if not i.passed and (i.fixed_on is None or i.fixed_on > on)), None
        )
        if failure is not None:
            text = _("%(day)s检查发现问题，整改期限%(deadline)s，尚未整改") % {
                "day": f"{failure.inspected_on:%Y-%m-%d}",
                "deadline": f"{failure.fix_deadline:%Y-%m-%d}",
            }
            if failure.fix_deadline < on:
                text += _("，已逾期%(n)d天") % {"n": (on - failure.fix_deadline).days}
            return text
    if venue.colour == Colour.BLUE:
        fixed = next((i for i in known if not i.passed and i.fixed_on and i.fixed_on <= on), None)
        if fixed is not None:
            return _("%(day)s检查发现问题，已于%(fixed)s整改") % {
                "day": f"{fixed.inspected_on:%Y-%m-%d}",
                "fixed": f"{fixed.fixed_on:%Y-%m-%d}",
            }
    if venue.colour == Colour.GREEN:
        last = next((i for i in known if i.inspected_on >= period.start), None)
        if last is not None:
            return _("%(period)s已于%(day)s检查合格") % {
                "period": period.label,
                "day": f"{last.inspected_on:%Y-%m-%d}",
            }
    if venue.colour == Colour.YELLOW:
        return _("%(period)s尚未检查") % {"period": period.label}
    return str(COLOUR_MEANING[Colour(venue.colour)])


@require(Perm.DASHBOARD_VIEW)
@require_GET
def venue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    found = _venue(request, pk)
    situation = Situation.on_day(timezone.localdate())
    venue = selectors.one_venue(
        Venue.objects.filter(pk=found.pk).select_related("org_unit", "department"), situation
    )
    inspections = list(
        venue.inspections.select_related("recorded_by", "fixed_by_inspection").prefetch_related(
            "photos"
        )
    )
    labels = registry.labels("venue_check_item")
    rows = [
        {
            "inspection": i,
            "checked": [
                {
                    "label": labels.get(code, code),
                    "ok": r.get("ok", True),
                    "problem": r.get("problem", ""),
                }
                for code, r in i.results.items()
            ],
            "overdue": not i.passed and i.fixed_on is None and i.fix_deadline < situation.on,
        }
        for i in inspections
    ]
    return render(
        request,
        "inspections/venue_detail.html",
        {
            "venue": venue,
            "kind": registry.label("venue_kind", venue.kind),
            "masked_phone": mask("phone", venue.operator_phone),
            "explanation": _explain(venue, inspections, situation),
            "situation": situation,
            "letters": list(venue.letters.all()),
            "letter_state": selectors.LetterState(venue.letter_state),
            "rows": rows,
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
        },
    )


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def venue_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = VenueForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            venue = services.register_venue(actor=user, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记重点场所“%(name)s”") % {"name": venue.name})
            return redirect("inspections:venue", pk=venue.pk)
    return render(request, "inspections/venue_form.html", {"form": form, "venue": None})


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def venue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    venue = _venue(request, pk)
    form = VenueForm(user, request.POST or None, venue=venue)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_venue(actor=user, venue=venue, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("inspections:venue", pk=venue.pk)
    return render(request, "inspections/venue_form.html", {"form": form, "venue": venue})


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def letter_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    venue = _venue(request, pk)
    form = LetterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_letter(actor=user, venue=venue, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记禁毒责任书"))
            return redirect("inspections:venue", pk=venue.pk)
    return render(request, "inspections/letter_form.html", {"form": form, "venue": venue})


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def inspection_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    venue = _venue(request, pk)
    form = InspectionForm(user, request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_venue_inspection(
                    actor=user,
                    venue=venue,
                    inspected_on=data["inspected_on"],
                    mode=data["mode"],
                    inspectors=data["inspectors"],
                    results=form.results(),
                    fix_deadline=data.get("fix_deadline"),
                    notes=data.get("notes", ""),
                    photos=data["photos"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                stash.discard(user, form.used_tokens())
                now = selectors.one_venue(
                    Venue.objects.filter(pk=venue.pk), Situation.on_day(timezone.localdate())
                )
                badge = colour_badge(now.colour)
                messages.success(
                    request,
                    _("已记录检查。该场所现为%(colour)s色（%(meaning)s）")
                    % {"colour": badge["label"], "meaning": badge["meaning"]},
                )
                return redirect("inspections:venue", pk=venue.pk)
        form.keep_for_next_time()
    return render(
        request,
        "inspections/inspection_form.html",
        {"form": form, "venue": venue, "kept": form.kept_count()},
    )


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def inspection_fix(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    inspection = get_in_scope_or_404(
        VenueInspection.objects.select_related("venue", "venue__org_unit"), user, pk=pk
    )
    form = FixForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_fix(actor=user, inspection=inspection, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已记录整改完成"))
            return redirect("inspections:venue", pk=inspection.venue_id)
    labels = registry.labels("venue_check_item")
    return render(
        request,
        "inspections/fix_form.html",
        {
            "form": form,
            "inspection": inspection,
            "venue": inspection.venue,
            "failed": [(labels.get(c, c), p) for c, p in inspection.failed_items().items()],
        },
    )


# ------------------------------------------------------------------ files


def _file_response(
    field: Any, content_type: str, *, download_name: str, attachment: bool
) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("文件不存在")) from exc
    response = FileResponse(
        handle, content_type=content_type, as_attachment=attachment, filename=download_name
    )
    # Photos are evidence of a venue's or a field's state: not for shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


@require(Perm.DASHBOARD_VIEW)
@require_GET
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A photo, answered only if the record it belongs to is in the user's scope."""
    user = request.user
    found = get_in_scope_or_404(Photo, user, pk=pk)
    if found.venue_inspection_id:
        get_in_scope_or_404(VenueInspection, user, pk=found.venue_inspection_id)
    else:
        get_in_scope_or_404(Patrol, user, pk=found.patrol_id)
    return _file_response(
        found.file,
        found.content_type,
        download_name=f"photo-{found.pk}.{found.file.name.rsplit('.', 1)[-1]}",
        attachment=False,
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def letter_scan(request: HttpRequest, pk: int) -> FileResponse:
    letter = get_in_scope_or_404(ResponsibilityLetter, request.user, pk=pk)
    if not letter.scan:
        raise Http404(_("该责任书没有扫描件"))
    return _file_response(
        letter.scan,
        letter.scan_type,
        download_name=f"letter-{letter.pk}.{letter.scan.name.rsplit('.', 1)[-1]}",
        attachment=True,
    )
