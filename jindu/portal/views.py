"""The shell: home pages per role, language switch, health check and error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.i18n import set_language as django_set_language

from jindu.core.access import public, signed_in


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    from jindu.portal.home import home_context

    return render(request, "portal/home.html", home_context(request.user))


@public
def set_language(request: HttpRequest) -> HttpResponse:
    return django_set_language(request)


@public
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request, "errors/error.html", {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "请求有误", "请求格式不正确或内容过大，请返回上一页检查后重试。")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "无权访问", "您的角色无权使用此功能。如需开通，请联系安全管理员。")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "页面不存在", "您访问的页面或记录不存在，或不在您的管辖范围内。")


def server_error(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "errors/error.html",
        {"status": 500, "title": "系统错误", "message": "系统处理请求时出错，已记录。请稍后重试或联系系统管理员。"},
        status=500,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, 403, "页面已过期", "表单已过期或来源不可信，请刷新页面后重新提交。")
