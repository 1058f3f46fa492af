"""The shell: home pages per role, language switch, health check and error pages."""

from __future__ import annotations

import logging

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe
from django.views.i18n import set_language as django_set_language

from jindu.core.access import public, signed_in

logger = logging.getLogger("jindu.errors")


@signed_in
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    from jindu.portal.home import home_context
    from jindu.portal.navigation import navigation_for

    nav = navigation_for(request.user, request.path)
    return render(request, "portal/home.html", home_context(request.user, nav))


@public
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    return django_set_language(request)


@public
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@public
@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; answer with the real icon."""
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("jindu/favicon.svg"))


# ---------------------------------------------------------------- error pages
# Django calls these without the access middleware; they show nothing but a
# message, so they need no rule of their own.


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        400,
        _("请求有误"),
        _("请求格式不正确、字段过多或内容过大，系统未做任何修改。请返回上一页检查后重试。"),
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        403,
        _("无权访问"),
        _("您的角色无权使用此功能。如需开通，请联系安全管理员。"),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        404,
        _("页面不存在"),
        _("您访问的页面或记录不存在，或不在您的管辖范围内。"),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Render without the request: the failure may be the database the shell reads."""
    try:
        html = loader.get_template("errors/500.html").render({})
    except Exception:  # the template machinery itself may be what failed
        logger.exception("the 500 page could not be rendered")
        html = (
            '<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>系统错误</title>'
            "<h1>500 系统错误</h1><p>系统处理请求时出错，已记录。请稍后重试或联系系统管理员。</p>"
        )
    return HttpResponseServerError(html)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    logger.warning("CSRF check failed: %s", reason)
    return _error(
        request,
        403,
        _("页面已过期"),
        _("表单已过期或来源不可信，您的提交未被处理。请刷新页面后重新填写提交。"),
    )
