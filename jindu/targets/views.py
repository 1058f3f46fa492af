"""Targets pages: the year's targets with their breakdown and completion, setting a
target and breaking it down, the Excel export; and the four-up four-down board.

What a user sees follows their unit: the county office, leaders and county
staff see the county with every township side by side; a township sees its
own parts and figures; a department reporter sees their department's parts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jindu.core import indicators
from jindu.core.access import require
from jindu.core.excel import Column, Exporter, export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit
from jindu.targets import board as board_module
from jindu.targets import completion, services
from jindu.targets.forms import TargetForm, YearForm, apply_errors
from jindu.targets.letters import amount
from jindu.targets.models import Target, TargetShare


def county_for(user: Any, wanted: Any = None) -> OrgUnit | None:
    """The county a user works in: their own, the one above them, or (for a city or
    province account) the one asked for or the first in their subtree."""
    unit = user.org_unit
    if unit is None:
        return None
    if unit.level == Level.COUNTY:
        return unit
    above = OrgUnit.objects.filter(pk__in=unit.ancestor_ids(), level=Level.COUNTY).first()
    if above is not None:
        return above
    counties = OrgUnit.objects.filter(path__subtree=unit.path, level=Level.COUNTY).order_by("path")
    if wanted:
        try:
            return counties.filter(pk=int(wanted)).first() or counties.first()
        except (TypeError, ValueError):
            pass
    return counties.first()


def townships_in_scope(user: Any, county: OrgUnit) -> list[OrgUnit]:
    return list(
        OrgUnit.objects.for_user(user)
        .filter(parent=county, level=Level.TOWNSHIP, active=True)
        .order_by("sort_order", "division_code", "name")
    )


def _year_form(request: HttpRequest) -> tuple[YearForm, int, date]:
    form = YearForm(request.GET or None)
    year = form.chosen_year() if form.is_bound else timezone.localdate().year
    on = completion.day_in_year(
        year, (form.chosen_day() if form.is_bound else None) or _year_end(year)
    )
    return form, year, on


def _year_end(year: int) -> date:
    return min(date(year, 12, 31), timezone.localdate())


def _sees_county(user: Any, county: OrgUnit) -> bool:
    return county.path.startswith(user.scope_path or "\0") and not user.scoped_to_department


@require(Perm.DASHBOARD_VIEW)
def target_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, year, on = _year_form(request)
    county = county_for(user, request.GET.get("county"))
    context: dict[str, Any] = {
        "form": form,
        "year": year,
        "on": on,
        "county": county,
        "elapsed": completion.one_decimal(completion.elapsed_percent(year, on)),
        "can_manage": user.has_jindu_perm(Perm.TARGETS_MANAGE),
    }
    if county is None:
        return render(request, "targets/list.html", context)
    if _sees_county(user, county):
        townships = townships_in_scope(user, county)
        keys, columns = completion.townships_side_by_side(county, townships, year, on)
        context.update(
            view="county",
            rows=services.breakdown_rows(county, year),
            progress=completion.completion_for(county, year, on),
            keys=[indicators.REGISTRY.get(k) or k for k in keys],
            columns=columns,
        )
    elif user.scoped_to_department:
        department = Department.objects.filter(pk=user.department_id).first()
        context.update(
            view="department",
            department=department,
            progress=completion.department_completion(department, year, on) if department else [],
        )
    else:
        unit = user.org_unit
        township = unit if unit.level == Level.TOWNSHIP else None
        shares = {}
        if township is not None:
            shares = dict(
                TargetShare.objects.for_user(user)
                .filter(org_unit=township, department=None, target__year=year)
                .values_list("target__indicator_key", "value")
            )
        context.update(
            view="township",
            township=township,
            progress=completion.progress(township.path, shares, year, on) if township else [],
        )
    return render(request, "targets/list.html", context)


def _indicator_choices() -> list[tuple[str, str]]:
    return [(i.key, f"{i.name}（{i.unit}）") for i in services.target_indicators()]


@require(Perm.TARGETS_MANAGE)
def target_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    _form, year, _on = _year_form(request)
    county = county_for(user, request.GET.get("county"))
    if county is None or not _sees_county(user, county):
        raise Http404(_("没有可设定目标的县（区）"))
    initial = {}
    key = request.GET.get("key")
    if key:
        existing = Target.objects.filter(org_unit=county, year=year, indicator_key=key).first()
        initial = {"indicator_key": key, "value": amount(existing.value) if existing else ""}
        if existing:
            initial["note"] = existing.note
    form = TargetForm(request.POST or None, initial=initial, choices=_indicator_choices())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            target = services.set_target(
                actor=user,
                county=county,
                year=year,
                key=data["indicator_key"],
                value=data["value"],
                note=data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存目标任务"))
            return redirect(reverse("targets:breakdown", kwargs={"pk": target.pk}))
    return render(
        request, "targets/target_form.html", {"form": form, "year": year, "county": county}
    )


def _target(request: HttpRequest, pk: Any) -> Target:
    return get_in_scope_or_404(Target.objects.select_related("org_unit"), request.user, pk=pk)


@require(Perm.TARGETS_MANAGE)
def breakdown(request: HttpRequest, pk: int) -> HttpResponse:
    """Break a county target down to its townships and member departments in one form."""
    user = request.user
    target = _target(request, pk)
    county = target.org_unit
    townships = list(
        OrgUnit.objects.filter(parent=county, level=Level.TOWNSHIP, active=True).order_by(
            "sort_order", "division_code", "name"
        )
    )
    departments = list(Department.objects.filter(org_unit=county, active=True))
    shares = {
        (s.org_unit_id, s.department_id): s.value for s in TargetShare.objects.filter(target=target)
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        typed_units = {t: request.POST.get(f"unit_{t.pk}", "") for t in townships}
        typed_depts = {d: request.POST.get(f"dept_{d.pk}", "") for d in departments}
        try:
            services.set_breakdown(
                actor=user, target=target, townships=typed_units, departments=typed_depts
            )
        except ValidationError as exc:
            errors = exc.message_dict
            messages.error(request, _("分解未保存：请按提示修改后重新提交"))
        else:
            messages.success(request, _("已保存目标分解"))
            return redirect(f"{reverse('targets:list')}?year={target.year}")
    indicator = indicators.REGISTRY.get(target.indicator_key)

    def typed(name: str, saved: Any) -> str:
        if request.method == "POST":
            return request.POST.get(name, "")
        return amount(saved) if saved is not None else ""

    unit_rows = [
        {
            "name": f"unit_{t.pk}",
            "label": t.name,
            "value": typed(f"unit_{t.pk}", shares.get((t.pk, None))),
            "errors": errors.get(f"unit_{t.pk}", []),
        }
        for t in townships
    ]
    dept_rows = [
        {
            "name": f"dept_{d.pk}",
            "label": d.name,
            "value": typed(f"dept_{d.pk}", shares.get((county.pk, d.pk))),
            "errors": errors.get(f"dept_{d.pk}", []),
        }
        for d in departments
    ]
    return render(
        request,
        "targets/breakdown.html",
        {
            "target": target,
            "indicator": indicator,
            "target_value": amount(target.value),
            "unit_rows": unit_rows,
            "dept_rows": dept_rows,
        },
    )


@require(Perm.TARGETS_MANAGE)
@require_POST
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    year = target.year
    services.delete_target(actor=request.user, target=target)
    messages.success(request, _("已删除该目标任务及其分解"))
    return redirect(f"{reverse('targets:list')}?year={year}")


class CompletionExporter(Exporter):
    title = "目标任务完成情况"
    columns = (
        Column("单位", 18),
        Column("指标", 30),
        Column("计量单位", 10),
        Column("目标", 12),
        Column("完成", 12),
        Column("完成率（%）", 12),
        Column("时间进度（%）", 12),
        Column("进度", 10),
    )

    def __init__(self, tables: list[tuple[str, list[completion.Progress]]], year: int) -> None:
        self.tables = tables
        self.year = year

    def filename(self) -> str:
        return f"目标任务完成情况-{self.year}年.xlsx"

    def rows(self) -> Any:
        for name, progress in self.tables:
            for p in progress:
                yield (
                    name,
                    p.name,
                    p.unit,
                    amount(p.target) if p.target is not None else "",
                    board_module.shown(p.actual),
                    board_module.shown(p.completion_shown)
                    if p.completion is not None
                    else "不适用",
                    board_module.shown(completion.one_decimal(p.elapsed)),
                    str(p.label),
                )


@require(Perm.DASHBOARD_VIEW)
def target_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    _form, year, on = _year_form(request)
    county = county_for(user, request.GET.get("county"))
    tables: list[tuple[str, list[completion.Progress]]] = []
    if county is not None and _sees_county(user, county):
        tables.append((county.name, completion.completion_for(county, year, on)))
        keys, columns = completion.townships_side_by_side(
            county, townships_in_scope(user, county), year, on
        )
        for column in columns:
            tables.append((column.unit.name, [c for c in column.cells if c is not None]))
    elif user.scoped_to_department and user.department is not None:
        tables.append(
            (user.department.name, completion.department_completion(user.department, year, on))
        )
    elif user.org_unit.level == Level.TOWNSHIP:
        township = user.org_unit
        shares = dict(
            TargetShare.objects.for_user(user)
            .filter(org_unit=township, department=None, target__year=year)
            .values_list("target__indicator_key", "value")
        )
        tables.append((township.name, completion.progress(township.path, shares, year, on)))
    return export_response(
        CompletionExporter(tables, year),
        actor=user,
        object_type="targets.target",
        detail={"year": year, "on": on.isoformat()},
    )


# ------------------------------------------------------------------ the board


def _board_units(user: Any) -> tuple[OrgUnit | None, list[OrgUnit]]:
    """The unit whose board is shown first, and the townships beside it."""
    unit = user.org_unit
    if unit is None:
        return None, []
    if unit.level == Level.TOWNSHIP:
        return unit, []
    if unit.level in (Level.VILLAGE, Level.GRID):
        # The eight figures are a township's and a county's, not a village's.
        return None, []
    county = county_for(user)
    if county is None:
        return None, []
    return county, townships_in_scope(user, county)


@require(Perm.DASHBOARD_VIEW)
def board_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, year, _on = _year_form(request)
    main, townships = _board_units(user)
    rows = board_module.board(main.path, year) if main else []
    side: list[dict[str, Any]] = []
    if townships:
        table = board_module.board_by_units([t.path for t in townships], year)
        side = [
            {
                "key": key,
                "name": table[key][townships[0].path].name,
                "cells": [table[key][t.path] for t in townships],
            }
            for key in board_module.BOARD_KEYS
        ]
    return render(
        request,
        "targets/board.html",
        {
            "form": form,
            "year": year,
            "unit": main,
            "rows": rows,
            "townships": townships,
            "side": side,
        },
    )


@require(Perm.DASHBOARD_VIEW)
def board_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    _form, year, _on = _year_form(request)
    main, townships = _board_units(user)
    units = ([main] if main else []) + townships
    return export_response(
        board_module.BoardExporter(units, year),
        actor=user,
        object_type="targets.board",
        detail={"year": year},
    )
