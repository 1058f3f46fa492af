"""Courier outlet pages: compliance with the three 100 % rules by township and outlet for
a period, an outlet's page and checks, the forms and the Excel export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.indicators import Period
from jindu.core.masking import mask
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.inspections import courier_services, rates
from jindu.inspections.exports import CourierExporter
from jindu.inspections.forms import CourierInspectionForm, OutletForm, PeriodForm, apply_errors
from jindu.inspections.models import CourierInspection, CourierOutlet
from jindu.inspections.periods import RollUp

PAGE_SIZE = 50


def _outlet(request: HttpRequest, pk: Any) -> CourierOutlet:
    return get_in_scope_or_404(
        CourierOutlet.objects.select_related("org_unit", "department"), request.user, pk=pk
    )


def _period(choice: dict[str, Any]) -> Period:
    if choice["quarter"]:
        return Period.quarter(choice["year"], choice["quarter"])
    return Period.year(choice["year"])


def _state(request: HttpRequest) -> tuple[PeriodForm, dict[str, Any], Period, str]:
    user = request.user
    form = PeriodForm(user, request.GET or None)
    choice = form.chosen()
    scope = choice["unit"].path if choice["unit"] is not None else user.scope_path
    return form, choice, _period(choice), scope


def _outlets_and_compliance(
    request: HttpRequest, scope: str, period: Period
) -> tuple[Any, dict[int, rates.Compliance], list[rates.TownshipCompliance]]:
    user = request.user
    outlets = (
        CourierOutlet.objects.for_user(user)
        .within(scope)
        .select_related("org_unit")
        .order_by("org_path", "name", "id")
    )
    checks = rates.in_period(CourierInspection.objects.for_user(user).within(scope), period)
    return outlets, rates.by_outlet(checks), rates.by_township(checks, scope)


@require(Perm.DASHBOARD_VIEW)
@require_GET
def courier_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, _choice, period, scope = _state(request)
    outlets, by_outlet, townships = _outlets_and_compliance(request, scope, period)
    page = Paginator(outlets, PAGE_SIZE).get_page(request.GET.get("page"))
    roll = RollUp([t.unit.path for t in townships])
    names = {t.unit.path: t.unit.name for t in townships}
    kinds = registry.labels("courier_kind")
    rows = [
        {
            "outlet": outlet,
            "township": names.get(roll.owner(outlet.org_path) or "", ""),
            "kind": kinds.get(outlet.kind, outlet.kind),
            "compliance": by_outlet.get(outlet.pk) or rates.Compliance(),
        }
        for outlet in page.object_list
    ]
    return render(
        request,
        "inspections/courier_list.html",
        {
            "form": form,
            "period": period,
            "rows": rows,
            "page_obj": page,
            "townships": townships,
            "overall": rates.combined(t.compliance for t in townships),
            "rule_labels": list(rates.RULE_LABELS.values()),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def courier_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    _form, _choice, period, scope = _state(request)
    outlets, by_outlet, townships = _outlets_and_compliance(request, scope, period)
    exporter = CourierExporter(list(outlets), by_outlet, [t.unit for t in townships], period)
    return export_response(
        exporter,
        actor=user,
        object_type="inspections.courieroutlet",
        detail={"period": period.label, "scope": scope},
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def outlet_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    outlet = _outlet(request, pk)
    form, _choice, period, _scope = _state(request)
    inspections = list(outlet.inspections.select_related("recorded_by"))
    per_check = []
    for inspection in inspections:
        one = rates.Compliance()
        one.add({name: getattr(inspection, name) for name in rates.SUM_FIELDS})
        per_check.append({"inspection": inspection, "compliance": one})
    in_period = [i for i in inspections if period.start <= i.inspected_on < period.end]
    summary = rates.Compliance()
    for inspection in in_period:
        counts = {name: getattr(inspection, name) for name in rates.SUM_FIELDS}
        summary.add({**counts, "inspections": 1})
    return render(
        request,
        "inspections/outlet_detail.html",
        {
            "outlet": outlet,
            "kind": registry.label("courier_kind", outlet.kind),
            "masked_phone": mask("phone", outlet.contact_phone),
            "period": period,
            "form": form,
            "summary": summary,
            "checks": per_check,
            "rule_labels": list(rates.RULE_LABELS.values()),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
        },
    )


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def outlet_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = OutletForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outlet = courier_services.register_outlet(actor=user, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记寄递网点“%(name)s”") % {"name": outlet.name})
            return redirect("inspections:outlet", pk=outlet.pk)
    return render(request, "inspections/outlet_form.html", {"form": form, "outlet": None})


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def outlet_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    outlet = _outlet(request, pk)
    form = OutletForm(user, request.POST or None, outlet=outlet)
    if request.method == "POST" and form.is_valid():
        try:
            courier_services.update_outlet(actor=user, outlet=outlet, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("inspections:outlet", pk=outlet.pk)
    return render(request, "inspections/outlet_form.html", {"form": form, "outlet": outlet})


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def courier_inspection_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    outlet = _outlet(request, pk)
    form = CourierInspectionForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            courier_services.record_courier_inspection(
                actor=user,
                outlet=outlet,
                inspected_on=data["inspected_on"],
                inspectors=data["inspectors"],
                counts=form.counts(),
                problems=data.get("problems", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已记录寄递渠道检查"))
            return redirect("inspections:outlet", pk=outlet.pk)
    return render(
        request, "inspections/courier_inspection_form.html", {"form": form, "outlet": outlet}
    )
