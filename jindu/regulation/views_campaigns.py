"""Special-check campaigns (专项核对检查): the list, opening one over the units the
filters choose, a campaign's page with its coverage by township, and recording
the check of a listed unit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.regulation import campaigns, selectors
from jindu.regulation.forms import CampaignForm, CheckForm, apply_errors
from jindu.regulation.models import CampaignTarget, UnitCheck


@require(Perm.DASHBOARD_VIEW)
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    visible = selectors.campaigns_for(user).order_by("-starts_on", "-id")
    page = Paginator(visible, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [c.pk for c in page]
    # The user's part of each campaign, counted in one query.
    counts = {
        row["campaign_id"]: row
        for row in CampaignTarget.objects.for_user(user)
        .filter(campaign_id__in=ids)
        .annotate(done=Exists(UnitCheck.objects.filter(target=OuterRef("pk"))))
        .values("campaign_id")
        .annotate(listed=Count("id"), checked=Count("id", filter=Q(done=True)))
        .order_by()
    }
    rows = []
    for campaign in page:
        row = counts.get(campaign.pk, {"listed": 0, "checked": 0})
        coverage = selectors.Coverage(
            campaign.name, campaign.org_path, row["listed"], row["checked"]
        )
        rows.append({"campaign": campaign, "coverage": coverage})
    return render(
        request,
        "regulation/campaign_list.html",
        {"rows": rows, "page_obj": page, "can_write": user.has_jindu_perm(Perm.RECORD_WRITE)},
    )


@require(Perm.RECORD_WRITE)
def campaign_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = CampaignForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = campaigns.create_campaign(
                actor=user,
                name=data["title"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                description=data.get("description") or "",
                filters=form.to_filter(),
                criteria=form.criteria(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已建立专项核对检查，列入%(n)d家单位") % {"n": campaign.targets.count()},
            )
            return redirect("regulation:campaign", pk=campaign.pk)
    return render(request, "regulation/campaign_form.html", {"form": form})


@require(Perm.DASHBOARD_VIEW)
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    campaign = selectors.campaign_or_404(user, pk)
    total, townships = selectors.coverage(user, campaign)
    show = request.GET.get("show", "")
    targets = selectors.targets_for(user, campaign).order_by("checked", "org_path", "unit__name")
    if show == "unchecked":
        targets = targets.filter(checked=False)
    elif show == "checked":
        targets = targets.filter(checked=True)
    page = Paginator(targets, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    kinds = registry.labels("regulated_unit_kind")
    return render(
        request,
        "regulation/campaign_detail.html",
        {
            "campaign": campaign,
            "total": total,
            "townships": townships,
            "page_obj": page,
            "kinds": kinds,
            "show": show,
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
        },
    )


def _target(request: HttpRequest, pk: Any) -> CampaignTarget:
    return get_in_scope_or_404(
        CampaignTarget.objects.select_related("campaign", "unit", "unit__org_unit"),
        request.user,
        pk=pk,
    )


@require(Perm.RECORD_WRITE)
def check_add(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    form = CheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.record_check(actor=request.user, target=target, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已记录对“%(name)s”的检查") % {"name": target.unit.name})
            return redirect("regulation:campaign", pk=target.campaign_id)
    checks = target.checks.order_by("-checked_on", "-id")
    return render(
        request,
        "regulation/check_form.html",
        {
            "form": form,
            "target": target,
            "checks": checks,
            "results": registry.labels("check_result"),
        },
    )
