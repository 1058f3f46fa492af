"""Pages of the register of regulated units: the list, a unit's page, the unit,
licence, allowed-item and contact forms; the catalogue; the county's rules.

Reading needs a capability every everyday role has; writing, ``RECORD_WRITE``.
The three administrators do no business work here (403), except that the
system administrator keeps the catalogue.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jindu.codes import registry
from jindu.core.access import require, signed_in
from jindu.core.excel import export_response
from jindu.core.masking import mask
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.models import Department, OrgUnit
from jindu.regulation import catalogue, selectors, services
from jindu.regulation.exports import UnitExporter
from jindu.regulation.forms import (
    AllowanceForm,
    ContactForm,
    LicenceForm,
    PolicyForm,
    SubstanceForm,
    UnitFilterForm,
    UnitForm,
    apply_errors,
)
from jindu.regulation.models import (
    Allowance,
    Contact,
    Finding,
    Licence,
    RegulatedUnit,
    RegulationPolicy,
    Substance,
)


def unit_or_404(request: HttpRequest, pk: Any) -> RegulatedUnit:
    return get_in_scope_or_404(
        RegulatedUnit.objects.select_related("org_unit", "department"), request.user, pk=pk
    )


def _place(user: Any, pk: Any) -> OrgUnit | None:
    return OrgUnit.objects.for_user(user).filter(pk=pk).first() if pk else None


# ------------------------------------------------------------------ the list


@require(Perm.DASHBOARD_VIEW)
@require_GET
def unit_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    policy = RegulationPolicy.current()
    form = UnitFilterForm(request.GET or None, user=user)
    filters = form.to_filter()
    qs = selectors.units_for(user, filters, today, policy.licence_warning_days)
    page = Paginator(qs, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    kinds = registry.labels("regulated_unit_kind")
    rows = [
        {
            "unit": u,
            "kind": kinds.get(u.kind, u.kind),
            "flag": selectors.licence_flag(u, today, policy.licence_warning_days),
        }
        for u in page
    ]
    return render(
        request,
        "regulation/unit_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "warning_days": policy.licence_warning_days,
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def unit_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = UnitFilterForm(request.GET or None, user=user)
    qs = selectors.units_for(
        user,
        form.to_filter(),
        timezone.localdate(),
        RegulationPolicy.current().licence_warning_days,
    )
    return export_response(
        UnitExporter(qs),
        actor=user,
        object_type="regulation.regulatedunit",
        detail=dict(request.GET.items()),
    )


# ------------------------------------------------------------------ one unit


@require(Perm.DASHBOARD_VIEW)
@require_GET
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = unit_or_404(request, pk)
    today = timezone.localdate()
    policy = RegulationPolicy.current()
    labels = registry.labels("measure_unit")
    licence_kinds = registry.labels("licence_kind")
    licences = [
        {
            "licence": lic,
            "kind": licence_kinds.get(lic.kind, lic.kind),
            "expired": lic.expired(today),
            "expiring": lic.expiring(today, policy.licence_warning_days),
            "days_left": (lic.valid_until - today).days,
        }
        for lic in unit.licences.all().order_by("-valid_until")
    ]
    allowances = [
        {"allowance": a, "unit_label": labels.get(a.substance.unit, a.substance.unit)}
        for a in Allowance.objects.filter(unit=unit)
        .select_related("substance", "licence")
        .order_by("substance__code")
    ]
    contacts = [{"contact": c, "phone": mask("phone", c.phone)} for c in unit.contacts.all()]
    findings = (
        Finding.objects.for_user(user)
        .filter(unit=unit, closed_on__isnull=True)
        .select_related("substance")
        .order_by("-period_end", "-id")[:20]
    )
    results = registry.labels("check_result")
    checks = [
        {"check": c, "result": results.get(c.result, c.result)}
        for c in unit.checks.select_related("target__campaign").order_by("-checked_on", "-id")[:10]
    ]
    can_write = user.has_jindu_perm(Perm.RECORD_WRITE)
    return render(
        request,
        "regulation/unit_detail.html",
        {
            "unit": unit,
            "kind": registry.label("regulated_unit_kind", unit.kind),
            "licences": licences,
            "allowances": allowances,
            "contacts": contacts,
            "findings": findings,
            "checks": checks,
            "can_write": can_write,
            "allowance_form": AllowanceForm(licences=[x["licence"] for x in licences])
            if can_write
            else None,
            "contact_form": ContactForm() if can_write else None,
        },
    )


def _unit_form_data(form: UnitForm, user: Any) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "credit_code": data.get("credit_code") or "",
        "kind": data["kind"],
        "department": Department.objects.filter(pk=data["department"]).first(),
        "org_unit": _place(user, data["org_unit"]),
        "address": data.get("address") or "",
        "registered_on": data["registered_on"],
        "notes": data.get("notes") or "",
    }


@require(Perm.RECORD_WRITE)
def unit_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = UnitForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        values = _unit_form_data(form, user)
        try:
            unit = services.register_unit(actor=user, **values)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("已登记“%(name)s”，请继续添加证件和核定品种") % {"name": unit.name}
            )
            return redirect("regulation:unit", pk=unit.pk)
    return render(request, "regulation/unit_form.html", {"form": form, "unit": None})


@require(Perm.RECORD_WRITE)
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = unit_or_404(request, pk)
    initial = {
        "name": unit.name,
        "credit_code": unit.credit_code,
        "kind": unit.kind,
        "department": unit.department_id,
        "org_unit": unit.org_unit_id,
        "address": unit.address,
        "registered_on": unit.registered_on,
        "closed_on": unit.closed_on,
        "notes": unit.notes,
    }
    form = UnitForm(request.POST or None, initial=initial, user=user, current_kind=unit.kind)
    if request.method == "POST" and form.is_valid():
        values = _unit_form_data(form, user)
        values["closed_on"] = form.cleaned_data.get("closed_on")
        try:
            services.update_unit(actor=user, unit=unit, **values)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("regulation:unit", pk=unit.pk)
    return render(request, "regulation/unit_form.html", {"form": form, "unit": unit})


# ------------------------------------------------------------------ licences


def _licence(request: HttpRequest, pk: Any) -> Licence:
    return get_in_scope_or_404(Licence.objects.select_related("unit"), request.user, pk=pk)


@require(Perm.RECORD_WRITE)
def licence_add(request: HttpRequest, pk: int) -> HttpResponse:
    unit = unit_or_404(request, pk)
    form = LicenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_licence(actor=request.user, unit=unit, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已添加证件"))
            return redirect("regulation:unit", pk=unit.pk)
    return render(
        request, "regulation/licence_form.html", {"form": form, "unit": unit, "licence": None}
    )


@require(Perm.RECORD_WRITE)
def licence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    licence = _licence(request, pk)
    unit = unit_or_404(request, licence.unit_id)
    initial = {f: getattr(licence, f) for f in services.LICENCE_FIELDS}
    form = LicenceForm(request.POST or None, initial=initial, current_kind=licence.kind)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_licence(actor=request.user, licence=licence, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存证件"))
            return redirect("regulation:unit", pk=unit.pk)
    return render(
        request, "regulation/licence_form.html", {"form": form, "unit": unit, "licence": licence}
    )


# ------------------------------------------------------------------ allowed items and contacts


@require(Perm.RECORD_WRITE)
def allowance_add(request: HttpRequest, pk: int) -> HttpResponse:
    unit = unit_or_404(request, pk)
    licences = list(unit.licences.all().order_by("-valid_until"))
    form = AllowanceForm(request.POST or None, licences=licences)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        substance = Substance.objects.filter(pk=data["substance"]).first()
        licence = next((lic for lic in licences if lic.pk == data.get("licence")), None)
        try:
            if substance is None:
                raise ValidationError({"substance": [_("请选择品种")]})
            services.set_allowance(
                actor=request.user,
                unit=unit,
                substance=substance,
                yearly_quantity=data.get("yearly_quantity") or None,
                licence=licence,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存核定品种“%(name)s”") % {"name": substance.name})
            return redirect("regulation:unit", pk=unit.pk)
    return render(
        request, "regulation/small_form.html", {"form": form, "unit": unit, "title": _("核定品种")}
    )


@require(Perm.RECORD_WRITE)
@require_POST
def allowance_remove(request: HttpRequest, pk: int) -> HttpResponse:
    allowance = get_object_or_404(Allowance.objects.select_related("substance"), pk=pk)
    unit = unit_or_404(request, allowance.unit_id)
    services.remove_allowance(actor=request.user, allowance=allowance)
    messages.success(request, _("已移除核定品种“%(name)s”") % {"name": allowance.substance.name})
    return redirect("regulation:unit", pk=unit.pk)


@require(Perm.RECORD_WRITE)
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    unit = unit_or_404(request, pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_contact(actor=request.user, unit=unit, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已添加联系人"))
            return redirect("regulation:unit", pk=unit.pk)
    return render(
        request, "regulation/small_form.html", {"form": form, "unit": unit, "title": _("联系人")}
    )


@require(Perm.RECORD_WRITE)
@require_POST
def contact_remove(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk)
    unit = unit_or_404(request, contact.unit_id)
    services.remove_contact(actor=request.user, contact=contact)
    messages.success(request, _("已移除联系人"))
    return redirect("regulation:unit", pk=unit.pk)


# ------------------------------------------------------------------ catalogue


@signed_in
@require_GET
def catalogue_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    category = request.GET.get("category", "")
    qs = Substance.objects.all()
    if category:
        qs = qs.filter(category=category)
    categories = registry.labels("substance_category")
    units = registry.labels("measure_unit")
    rows = [
        {
            "substance": s,
            "category": categories.get(s.category, s.category),
            "unit": units.get(s.unit, s.unit),
        }
        for s in qs.order_by("catalogue", "category", "code")
    ]
    return render(
        request,
        "regulation/catalogue.html",
        {
            "rows": rows,
            "category": category,
            "categories": registry.choices("substance_category"),
            "can_manage": user.has_jindu_perm(Perm.CODES_MANAGE),
        },
    )


def _substance_values(form: SubstanceForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["aliases"] = data.get("aliases") or ""
    data["notes"] = data.get("notes") or ""
    return data


@require(Perm.CODES_MANAGE)
def substance_add(request: HttpRequest) -> HttpResponse:
    form = SubstanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = _substance_values(form)
        try:
            substance = catalogue.add_substance(actor=request.user, **values)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已添加品种“%(name)s”") % {"name": substance.name})
            return redirect("regulation:catalogue")
    return render(request, "regulation/substance_form.html", {"form": form, "substance": None})


@require(Perm.CODES_MANAGE)
def substance_edit(request: HttpRequest, pk: int) -> HttpResponse:
    substance = get_object_or_404(Substance, pk=pk)
    initial = {f: getattr(substance, f) for f in catalogue.SUBSTANCE_FIELDS}
    form = SubstanceForm(request.POST or None, initial=initial, editing=True, current=substance)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.update_substance(
                actor=request.user, substance=substance, **_substance_values(form)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存品种“%(name)s”") % {"name": substance.name})
            return redirect("regulation:catalogue")
    return render(request, "regulation/substance_form.html", {"form": form, "substance": substance})


# ------------------------------------------------------------------ rules


@require(Perm.REGULATION_POLICY)
def policy(request: HttpRequest) -> HttpResponse:
    current = RegulationPolicy.current()
    initial = {
        "licence_warning_days": current.licence_warning_days,
        "match_window_days": current.match_window_days,
        "match_tolerance_percent": current.match_tolerance_percent,
    }
    form = PolicyForm(request.POST or None, initial=initial, policy=current)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_policy(
                actor=request.user,
                licence_warning_days=data["licence_warning_days"],
                match_window_days=data["match_window_days"],
                match_tolerance_percent=data["match_tolerance_percent"],
                report_days=form.report_days(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存监管规则"))
            return redirect("regulation:policy")
    return render(request, "regulation/policy.html", {"form": form})
