"""Movement of people: transfers between units, death, moving away, outflow.

The one rule for statistics lives here: a person counts for **the unit
responsible on the date in question**. ``Responsibility`` rows say which unit
was responsible from when (``valid_from``, inclusive) to when (``valid_to``,
exclusive; open while the unit is still responsible). ``responsible_unit_on``
answers for one person, ``responsible_q`` for a queryset; every count by unit
and date goes through one of them, never through ``Person.org_path`` (which
says who is responsible today).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.notifications.models import Notification
from jindu.notifications.services import notify
from jindu.orgs.models import OrgUnit
from jindu.people import services, tallies
from jindu.people.models import (
    Measure,
    Outflow,
    Person,
    Responsibility,
    TeamMember,
    Transfer,
)
from jindu.people.schedule import COMMUNITY_KINDS

# Help-team roles tied to a place: when the person moves to a unit these members
# cannot see, their membership ends and the receiving unit names new ones.
PLACE_ROLES = frozenset(
    {
        TeamMember.Role.TOWNSHIP_CADRE,
        TeamMember.Role.COMMUNITY_POLICE,
        TeamMember.Role.COMMUNITY_DOCTOR,
        TeamMember.Role.SOCIAL_WORKER,
        TeamMember.Role.GRID_WORKER,
    }
)
TRANSFER_FIELDS = ("person_id", "from_unit_id", "to_unit_id", "transferred_on", "reason")
OUTFLOW_FIELDS = ("kind", "name", "person_id", "caught_on", "place", "caught_by", "notes")


# ------------------------------------------------------------------ the statistics rule


def _valid_on(day: date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


def responsible_unit_on(person: Person, day: date) -> OrgUnit | None:
    """The unit responsible for ``person`` on ``day`` (None before they were registered).

    The rule: the ``Responsibility`` row with ``valid_from <= day < valid_to``
    (``valid_to`` empty while still responsible). A transfer on day D closes the
    old row at D and opens the new one at D, so on D itself the receiving unit
    counts the person.
    """
    row = (
        Responsibility.objects.filter(_valid_on(day), person=person)
        .select_related("org_unit")
        .order_by("-valid_from", "-id")
        .first()
    )
    return row.org_unit if row else None


def responsible_q(path: str, day: date, person_ref: str = "pk") -> Q:
    """Rows whose person was the responsibility of a unit within ``path`` on ``day``.

    The same rule as ``responsible_unit_on``, as a filter: on ``Person`` use the
    default; on a model pointing at a person pass its reference (``"person_id"``).
    """
    held = Responsibility.objects.filter(
        _valid_on(day), person_id=OuterRef(person_ref), org_path__subtree=path
    )
    return Q(Exists(held))


# ------------------------------------------------------------------ transfers


def transfers_for(user: Any) -> QuerySet[Transfer]:
    """Hand-overs a user may see: those leaving from or arriving in their scope.

    Both sides of a transfer see it, so the query looks at both paths;
    administrators see none (a transfer names a person).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Transfer.objects.none()
    scope = user.scope_path
    if not scope or user.is_administrator:
        return Transfer.objects.none()
    return Transfer.objects.filter(Q(from_path__subtree=scope) | Q(to_path__subtree=scope))


def _is_user(actor: Any) -> bool:
    return getattr(actor, "is_authenticated", False)


def _require_person_in_scope(actor: Any, person: Person) -> None:
    if _is_user(actor) and not person.org_path.startswith(actor.scope_path or "\0"):
        raise PermissionDenied(_("该人员不在您的管辖范围内"))


def _check_day(person: Person, day: date | None, field: str, label: str) -> None:
    if day is None:
        raise ValidationError({field: [_("请填写%(label)s") % {"label": label}]})
    if day > timezone.localdate():
        raise ValidationError({field: [_("%(label)s不能晚于今天") % {"label": label}]})
    if day < person.birth_date:
        raise ValidationError({field: [_("%(label)s不能早于出生日期") % {"label": label}]})


def township_managers(unit: OrgUnit) -> list[Any]:
    """Active township managers whose unit is ``unit`` or above it."""
    from jindu.accounts.models import User
    from jindu.core.roles import Role

    return list(
        User.objects.filter(
            is_active=True,
            role_grants__role=Role.TOWNSHIP_MANAGER,
            org_unit_id__in=unit.ancestor_ids(),
        ).distinct()
    )


def _end_memberships(
    *, actor: Any, person: Person, left_on: date, keep: Any = None
) -> list[TeamMember]:
    """End the running memberships of a person's team, except those ``keep`` accepts."""
    ended = []
    members = person.team.filter(left_on__isnull=True).select_related("user__org_unit")
    for member in members:
        if keep is not None and keep(member):
            continue
        # A membership that starts after the day it must end on never ran.
        member.left_on = max(left_on, member.joined_on or left_on)
        member.save(update_fields=["left_on"])
        record_change(
            actor=actor,
            action=Action.RECORD_UPDATED,
            obj=member,
            before={"left_on": None},
            after={"left_on": member.left_on},
        )
        ended.append(member)
    return ended


@transaction.atomic
def transfer_person(
    *, actor: Any, person: Person, to_unit: OrgUnit, transferred_on: date, reason: str = ""
) -> Transfer:
    """Hand a person over to another village or grid, anywhere in the installation.

    The person's responsible unit changes from ``transferred_on``; the old
    ``Responsibility`` row closes and a new one opens on that day. The running
    measure (and so its schedule, computed from it) and the team members who
    go with the person (family, volunteers, employer, and accounts that can see
    the new unit) move to the new unit; the place-bound members whose accounts
    cannot see it leave the team on that day. Tests, visits, absences and ended
    measures keep the path of the unit where they happened, so each side's
    history stays whole. The receiving township's managers are told.
    """
    person = Person.objects.select_for_update().select_related("org_unit").get(pk=person.pk)
    _require_person_in_scope(actor, person)
    to_unit = OrgUnit.objects.get(pk=to_unit.pk)
    if to_unit.level not in services.RESPONSIBLE_LEVELS:
        raise ValidationError({"to_unit": [_("接收单位须为村（社区）或网格")]})
    if not to_unit.active:
        raise ValidationError(
            {"to_unit": [_("“%(name)s”已撤销，不能接收人员") % {"name": to_unit.name}]}
        )
    if to_unit.pk == person.org_unit_id:
        raise ValidationError({"to_unit": [_("接收单位与当前责任单位相同")]})
    if person.died_on:
        raise ValidationError({"to_unit": [_("该人员已死亡，不能移交")]})
    if person.moved_away_on:
        raise ValidationError({"to_unit": [_("该人员已迁出本县，不能移交")]})
    _check_day(person, transferred_on, "transferred_on", _("移交日期"))
    current = (
        Responsibility.objects.select_for_update()
        .filter(person=person, valid_to__isnull=True)
        .order_by("-valid_from", "-id")
        .first()
    )
    if current is not None and transferred_on < current.valid_from:
        raise ValidationError(
            {
                "transferred_on": [
                    _("移交日期不能早于现责任单位开始负责的日期（%(day)s）")
                    % {"day": f"{current.valid_from:%Y-%m-%d}"}
                ]
            }
        )
    from_unit = person.org_unit
    transfer = Transfer.objects.create(
        person=person,
        from_unit=from_unit,
        to_unit=to_unit,
        from_path=person.org_path,
        to_path=to_unit.path,
        transferred_on=transferred_on,
        reason=(reason or "").strip()[:200],
        by=actor if _is_user(actor) else None,
    )
    if current is not None:
        current.valid_to = transferred_on
        current.save(update_fields=["valid_to"])
    Responsibility.objects.create(
        person=person, org_unit=to_unit, org_path=to_unit.path, valid_from=transferred_on
    )
    Person.objects.filter(pk=person.pk).update(org_unit=to_unit, org_path=to_unit.path)
    # The open schedule is computed from the running measure: it moves with the person.
    still_open = Q(ended_on__gt=transferred_on) | Q(
        Q(planned_end__isnull=True) | Q(planned_end__gt=transferred_on), ended_on__isnull=True
    )
    person.measures.filter(still_open).update(org_unit=to_unit, org_path=to_unit.path)

    def goes_along(member: TeamMember) -> bool:
        if member.role not in PLACE_ROLES:
            return True
        scope = member.user.scope_path if member.user is not None else ""
        return bool(scope) and to_unit.path.startswith(scope)

    ended = _end_memberships(actor=actor, person=person, left_on=transferred_on, keep=goes_along)
    TeamMember.objects.filter(person=person, left_on__isnull=True).update(
        org_unit=to_unit, org_path=to_unit.path
    )
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=transfer,
        after=snapshot(transfer, TRANSFER_FIELDS),
        extra={"from": from_unit.name, "to": to_unit.name, "team_left": len(ended)},
    )
    tallies.refresh([person.pk])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=person,
        before={"org_unit_id": from_unit.pk},
        after={"org_unit_id": to_unit.pk},
    )
    notify(
        recipients=township_managers(to_unit),
        title=_("人员移交：%(name)s 已移交至%(unit)s（%(day)s起）")
        % {"name": person.name, "unit": to_unit.name, "day": f"{transferred_on:%Y-%m-%d}"},
        body=_("由%(unit)s移交。请及时落实管控措施，组建或补齐“4+X”帮教小组。")
        % {"unit": from_unit.name},
        link=reverse("people:detail", kwargs={"pk": person.pk}),
        level=Notification.Level.INFO,
        source=f"people.Person:{person.pk}:transfer",
    )
    return transfer


# ------------------------------------------------------------------ death, moving away


def _running_measure(person: Person, day: date) -> Measure | None:
    """The measure still open on ``day`` (decided by then, not yet ended or expired)."""
    for measure in person.measures.order_by("-decision_date", "-id"):
        if measure.decision_date > day:
            continue
        end = measure.ended_on or measure.planned_end
        if end is None or end > day:
            return measure
    return None


def _measure_end(measure: Measure, day: date) -> date:
    anchor = measure.report_in_date or measure.start_date or measure.decision_date
    return max(day, anchor)


@transaction.atomic
def record_death(*, actor: Any, person: Person, died_on: date) -> Person:
    """Record a death: the running measure ends (reason: died), the help team stands down."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require_person_in_scope(actor, person)
    _check_day(person, died_on, "died_on", _("死亡日期"))
    if person.died_on:
        raise ValidationError(
            {"died_on": [_("已登记死亡（%(day)s）") % {"day": f"{person.died_on:%Y-%m-%d}"}]}
        )
    measure = _running_measure(person, died_on)
    if measure is not None and measure.ended_on is None:
        services.end_measure(
            actor=actor,
            measure=measure,
            ended_on=_measure_end(measure, died_on),
            end_reason=Measure.EndReason.DIED,
        )
    _end_memberships(actor=actor, person=person, left_on=died_on)
    return services.update_person(actor=actor, person=person, died_on=died_on)


@transaction.atomic
def record_moved_away(*, actor: Any, person: Person, moved_on: date) -> Person:
    """Record a move out of the county: a running community measure ends as transferred
    out (its execution continues where the person now lives), the help team stands down."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require_person_in_scope(actor, person)
    _check_day(person, moved_on, "moved_away_on", _("迁出日期"))
    if person.died_on:
        raise ValidationError({"moved_away_on": [_("该人员已死亡")]})
    if person.moved_away_on:
        raise ValidationError(
            {
                "moved_away_on": [
                    _("已登记迁出本县（%(day)s）") % {"day": f"{person.moved_away_on:%Y-%m-%d}"}
                ]
            }
        )
    measure = _running_measure(person, moved_on)
    if measure is not None and measure.ended_on is None and measure.kind in COMMUNITY_KINDS:
        services.end_measure(
            actor=actor,
            measure=measure,
            ended_on=_measure_end(measure, moved_on),
            end_reason=Measure.EndReason.TRANSFERRED,
        )
    _end_memberships(actor=actor, person=person, left_on=moved_on)
    return services.update_person(actor=actor, person=person, moved_away_on=moved_on)


# ------------------------------------------------------------------ outflow


@transaction.atomic
def record_outflow(
    *,
    actor: Any,
    kind: str,
    caught_on: date | None,
    place: str,
    caught_by: str = "",
    notes: str = "",
    person: Person | None = None,
    name: str = "",
    org_unit: OrgUnit | None = None,
) -> Outflow:
    """Record a local found using or trafficking in another county (外流吸毒/贩毒).

    A registered person is linked (and the record belongs to their unit);
    someone not on the register is recorded by name under ``org_unit`` (where
    their household is registered, within the actor's scope).
    """
    errors: dict[str, list[str]] = {}
    if kind not in Outflow.Kind.values:
        errors["kind"] = [_("请选择类型（外流吸毒或外流贩毒）")]
    if caught_on is None:
        errors["caught_on"] = [_("请填写查获日期")]
    elif caught_on > timezone.localdate():
        errors["caught_on"] = [_("查获日期不能晚于今天")]
    place = (place or "").strip()
    if not place:
        errors["place"] = [_("请填写查获地（外县市名称）")]
    if person is not None:
        person = Person.objects.select_related("org_unit").get(pk=person.pk)
        _require_person_in_scope(actor, person)
        if caught_on and caught_on < person.birth_date:
            errors["caught_on"] = [_("查获日期不能早于出生日期")]
        name, org_unit = person.name, person.org_unit
    else:
        name = (name or "").strip()
        if not name:
            errors["name"] = [_("请填写姓名，或输入已登记人员的身份证号")]
        if org_unit is None:
            errors["org_unit"] = [_("请选择所属单位（户籍所在地）")]
        elif _is_user(actor) and not org_unit.path.startswith(actor.scope_path or "\0"):
            errors["org_unit"] = [_("所属单位不在您的管辖范围内")]
    if errors:
        raise ValidationError(errors)
    outflow = Outflow(
        person=person,
        name=name[:50],
        kind=kind,
        caught_on=caught_on,
        place=place[:100],
        caught_by=(caught_by or "").strip()[:100],
        notes=(notes or "").strip()[:200],
    )
    outflow.set_org_unit(org_unit)
    outflow.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=outflow,
        after=snapshot(outflow, OUTFLOW_FIELDS),
    )
    return outflow


def outflow_counts(path: str, year: int) -> dict[str, int]:
    """Catches (人次) in ``year`` of locals of ``path`` elsewhere: ``{"using": n, "trafficking": n}``.

    An outflow record belongs to the unit it was recorded under (the person's
    unit at the time), like every other event.
    """
    rows = (
        Outflow.objects.within(path)
        .filter(caught_on__gte=date(year, 1, 1), caught_on__lt=date(year + 1, 1, 1))
        .values("kind")
        .annotate(n=Count("id"))
    )
    counts = {kind: 0 for kind in Outflow.Kind.values}
    for row in rows:
        counts[row["kind"]] = row["n"]
    return counts
