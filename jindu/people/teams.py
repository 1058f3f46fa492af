""" "4+X" help teams (帮教小组): who helps each person, and whose team is incomplete.

Each person under a community measure has a team: a township cadre, a
community police officer, a community doctor and a family member (the four),
plus any others. Members who work in the platform are linked to their
account and told when they join, so that each one knows whom they help;
the others are recorded by name and phone (encrypted, shown masked).
A membership that ends keeps its row with ``left_on``: the team's history
stays readable.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.core.roles import ADMIN_ROLES, Perm, roles_with
from jindu.notifications.services import notify
from jindu.people import tallies
from jindu.people.models import Person, TeamMember
from jindu.people.schedule import COMMUNITY_KINDS

Role = TeamMember.Role
# Roles a platform account may fill; the others are people outside the platform.
ACCOUNT_ROLES = frozenset(
    {
        Role.TOWNSHIP_CADRE,
        Role.COMMUNITY_POLICE,
        Role.COMMUNITY_DOCTOR,
        Role.SOCIAL_WORKER,
        Role.GRID_WORKER,
    }
)
MEMBER_FIELDS = ("role", "user_id", "name", "phone", "joined_on", "left_on")
PHONE = re.compile(r"^\+?[0-9][0-9-]{5,19}$")


def _is_user(actor: Any) -> bool:
    return getattr(actor, "is_authenticated", False)


def _require_in_scope(actor: Any, person: Person) -> None:
    if _is_user(actor) and not person.org_path.startswith(actor.scope_path or "\0"):
        raise PermissionDenied(_("该人员不在您的管辖范围内"))


def township_path(person: Person) -> str:
    """The path of the person's township (the unit's own path if it has none above it)."""
    from jindu.orgs.division import Level
    from jindu.orgs.models import OrgUnit

    ids = [int(part) for part in person.org_path.strip("/").split("/") if part]
    path = (
        OrgUnit.objects.filter(pk__in=ids, level=Level.TOWNSHIP)
        .values_list("path", flat=True)
        .first()
    )
    return path or person.org_path


def eligible_users(actor: Any, person: Person, query: str = "") -> QuerySet:
    """Accounts that may be linked to a team member: active, holding a role that sees
    people's data, and working in the actor's scope or the person's township."""
    from jindu.accounts.models import User

    roles = [r.value for r in roles_with(Perm.PERSONAL_DATA)]
    area = Q(org_unit__path__subtree=township_path(person))
    if _is_user(actor) and actor.scope_path:
        area |= Q(org_unit__path__subtree=actor.scope_path)
    qs = (
        User.objects.filter(area, is_active=True, role_grants__role__in=roles)
        .exclude(role_grants__role__in=[r.value for r in ADMIN_ROLES])
        .select_related("org_unit")
        .distinct()
        .order_by("org_unit__path", "full_name")
    )
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(full_name__contains=query) | Q(username__contains=query))
    return qs


def _validate_phone(phone: str) -> str:
    phone = re.sub(r"\s+", "", phone or "")
    if phone and not PHONE.match(phone):
        raise ValidationError({"phone": [_("联系电话格式不正确（只能包含数字和“-”，7至20位）")]})
    return phone


@transaction.atomic
def add_team_member(
    *,
    actor: Any,
    person: Person,
    role: str,
    user: Any = None,
    name: str = "",
    phone: str = "",
    joined_on: date | None = None,
) -> TeamMember:
    """Add a member to a person's help team; a member with an account is told at once."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require_in_scope(actor, person)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        raise ValidationError({"role": [_("请选择组内角色")]})
    if person.died_on or person.moved_away_on:
        raise ValidationError({"role": [_("该人员已死亡或迁出本县，不再组建帮教小组")]})
    joined_on = joined_on or today
    if joined_on > today:
        errors.setdefault("joined_on", []).append(_("加入日期不能晚于今天"))
    if joined_on < person.birth_date:
        errors.setdefault("joined_on", []).append(_("加入日期不能早于该人员出生日期"))
    try:
        phone = _validate_phone(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    name = (name or "").strip()
    running = person.team.filter(left_on__isnull=True)
    if user is not None:
        if role not in ACCOUNT_ROLES:
            errors.setdefault("user", []).append(
                _("“%(role)s”不关联平台账号，请填写姓名和联系电话") % {"role": Role(role).label}
            )
        elif not eligible_users(actor, person).filter(pk=user.pk).exists():
            errors.setdefault("user", []).append(
                _("所选账号不可选（须为本辖区或该人员所在乡镇的在岗工作人员）")
            )
        elif running.filter(user=user).exists():
            errors.setdefault("user", []).append(
                _("%(name)s已在该帮教小组中") % {"name": user.full_name}
            )
        name = name or user.full_name
    else:
        if not name:
            errors.setdefault("name", []).append(_("请填写姓名"))
        if not phone:
            errors.setdefault("phone", []).append(_("没有平台账号的成员请填写联系电话，便于联系"))
        if name and running.filter(role=role, name=name, user__isnull=True).exists():
            errors.setdefault("name", []).append(
                _("%(name)s已是该帮教小组的%(role)s") % {"name": name, "role": Role(role).label}
            )
    if errors:
        raise ValidationError(errors)
    member = TeamMember(
        person=person,
        role=role,
        user=user,
        name=name[:50],
        phone=phone,
        joined_on=joined_on,
    )
    member.set_org_unit(person.org_unit)
    member.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=member,
        after=snapshot(member, MEMBER_FIELDS),
        extra={"person_id": person.pk},
    )
    if user is not None:
        sees = person.org_path.startswith(user.scope_path or "\0")
        notify(
            recipients=[user],
            title=_("您已加入%(name)s的帮教小组") % {"name": person.name},
            body=_("组内角色：%(role)s。请按帮教计划做好谈话、家访和帮扶，督促按期检测。")
            % {"role": Role(role).label},
            link=reverse("people:detail", kwargs={"pk": person.pk}) if sees else "",
            source=f"people.TeamMember:{member.pk}:joined",
        )
    tallies.refresh([member.person_id])
    return member


@transaction.atomic
def end_team_membership(
    *, actor: Any, member: TeamMember, left_on: date | None = None
) -> TeamMember:
    """End a membership; the row stays, with the day it ended."""
    member = TeamMember.objects.select_for_update().select_related("person").get(pk=member.pk)
    _require_in_scope(actor, member.person)
    if member.left_on is not None:
        raise ValidationError(
            {"left_on": [_("该成员已于%(day)s退出") % {"day": f"{member.left_on:%Y-%m-%d}"}]}
        )
    left_on = left_on or timezone.localdate()
    if left_on > timezone.localdate():
        raise ValidationError({"left_on": [_("退出日期不能晚于今天")]})
    if member.joined_on and left_on < member.joined_on:
        raise ValidationError(
            {
                "left_on": [
                    _("退出日期不能早于加入日期（%(day)s）")
                    % {"day": f"{member.joined_on:%Y-%m-%d}"}
                ]
            }
        )
    before = snapshot(member, MEMBER_FIELDS)
    member.left_on = left_on
    member.save(update_fields=["left_on"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=member,
        before=before,
        after=snapshot(member, MEMBER_FIELDS),
        extra={"person_id": member.person_id},
    )
    tallies.refresh([member.person_id])
    return member


# ------------------------------------------------------------------ incomplete teams


def under_community_measure_q(day: date) -> Q:
    """Under community detox or rehab on ``day`` (the status rule), alive and in the county."""
    running = Q(measure_anchor__lte=day) & (
        Q(measure_until__isnull=True) | Q(measure_until__gt=day)
    )
    return (
        running
        & Q(measure_kind__in=COMMUNITY_KINDS)
        & Q(died_on__isnull=True, moved_away_on__isnull=True)
    )


def has_role_q(role: str) -> Q:
    """The person's team has a running member in ``role``."""
    return Q(
        Exists(TeamMember.objects.filter(person_id=OuterRef("pk"), role=role, left_on__isnull=True))
    )


def incomplete_teams(user: Any, day: date) -> QuerySet[Person]:
    """People in the user's scope under a community measure whose team lacks one of the four."""
    missing = Q()
    for role in TeamMember.REQUIRED:
        missing |= ~has_role_q(role)
    return Person.objects.for_user(user).filter(under_community_measure_q(day)).filter(missing)


def running_members(people: list[Person]) -> dict[int, list[TeamMember]]:
    """Running memberships of a page of people, in one query."""
    result: dict[int, list[TeamMember]] = {p.pk: [] for p in people}
    for member in (
        TeamMember.objects.filter(person_id__in=list(result), left_on__isnull=True)
        .defer("phone")
        .order_by("person_id", "role", "id")
    ):
        result[member.person_id].append(member)
    return result
