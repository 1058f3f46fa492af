"""Cultivation patrol pages: coverage per township for a season with the veto marks, the
patrol list, a patrol's page and form, the Excel export; and the county's rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.indicators import Period
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.inspections import coverage, patrol_services, services, stash
from jindu.inspections.exports import PatrolExporter
from jindu.inspections.forms import PatrolForm, RulesForm, SeasonForm, apply_errors
from jindu.inspections.models import InspectionRules, Patrol
from jindu.inspections.periods import RollUp

PAGE_SIZE = 30


def _state(request: HttpRequest) -> tuple[SeasonForm, int, str]:
    user = request.user
    form = SeasonForm(user, request.GET or None)
    choice = form.chosen()
    scope = choice["unit"].path if choice["unit"] is not None else user.scope_path
    return form, choice["year"], scope


def _patrols(request: HttpRequest, scope: str, year: int) -> Any:
    year_period = Period.year(year)
    return (
        Patrol.objects.for_user(request.user)
        .within(scope)
        .filter(patrolled_on__gte=year_period.start, patrolled_on__lt=year_period.end)
        .select_related("org_unit")
        .annotate(photo_count=Count("photos"))
        .order_by("-patrolled_on", "-id")
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def patrol_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, year, scope = _state(request)
    rules = InspectionRules.current()
    rows = coverage.coverage(scope, year, rules=rules)
    page = Paginator(_patrols(request, scope, year), PAGE_SIZE).get_page(request.GET.get("page"))
    roll = RollUp([row.unit.path for row in rows])
    names = {row.unit.path: row.unit.name for row in rows}
    lands = registry.labels("land_kind")
    patrols = [
        {
            "patrol": patrol,
            "township": names.get(roll.owner(patrol.org_path) or "", ""),
            "land": lands.get(patrol.land_kind, patrol.land_kind),
        }
        for patrol in page.object_list
    ]
    return render(
        request,
        "inspections/patrol_list.html",
        {
            "form": form,
            "year": year,
            "rules": rules,
            "season": coverage.season_of(year, rules),
            "coverage": rows,
            "summary": coverage.coverage_summary(rows),
            "patrols": patrols,
            "page_obj": page,
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_set_rules": user.has_jindu_perm(Perm.INSPECTION_RULES),
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def patrol_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    _form, year, scope = _state(request)
    townships = [row.unit for row in coverage.coverage(scope, year)]
    exporter = PatrolExporter(_patrols(request, scope, year), townships, f"{year}年")
    return export_response(
        exporter,
        actor=user,
        object_type="inspections.patrol",
        detail={"year": year, "scope": scope},
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patrol = get_in_scope_or_404(
        Patrol.objects.select_related("org_unit", "recorded_by").prefetch_related("photos"),
        request.user,
        pk=pk,
    )
    plants = registry.labels("illicit_plant")
    return render(
        request,
        "inspections/patrol_detail.html",
        {
            "patrol": patrol,
            "land": registry.label("land_kind", patrol.land_kind),
            "species": [plants.get(c, c) for c in patrol.plant_species or []],
            "veto": patrol.check_level in coverage.VETO_LEVELS and patrol.plants_found > 0,
        },
    )


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def patrol_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PatrolForm(user, request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                patrol = patrol_services.record_patrol(
                    actor=user, photos=form.cleaned_data["photos"], **form.values()
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                stash.discard(user, form.used_tokens())
                messages.success(request, _("已记录踏查"))
                if patrol.check_level in coverage.VETO_LEVELS and patrol.plants_found:
                    messages.warning(
                        request,
                        _("%(level)s发现非法种植毒品原植物：所在乡镇本年度禁毒工作考核一票否决")
                        % {"level": patrol.get_check_level_display()},
                    )
                return redirect("inspections:patrol", pk=patrol.pk)
        form.keep_for_next_time()
    return render(
        request, "inspections/patrol_form.html", {"form": form, "kept": form.kept_count()}
    )


@require(Perm.INSPECTION_RULES)
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    current = InspectionRules.current()
    initial = {name: getattr(current, name) for name in services.RULE_FIELDS}
    form = RulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_inspection_rules(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存检查规则，场所颜色和踏查达标情况即时按新规则计算"))
            return redirect("inspections:rules")
    return render(
        request,
        "inspections/rules.html",
        {"form": form, "rules": current, "today": timezone.localdate()},
    )
