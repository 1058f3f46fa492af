"""Reported indicators: the year's table of who reported what, entering a value,
submitting it, and the county office's approval, return and unlock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jindu.core import indicators
from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.division import Level
from jindu.orgs.models import OrgUnit
from jindu.targets import reporting
from jindu.targets.forms import (
    ReportedForm,
    ReturnForm,
    RuleForm,
    UnlockForm,
    YearForm,
    apply_errors,
)
from jindu.targets.models import PeriodKind, ReportedValue, period_label
from jindu.targets.views import county_for, townships_in_scope


@dataclass
class Slot:
    """One unit's value of one indicator for one period: entered or still missing."""

    key: str
    unit: OrgUnit
    year: int
    quarter: int
    row: ReportedValue | None
    deadline: date
    can_enter: bool
    is_office: bool = False

    def _status(self) -> str:
        return self.row.status if self.row is not None else ""

    @property
    def has_value(self) -> bool:
        return self.row is not None and self.row.value is not None

    @property
    def can_edit(self) -> bool:
        return self.can_enter and self._status() not in (
            ReportedValue.Status.SUBMITTED,
            ReportedValue.Status.APPROVED,
        )

    @property
    def can_submit(self) -> bool:
        return self.can_edit and self.has_value

    @property
    def can_approve(self) -> bool:
        return self.is_office and self._status() == ReportedValue.Status.SUBMITTED

    @property
    def can_return(self) -> bool:
        return self.is_office and self._status() in (
            ReportedValue.Status.SUBMITTED,
            ReportedValue.Status.APPROVED,
        )

    @property
    def can_unlock(self) -> bool:
        return self.is_office and self.overdue

    @property
    def label(self) -> str:
        return period_label(self.year, self.quarter)

    @property
    def query(self) -> str:
        return f"key={self.key}&unit={self.unit.pk}&year={self.year}&quarter={self.quarter}"

    @property
    def overdue(self) -> bool:
        done = self.row is not None and self.row.status in (
            ReportedValue.Status.SUBMITTED,
            ReportedValue.Status.APPROVED,
        )
        return not done and timezone.localdate() > self.deadline

    @property
    def status_css(self) -> str:
        if self.row is None or self.row.value is None:
            return "text-bg-danger" if self.overdue else "text-bg-light border"
        return {
            ReportedValue.Status.DRAFT: "text-bg-light border",
            ReportedValue.Status.SUBMITTED: "text-bg-primary",
            ReportedValue.Status.APPROVED: "text-bg-success",
            ReportedValue.Status.RETURNED: "text-bg-warning",
        }[ReportedValue.Status(self.row.status)]


def _periods(kind: str, year: int) -> list[int]:
    today = timezone.localdate()
    if kind == PeriodKind.YEAR:
        return [0]
    return [q for q in (1, 2, 3, 4) if date(year, 3 * q - 2, 1) <= today]


@require(Perm.DASHBOARD_VIEW)
def reported_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = YearForm(request.GET or None)
    year = form.chosen_year() if form.is_bound else timezone.localdate().year
    county = county_for(user)
    is_office = user.has_jindu_perm(Perm.TARGETS_MANAGE)
    rows = {
        (r.indicator_key, r.org_unit_id, r.quarter): r
        for r in ReportedValue.objects.for_user(user)
        .filter(year=year)
        .select_related("org_unit", "department", "entered_by")
    }
    sections = []
    for rule in reporting.rules():
        indicator = indicators.get(rule.indicator_key)
        units: list[OrgUnit] = []
        if county is not None:
            if rule.department_name:
                department = reporting.department_of(rule, county)
                visible = county.path.startswith(user.scope_path or "\0") and (
                    not user.scoped_to_department
                    or user.department_id == getattr(department, "pk", None)
                )
                units = [county] if visible and department is not None else []
            elif not user.scoped_to_department:
                units = townships_in_scope(user, county)
        slots = [
            Slot(
                key=rule.indicator_key,
                unit=unit,
                year=year,
                quarter=quarter,
                row=rows.get((rule.indicator_key, unit.pk, quarter)),
                deadline=rule.deadline(year, quarter),
                can_enter=reporting.may_enter(user, rule, unit),
                is_office=is_office,
            )
            for unit in units
            for quarter in _periods(rule.period_kind, year)
        ]
        sections.append({"rule": rule, "indicator": indicator, "slots": slots})
    return render(
        request,
        "targets/reported.html",
        {
            "form": form,
            "year": year,
            "sections": sections,
            "is_office": is_office,
        },
    )


def _slot_from_query(request: HttpRequest) -> tuple[str, OrgUnit, int, int]:
    data = request.GET
    key = data.get("key", "")
    if key not in reporting.REPORTED_KEYS:
        raise ValidationError(_("请从填报指标列表进入"))
    unit = get_in_scope_or_404(OrgUnit, request.user, pk=data.get("unit"))
    try:
        year, quarter = int(data.get("year", "")), int(data.get("quarter", "0"))
    except ValueError as exc:
        raise ValidationError(_("请从填报指标列表进入")) from exc
    return key, unit, year, quarter


def _back(year: int) -> str:
    return f"{reverse('targets:reported')}?year={year}"


@require(Perm.RECORD_WRITE)
def reported_enter(request: HttpRequest) -> HttpResponse:
    user = request.user
    try:
        key, unit, year, quarter = _slot_from_query(request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("targets:reported")
    indicator = indicators.get(key)
    if not reporting.may_enter(user, reporting.rule_for(key), unit):
        raise PermissionDenied(_("该指标不由您所在单位填报"))
    row = ReportedValue.objects.filter(
        indicator_key=key, org_unit=unit, year=year, quarter=quarter
    ).first()
    initial = {}
    if row is not None and row.value is not None:
        initial = {"value": f"{row.value:f}", "sample_size": row.sample_size, "note": row.note}
    form = ReportedForm(request.POST or None, initial=initial)
    form.fields["value"].label = f"{indicator.name}（{indicator.unit}）"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reporting.save_reported_value(
                actor=user,
                key=key,
                unit=unit,
                year=year,
                quarter=quarter,
                value=data["value"],
                sample_size=data["sample_size"],
                note=data["note"],
                submit="submit" in request.POST,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已报送，等待县禁毒办审核") if "submit" in request.POST else _("已保存草稿"),
            )
            return redirect(_back(year))
    rule = reporting.rule_for(key)
    return render(
        request,
        "targets/reported_form.html",
        {
            "form": form,
            "indicator": indicator,
            "unit": unit,
            "row": row,
            "label": period_label(year, quarter),
            "deadline": rule.deadline(year, quarter),
            "year": year,
        },
    )


def _row(request: HttpRequest, pk: Any) -> ReportedValue:
    return get_in_scope_or_404(
        ReportedValue.objects.select_related("org_unit"), request.user, pk=pk
    )


@require(Perm.RECORD_WRITE)
@require_POST
def reported_submit(request: HttpRequest, pk: int) -> HttpResponse:
    row = _row(request, pk)
    try:
        reporting.submit_reported_value(actor=request.user, row=row)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已报送，等待县禁毒办审核"))
    return redirect(_back(row.year))


@require(Perm.TARGETS_MANAGE)
@require_POST
def reported_approve(request: HttpRequest, pk: int) -> HttpResponse:
    row = _row(request, pk)
    try:
        reporting.approve_reported_value(actor=request.user, row=row)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已审核通过"))
    return redirect(_back(row.year))


@require(Perm.TARGETS_MANAGE)
def reported_return(request: HttpRequest, pk: int) -> HttpResponse:
    row = _row(request, pk)
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reporting.return_reported_value(
                actor=request.user, row=row, note=form.cleaned_data["return_note"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已退回"))
            return redirect(_back(row.year))
    return render(
        request,
        "targets/reported_action.html",
        {
            "form": form,
            "row": row,
            "indicator": indicators.get(row.indicator_key),
            "title": _("退回填报值"),
            "button": _("退回"),
        },
    )


@require(Perm.TARGETS_MANAGE)
def reported_unlock(request: HttpRequest) -> HttpResponse:
    try:
        key, unit, year, quarter = _slot_from_query(request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("targets:reported")
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reporting.unlock_reported_value(
                actor=request.user,
                key=key,
                unit=unit,
                year=year,
                quarter=quarter,
                until=form.cleaned_data["unlocked_until"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已解锁，允许补报"))
            return redirect(_back(year))
    return render(
        request,
        "targets/reported_action.html",
        {
            "form": form,
            "unit": unit,
            "label": period_label(year, quarter),
            "indicator": indicators.get(key),
            "title": _("解锁补报"),
            "button": _("解锁"),
        },
    )


@require(Perm.TARGETS_MANAGE)
def rule_edit(request: HttpRequest) -> HttpResponse:
    """Who reports an indicator, how often, and how long after the period."""
    key = request.GET.get("key", "")
    if key not in reporting.REPORTED_KEYS:
        messages.error(request, _("请从填报指标列表进入"))
        return redirect("targets:reported")
    rule = reporting.rule_for(key)
    initial = {name: getattr(rule, name) for name in reporting.RULE_FIELDS}
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reporting.update_rule(actor=request.user, key=key, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存填报规则"))
            return redirect("targets:reported")
    return render(
        request,
        "targets/reported_action.html",
        {
            "form": form,
            "indicator": indicators.get(key),
            "label": _("填报规则"),
            "title": _("修改填报规则"),
            "button": _("保存"),
        },
    )


def level_label(level: str) -> str:
    return str(Level(level).label) if level in Level.values else level
