"""Error pages in Chinese, never a traceback (the suite runs with DEBUG off)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.urls import path, reverse

from jindu.core.access import require, signed_in
from jindu.core.roles import Perm
from jindu.notifications.models import Notification
from jindu.notifications.services import notify
from jindu.portal import views
from jindu.urls import handler400, handler403, handler404, handler500  # noqa: F401
from jindu.urls import urlpatterns as real_urlpatterns
from tests.helpers import sign_in


@require(Perm.AUDIT_READ)
def _audit_only(request):
    raise AssertionError("never reached by a user without the capability")


@signed_in
def _broken(request):
    raise RuntimeError("secret-detail-7f3a")


# The real URLconf plus two views that exist only for these tests.
urlpatterns = [
    *real_urlpatterns,
    path("test-only/audit/", _audit_only),
    path("test-only/broken/", _broken),
]


def test_suite_runs_with_debug_off():
    assert settings.DEBUG is False


# ---------------------------------------------------------------- 404


def test_unknown_url_answers_a_chinese_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    assert "不在您的管辖范围内" in body
    assert "返回首页" in body


def test_unknown_url_for_a_signed_in_user_keeps_the_shell(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "甲镇专干" in response.content.decode()


def test_out_of_scope_record_answers_the_same_404(client, personas):
    theirs = notify(recipients=[personas.cadre_b], title="乙镇的通知")[0]
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_read", args=[theirs.pk]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    assert "乙镇的通知" not in body
    theirs.refresh_from_db()
    assert theirs.read_at is None


# ---------------------------------------------------------------- 403


@pytest.mark.urls("tests.test_error_pages")
def test_wrong_role_answers_a_chinese_403(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.get("/test-only/audit/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "无权访问" in body
    assert "请联系安全管理员" in body


def test_forged_csrf_token_answers_page_expired_and_changes_nothing(personas):
    notify(recipients=[personas.cadre_a], title="待读")
    client = Client(enforce_csrf_checks=True)
    sign_in(client, personas.cadre_a)
    client.get(reverse("notifications:list"))
    response = client.post(
        reverse("notifications:mark_all_read"), {"csrfmiddlewaretoken": "forged" * 8}
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期" in body
    assert "刷新页面" in body
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_missing_csrf_token_for_anonymous_answers_page_expired(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:set_language"), {"language": "en"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


# ---------------------------------------------------------------- 400


def test_too_many_form_fields_answer_a_chinese_400_and_change_nothing(client, personas):
    notify(recipients=[personas.cadre_a], title="待读")
    sign_in(client, personas.cadre_a)
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(reverse("notifications:mark_all_read"), fields)
    assert response.status_code == 400
    body = response.content.decode()
    assert "请求有误" in body
    assert "系统未做任何修改" in body
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_too_large_body_answers_a_chinese_400(client, personas):
    notify(recipients=[personas.cadre_a], title="待读")
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_all_read"), {"next": "x" * 4096})
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


# ---------------------------------------------------------------- 500


@pytest.mark.urls("tests.test_error_pages")
def test_exception_in_a_view_answers_a_chinese_500_without_traceback(client, personas):
    client.raise_request_exception = False
    sign_in(client, personas.cadre_a)
    response = client.get("/test-only/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "系统错误" in body
    assert "Traceback" not in body
    assert "secret-detail-7f3a" not in body
    assert "RuntimeError" not in body


def test_home_failing_answers_500_with_the_security_headers(client, personas):
    client.raise_request_exception = False
    sign_in(client, personas.cadre_a)
    with mock.patch("jindu.portal.home.home_context", side_effect=RuntimeError("boom-91")):
        response = client.get(reverse("portal:home"))
    assert response.status_code == 500
    assert "boom-91" not in response.content.decode()
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_500_page_renders_without_touching_the_database(django_assert_num_queries, db):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = views.server_error(request)
    assert response.status_code == 500
    assert "系统错误" in response.content.decode()


def test_500_page_renders_when_the_database_is_down(db):
    request = RequestFactory().get("/")
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
        side_effect=RuntimeError("database down"),
    ):
        response = views.server_error(request)
    assert response.status_code == 500
    assert "系统错误" in response.content.decode()


def test_500_page_falls_back_to_plain_html_if_the_template_fails(db):
    request = RequestFactory().get("/")
    with mock.patch("jindu.portal.views.loader.get_template", side_effect=OSError("disk")):
        response = views.server_error(request)
    assert response.status_code == 500
    assert "系统错误" in response.content.decode()


def test_every_error_handler_is_ours():
    assert handler400 == "jindu.portal.views.bad_request"
    assert handler403 == "jindu.portal.views.permission_denied"
    assert handler404 == "jindu.portal.views.page_not_found"
    assert handler500 == "jindu.portal.views.server_error"
    assert settings.CSRF_FAILURE_VIEW == "jindu.portal.views.csrf_failure"
