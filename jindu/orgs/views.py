"""Territory pages: the tree of the user's subtree, a unit's page, and (for the
county office and the system administrator) creating, editing, moving, retiring,
exporting and loading units from a sheet of division codes."""

from __future__ import annotations

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
from jindu.orgs import selectors, services
from jindu.orgs.division import Level, child_level
from jindu.orgs.exports import UnitExporter
from jindu.orgs.forms import MoveForm, UnitForm, apply_errors
from jindu.orgs.models import Department, OrgUnit
from jindu.orgs.views_import import ImportPages


def _unit(request: HttpRequest, pk: Any) -> OrgUnit:
    return get_in_scope_or_404(OrgUnit.objects.select_related("parent"), request.user, pk=pk)


@require(Perm.ORG_VIEW)
def tree(request: HttpRequest) -> HttpResponse:
    user = request.user
    root = user.org_unit
    query = request.GET.get("q", "").strip()[:50]
    return render(
        request,
        "orgs/tree.html",
        {
            "root": root,
            "children": selectors.children_of(root),
            "counts": selectors.level_counts(root),
            "query": query,
            "results": selectors.search_units(user, query) if query else None,
            "can_manage": user.has_jindu_perm(Perm.ORG_MANAGE),
        },
    )


@require(Perm.ORG_VIEW)
def children(request: HttpRequest, pk: int) -> HttpResponse:
    """A unit's children as tree rows, loaded when its node is opened."""
    unit = _unit(request, pk)
    return render(
        request, "orgs/_tree_children.html", {"unit": unit, "children": selectors.children_of(unit)}
    )


@require(Perm.ORG_VIEW)
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = _unit(request, pk)
    return render(
        request,
        "orgs/unit_detail.html",
        {
            "unit": unit,
            "crumbs": selectors.breadcrumb(unit, user),
            "children": selectors.children_of(unit),
            "counts": selectors.level_counts(unit),
            "history": unit.history.select_related("actor", "old_parent", "new_parent")[:50],
            "departments": Department.objects.filter(org_unit=unit, active=True)
            if unit.level == Level.COUNTY
            else None,
            "can_manage": user.has_jindu_perm(Perm.ORG_MANAGE),
            "is_own_unit": user.org_unit_id == unit.pk,
            "child_level": child_level(unit.level),
        },
    )


@require(Perm.ORG_MANAGE)
def unit_add(request: HttpRequest, pk: int) -> HttpResponse:
    parent = _unit(request, pk)
    level = child_level(parent.level)
    if level is None:
        messages.error(request, _("网格下不能再建下级单位"))
        return redirect("orgs:unit", pk=parent.pk)
    form = UnitForm(request.POST or None, level=level, parent_code=parent.division_code)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit = services.create_unit(
                actor=request.user,
                name=data["name"],
                level=level,
                parent=parent,
                division_code=data.get("division_code") or None,
                sort_order=data["sort_order"] or 0,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已新建%(level)s“%(name)s”")
                % {"level": unit.get_level_display(), "name": unit.name},
            )
            return redirect("orgs:unit", pk=unit.pk)
    return render(
        request,
        "orgs/unit_form.html",
        {
            "form": form,
            "parent": parent,
            "level_label": Level(level).label,
            "crumbs": selectors.breadcrumb(parent, request.user)
            + [{"unit": parent, "linkable": True}],
        },
    )


@require(Perm.ORG_MANAGE)
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = _unit(request, pk)
    initial = {
        "name": unit.name,
        "division_code": unit.division_code or "",
        "sort_order": unit.sort_order,
    }
    form = UnitForm(
        request.POST or None,
        initial=initial,
        level=unit.level,
        parent_code=unit.parent.division_code if unit.parent else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_unit(
                actor=request.user,
                unit=unit,
                name=data["name"],
                division_code=data.get("division_code", "")
                if "division_code" in form.fields
                else None,
                sort_order=data["sort_order"]
                if data["sort_order"] is not None
                else unit.sort_order,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("orgs:unit", pk=unit.pk)
    return render(
        request,
        "orgs/unit_form.html",
        {
            "form": form,
            "unit": unit,
            "level_label": unit.get_level_display(),
            "crumbs": selectors.breadcrumb(unit, request.user),
        },
    )


def _set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    unit = _unit(request, pk)
    try:
        services.update_unit(actor=request.user, unit=unit, active=active)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            (_("已恢复“%(name)s”") if active else _("已撤销“%(name)s”")) % {"name": unit.name},
        )
    return redirect("orgs:unit", pk=unit.pk)


@require(Perm.ORG_MANAGE)
@require_POST
def unit_retire(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, False)


@require(Perm.ORG_MANAGE)
@require_POST
def unit_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, True)


@require(Perm.ORG_MANAGE)
def unit_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = _unit(request, pk)
    query = request.GET.get("q", "").strip()[:50]
    form = MoveForm(request.POST or None, coded=unit.level != Level.GRID, initial={"q": query})
    chosen = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data.get("parent"):
            form.add_error("parent", _("请选择新的上级单位"))
        else:
            chosen = get_in_scope_or_404(OrgUnit, user, pk=data["parent"])
            code = (data.get("division_code") or "").strip() or None
            try:
                services.move_unit(actor=user, unit=unit, new_parent=chosen, division_code=code)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("已将“%(name)s”调整到“%(parent)s”之下")
                    % {"name": unit.name, "parent": chosen.name},
                )
                return redirect("orgs:unit", pk=unit.pk)
    candidates = selectors.move_candidates(user, unit, query)
    if chosen is not None and chosen not in candidates:
        candidates.insert(0, chosen)
    return render(
        request,
        "orgs/unit_move.html",
        {
            "form": form,
            "unit": unit,
            "query": query,
            "candidates": candidates,
            "chosen_id": chosen.pk if chosen else None,
            "crumbs": selectors.breadcrumb(unit, user),
            "is_own_unit": user.org_unit_id == unit.pk,
        },
    )


@require(Perm.ORG_VIEW)
def unit_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    root = _unit(request, request.GET["root"]) if request.GET.get("root") else user.org_unit
    return export_response(
        UnitExporter(user, root), actor=user, object_type="orgs.orgunit", detail={"root": root.name}
    )


# ------------------------------------------------------------------ import


def _unit_spec(request: HttpRequest, options: dict[str, Any]) -> Any:
    from jindu.orgs.importers import UnitImport

    return UnitImport(actor=request.user)


UNIT_IMPORT = ImportPages(
    spec_key="units",
    upload_url="orgs:import",
    preview_url="orgs:import_preview",
    rejected_url="orgs:import_rejected",
    template_url="orgs:import_template",
    back_url="orgs:tree",
    back_label=gettext_lazy("区划与单位"),
    make_spec=_unit_spec,
)


@require(Perm.ORG_MANAGE)
def unit_import(request: HttpRequest) -> HttpResponse:
    return UNIT_IMPORT.upload(request)


@require(Perm.ORG_MANAGE)
def unit_import_preview(request: HttpRequest, token: str) -> HttpResponse:
    return UNIT_IMPORT.preview(request, token)


@require(Perm.ORG_MANAGE)
def unit_import_rejected(request: HttpRequest, token: str) -> HttpResponse:
    return UNIT_IMPORT.rejected(request, token)


@require(Perm.ORG_MANAGE)
def unit_import_template(request: HttpRequest) -> HttpResponse:
    return UNIT_IMPORT.template(request)
