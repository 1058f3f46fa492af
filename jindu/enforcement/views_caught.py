"""Pages of drug users caught (查处吸毒人员) and drug-driving tests (毒驾检测): lists
with their exports, the forms, linking a user caught to the register, revealing
an ID number. Both lists name people, so reading them needs ``PERSONAL_DATA``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.enforcement import caught as caught_services
from jindu.enforcement import identity, selectors
from jindu.enforcement.exports import CaughtExporter, DrivingExporter
from jindu.enforcement.forms import CaughtForm, DatedFilterForm, DrivingForm, apply_errors
from jindu.enforcement.models import DrugDrivingTest, UserCaught
from jindu.enforcement.views import reveal_page


def _filter_form(request: HttpRequest, *, drug: bool) -> DatedFilterForm:
    return DatedFilterForm(
        request.GET or None, user=request.user, today=timezone.localdate(), drug=drug
    )


def _filtered(request: HttpRequest) -> bool:
    return any(v for k, v in request.GET.items() if k != "page")


# ------------------------------------------------------------------ users caught


def _caught(request: HttpRequest, pk: int) -> UserCaught:
    return get_in_scope_or_404(
        UserCaught.objects.select_related("org_unit", "department", "person"),
        request.user,
        pk=pk,
    )


@require(Perm.PERSONAL_DATA)
@require_GET
def caught_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = _filter_form(request, drug=True)
    qs = selectors.caught_for(user, form.to_filter())
    page = Paginator(qs, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    drugs = registry.labels("drug_type")
    synthetic = selectors.synthetic_codes()
    rows = [
        {
            "caught": c,
            "masked": identity.masked(c),
            "drug": drugs.get(c.drug_type, c.drug_type),
            "synthetic": c.drug_type in synthetic,
        }
        for c in page
    ]
    return render(
        request,
        "enforcement/caught_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "total": page.paginator.count,
            "synthetic_total": qs.filter(drug_type__in=synthetic).count(),
            "filtered": _filtered(request),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_reveal": user.has_jindu_perm(Perm.PERSONAL_REVEAL),
            "can_open_people": user.has_jindu_perm(Perm.PERSONAL_DATA),
        },
    )


@require(Perm.PERSONAL_DATA)
@require_GET
def caught_export(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request, drug=True)
    return export_response(
        CaughtExporter(selectors.caught_for(request.user, form.to_filter())),
        actor=request.user,
        object_type="enforcement.usercaught",
        detail=dict(request.GET.items()),
    )


def _caught_page(request: HttpRequest, form: CaughtForm, title: str) -> HttpResponse:
    return render(
        request,
        "enforcement/small_form.html",
        {"form": form, "case": None, "title": title, "back": reverse("enforcement:caught")},
    )


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def caught_add(request: HttpRequest) -> HttpResponse:
    form = CaughtForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            record = caught_services.record_user_caught(
                actor=request.user, register_unit=form.registration_unit(), **form.values()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if record.person_id:
                messages.success(
                    request, _("已登记，并已关联吸毒人员名册中的%(n)s") % {"n": record.person.name}
                )
            else:
                messages.success(request, _("已登记。该人员尚未在名册中，登记到名册后可再关联"))
            return redirect("enforcement:caught")
    return _caught_page(request, form, _("登记查处吸毒人员"))


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def caught_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = _caught(request, pk)
    form = CaughtForm(request.POST or None, user=request.user, caught=record)
    if request.method == "POST" and form.is_valid():
        try:
            caught_services.update_user_caught(actor=request.user, caught=record, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("enforcement:caught")
    return _caught_page(request, form, _("修改查处记录"))


@require(Perm.RECORD_WRITE)
@require_POST
def caught_link(request: HttpRequest, pk: int) -> HttpResponse:
    record = _caught(request, pk)
    person = caught_services.link_user_caught(actor=request.user, caught=record)
    if person is None:
        messages.warning(request, _("您的管辖范围内的吸毒人员名册中仍没有该身份证号"))
    else:
        messages.success(request, _("已关联名册中的%(n)s") % {"n": person.name})
    return redirect("enforcement:caught")


@require(Perm.PERSONAL_REVEAL)
@require_http_methods(["GET", "POST"])
def caught_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    record = _caught(request, pk)
    return reveal_page(
        request,
        record,
        url=reverse("enforcement:caught_reveal", args=[record.pk]),
        back=reverse("enforcement:caught"),
        title=_("查看%(name)s的身份证号") % {"name": record.name},
    )


# ------------------------------------------------------------------ drug driving


def _test(request: HttpRequest, pk: int) -> DrugDrivingTest:
    return get_in_scope_or_404(
        DrugDrivingTest.objects.select_related("org_unit", "department"), request.user, pk=pk
    )


@require(Perm.PERSONAL_DATA)
@require_GET
def driving_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = _filter_form(request, drug=False)
    qs = selectors.driving_for(user, form.to_filter())
    page = Paginator(qs, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"test": t, "masked": identity.masked(t)} for t in page]
    pending = qs.filter(
        result="positive", licence_held=True, licence_reported_on__isnull=True
    ).count()
    return render(
        request,
        "enforcement/driving_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "pending": pending,
            "filtered": _filtered(request),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_reveal": user.has_jindu_perm(Perm.PERSONAL_REVEAL),
        },
    )


@require(Perm.PERSONAL_DATA)
@require_GET
def driving_export(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request, drug=False)
    return export_response(
        DrivingExporter(selectors.driving_for(request.user, form.to_filter())),
        actor=request.user,
        object_type="enforcement.drugdrivingtest",
        detail=dict(request.GET.items()),
    )


def _driving_page(request: HttpRequest, form: DrivingForm, title: str) -> HttpResponse:
    return render(
        request,
        "enforcement/small_form.html",
        {"form": form, "case": None, "title": title, "back": reverse("enforcement:driving")},
    )


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def driving_add(request: HttpRequest) -> HttpResponse:
    form = DrivingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            caught_services.record_driving_test(actor=request.user, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记毒驾检测"))
            return redirect("enforcement:driving")
    return _driving_page(request, form, _("登记毒驾检测"))


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def driving_edit(request: HttpRequest, pk: int) -> HttpResponse:
    test = _test(request, pk)
    form = DrivingForm(request.POST or None, user=request.user, test=test)
    if request.method == "POST" and form.is_valid():
        try:
            caught_services.update_driving_test(actor=request.user, test=test, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("enforcement:driving")
    return _driving_page(request, form, _("修改毒驾检测"))


@require(Perm.PERSONAL_REVEAL)
@require_http_methods(["GET", "POST"])
def driving_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    test = _test(request, pk)
    return reveal_page(
        request,
        test,
        url=reverse("enforcement:driving_reveal", args=[test.pk]),
        back=reverse("enforcement:driving"),
        title=_("查看%(name)s的身份证号") % {"name": test.name},
    )
