"""Writes of follow-up: drug tests, talks and visits, absences, and the follow-up policy.

Alerts go out from here: a positive test is a relapse (复吸预警), leaving
without leave is absconding (脱管预警). Both reach the person's help team
members who have an account and the managers of the person's township, never
anyone whose scope does not hold the person.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.core.paths import ancestor_paths
from jindu.core.roles import Perm
from jindu.notifications.models import Notification
from jindu.notifications.services import notify, withdraw
from jindu.people import tallies
from jindu.people.models import (
    Absence,
    DrugTest,
    FollowUpPolicy,
    Measure,
    Person,
    TeamMember,
    Visit,
)
from jindu.people.schedule import DEFAULT_INTERVALS
from jindu.people.services import refresh_facts

# The policy's numbers that the people's tallies follow (``jindu.people.tallies.Rules``).
TALLIED_RULES = ("abstinence_years", "lost_contact_days", "detox_term_months", "test_intervals")

TEST_FIELDS = ("tested_on", "method", "result", "measure_id", "notes")
VISIT_FIELDS = ("kind", "visited_on", "help_kind", "summary", "measure_id")
ABSENCE_FIELDS = ("left_on", "returned_on", "authorised", "destination", "notes", "measure_id")
HELP_KINDS = "help_kind"
# Results that are a meeting with the person and meet a test period.
COUNTING_RESULTS = frozenset({DrugTest.Result.NEGATIVE, DrugTest.Result.POSITIVE})


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


def _check_day(person: Person, day: date | None, field: str, label: str) -> None:
    if day is None:
        raise ValidationError({field: [_("请填写%(label)s") % {"label": label}]})
    if day > timezone.localdate():
        raise ValidationError({field: [_("%(label)s不能晚于今天") % {"label": label}]})
    if day < person.birth_date:
        raise ValidationError(
            {
                field: [
                    _("%(label)s不能早于出生日期（%(birth)s）")
                    % {"label": label, "birth": f"{person.birth_date:%Y-%m-%d}"}
                ]
            }
        )


def responsible_users(person: Person) -> list[Any]:
    """Who hears about a person: team members with accounts and the township's managers.

    Only users whose scope holds the person and who may read personal data: a
    team member entered with another township's account, or a manager of the
    county or of another township, is left out.
    """
    from jindu.accounts.models import User
    from jindu.core.roles import Perm, Role, roles_with
    from jindu.orgs.division import Level

    ancestors = ancestor_paths(person.org_path)
    readers = [role.value for role in roles_with(Perm.PERSONAL_DATA)]
    team_ids = TeamMember.objects.filter(
        person=person, left_on__isnull=True, user__isnull=False
    ).values("user_id")
    team = User.objects.filter(
        pk__in=team_ids,
        is_active=True,
        org_unit__path__in=ancestors,
        role_grants__role__in=readers,
    )
    managers = User.objects.filter(
        is_active=True,
        role_grants__role=Role.TOWNSHIP_MANAGER,
        org_unit__path__in=ancestors,
        org_unit__level__in=[Level.TOWNSHIP, Level.VILLAGE, Level.GRID],
    )
    return list((team | managers).distinct().order_by("pk"))


@transaction.atomic
def record_test(
    *,
    actor: Any,
    person: Person,
    tested_on: date,
    method: str,
    result: str,
    notes: str = "",
) -> DrugTest:
    person = Person.objects.select_for_update().get(pk=person.pk)
    errors: dict[str, list[str]] = {}
    try:
        _check_day(person, tested_on, "tested_on", _("检测日期"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if method not in DrugTest.Method.values:
        errors["method"] = [_("请选择检测方式")]
    if result not in DrugTest.Result.values:
        errors["result"] = [_("请选择检测结果")]
    if errors:
        raise ValidationError(errors)
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
    test.org_unit_id, test.org_path = person.org_unit_id, person.org_path
    test.save()
    if measure is not None and result in (DrugTest.Result.EVADED, DrugTest.Result.REFUSED):
        # The counts drive the serious-breach rule and let lists skip decrypting
        # the tests of a measure that has none.
        counter = "evaded_count" if result == DrugTest.Result.EVADED else "refused_count"
        Measure.objects.filter(pk=measure.pk).update(**{counter: F(counter) + 1})
    refresh_facts(person)
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=test, after=snapshot(test, TEST_FIELDS)
    )
    if result == DrugTest.Result.POSITIVE:
        notify(
            recipients=responsible_users(person),
            title=_("复吸预警：%(name)s %(day)s 检测结果阳性")
            % {"name": person.name, "day": f"{tested_on:%Y-%m-%d}"},
            body=_(
                "请帮教小组及时核实情况，依法处置（严重违反社区戒毒协议或复吸的，应报请强制隔离戒毒）。"
            ),
            link=reverse("people:detail", kwargs={"pk": person.pk}),
            level=Notification.Level.ALERT,
            source=relapse_source(test),
        )
    return test


def relapse_source(test: DrugTest) -> str:
    """The source of the relapse alert a positive test raised: the test, so that
    deleting the test as a mistake withdraws its alert and no other."""
    return f"people.DrugTest:{test.pk}:relapse"


def _check_help_kind(kind: str, help_kind: str) -> None:
    from jindu.codes import registry

    if kind != Visit.Kind.HELP:
        if help_kind:
            raise ValidationError({"help_kind": [_("只有帮扶救助需要选择帮扶类型")]})
        return
    if not help_kind:
        raise ValidationError({"help_kind": [_("请选择帮扶类型")]})
    known = registry.items(HELP_KINDS)
    if known and help_kind not in {item.code for item in known}:
        raise ValidationError({"help_kind": [_("帮扶类型不在字典中，请重新选择")]})


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
    """A talk, home visit, help given, half-year summary or yearly assessment."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    errors: dict[str, list[str]] = {}
    try:
        _check_day(person, visited_on, "visited_on", _("日期"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if kind not in Visit.Kind.values:
        errors["kind"] = [_("请选择类型")]
    else:
        try:
            _check_help_kind(kind, help_kind)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    visit = Visit(
        person=person,
        measure=running_measure(person, visited_on),
        kind=kind,
        visited_on=visited_on,
        help_kind=help_kind,
        summary=summary.strip(),
        recorded_by=_user(actor),
    )
    visit.org_unit_id, visit.org_path = person.org_unit_id, person.org_path
    visit.save()
    refresh_facts(person)
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=visit, after=snapshot(visit, VISIT_FIELDS)
    )
    return visit


def _absconding_alert(person: Person, left_on: date) -> None:
    notify(
        recipients=responsible_users(person),
        title=_("脱管预警：%(name)s 未经批准离开（%(day)s）")
        % {"name": person.name, "day": f"{left_on:%Y-%m-%d}"},
        body=_("请帮教小组尽快查找、联系本人，并视情况报告公安机关。"),
        link=reverse("people:detail", kwargs={"pk": person.pk}),
        level=Notification.Level.ALERT,
        source=f"people.Person:{person.pk}:absconded",
    )


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
    """Time away from the county; without leave and not back, it is absconding (脱管)."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    errors: dict[str, list[str]] = {}
    try:
        _check_day(person, left_on, "left_on", _("离开日期"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if returned_on is not None:
        try:
            _check_day(person, returned_on, "returned_on", _("返回日期"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if left_on and returned_on < left_on:
            errors.setdefault("returned_on", []).append(_("返回日期不能早于离开日期"))
    if not errors and left_on:
        open_absence = person.absences.filter(returned_on__isnull=True).first()
        if open_absence is not None:
            errors["left_on"] = [
                _("该人员%(day)s离开后尚未登记返回，请先登记返回")
                % {"day": f"{open_absence.left_on:%Y-%m-%d}"}
            ]
    if errors:
        raise ValidationError(errors)
    absence = Absence(
        person=person,
        measure=running_measure(person, left_on),
        left_on=left_on,
        returned_on=returned_on,
        authorised=authorised,
        destination=destination.strip(),
        notes=notes.strip(),
    )
    absence.org_unit_id, absence.org_path = person.org_unit_id, person.org_path
    absence.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=absence,
        after=snapshot(absence, ABSENCE_FIELDS),
    )
    if not authorised and returned_on is None:
        _absconding_alert(person, left_on)
    return absence


@transaction.atomic
def record_return(*, actor: Any, absence: Absence, returned_on: date | None) -> Absence:
    absence = Absence.objects.select_for_update().select_related("person").get(pk=absence.pk)
    if absence.returned_on is not None:
        raise ValidationError(
            {"returned_on": [_("已于%(day)s登记返回") % {"day": f"{absence.returned_on:%Y-%m-%d}"}]}
        )
    before = snapshot(absence, ABSENCE_FIELDS)
    _check_day(absence.person, returned_on, "returned_on", _("返回日期"))
    assert returned_on is not None
    if returned_on < absence.left_on:
        raise ValidationError(
            {
                "returned_on": [
                    _("返回日期不能早于离开日期（%(day)s）")
                    % {"day": f"{absence.left_on:%Y-%m-%d}"}
                ]
            }
        )
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


# ------------------------------------------------------------------ the policy

# field: (smallest, largest) allowed value; the law's limits where it sets one.
POLICY_LIMITS: dict[str, tuple[int, int]] = {
    "report_in_days": (1, 60),
    "detox_term_months": (1, 36),
    "rehab_max_months": (1, 36),
    "isolation_term_months": (12, 36),
    "summary_every_months": (1, 12),
    "assessment_every_months": (1, 24),
    "lost_contact_days": (7, 365),
    "breach_evaded": (1, 10),
    "breach_refused": (1, 10),
    "breach_departures": (1, 10),
    "breach_days_away": (1, 365),
    "abstinence_years": (1, 10),
}
POLICY_FIELDS = ("test_intervals", *POLICY_LIMITS)
MAX_INTERVAL_YEARS = 10


def _policy_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key, (low, high) in POLICY_LIMITS.items():
        value = values[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[key] = [_("应为%(low)d至%(high)d之间的整数") % {"low": low, "high": high}]
    intervals = values["test_intervals"]
    if (
        not isinstance(intervals, list)
        or not 1 <= len(intervals) <= MAX_INTERVAL_YEARS
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in intervals)
    ):
        errors["test_intervals"] = [
            _("请按年度依次填写检测间隔月数（1至%(n)d个年度）") % {"n": MAX_INTERVAL_YEARS}
        ]
    elif any(not 1 <= i <= 12 for i in intervals):
        errors["test_intervals"] = [_("每个年度的检测间隔应为1至12个月")]
    if "rehab_max_months" not in errors and values["rehab_max_months"] > 36:
        errors["rehab_max_months"] = [_("社区康复期限依法不超过三年")]
    if (
        "summary_every_months" not in errors
        and "assessment_every_months" not in errors
        and values["summary_every_months"] > values["assessment_every_months"]
    ):
        errors["summary_every_months"] = [_("小结间隔不应长于评估间隔")]
    return errors


@transaction.atomic
def update_followup_policy(*, actor: Any, **changes: Any) -> FollowUpPolicy:
    """Change the local rules of community detox and rehab; audited with before and after."""
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    FollowUpPolicy.current()
    policy = FollowUpPolicy.objects.select_for_update().get(pk=1)
    before = snapshot(policy, POLICY_FIELDS)
    if not before["test_intervals"]:
        # An empty list reads as the default rule (``FollowUpPolicy.interval_in_year``).
        before["test_intervals"] = list(DEFAULT_INTERVALS)
    values = {**before, **changes}
    errors = _policy_errors(values)
    if errors:
        raise ValidationError(errors)
    for key in POLICY_FIELDS:
        setattr(policy, key, values[key])
    policy.save()
    after = snapshot(policy, POLICY_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=policy, before=before, after=after
        )
    if any(before[k] != after[k] for k in TALLIED_RULES):
        # Every person's counted states follow these numbers: count everyone again,
        # in this transaction, so that no figure shows the old rule after the change.
        tallies.rebuild()
    return policy


__all__ = [
    "record_absence",
    "record_return",
    "record_test",
    "record_visit",
    "responsible_users",
    "update_followup_policy",
]


# ------------------------------------------------------------------ correcting mistakes
#
# 删除误录记录: a drug test or a visit entered by mistake (wrong person, wrong
# result, twice) may be deleted, with a stated reason, audited.

# Days after entry during which whoever may record follow-up may also delete it.
CORRECTION_DAYS = 90
REASON_MIN_CHARS = 4


def entered_long_ago(record: DrugTest | Visit, today: date | None = None) -> bool:
    """Whether the record was entered more than ``CORRECTION_DAYS`` days ago.

    Counted from the day it was entered (``created_at``), not from the day of the
    test or visit: a paper record typed in today is fresh, however old its date.
    """
    entered = timezone.localdate(record.created_at)
    return (today or timezone.localdate()) - entered > timedelta(days=CORRECTION_DAYS)


def may_delete(user: Any, record: DrugTest | Visit, today: date | None = None) -> bool:
    """Whether ``user``'s roles allow deleting ``record`` (its scope is checked apart)."""
    if not getattr(user, "is_authenticated", False) or not user.has_jindu_perm(Perm.RECORD_WRITE):
        return False
    return not entered_long_ago(record, today) or user.has_jindu_perm(Perm.FOLLOWUP_CORRECT)


def _check_correction(actor: Any, record: DrugTest | Visit, reason: str) -> str:
    """Refuse a deletion the actor may not make; return the reason, trimmed."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("删除误录记录须由登录用户办理"))
    model = type(record)
    in_scope = (
        model.objects.for_user(actor)
        .filter(pk=record.pk, person__in=Person.objects.for_user(actor))
        .exists()
    )
    if not in_scope:
        raise PermissionDenied(_("该记录不在您的管辖范围内"))
    if not actor.has_jindu_perm(Perm.RECORD_WRITE):
        raise PermissionDenied(_("您无权删除随访记录"))
    if not may_delete(actor, record):
        raise PermissionDenied(
            _("该记录录入已超过%(days)d天，只能由县禁毒办删除") % {"days": CORRECTION_DAYS}
        )
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_CHARS:
        raise ValidationError(
            {"reason": [_("请填写删除原因（至少%(n)d个字）") % {"n": REASON_MIN_CHARS}]}
        )
    return reason[:200]


def _audited_deletion(
    actor: Any, record: DrugTest | Visit, fields: Any, reason: str
) -> tuple[Person, Any]:
    """Lock the person, then the record (``record_test``'s order), check the deletion and
    write its audit row (before the delete: Django clears the id when it deletes)."""
    person = Person.objects.select_for_update().get(pk=record.person_id)
    record = type(record).objects.select_for_update().get(pk=record.pk)
    reason = _check_correction(actor, record, reason)
    record_change(
        actor=actor,
        action=Action.RECORD_DELETED,
        obj=record,
        before=snapshot(record, fields),
        extra={"reason": reason, "person_id": person.pk},
    )
    return person, record


@transaction.atomic
def delete_test(*, actor: Any, test: DrugTest, reason: str) -> None:
    """Delete a drug test recorded by mistake (删除误录记录).

    Who may: a user holding ``Perm.RECORD_WRITE`` (those who may record tests)
    with both the test and its person in scope; a test entered more than
    ``CORRECTION_DAYS`` days ago has gone into reports and assessments, so it
    also needs ``Perm.FOLLOWUP_CORRECT`` (the county office). After a transfer,
    a test keeps the path of the unit where it happened, so only a user whose
    scope holds both sides may delete it. A reason of at least
    ``REASON_MIN_CHARS`` characters is required.

    Audited as RECORD_DELETED with the masked before-snapshot (the result is
    shown as ``***``) and the reason. An evaded or refused test is taken off its
    measure's count (the serious-breach rule reads it); the person's dated facts
    (last contact, start of abstinence) and the tallies follow (``refresh_facts``).
    A positive test's relapse alert is withdrawn (撤回) and its recipients are told.
    Raises ``PermissionDenied`` or ``ValidationError`` (on ``reason``).
    """
    person, test = _audited_deletion(actor, test, TEST_FIELDS, reason)
    result, measure_id, source = test.result, test.measure_id, relapse_source(test)
    test.delete()
    if result == DrugTest.Result.POSITIVE:
        withdraw(source=source, reason=_("检测记录系误录，已删除"))
    if measure_id is not None and result in (DrugTest.Result.EVADED, DrugTest.Result.REFUSED):
        counter = "evaded_count" if result == DrugTest.Result.EVADED else "refused_count"
        Measure.objects.filter(pk=measure_id, **{f"{counter}__gt": 0}).update(
            **{counter: F(counter) - 1}
        )
    refresh_facts(person)


@transaction.atomic
def delete_visit(*, actor: Any, visit: Visit, reason: str) -> None:
    """Delete a talk, visit, help, summary or assessment recorded by mistake.

    The same rules as ``delete_test``: ``Perm.RECORD_WRITE`` and the visit and
    its person in scope; entered more than ``CORRECTION_DAYS`` days ago, also
    ``Perm.FOLLOWUP_CORRECT`` (the county office); a reason of at least
    ``REASON_MIN_CHARS`` characters. Audited as RECORD_DELETED with the summary
    masked; the person's last contact and the tallies follow.
    """
    person, visit = _audited_deletion(actor, visit, VISIT_FIELDS, reason)
    visit.delete()
    refresh_facts(person)


__all__ += ["delete_test", "delete_visit", "may_delete"]
