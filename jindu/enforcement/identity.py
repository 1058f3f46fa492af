"""Identities in enforcement records: suspects, users caught, drivers tested.

ID numbers are checked by the register's own rules (``jindu.people.idnumber``),
encrypted at rest, found through a blind index with a purpose of their own, and
shown masked; revealing one needs ``Perm.PERSONAL_REVEAL`` and a reason, and is
audited like a reveal in the register.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record
from jindu.core import crypto
from jindu.core.masking import mask_id_number
from jindu.core.roles import Perm
from jindu.enforcement.models import DrugDrivingTest, Suspect, UserCaught
from jindu.people import idnumber
from jindu.people.models import Person

Identified = Suspect | UserCaught | DrugDrivingTest
MAX_NAME = 50


def id_index(value: str) -> bytes:
    return crypto.blind_index(value, "enforcement-id")


def parse_id(raw: Any, *, field: str = "id_number", today: date | None = None) -> idnumber.IdNumber:
    """The ID number checked and normalised, or a Chinese error on ``field``."""
    try:
        return idnumber.parse(raw, today=today or timezone.localdate())
    except idnumber.IdNumberError as exc:
        raise ValidationError({field: [str(exc)]}) from exc


def clean_name(raw: Any, *, field: str = "name") -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise ValidationError({field: [_("请填写姓名")]})
    if len(name) > MAX_NAME:
        raise ValidationError({field: [_("姓名不能超过50个字")]})
    return name


def adult_on(birth: date) -> date:
    """The 18th birthday (a 29 February birthday comes of age on 1 March)."""
    try:
        return birth.replace(year=birth.year + 18)
    except ValueError:
        return date(birth.year + 18, 3, 1)


def find_person(actor: Any, number: str) -> Person | None:
    """A registered person with this (valid) ID number, inside the actor's scope.

    The system itself (the demo, a console import) has no scope and searches the
    whole register.
    """
    from jindu.people import services as people

    if actor is not None and getattr(actor, "is_authenticated", False):
        return people.find_by_id_number(actor, number)
    return Person.objects.filter(id_index=people.id_index(number)).first()


def masked(obj: Identified) -> str:
    return mask_id_number(obj.id_number)


@transaction.atomic
def reveal_id_number(*, actor: Any, obj: Identified, reason: str) -> str:
    """The full ID number of a suspect, a user caught or a driver tested, with a reason."""
    if not actor.has_jindu_perm(Perm.PERSONAL_REVEAL):
        raise PermissionError("无权查看完整个人信息")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": [_("请填写查看原因（至少4个字）")]})
    value = obj.id_number or ""
    record(
        actor=actor,
        action=Action.PERSONAL_REVEALED,
        obj=obj,
        detail={"field": "id_number", "reason": reason[:200], "masked": mask_id_number(value)},
    )
    return value
