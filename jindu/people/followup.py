"""Writes of follow-up: drug tests, talks and visits, absences. Alerts go out from here."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.notifications.models import Notification
from jindu.notifications.services import notify
from jindu.people.models import Absence, DrugTest, Measure, Person, TeamMember, Visit
from jindu.people.services import refresh_facts

TEST_FIELDS = ("tested_on", "method", "result", "measure_id", "notes")
VISIT_FIELDS = ("kind", "visited_on", "help_kind", "summary", "measure_id")
ABSENCE_FIELDS = ("left_on", "returned_on", "authorised", "destination", "notes", "measure_id")


def running_measure(person: Person, day: date) -> Measure | None:
    """The measure a dated event belongs to: running on that day, community first."""
    candidates = [
        m
        for m in person.measures.order_by("-decision_date", "-id")
        if (m.report_in_date or m.start_date or m.decision_date) <= day
        and (m.ended_on or m.planned_end or date.max) > day
    ]
    candidates.sort(key=lambda m: m.kind not in ("community_detox", "community_rehab"))
    return candidates[0] if candidates else None


def _check_day(person: Person, day: date | None, label: str) -> None:
    if day is None:
        raise ValidationError({"date": [f"请填写{label}"]})
    if day > timezone.localdate():
        raise ValidationError({"date": [f"{label}不能晚于今天"]})
    if day < person.birth_date:
        raise ValidationError({"date": [f"{label}不能早于出生日期"]})


def responsible_users(person: Person) -> list[Any]:
    """Who hears about a person: team members with accounts and the township's managers."""
    from jindu.accounts.models import User
    from jindu.core.roles import Role

    team = [
        m.user
        for m in person.team.filter(left_on__isnull=True, user__isnull=False).select_related("user")
    ]
    managers = list(
        User.objects.filter(
            is_active=True,
            role_grants__role=Role.TOWNSHIP_MANAGER,
            org_unit__path__in=_ancestor_paths(person.org_path),
        )
    )
    return [*team, *managers]


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


@transaction.atomic
def record_test(
    *, actor: Any, person: Person, tested_on: date, method: str, result: str, notes: str = ""
) -> DrugTest:
    person = Person.objects.select_for_update().get(pk=person.pk)
    _check_day(person, tested_on, "检测日期")
    if method not in DrugTest.Method.values:
        raise ValidationError({"method": ["检测方式不正确"]})
    if result not in DrugTest.Result.values:
        raise ValidationError({"result": ["检测结果不正确"]})
    measure = running_measure(person, tested_on)
    test = DrugTest(
        person=person,
        measure=measure,
        tested_on=tested_on,
        method=method,
        result=result,
        notes=notes.strip(),
        recorded_by=_user(actor),
    )
    test.set_org_unit(person.org_unit)
    test.save()
    if measure is not None and result in (DrugTest.Result.EVADED, DrugTest.Result.REFUSED):
        counter = "evaded_count" if result == DrugTest.Result.EVADED else "refused_count"
        Measure.objects.filter(pk=measure.pk).update(**{counter: F(counter) + 1})
    refresh_facts(person)
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=test, after=snapshot(test, TEST_FIELDS)
    )
    if result == DrugTest.Result.POSITIVE:
        notify(
            recipients=responsible_users(person),
            title=f"复吸预警：{person.name} {tested_on:%Y-%m-%d} 检测结果阳性",
            body="请帮教小组及时核实情况，依法处置（严重违反社区戒毒协议或复吸的，应报请强制隔离戒毒）。",
            link=reverse("people:detail", kwargs={"pk": person.pk}),
            level=Notification.Level.ALERT,
            source=f"people.Person:{person.pk}:relapse",
        )
    return test


@transaction.atomic
def record_visit(
    *,
    actor: Any,
    person: Person,
    kind: str,
    visited_on: date,
    help_kind: str = "",
    summary: str = "",
) -> Visit:
    person = Person.objects.select_for_update().get(pk=person.pk)
    _check_day(person, visited_on, "日期")
    if kind not in Visit.Kind.values:
        raise ValidationError({"kind": ["类型不正确"]})
    if kind == Visit.Kind.HELP and not help_kind:
        raise ValidationError({"help_kind": ["请选择帮扶类型"]})
    visit = Visit(
        person=person,
        measure=running_measure(person, visited_on),
        kind=kind,
        visited_on=visited_on,
        help_kind=help_kind,
        summary=summary.strip(),
        recorded_by=_user(actor),
    )
    visit.set_org_unit(person.org_unit)
    visit.save()
    refresh_facts(person)
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=visit, after=snapshot(visit, VISIT_FIELDS)
    )
    return visit


@transaction.atomic
def record_absence(
    *,
    actor: Any,
    person: Person,
    left_on: date,
    authorised: bool,
    destination: str = "",
    returned_on: date | None = None,
    notes: str = "",
) -> Absence:
    person = Person.objects.select_for_update().get(pk=person.pk)
    _check_day(person, left_on, "离开日期")
    if returned_on is not None:
        _check_day(person, returned_on, "返回日期")
        if returned_on < left_on:
            raise ValidationError({"returned_on": ["返回日期不能早于离开日期"]})
    absence = Absence(
        person=person,
        measure=running_measure(person, left_on),
        left_on=left_on,
        returned_on=returned_on,
        authorised=authorised,
        destination=destination.strip(),
        notes=notes.strip(),
    )
    absence.set_org_unit(person.org_unit)
    absence.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=absence,
        after=snapshot(absence, ABSENCE_FIELDS),
    )
    if not authorised and returned_on is None:
        notify(
            recipients=responsible_users(person),
            title=f"脱管预警：{person.name} 未经批准离开（{left_on:%Y-%m-%d}）",
            link=reverse("people:detail", kwargs={"pk": person.pk}),
            level=Notification.Level.ALERT,
            source=f"people.Person:{person.pk}:absconded",
        )
    return absence


@transaction.atomic
def record_return(*, actor: Any, absence: Absence, returned_on: date) -> Absence:
    absence = Absence.objects.select_for_update().get(pk=absence.pk)
    before = snapshot(absence, ABSENCE_FIELDS)
    _check_day(absence.person, returned_on, "返回日期")
    if returned_on < absence.left_on:
        raise ValidationError({"returned_on": ["返回日期不能早于离开日期"]})
    absence.returned_on = returned_on
    absence.save(update_fields=["returned_on"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=absence,
        before=before,
        after=snapshot(absence, ABSENCE_FIELDS),
    )
    return absence


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


__all__ = ["TeamMember", "record_absence", "record_return", "record_test", "record_visit"]
