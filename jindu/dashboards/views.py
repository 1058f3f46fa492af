"""Dashboards: a unit's targets, board, units below, months, people and alerts on one
page; the same page one level down; and the leaders' big screen.

The unit shown is the user's own (the county office: the county; a township
cadre: their township), or a unit inside their subtree picked by clicking down
(404 outside it, as for any record). Administrators are refused by the access
rule. Every table exports with ``?export=<table>`` (audited).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.dashboards import data, exports
from jindu.orgs.models import OrgUnit
from jindu.targets import completion
from jindu.targets.forms import YearForm


def _year(request: HttpRequest) -> tuple[YearForm, int, date]:
    form = YearForm(request.GET or None)
    year = form.chosen_year() if form.is_bound else timezone.localdate().year
    # The running year is measured to today; a past year to its last day.
    on = completion.day_in_year(year, min(date(year, 12, 31), timezone.localdate()))
    return form, year, on


def _own_unit(request: HttpRequest) -> OrgUnit:
    unit = request.user.org_unit
    if unit is None:
        raise Http404(_("账号未归属任何单位"))
    return unit


def _page(request: HttpRequest, unit: OrgUnit) -> HttpResponse:
    form, year, on = _year(request)
    board = data.build(request.user, unit, year, on)
    table = request.GET.get("export")
    if table:
        make = exports.TABLES.get(table)
        if make is None:
            raise Http404(_("没有这张表"))
        return export_response(
            make(board),
            actor=request.user,
            object_type="dashboards.dashboard",
            detail={"table": table, "unit": unit.pk, "year": year},
        )
    side = board.side_rows()
    status = board.people_by_status()
    ancestors = list(
        OrgUnit.objects.for_user(request.user)
        .filter(pk__in=unit.ancestor_ids()[:-1])
        .order_by("path")
    )
    return render(
        request,
        "dashboards/dashboard.html",
        {
            "form": form,
            "year": year,
            "on": on,
            "board": board,
            "unit": unit,
            "ancestors": ancestors,
            "elapsed": board.elapsed(),
            "progress": board.completion_rows(),
            "board_rows": board.board_rows(),
            "side_indicators": board.side_indicators(),
            "side": side,
            "status": status,
            "status_total": sum(n for _s, n in status),
            "alerts": board.alerts(),
            "chart": board.chart_data(side, status),
        },
    )


@require(Perm.DASHBOARD_VIEW)
def county(request: HttpRequest) -> HttpResponse:
    """The user's own unit: the county for the county office, a township for its cadre."""
    return _page(request, _own_unit(request))


@require(Perm.DASHBOARD_VIEW)
def unit(request: HttpRequest, pk: int) -> HttpResponse:
    """One level down (or any unit in the user's subtree); 404 outside it."""
    return _page(request, get_in_scope_or_404(OrgUnit, request.user, pk=pk))


def _screen_context(request: HttpRequest) -> dict[str, Any]:
    _form, year, on = _year(request)
    board = data.build(request.user, _own_unit(request), year, on)
    side = board.side_rows()
    status = board.people_by_status()
    chart = board.chart_data(side, status)
    return {
        "year": year,
        "board": board,
        "unit": board.unit,
        "headline": board.headline(),
        "progress": board.completion_rows(),
        "board_rows": board.board_rows(),
        "alerts": board.alerts(),
        "chart": chart,
        "chart_json": json.dumps(chart, ensure_ascii=False),
        "updated": timezone.localtime(),
    }


@require(Perm.DASHBOARD_VIEW)
def screen(request: HttpRequest) -> HttpResponse:
    """The leaders' big screen: full-screen, dark, refreshing its panel every minute."""
    return render(request, "dashboards/screen.html", _screen_context(request))


@require(Perm.DASHBOARD_VIEW)
def screen_panel(request: HttpRequest) -> HttpResponse:
    """The big screen's figures alone, fetched by HTMX polling (no full reload)."""
    return render(request, "dashboards/_screen_panel.html", _screen_context(request))
