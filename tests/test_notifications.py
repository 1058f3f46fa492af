"""The notification list, marking read, and the bell's unread count."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from jindu.notifications.models import Notification
from jindu.notifications.services import notify, unread_count, withdraw
from tests.helpers import sign_in

HTMX = {"HTTP_HX_REQUEST": "true"}


def _notify(user, title="复查提醒", **kwargs):
    return notify(recipients=[user], title=title, **kwargs)[0]


@pytest.fixture
def cadre_a_notes(personas):
    older = _notify(personas.cadre_a, "甲镇旧通知")
    newer = _notify(personas.cadre_a, "甲镇新通知", level=Notification.Level.ALERT)
    return older, newer


# ---------------------------------------------------------------- the list


@pytest.mark.parametrize(
    "name",
    [
        "county_officer",
        "cadre_a",
        "grid_worker",
        "police_officer",
        "dept_reporter",
        "leader",
        "sys_admin",
        "sec_admin",
        "audit_admin",
        "no_role",
    ],
)
def test_every_signed_in_user_can_open_their_notification_list(client, personas, name):
    user = personas.users[name]
    _notify(user, f"{name}的通知")
    sign_in(client, user)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    assert f"{name}的通知" in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert "next=/notifications/" in response.url


def test_list_shows_only_own_notifications(client, personas, cadre_a_notes):
    _notify(personas.cadre_b, "乙镇的通知")
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("notifications:list")).content.decode()
    assert "甲镇旧通知" in body and "甲镇新通知" in body
    assert "乙镇的通知" not in body


def test_unread_come_before_read_and_newest_first(client, personas):
    first = _notify(personas.cadre_a, "第一条")
    _notify(personas.cadre_a, "第二条")
    _notify(personas.cadre_a, "第三条")
    first_read = _notify(personas.cadre_a, "已读的最新一条")
    Notification.objects.filter(pk=first_read.pk).update(read_at=first.created_at)
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("notifications:list")).context["page_obj"]
    assert [n.title for n in page.object_list] == ["第三条", "第二条", "第一条", "已读的最新一条"]


def test_unread_filter_hides_read_ones(client, personas, cadre_a_notes):
    older, _newer = cadre_a_notes
    Notification.objects.filter(pk=older.pk).update(read_at=older.created_at)
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("notifications:list") + "?show=unread").content.decode()
    assert "甲镇新通知" in body
    assert "甲镇旧通知" not in body


def test_list_is_paginated_and_keeps_the_filter(client, personas):
    notify(recipients=[personas.cadre_a], title="批量")
    for i in range(24):
        _notify(personas.cadre_a, f"通知{i:02d}")
    sign_in(client, personas.cadre_a)
    first = client.get(reverse("notifications:list") + "?show=unread")
    assert len(first.context["page_obj"].object_list) == 20
    body = first.content.decode()
    assert "show=unread&amp;page=2" in body
    second = client.get(reverse("notifications:list") + "?show=unread&page=2")
    assert len(second.context["page_obj"].object_list) == 5


def test_a_page_past_the_end_shows_the_last_page(client, personas, cadre_a_notes):
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("notifications:list") + "?page=99")
    assert response.status_code == 200
    assert response.context["page_obj"].number == 1


def test_empty_list_says_so(client, personas):
    sign_in(client, personas.grid_worker)
    body = client.get(reverse("notifications:list")).content.decode()
    assert "暂无通知" in body


def test_a_foreign_link_is_not_rendered_as_a_link(client, personas):
    _notify(personas.cadre_a, "外链", link="javascript:alert(1)")
    _notify(personas.cadre_a, "站内", link="/notifications/")
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("notifications:list")).content.decode()
    assert "javascript:alert" not in body
    assert '<a href="/notifications/">站内</a>' in body


# ---------------------------------------------------------------- marking read


def test_mark_one_read_by_htmx_returns_the_item_and_tells_the_bell(client, personas, cadre_a_notes):
    older, newer = cadre_a_notes
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_read", args=[older.pk]), **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    body = response.content.decode()
    assert f'id="notification-{older.pk}"' in body
    assert "已读" in body and "<html" not in body
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.read_at is not None
    assert newer.read_at is None


def test_mark_one_read_without_htmx_goes_back_to_the_list(client, personas, cadre_a_notes):
    older, _newer = cadre_a_notes
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_read", args=[older.pk]))
    assert response.status_code == 302
    assert response.url == reverse("notifications:list")
    assert unread_count(personas.cadre_a) == 1


def test_mark_read_returns_to_a_local_next_but_not_to_another_host(client, personas, cadre_a_notes):
    older, newer = cadre_a_notes
    sign_in(client, personas.cadre_a)
    url = reverse("notifications:mark_read", args=[older.pk])
    assert client.post(url, {"next": "/?from=bell"}).url == "/?from=bell"
    url = reverse("notifications:mark_read", args=[newer.pk])
    assert client.post(url, {"next": "https://evil.example/"}).url == reverse("notifications:list")


def test_another_users_notification_answers_404_and_stays_unread(client, personas):
    theirs = _notify(personas.cadre_b, "乙镇的通知")
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_read", args=[theirs.pk]), **HTMX)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_unknown_notification_answers_404(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_read", args=[999999]))
    assert response.status_code == 404


def test_mark_read_refuses_get(client, personas, cadre_a_notes):
    older, _newer = cadre_a_notes
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("notifications:mark_read", args=[older.pk]))
    assert response.status_code == 405
    older.refresh_from_db()
    assert older.read_at is None


def test_mark_read_needs_sign_in(client, personas, cadre_a_notes):
    older, _newer = cadre_a_notes
    response = client.post(reverse("notifications:mark_read", args=[older.pk]))
    assert response.status_code == 302
    older.refresh_from_db()
    assert older.read_at is None


def test_mark_all_read_marks_only_own_and_says_how_many(client, personas, cadre_a_notes):
    theirs = _notify(personas.cadre_b, "乙镇的通知")
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert unread_count(personas.cadre_a) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "已将 2 条通知标为已读" in response.content.decode()


def test_mark_all_read_with_nothing_unread_says_so(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert "没有未读通知" in response.content.decode()


def test_mark_all_read_button_asks_for_confirmation(client, personas, cadre_a_notes):
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("notifications:list")).content.decode()
    assert f'action="{reverse("notifications:mark_all_read")}" data-confirm=' in body


# ---------------------------------------------------------------- the bell


def test_bell_shows_the_unread_count(client, personas, cadre_a_notes):
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("notifications:bell"), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert ">2<" in body
    assert "<html" not in body


def test_bell_is_empty_with_nothing_unread(client, personas):
    sign_in(client, personas.cadre_a)
    body = client.get(reverse("notifications:bell"), **HTMX).content.decode()
    assert "badge" not in body


def test_bell_caps_large_counts(client, personas):
    notify(recipients=[personas.cadre_a], title="x")
    Notification.objects.bulk_create(
        [Notification(recipient=personas.cadre_a, title=f"n{i}") for i in range(120)]
    )
    sign_in(client, personas.cadre_a)
    assert "99+" in client.get(reverse("notifications:bell")).content.decode()


def test_bell_counts_only_own(client, personas, cadre_a_notes):
    sign_in(client, personas.cadre_b)
    body = client.get(reverse("notifications:bell")).content.decode()
    assert "badge" not in body


def test_bell_does_not_count_a_withdrawn_notification(client, personas, cadre_a_notes):
    _notify(personas.cadre_a, "误发的预警", level=Notification.Level.ALERT, source="tests.X:1")
    sign_in(client, personas.cadre_a)
    assert ">3<" in client.get(reverse("notifications:bell"), **HTMX).content.decode()
    assert withdraw(source="tests.X:1", reason="误发") == 1
    # The withdrawn alert no longer counts; the notice of its withdrawal does.
    assert unread_count(personas.cadre_a) == 3
    Notification.objects.filter(source="tests.X:1:withdrawn").update(read_at=timezone.now())
    assert ">2<" in client.get(reverse("notifications:bell"), **HTMX).content.decode()


def test_bell_stops_polling_once_signed_out(client, db):
    response = client.get(reverse("notifications:bell"), **HTMX)
    assert response.status_code == 286
    assert response.content == b""


def test_bell_poll_does_not_keep_an_idle_session_alive(client, personas):
    from jindu.accounts.middleware import SESSION_LAST_SEEN

    sign_in(client, personas.cadre_a)
    session = client.session
    session[SESSION_LAST_SEEN] = session[SESSION_LAST_SEEN] - 600
    session.save()
    before = client.session[SESSION_LAST_SEEN]
    client.get(reverse("notifications:bell"), HTTP_X_JINDU_BACKGROUND="1", **HTMX)
    assert client.session[SESSION_LAST_SEEN] == before
    client.get(reverse("notifications:list"))
    assert client.session[SESSION_LAST_SEEN] > before
