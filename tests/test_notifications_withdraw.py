"""Withdrawing (撤回) a notification: a relapse alert raised by a test entered by mistake.

A positive drug test alerts the person's help team and township managers.
Deleting that test as a mistake withdraws its alert: it no longer counts as
unread or as an alert, it stays in the list struck through with the reason,
and each recipient is told once. Nothing else is withdrawn, and withdrawing
again changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.notifications import services
from jindu.notifications.models import UNREAD, Notification
from jindu.people import followup
from jindu.people.models import DrugTest
from tests.helpers import sign_in
from tests.test_people_followup import member, test_on, under_detox

REASON = "结果录入错误，实为阴性"
WITHDRAWN_REASON = "检测记录系误录，已删除"
RECIPIENTS = {"grid_worker", "police_officer", "cadre_a"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def person(personas):
    """A person of 甲镇 under community detox, with two team members who have accounts."""
    person = under_detox(personas.cadre_a, personas.territory.grid_a, reported_days_ago=30)
    member(personas.cadre_a, person, "grid_worker", personas.grid_worker)
    member(personas.cadre_a, person, "community_police", personas.police_officer)
    member(personas.cadre_a, person, "family_member")
    # The members' notices of joining the team, read: each test starts from nothing unread.
    Notification.objects.filter(source__endswith=":joined").update(read_at=timezone.now())
    return person


@pytest.fixture
def positive(personas, person) -> DrugTest:
    return test_on(personas.grid_worker, person, timezone.localdate(), "positive")


def alerts_of(test: DrugTest) -> list[Notification]:
    return list(
        Notification.objects.filter(source=followup.relapse_source(test)).order_by(
            "recipient__username"
        )
    )


def notices() -> list[Notification]:
    return list(
        Notification.objects.filter(source__endswith=":withdrawn").order_by("recipient__username")
    )


def unread_alerts(user: Any) -> int:
    return Notification.objects.filter(
        UNREAD, recipient=user, level=Notification.Level.ALERT
    ).count()


def delete(personas: Any, test: DrugTest) -> None:
    followup.delete_test(actor=personas.cadre_a, test=test, reason=REASON)


# ------------------------------------------------------------------ the relapse alert


def test_a_positive_test_alerts_the_team_under_the_tests_own_source(personas, positive):
    alerts = alerts_of(positive)
    assert {a.recipient.username for a in alerts} == RECIPIENTS
    assert all(a.level == Notification.Level.ALERT for a in alerts)
    assert all(a.source == f"people.DrugTest:{positive.pk}:relapse" for a in alerts)
    assert all(a.withdrawn_at is None for a in alerts)
    for name in RECIPIENTS:
        assert services.unread_count(personas.users[name]) == 1
        assert unread_alerts(personas.users[name]) == 1


def test_deleting_the_positive_test_withdraws_its_alert_and_tells_each_recipient_once(
    personas, person, positive
):
    [title] = {a.title for a in alerts_of(positive)}

    delete(personas, positive)

    alerts = alerts_of(positive)
    assert {a.recipient.username for a in alerts} == RECIPIENTS
    assert all(a.withdrawn_at is not None for a in alerts)
    assert {a.withdrawn_reason for a in alerts} == {WITHDRAWN_REASON}
    assert all(a.read_at is None for a in alerts)

    told = notices()
    assert [n.recipient.username for n in told] == sorted(RECIPIENTS)
    for notice in told:
        assert notice.level == Notification.Level.INFO
        assert notice.title == f"已撤回：{title}"
        assert WITHDRAWN_REASON in notice.body
        assert notice.link == reverse("people:detail", kwargs={"pk": person.pk})
        assert notice.withdrawn_at is None
    # Nobody outside the alert's recipients hears of it.
    assert not Notification.objects.exclude(recipient__username__in=RECIPIENTS).exists()

    for name in RECIPIENTS:
        user = personas.users[name]
        assert unread_alerts(user) == 0
        # What is left unread is the notice alone, not the withdrawn alert.
        assert list(Notification.objects.filter(UNREAD, recipient=user)) == [
            n for n in told if n.recipient == user
        ]
        assert services.unread_count(user) == 1


def test_the_deletion_is_audited_as_before(personas, person, positive):
    delete(personas, positive)
    [event] = AuditEvent.objects.filter(action=Action.RECORD_DELETED)
    assert event.object_type == "people.drugtest" and event.object_id == str(positive.pk)
    assert event.detail_data["reason"] == REASON
    assert event.detail_data["person_id"] == person.pk
    assert "positive" not in event.detail and "阳性" not in event.detail


def test_deleting_a_negative_test_withdraws_nothing(personas, person, positive):
    negative = test_on(personas.grid_worker, person, timezone.localdate())
    before = Notification.objects.count()

    delete(personas, negative)

    assert Notification.objects.count() == before
    assert not Notification.objects.filter(withdrawn_at__isnull=False).exists()
    assert all(unread_alerts(personas.users[name]) == 1 for name in RECIPIENTS)


def test_deleting_one_positive_test_leaves_another_tests_alert_standing(personas, person):
    today = timezone.localdate()
    earlier = test_on(personas.grid_worker, person, today - timedelta(days=7), "positive")
    wrong = test_on(personas.grid_worker, person, today, "positive")

    delete(personas, wrong)

    assert all(a.withdrawn_at is not None for a in alerts_of(wrong))
    assert all(a.withdrawn_at is None for a in alerts_of(earlier))
    assert unread_alerts(personas.cadre_a) == 1


def test_a_refused_deletion_withdraws_nothing(personas, positive):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        followup.delete_test(actor=personas.cadre_a, test=positive, reason="")
    assert DrugTest.objects.filter(pk=positive.pk).exists()
    assert all(a.withdrawn_at is None for a in alerts_of(positive))
    assert not notices()


# ------------------------------------------------------------------ the service


def test_withdrawing_twice_does_nothing_the_second_time(personas):
    services.notify(
        recipients=[personas.cadre_a, personas.cadre_b],
        title="复查提醒",
        level=Notification.Level.ALERT,
        source="tests.Thing:1:alert",
    )
    assert services.withdraw(source="tests.Thing:1:alert", reason="事项已取消") == 2
    first = {n.pk: n.withdrawn_at for n in Notification.objects.filter(withdrawn_at__isnull=False)}

    assert services.withdraw(source="tests.Thing:1:alert", reason="再次撤回") == 0

    assert len(notices()) == 2
    again = {n.pk: n.withdrawn_at for n in Notification.objects.filter(withdrawn_at__isnull=False)}
    assert again == first
    assert set(
        Notification.objects.filter(withdrawn_at__isnull=False).values_list(
            "withdrawn_reason", flat=True
        )
    ) == {"事项已取消"}


def test_withdrawing_an_unknown_source_does_nothing(personas):
    services.notify(recipients=[personas.cadre_a], title="复查提醒", source="tests.Thing:1")
    assert services.withdraw(source="tests.Thing:2", reason="事项已取消") == 0
    assert Notification.objects.count() == 1


def test_withdrawing_needs_a_source(personas):
    services.notify(recipients=[personas.cadre_a], title="没有来源的通知")
    with pytest.raises(ValueError):
        services.withdraw(source="", reason="事项已取消")
    assert not Notification.objects.filter(withdrawn_at__isnull=False).exists()


def test_a_recipient_told_twice_by_one_source_gets_one_notice(personas):
    for title in ("第一次提醒", "第二次提醒"):
        services.notify(recipients=[personas.cadre_a], title=title, source="tests.Thing:1")
    assert services.withdraw(source="tests.Thing:1", reason="事项已取消") == 2
    [notice] = notices()
    assert notice.recipient == personas.cadre_a
    assert notice.title == "已撤回：第二次提醒"


def test_withdrawing_is_undone_with_the_callers_transaction(personas):
    services.notify(recipients=[personas.cadre_a], title="复查提醒", source="tests.Thing:1")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.withdraw(source="tests.Thing:1", reason="事项已取消")
        raise RuntimeError("the caller fails after withdrawing")
    assert not Notification.objects.filter(withdrawn_at__isnull=False).exists()
    assert not notices()
    assert services.unread_count(personas.cadre_a) == 1


def test_marking_all_read_leaves_a_withdrawn_notification_as_it_is(personas):
    services.notify(recipients=[personas.cadre_a], title="复查提醒", source="tests.Thing:1")
    services.withdraw(source="tests.Thing:1", reason="事项已取消")
    assert services.mark_read(user=personas.cadre_a) == 1  # the notice
    withdrawn = Notification.objects.get(source="tests.Thing:1")
    assert withdrawn.read_at is None and withdrawn.withdrawn_at is not None


# ------------------------------------------------------------------ the pages


def test_the_list_shows_the_alert_struck_through_with_the_reason(client, personas, positive):
    delete(personas, positive)
    [alert] = [a for a in alerts_of(positive) if a.recipient == personas.cadre_a]
    sign_in(client, personas.cadre_a)

    response = client.get(reverse("notifications:list"))

    html = response.content.decode()
    item = html[html.index(f'id="notification-{alert.pk}"') :]
    item = item[: item.index("</li>")]
    assert "已撤回" in item and WITHDRAWN_REASON in item
    assert "<s>" in item and alert.title in item
    assert "text-body-secondary" in item
    # Neither unread nor to be marked read.
    assert "未读" not in item
    assert reverse("notifications:mark_read", args=[alert.pk]) not in item
    # The notice comes first: it is the one unread.
    titles = [n.title for n in response.context["page_obj"].object_list]
    assert titles == [f"已撤回：{alert.title}", alert.title]
    assert "1 条未读" in html


def test_the_unread_filter_hides_the_withdrawn_alert(client, personas, positive):
    delete(personas, positive)
    sign_in(client, personas.cadre_a)
    page = client.get(reverse("notifications:list") + "?show=unread").context["page_obj"]
    assert [n.source for n in page.object_list] == [
        f"{followup.relapse_source(positive)}:withdrawn"
    ]


def test_another_user_sees_nothing_of_the_alert_or_its_withdrawal(
    client, personas, person, positive
):
    delete(personas, positive)
    for name in ("cadre_b", "county_officer"):
        sign_in(client, personas.users[name])
        html = client.get(reverse("notifications:list")).content.decode()
        assert person.name not in html
        assert "已撤回" not in html
        assert "暂无通知" in html
        assert "badge" not in client.get(reverse("notifications:bell")).content.decode()


def test_the_bell_and_the_home_page_stop_counting_the_withdrawn_alert(client, personas, positive):
    sign_in(client, personas.cadre_a)
    assert ">1<" in client.get(reverse("notifications:bell"), **HTMX).content.decode()
    home = client.get(reverse("portal:home"))
    assert home.context["notifications"]["unread"] == 1

    delete(personas, positive)
    # The notice is the one unread; read, nothing is left to count.
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert "已将 1 条通知标为已读" in response.content.decode()

    assert "badge" not in client.get(reverse("notifications:bell"), **HTMX).content.decode()
    home = client.get(reverse("portal:home"))
    assert home.context["notifications"]["unread"] == 0
    assert "已撤回" in home.content.decode()
    assert services.unread_count(personas.cadre_a) == 0


def test_deleting_through_the_page_withdraws_the_alert(client, personas, person, positive):
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("people:test_delete", args=[positive.pk]), {"reason": REASON})
    assert response.status_code == 302
    assert all(a.withdrawn_at is not None for a in alerts_of(positive))
    assert {n.recipient.username for n in notices()} == RECIPIENTS


def test_marking_a_withdrawn_notification_read_by_htmx_changes_nothing(client, personas, positive):
    delete(personas, positive)
    [alert] = [a for a in alerts_of(positive) if a.recipient == personas.cadre_a]
    sign_in(client, personas.cadre_a)
    response = client.post(reverse("notifications:mark_read", args=[alert.pk]), **HTMX)
    assert response.status_code == 200
    assert "已撤回" in response.content.decode()
    alert.refresh_from_db()
    assert alert.read_at is None and alert.withdrawn_at is not None


def test_the_list_in_english_says_withdrawn(client, personas, positive):
    delete(personas, positive)
    client.cookies["django_language"] = "en"
    sign_in(client, personas.cadre_a)
    # The page turns English on for this thread; the override puts the default back after.
    with translation.override(settings.LANGUAGE_CODE):
        html = client.get(reverse("notifications:list")).content.decode()
    assert "Withdrawn" in html


# ------------------------------------------------------------------ alerts raised before


def _as_raised_before(test: DrugTest) -> None:
    """The alerts of ``test`` as they were raised before alerts named their test."""
    Notification.objects.filter(source=followup.relapse_source(test)).update(
        source=f"people.Person:{test.person_id}:relapse"
    )


def _migrate_old_alerts() -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("jindu.people.migrations.0007_relapse_alerts_name_their_test")
    # Run on today's models (the migration reads and writes through them alone).
    migration.name_their_test(apps, None)


def test_alerts_raised_before_are_given_their_test_and_can_then_be_withdrawn(personas, person):
    today = timezone.localdate()
    earlier = test_on(personas.grid_worker, person, today - timedelta(days=3), "positive")
    later = test_on(personas.grid_worker, person, today, "positive")
    # A test of the same day entered an hour before the alert: not the one that raised it.
    stray = test_on(personas.grid_worker, person, today - timedelta(days=3), "negative")
    DrugTest.objects.filter(pk=stray.pk).update(created_at=timezone.now() - timedelta(hours=1))
    for test in (earlier, later):
        _as_raised_before(test)
    # An alert whose test was deleted since (no test of that day in the minute before).
    gone = test_on(personas.grid_worker, person, today - timedelta(days=10), "positive")
    _as_raised_before(gone)
    DrugTest.objects.filter(pk=gone.pk).delete()
    old = Notification.objects.filter(source=f"people.Person:{person.pk}:relapse")
    assert old.count() == 3 * len(RECIPIENTS)

    _migrate_old_alerts()

    assert {a.recipient.username for a in alerts_of(earlier)} == RECIPIENTS
    assert {a.recipient.username for a in alerts_of(later)} == RECIPIENTS
    assert all(str(later.tested_on) in a.title for a in alerts_of(later))
    assert not alerts_of(stray)
    # The alert of the deleted test keeps its old source; nothing else changed.
    assert old.count() == len(RECIPIENTS)
    assert all(str(gone.tested_on) in a.title for a in old)
    _migrate_old_alerts()  # again: nothing moves
    assert old.count() == len(RECIPIENTS) and len(alerts_of(earlier)) == len(RECIPIENTS)

    delete(personas, earlier)
    assert all(a.withdrawn_at is not None for a in alerts_of(earlier))
    assert all(a.withdrawn_at is None for a in alerts_of(later))
    assert [n.recipient.username for n in notices()] == sorted(RECIPIENTS)
