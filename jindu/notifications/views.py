"""The user's own notifications: the list, marking read, and the bell's unread count.

A notification belongs to its recipient alone: every query starts from
``own_notifications``, and another user's notification answers 404.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from jindu.core.access import public, signed_in
from jindu.notifications import services
from jindu.notifications.models import UNREAD, Notification

PAGE_SIZE = 20
# Tells the bell (and anything else listening) that the unread count changed.
CHANGED_EVENT = "notifications-changed"
# htmx stops polling when a poll answers 286.
STOP_POLLING = 286


def own_notifications(user: Any) -> QuerySet[Notification]:
    """The user's notifications, unread first, newest first within each.

    A withdrawn notification is not unread: it sorts with the read ones."""
    return (
        Notification.objects.filter(recipient=user)
        .alias(unread=ExpressionWrapper(UNREAD, output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-id")
    )


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@signed_in
@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "all")
    qs = own_notifications(request.user)
    if show == "unread":
        qs = qs.filter(UNREAD)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {
            "page_obj": page,
            "show": "unread" if show == "unread" else "all",
            "unread": services.unread_count(request.user),
        },
    )


@signed_in
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    back = _back_to_list(request)
    services.mark_read(user=request.user, notification_id=notification.pk)
    if _is_htmx(request):
        notification.refresh_from_db()
        response = render(request, "notifications/_item.html", {"n": notification})
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    return back


@signed_in
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    from django.contrib import messages

    # The form is read before anything changes, so that a malformed one changes nothing.
    back = _back_to_list(request)
    count = services.mark_read(user=request.user)
    if count:
        messages.success(
            request,
            ngettext("已将 %(n)d 条通知标为已读。", "已将 %(n)d 条通知标为已读。", count)
            % {"n": count},
        )
    else:
        messages.info(request, _("没有未读通知。"))
    return back


def _back_to_list(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications:list")


# Public so that a poll after the session has ended stops quietly instead of
# swapping the sign-in page into the top bar; it shows nothing to anyone else.
@public
@require_safe
def bell(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    return render(request, "notifications/_bell.html", {"unread": services.unread_count(user)})
