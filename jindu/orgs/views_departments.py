"""Member departments of the county drug-control commission (禁毒委成员单位).

Everyone who works in a county reads its list (a township cadre: the county
above them); the county office and the system administrator keep it.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs import services
from jindu.orgs.exports import DepartmentExporter
from jindu.orgs.forms import DepartmentForm, apply_errors
from jindu.orgs.models import Department, OrgUnit
from jindu.orgs.selectors import counties_for, departments_for
from jindu.orgs.views_import import ImportPages


def manageable_counties(request: HttpRequest) -> list[OrgUnit]:
    """Counties in the user's own subtree: the ones whose list they may change."""
    user = request.user
    return list(counties_for(user).filter(path__subtree=user.scope_path))


@require(Perm.ORG_VIEW)
def department_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_manage = user.has_jindu_perm(Perm.DEPT_MANAGE)
    qs = departments_for(user).select_related("org_unit").order_by("org_path", "sort_order", "id")
    if not can_manage:
        qs = qs.filter(active=True)
    own = {c.pk for c in manageable_counties(request)} if can_manage else set()
    groups = [
        {"county": county, "departments": list(depts), "can_manage": county.pk in own}
        for county, depts in groupby(qs, key=lambda d: d.org_unit)
    ]
    return render(
        request,
        "orgs/department_list.html",
        {
            "groups": groups,
            "can_manage": can_manage and bool(own),
            "total": sum(len(g["departments"]) for g in groups),
        },
    )


def _department(request: HttpRequest, pk: int) -> Department:
    return get_in_scope_or_404(Department.objects.select_related("org_unit"), request.user, pk=pk)


@require(Perm.DEPT_MANAGE)
def department_add(request: HttpRequest) -> HttpResponse:
    counties = manageable_counties(request)
    if not counties:
        messages.error(request, _("您所在单位下没有县（区），无法新增成员单位"))
        return redirect("orgs:departments")
    form = DepartmentForm(request.POST or None, counties=counties)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        county = next((c for c in counties if str(c.pk) == data.get("county")), counties[0])
        try:
            dept = services.create_department(
                actor=request.user,
                county=county,
                name=data["name"],
                short_name=data["short_name"],
                duties=data["duties"],
                sort_order=data["sort_order"] or 0,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已新增成员单位“%(name)s”") % {"name": dept.name})
            return redirect("orgs:departments")
    return render(request, "orgs/department_form.html", {"form": form, "department": None})


@require(Perm.DEPT_MANAGE)
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    dept = _department(request, pk)
    initial = {
        "name": dept.name,
        "short_name": dept.short_name,
        "duties": dept.duties,
        "sort_order": dept.sort_order,
    }
    form = DepartmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_department(
                actor=request.user,
                department=dept,
                name=data["name"],
                short_name=data["short_name"],
                duties=data["duties"],
                sort_order=data["sort_order"]
                if data["sort_order"] is not None
                else dept.sort_order,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("orgs:departments")
    return render(request, "orgs/department_form.html", {"form": form, "department": dept})


def _set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    dept = _department(request, pk)
    services.update_department(actor=request.user, department=dept, active=active)
    messages.success(
        request, (_("已恢复“%(name)s”") if active else _("已停用“%(name)s”")) % {"name": dept.name}
    )
    return redirect("orgs:departments")


@require(Perm.DEPT_MANAGE)
@require_POST
def department_retire(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, False)


@require(Perm.DEPT_MANAGE)
@require_POST
def department_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, True)


@require(Perm.ORG_VIEW)
def department_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    exporter = DepartmentExporter(user, include_retired=user.has_jindu_perm(Perm.DEPT_MANAGE))
    return export_response(exporter, actor=user, object_type="orgs.department")


# ------------------------------------------------------------------ import


def _department_spec(request: HttpRequest, options: dict[str, Any]) -> Any:
    from jindu.orgs.importers import DepartmentImport

    county = get_in_scope_or_404(OrgUnit, request.user, pk=options["county"], level="county")
    return DepartmentImport(actor=request.user, county=county)


DEPARTMENT_IMPORT = ImportPages(
    spec_key="departments",
    upload_url="orgs:department_import",
    preview_url="orgs:department_import_preview",
    rejected_url="orgs:department_import_rejected",
    template_url="orgs:department_import_template",
    back_url="orgs:departments",
    back_label=gettext_lazy("成员单位"),
    make_spec=_department_spec,
    counties=manageable_counties,
)


@require(Perm.DEPT_MANAGE)
def department_import(request: HttpRequest) -> HttpResponse:
    return DEPARTMENT_IMPORT.upload(request)


@require(Perm.DEPT_MANAGE)
def department_import_preview(request: HttpRequest, token: str) -> HttpResponse:
    return DEPARTMENT_IMPORT.preview(request, token)


@require(Perm.DEPT_MANAGE)
def department_import_rejected(request: HttpRequest, token: str) -> HttpResponse:
    return DEPARTMENT_IMPORT.rejected(request, token)


@require(Perm.DEPT_MANAGE)
def department_import_template(request: HttpRequest) -> HttpResponse:
    return DEPARTMENT_IMPORT.template(request)
