"""Reconciliation and findings: the reconciliation page (run for a period over the
user's scope, findings grouped by kind with their amounts), the findings list
with its export, and a finding's page where it is assigned and closed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jindu.accounts.models import User
from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.regulation import campaigns, reconcile, selectors
from jindu.regulation.exports import FindingExporter
from jindu.regulation.forms import (
    AssignForm,
    CloseForm,
    FindingFilterForm,
    PeriodForm,
    apply_errors,
)
from jindu.regulation.models import Finding, FindingKind, RegulatedUnit

SHOWN_PER_KIND = 20


def _period(request: HttpRequest) -> tuple[PeriodForm, Any]:
    form = PeriodForm(request.GET or request.POST or None)
    return form, form.period(timezone.localdate())


def ledger_link(finding: Finding) -> str:
    """The ledger page of the finding's unit and item, in its year, at its line."""
    url = reverse("regulation:ledger", args=[finding.unit_id])
    anchor = f"#entry-{finding.entry_id}" if finding.entry_id else ""
    return f"{url}?year={finding.period_end.year}&item={finding.substance_id}{anchor}"


@require(Perm.DASHBOARD_VIEW)
@require_GET
def reconcile_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, period = _period(request)
    found = selectors.findings_in(user, period.start, period.end)
    summaries = selectors.summary_by_kind(found)
    labels = registry.labels("measure_unit")
    groups = []
    for summary in summaries:
        if not summary.count:
            continue
        rows = list(
            found.filter(kind=summary.kind)
            .select_related("unit", "unit__org_unit", "substance")
            .order_by("-period_end", "-id")[:SHOWN_PER_KIND]
        )
        groups.append(
            {
                "summary": summary,
                "rows": [
                    {
                        "finding": f,
                        "link": ledger_link(f),
                        "unit_label": labels.get(f.substance.unit, f.substance.unit),
                    }
                    for f in rows
                ],
                "more": summary.count - len(rows),
            }
        )
    chart = {
        "kinds": [str(g["summary"].label) for g in groups],
        "open": [g["summary"].open for g in groups],
        "closed": [g["summary"].count - g["summary"].open for g in groups],
        "labels": {"open": _("未办结"), "closed": _("已办结")},
    }
    today = timezone.localdate()
    return render(
        request,
        "regulation/reconcile.html",
        {
            "form": form,
            "period": period,
            "groups": groups,
            "total": sum(s.count for s in summaries),
            "units_in_scope": RegulatedUnit.objects.for_user(user).count(),
            "can_run": user.has_jindu_perm(Perm.RECORD_WRITE),
            "chart": chart,
            "years": list(range(today.year, today.year - 6, -1)),
            "months": list(range(1, 13)),
        },
    )


@require(Perm.RECORD_WRITE)
@require_POST
def reconcile_run(request: HttpRequest) -> HttpResponse:
    user = request.user
    form, period = _period(request)
    result = reconcile.run(actor=user, units=RegulatedUnit.objects.for_user(user), period=period)
    messages.success(
        request,
        _("已核对%(period)s的台账：发现问题%(total)d个，其中新发现%(created)d个")
        % {"period": period.label, "total": result.total, "created": result.created},
    )
    params = {k: v for k, v in request.POST.items() if k in ("year", "quarter", "month") and v}
    url = reverse("regulation:reconcile")
    if params:
        from urllib.parse import urlencode

        url = f"{url}?{urlencode(params)}"
    return redirect(url)


# ------------------------------------------------------------------ findings


def _filtered(request: HttpRequest) -> tuple[FindingFilterForm, QuerySet[Finding]]:
    form = FindingFilterForm(request.GET or None)
    qs = Finding.objects.for_user(request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    status = data.get("status")
    if status == "open":
        qs = qs.filter(closed_on__isnull=True)
    elif status == "unassigned":
        qs = qs.filter(
            closed_on__isnull=True, assigned_user__isnull=True, assigned_department__isnull=True
        )
    elif status == "closed":
        qs = qs.filter(closed_on__isnull=False)
    if data.get("year"):
        qs = qs.filter(period_end__year=data["year"])
    if data.get("unit"):
        qs = qs.filter(unit_id=data["unit"])
    return form, qs.order_by("-period_end", "-id")


@require(Perm.DASHBOARD_VIEW)
@require_GET
def finding_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    page = Paginator(
        qs.select_related(
            "unit", "unit__org_unit", "substance", "assigned_user", "assigned_department"
        ),
        selectors.PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    labels = registry.labels("measure_unit")
    rows = [
        {
            "finding": f,
            "link": ledger_link(f),
            "unit_label": labels.get(f.substance.unit, f.substance.unit),
        }
        for f in page
    ]
    return render(
        request,
        "regulation/finding_list.html",
        {"form": form, "rows": rows, "page_obj": page, "kinds": FindingKind.choices},
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def finding_export(request: HttpRequest) -> HttpResponse:
    _form, qs = _filtered(request)
    return export_response(
        FindingExporter(qs),
        actor=request.user,
        object_type="regulation.finding",
        detail=dict(request.GET.items()),
    )


def _finding(request: HttpRequest, pk: Any) -> Finding:
    return get_in_scope_or_404(
        Finding.objects.select_related(
            "unit",
            "unit__org_unit",
            "unit__department",
            "substance",
            "entry",
            "assigned_user",
            "assigned_department",
            "closed_by",
        ),
        request.user,
        pk=pk,
    )


def _finding_page(
    request: HttpRequest,
    finding: Finding,
    *,
    assign_form: AssignForm | None = None,
    close_form: CloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_write = user.has_jindu_perm(Perm.RECORD_WRITE) and finding.closed_on is None
    if can_write and assign_form is None:
        assign_form = AssignForm(
            users=campaigns.assignable_users(user, finding), department=finding.unit.department
        )
    if can_write and close_form is None:
        close_form = CloseForm(initial={"closed_on": timezone.localdate()})
    return render(
        request,
        "regulation/finding_detail.html",
        {
            "finding": finding,
            "link": ledger_link(finding),
            "unit_label": registry.label("measure_unit", finding.substance.unit),
            "can_write": can_write,
            "assign_form": assign_form,
            "close_form": close_form,
        },
        status=status,
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _finding_page(request, _finding(request, pk))


@require(Perm.RECORD_WRITE)
@require_POST
def finding_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    finding = _finding(request, pk)
    users = campaigns.assignable_users(user, finding)
    form = AssignForm(request.POST, users=users, department=finding.unit.department)
    if form.is_valid():
        choice = form.cleaned_data["assignee"]
        assignee = department = None
        if choice.startswith("u"):
            assignee = User.objects.filter(pk=choice[1:]).first()
        elif choice.startswith("d"):
            department = finding.unit.department
        try:
            campaigns.assign_finding(
                actor=user, finding=finding, user=assignee, department=department
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已交办"))
            return redirect("regulation:finding", pk=finding.pk)
    return _finding_page(request, finding, assign_form=form, status=400)


@require(Perm.RECORD_WRITE)
@require_POST
def finding_close(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            campaigns.close_finding(
                actor=request.user,
                finding=finding,
                note=form.cleaned_data["note"],
                closed_on=form.cleaned_data.get("closed_on"),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已办结"))
            return redirect("regulation:finding", pk=finding.pk)
    return _finding_page(request, finding, close_form=form, status=400)
