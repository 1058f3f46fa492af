"""Pages of the case records: the case list and its export, a case's page with its
suspects, seizures and assets, and the forms that add and change each; the
seizure list. Suspects' ID numbers are masked everywhere; revealing one asks for
a reason and is audited (``identity.reveal_id_number``).

Reading the lists needs ``DASHBOARD_VIEW``; a case's page names its suspects, so
it needs ``PERSONAL_DATA``; writing needs ``RECORD_WRITE``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.enforcement import identity, selectors, services
from jindu.enforcement.exports import CaseExporter, SeizureExporter
from jindu.enforcement.forms import (
    AssetForm,
    CaseFilterForm,
    CaseForm,
    DatedFilterForm,
    RevealForm,
    SeizureForm,
    SuspectForm,
    apply_errors,
)
from jindu.enforcement.models import (
    AssetConfiscation,
    Case,
    CaseStatus,
    Seizure,
    Suspect,
)
from jindu.people import idnumber

STATUS_BADGE = {
    CaseStatus.FILED: "text-bg-light border",
    CaseStatus.INVESTIGATING: "text-bg-warning",
    CaseStatus.SOLVED: "text-bg-success",
    CaseStatus.PROSECUTED: "text-bg-primary",
    CaseStatus.CLOSED: "text-bg-secondary",
}


def case_or_404(request: HttpRequest, pk: Any) -> Case:
    qs = selectors.with_status(Case.objects.select_related("org_unit", "department"))
    return get_in_scope_or_404(qs, request.user, pk=pk)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _filtered(request: HttpRequest) -> bool:
    return any(v for k, v in request.GET.items() if k != "page")


# ------------------------------------------------------------------ the case list


def _case_filter(request: HttpRequest) -> tuple[CaseFilterForm, selectors.CaseFilter]:
    form = CaseFilterForm(request.GET or None, user=request.user, today=timezone.localdate())
    return form, form.to_filter()


@require(Perm.DASHBOARD_VIEW)
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, filters = _case_filter(request)
    page = Paginator(selectors.cases_for(user, filters), selectors.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    offences = registry.labels("offence")
    statuses = dict(CaseStatus.choices)
    rows = [
        {
            "case": case,
            "offence": offences.get(case.offence, case.offence),
            "status": statuses.get(case.status, ""),
            "status_class": STATUS_BADGE.get(case.status, ""),
        }
        for case in page
    ]
    return render(
        request,
        "enforcement/case_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "filtered": _filtered(request),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_open": user.has_jindu_perm(Perm.PERSONAL_DATA),
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def case_export(request: HttpRequest) -> HttpResponse:
    _form, filters = _case_filter(request)
    return export_response(
        CaseExporter(selectors.cases_for(request.user, filters)),
        actor=request.user,
        object_type="enforcement.case",
        detail=dict(request.GET.items()),
    )


# ------------------------------------------------------------------ one case


@require(Perm.PERSONAL_DATA)
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = case_or_404(request, pk)
    drugs = registry.labels("drug_type")
    synthetic = selectors.synthetic_codes()
    suspects = []
    for s in Suspect.objects.for_user(user).filter(case=case).order_by("id"):
        age = idnumber.age_on(s.birth_date, case.offence_day)
        suspects.append({"suspect": s, "masked": identity.masked(s), "age": age, "minor": age < 18})
    seizures = [
        {
            "seizure": s,
            "drug": drugs.get(s.drug_type, s.drug_type),
            "synthetic": s.drug_type in synthetic,
        }
        for s in Seizure.objects.for_user(user).filter(case=case).select_related("org_unit")
    ]
    assets = list(AssetConfiscation.objects.for_user(user).filter(case=case))
    kinds = registry.labels("asset_kind")
    return render(
        request,
        "enforcement/case_detail.html",
        {
            "case": case,
            "offence": registry.label("offence", case.offence),
            "status": dict(CaseStatus.choices).get(case.status, ""),
            "status_class": STATUS_BADGE.get(case.status, ""),
            "suspects": suspects,
            "seizures": seizures,
            "grams": sum((row["seizure"].weight_g for row in seizures), start=0),
            "assets": [{"asset": a, "kind": kinds.get(a.kind, a.kind)} for a in assets],
            "asset_total": sum((a.amount for a in assets), start=0),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_reveal": user.has_jindu_perm(Perm.PERSONAL_REVEAL),
        },
    )


def _form_page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, context)


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("caused_id_number")
@require_http_methods(["GET", "POST"])
def case_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = CaseForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.create_case(actor=user, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记案件“%(n)s”") % {"n": case.number})
            return redirect("enforcement:case", pk=case.pk)
    return _form_page(request, "enforcement/case_form.html", form=form, case=None)


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("caused_id_number")
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    case = case_or_404(request, pk)
    form = CaseForm(request.POST or None, user=user, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_case(actor=user, case=case, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("enforcement:case", pk=case.pk)
    return _form_page(request, "enforcement/case_form.html", form=form, case=case)


# ------------------------------------------------------------------ suspects


def _suspect(request: HttpRequest, pk: Any) -> Suspect:
    return get_in_scope_or_404(Suspect.objects.select_related("case"), request.user, pk=pk)


def _small_form(
    request: HttpRequest, form: Any, *, case: Case | None, title: str, back: str
) -> HttpResponse:
    return render(
        request,
        "enforcement/small_form.html",
        {"form": form, "case": case, "title": title, "back": back},
    )


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def suspect_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(request, pk)
    form = SuspectForm(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_suspect(actor=request.user, case=case, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已添加犯罪嫌疑人"))
            return redirect("enforcement:case", pk=case.pk)
    back = reverse("enforcement:case", args=[case.pk])
    return _small_form(request, form, case=case, title=_("添加犯罪嫌疑人"), back=back)


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def suspect_edit(request: HttpRequest, pk: int) -> HttpResponse:
    suspect = _suspect(request, pk)
    case = suspect.case
    form = SuspectForm(request.POST or None, suspect=suspect)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_suspect(actor=request.user, suspect=suspect, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("enforcement:case", pk=case.pk)
    back = reverse("enforcement:case", args=[case.pk])
    return _small_form(request, form, case=case, title=_("修改犯罪嫌疑人"), back=back)


def reveal_page(request: HttpRequest, obj: Any, *, url: str, back: str, title: str) -> HttpResponse:
    """Ask for a reason, then show one ID number in full, once (audited)."""
    form = RevealForm(request.POST or None)
    value = None
    if request.method == "POST" and form.is_valid():
        try:
            value = identity.reveal_id_number(
                actor=request.user, obj=obj, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
    context = {
        "obj": obj,
        "url": url,
        "back": back,
        "title": title,
        "masked": identity.masked(obj),
        "form": form,
        "value": value,
        "revealed": value is not None,
        "holder": f"reveal-{obj._meta.model_name}-{obj.pk}",
    }
    template = "enforcement/_reveal.html" if is_htmx(request) else "enforcement/reveal.html"
    return render(request, template, context)


@require(Perm.PERSONAL_REVEAL)
@require_http_methods(["GET", "POST"])
def suspect_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    suspect = _suspect(request, pk)
    return reveal_page(
        request,
        suspect,
        url=reverse("enforcement:suspect_reveal", args=[suspect.pk]),
        back=reverse("enforcement:case", args=[suspect.case_id]),
        title=_("查看%(name)s的身份证号") % {"name": suspect.name},
    )


# ------------------------------------------------------------------ seizures


@require(Perm.DASHBOARD_VIEW)
@require_GET
def seizure_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = DatedFilterForm(request.GET or None, user=user, today=timezone.localdate())
    qs = selectors.seizures_for(user, form.to_filter())
    page = Paginator(qs, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    drugs = registry.labels("drug_type")
    synthetic = selectors.synthetic_codes()
    totals = [
        {"drug": drugs.get(code, code), "grams": grams, "synthetic": code in synthetic}
        for code, grams in qs.order_by("drug_type")
        .values_list("drug_type")
        .annotate(g=Sum("weight_g"))
        .order_by("-g")
    ]
    rows = [
        {
            "seizure": s,
            "drug": drugs.get(s.drug_type, s.drug_type),
            "synthetic": s.drug_type in synthetic,
        }
        for s in page
    ]
    return render(
        request,
        "enforcement/seizure_list.html",
        {
            "form": form,
            "rows": rows,
            "totals": totals,
            "page_obj": page,
            "filtered": _filtered(request),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_open": user.has_jindu_perm(Perm.PERSONAL_DATA),
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def seizure_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = DatedFilterForm(request.GET or None, user=user, today=timezone.localdate())
    return export_response(
        SeizureExporter(selectors.seizures_for(user, form.to_filter())),
        actor=user,
        object_type="enforcement.seizure",
        detail=dict(request.GET.items()),
    )


def _seizure_saved(request: HttpRequest, seizure: Seizure) -> HttpResponse:
    messages.success(request, _("已保存：%(w)s克") % {"w": seizure.weight_g})
    if seizure.case_id:
        return redirect("enforcement:case", pk=seizure.case_id)
    return redirect("enforcement:seizures")


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def seizure_add(request: HttpRequest) -> HttpResponse:
    """A seizure with no case filed (a find, a drug handed in)."""
    form = SeizureForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            seizure = services.record_seizure(actor=request.user, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _seizure_saved(request, seizure)
    back = reverse("enforcement:seizures")
    return _small_form(request, form, case=None, title=_("登记缴获毒品"), back=back)


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def case_seizure_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(request, pk)
    form = SeizureForm(request.POST or None, user=request.user, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            seizure = services.record_seizure(actor=request.user, case=case, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _seizure_saved(request, seizure)
    back = reverse("enforcement:case", args=[case.pk])
    return _small_form(request, form, case=case, title=_("登记缴获毒品"), back=back)


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def seizure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    seizure = get_in_scope_or_404(
        Seizure.objects.select_related("case", "org_unit", "department"), request.user, pk=pk
    )
    form = SeizureForm(request.POST or None, user=request.user, seizure=seizure)
    if request.method == "POST" and form.is_valid():
        try:
            seizure = services.update_seizure(actor=request.user, seizure=seizure, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _seizure_saved(request, seizure)
    back = (
        reverse("enforcement:case", args=[seizure.case_id])
        if seizure.case_id
        else reverse("enforcement:seizures")
    )
    return _small_form(request, form, case=seizure.case, title=_("修改缴获记录"), back=back)


# ------------------------------------------------------------------ assets


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def asset_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(request, pk)
    form = AssetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_asset(actor=request.user, case=case, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记收缴涉毒资产"))
            return redirect("enforcement:case", pk=case.pk)
    back = reverse("enforcement:case", args=[case.pk])
    return _small_form(request, form, case=case, title=_("登记收缴涉毒资产"), back=back)


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def asset_edit(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_in_scope_or_404(
        AssetConfiscation.objects.select_related("case"), request.user, pk=pk
    )
    form = AssetForm(request.POST or None, asset=asset)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_asset(actor=request.user, asset=asset, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("enforcement:case", pk=asset.case_id)
    back = reverse("enforcement:case", args=[asset.case_id])
    return _small_form(request, form, case=asset.case, title=_("修改涉毒资产"), back=back)
