"""The audit log for the audit administrator: search, one row, export, integrity check.

Reading the log is itself audited: a search when a new set of filters is
submitted (not every page of it), every export with its filter, every
integrity check with its verdict.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jindu.audit import services
from jindu.audit.actions import Action, Result
from jindu.audit.chain import GENESIS, row_hash
from jindu.audit.exports import WEB_MAX_ROWS, ExportTooLarge, export_events, role_labels
from jindu.audit.forms import AuditFilterForm, object_type_choices
from jindu.audit.models import AuditChainHead, AuditEvent
from jindu.core.access import require
from jindu.core.excel import xlsx_response
from jindu.core.roles import Perm

PAGE_SIZE = 50
_SESSION_LAST_SEARCH = "audit_last_search"


def _visible(user: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_user(user)


def _cursor(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _page(
    queryset: QuerySet[AuditEvent], before: int | None, after: int | None
) -> tuple[list[AuditEvent], bool, bool]:
    """One page, newest first, by seq alone: no OFFSET, no count of the table.

    ``before`` pages towards older rows, ``after`` back towards newer ones; the
    "is there more" questions are each one indexed EXISTS.
    """
    if after is not None:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[: PAGE_SIZE + 1])
        has_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        has_older = queryset.filter(seq__lt=rows[-1].seq if rows else after + 1).exists()
        return rows, has_newer, has_older
    page = queryset.filter(seq__lt=before) if before is not None else queryset
    rows = list(page.order_by("-seq")[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    has_newer = before is not None and queryset.filter(seq__gte=before).exists()
    return rows[:PAGE_SIZE], has_newer, has_older


def _audit_search(request: HttpRequest, filters: dict[str, str]) -> None:
    """Audit a submitted search, not each page of its results.

    The search button marks a submission; paging links carry only the filters.
    Filters that arrive without the mark but differ from the last audited search
    (a hand-made URL) are audited too, so no search goes unrecorded.
    """
    digest = hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()
    submitted = request.GET.get("search") == "1"
    if not submitted and request.session.get(_SESSION_LAST_SEARCH) == digest:
        return
    with transaction.atomic():
        services.record(
            actor=request.user,
            action=Action.AUDIT_SEARCHED,
            object_type=AuditEvent._meta.label_lower,
            detail={"filters": filters},
        )
    request.session[_SESSION_LAST_SEARCH] = digest


@require(Perm.AUDIT_READ)
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    rows: list[AuditEvent] = []
    has_newer = has_older = False
    filters: dict[str, str] = {}
    searched = form.is_bound and form.is_valid()
    if not form.is_bound or searched:
        queryset = _visible(request.user)
        if searched:
            filters = form.filters()
            queryset = form.apply(queryset)
            if filters:
                _audit_search(request, filters)
        rows, has_newer, has_older = _page(
            queryset, _cursor(request.GET.get("before")), _cursor(request.GET.get("after"))
        )
    base_query = urlencode(filters)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "rows": [_row_view(row) for row in rows],
            "has_newer": has_newer,
            "has_older": has_older,
            "newer_query": urlencode({**filters, "after": rows[0].seq}) if rows else "",
            "older_query": urlencode({**filters, "before": rows[-1].seq}) if rows else "",
            "first_query": base_query,
            "filters": filters,
            "object_types": object_type_choices(),
            "page_size": PAGE_SIZE,
        },
    )


_RESULT_BADGES = {Result.SUCCESS: "success", Result.FAILURE: "warning", Result.DENIED: "danger"}


def _row_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "event": event,
        "roles": role_labels(event.roles),
        "badge": _RESULT_BADGES.get(event.result, "secondary"),
    }


@require(Perm.AUDIT_READ)
@require_GET
def event_detail(request: HttpRequest, seq: int) -> HttpResponse:
    event = _visible(request.user).filter(seq=seq).first()
    if event is None:
        raise Http404(_("不存在或无权访问"))
    head = AuditChainHead.objects.filter(pk=1).first() or AuditChainHead(
        seq=event.seq, hash="", anchor_seq=0, anchor_hash=GENESIS
    )
    if event.seq == head.anchor_seq + 1:
        expected_prev = head.anchor_hash or GENESIS
    else:
        previous = AuditEvent.objects.filter(seq=event.seq - 1).values_list("hash", flat=True)
        expected_prev = previous.first()
    try:
        own_ok = hmac.compare_digest(
            row_hash(event.prev_hash, event.content(), event.algorithm), event.hash
        )
    except ValueError:
        own_ok = False
    detail_pretty = ""
    if event.detail:
        try:
            detail_pretty = json.dumps(
                json.loads(event.detail), ensure_ascii=False, indent=2, sort_keys=True
            )
        except ValueError:
            detail_pretty = event.detail
    return render(
        request,
        "audit/detail.html",
        {
            "row": _row_view(event),
            "event": event,
            "detail_pretty": detail_pretty,
            "own_ok": own_ok,
            "link_ok": expected_prev == event.prev_hash if expected_prev is not None else None,
            "previous_seq": event.seq - 1 if event.seq - 1 > head.anchor_seq else None,
            "next_seq": event.seq + 1 if event.seq < head.seq else None,
        },
    )


@require(Perm.AUDIT_READ)
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.POST)
    back = reverse("audit:list")
    if not form.is_valid():
        messages.error(request, _("筛选条件有误，未导出。请检查后重新查询。"))
        return redirect(back)
    filters = form.filters()
    back = f"{back}?{urlencode(filters)}" if filters else back
    queryset = form.apply(_visible(request.user))
    try:
        content, _count = export_events(
            queryset=queryset, filters=filters, actor=request.user, limit=WEB_MAX_ROWS
        )
    except ExportTooLarge as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return xlsx_response(content, f"{_('审计日志')}-{timezone.localdate():%Y%m%d}.xlsx")


@require(Perm.AUDIT_READ)
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    result = None
    if request.method == "POST":
        result = services.verify()
        with transaction.atomic():
            services.record(
                actor=request.user,
                action=Action.AUDIT_VERIFIED,
                result=Result.SUCCESS if result.ok else Result.FAILURE,
                detail=result.as_detail(),
            )
    context = {"result": result}
    if request.headers.get("HX-Request") == "true" and result is not None:
        return render(request, "audit/_verify_result.html", context)
    return render(request, "audit/verify.html", context)
