"""Writes of drug users caught (查处吸毒人员) and drug-driving tests (毒驾检测).

A user caught is linked to the register by ID number when they are on it; a
user not yet on it may be registered in the same transaction (through the
register's own ``register_person``), or kept by name and ID number and linked
later. Each occurrence counts once, so a person caught twice counts twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes import registry
from jindu.enforcement import identity
from jindu.enforcement.models import DrivingResult, DrugDrivingTest, Outcome, UserCaught
from jindu.enforcement.rules import (
    Errors,
    check_department,
    check_place,
    clean_text,
    is_user,
    not_future,
)
from jindu.orgs.models import Department, OrgUnit
from jindu.people.models import Person

CAUGHT_FIELDS = (
    "caught_on",
    "person_id",
    "name",
    "id_number",
    "drug_type",
    "outcome",
    "org_unit_id",
    "department_id",
    "notes",
)
CAUGHT_EDITABLE = frozenset(
    {"caught_on", "name", "id_number", "drug_type", "outcome", "org_unit", "department", "notes"}
)
DRIVING_FIELDS = (
    "tested_on",
    "name",
    "id_number",
    "plate",
    "result",
    "licence_held",
    "licence_reported_on",
    "org_unit_id",
    "department_id",
    "notes",
)
DRIVING_EDITABLE = frozenset(
    {
        "tested_on",
        "name",
        "id_number",
        "plate",
        "result",
        "licence_held",
        "licence_reported_on",
        "org_unit",
        "department",
        "notes",
    }
)


def _identity(values: dict[str, Any], errors: Errors, today: date) -> None:
    try:
        values["name"] = identity.clean_name(values.get("name"))
    except ValidationError as exc:
        errors.add("name", exc.message_dict["name"][0])
    try:
        number = identity.parse_id(values.get("id_number"), today=today)
    except ValidationError as exc:
        errors.add("id_number", exc.message_dict["id_number"][0])
    else:
        values["id_number"] = number.value
        values["id_index"] = identity.id_index(number.value)
        values["_birth"] = number.birth_date


def _notes(values: dict[str, Any], errors: Errors) -> None:
    try:
        values["notes"] = clean_text(values.get("notes"), 200, "notes", _("备注"))
    except ValidationError as exc:
        errors.add("notes", exc.message_dict["notes"][0])


# ------------------------------------------------------------------ users caught


def _caught_values(actor: Any, values: dict[str, Any], today: date) -> dict[str, Any]:
    errors = Errors()
    _identity(values, errors, today)
    check_place(actor, values.get("org_unit"), errors)
    check_department(actor, values.get("department"), values.get("org_unit"), errors)
    day = values.get("caught_on")
    if day is None:
        errors.add("caught_on", _("请填写查获日期"))
    not_future(errors, "caught_on", day, _("查获日期"), today)
    birth = values.pop("_birth", None)
    if day is not None and birth is not None and day < birth:
        errors.add("caught_on", _("查获日期早于身份证号中的出生日期，请核对"))
    drug = str(values.get("drug_type") or "").strip()
    if not registry.is_valid("drug_type", drug):
        errors.add("drug_type", _("请选择吸食毒品种类"))
    values["drug_type"] = drug
    if values.get("outcome") not in Outcome.values:
        errors.add("outcome", _("请选择处理结果"))
    _notes(values, errors)
    errors.raise_any()
    return values


def _register(actor: Any, values: dict[str, Any], unit: OrgUnit) -> Person:
    """Put the person on the register now, as found by the police on the day caught."""
    from jindu.people import services as people

    try:
        return people.register_person(
            actor=actor,
            org_unit=unit,
            name=values["name"],
            id_number=values["id_number"],
            first_found_on=values["caught_on"],
            drug_types=[values["drug_type"]],
            how_found="police_seized",
        )
    except ValidationError as exc:
        errors = Errors()
        for key, messages in exc.message_dict.items():
            target = "register_unit" if key == "org_unit" else key
            for message in messages:
                errors.add(target, message)
        errors.raise_any()
        raise


@transaction.atomic
def record_user_caught(
    *,
    actor: Any,
    caught_on: date | None,
    name: str,
    id_number: str,
    drug_type: str,
    outcome: str,
    org_unit: OrgUnit | None,
    department: Department | None,
    notes: str = "",
    register_unit: OrgUnit | None = None,
) -> UserCaught:
    """Record one occasion a user was caught; link (or register, if asked) the person."""
    values = _caught_values(
        actor,
        {
            "caught_on": caught_on,
            "name": name,
            "id_number": id_number,
            "drug_type": drug_type,
            "outcome": outcome,
            "org_unit": org_unit,
            "department": department,
            "notes": notes,
        },
        timezone.localdate(),
    )
    person = identity.find_person(actor, values["id_number"])
    if person is None and register_unit is not None:
        person = _register(actor, values, register_unit)
    unit = values.pop("org_unit")
    caught = UserCaught(**values, person=person, created_by=actor if is_user(actor) else None)
    caught.set_org_unit(unit)
    caught.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=caught,
        after=snapshot(caught, CAUGHT_FIELDS),
    )
    return caught


@transaction.atomic
def update_user_caught(*, actor: Any, caught: UserCaught, **changes: Any) -> UserCaught:
    unknown = set(changes) - CAUGHT_EDITABLE
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    caught = (
        UserCaught.objects.select_for_update()
        .select_related("org_unit", "department")
        .get(pk=caught.pk)
    )
    before = snapshot(caught, CAUGHT_FIELDS)
    current = {key: getattr(caught, key) for key in CAUGHT_EDITABLE}
    values = _caught_values(actor, {**current, **changes}, timezone.localdate())
    if values["id_index"] != caught.id_index:
        # Another person: the link to the register follows the ID number.
        caught.person = identity.find_person(actor, values["id_number"])
    unit = values.pop("org_unit")
    for key, value in values.items():
        setattr(caught, key, value)
    caught.set_org_unit(unit)
    caught.save()
    after = snapshot(caught, CAUGHT_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=caught, before=before, after=after
        )
    return caught


@transaction.atomic
def link_user_caught(*, actor: Any, caught: UserCaught) -> Person | None:
    """Link a user caught to the register once the person is on it; None if still not."""
    caught = UserCaught.objects.select_for_update().get(pk=caught.pk)
    if caught.person_id is not None:
        return caught.person
    person = identity.find_person(actor, caught.id_number)
    if person is None:
        return None
    caught.person = person
    caught.save(update_fields=["person"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=caught,
        before={"person_id": None},
        after={"person_id": person.pk},
    )
    return person


# ------------------------------------------------------------------ drug-driving tests


def _driving_values(actor: Any, values: dict[str, Any], today: date) -> dict[str, Any]:
    errors = Errors()
    _identity(values, errors, today)
    values.pop("_birth", None)
    check_place(actor, values.get("org_unit"), errors)
    check_department(actor, values.get("department"), values.get("org_unit"), errors)
    day = values.get("tested_on")
    if day is None:
        errors.add("tested_on", _("请填写检测日期"))
    not_future(errors, "tested_on", day, _("检测日期"), today)
    if values.get("result") not in DrivingResult.values:
        errors.add("result", _("请选择检测结果"))
    values["licence_held"] = bool(values.get("licence_held"))
    reported = values.get("licence_reported_on")
    if reported is not None:
        not_future(errors, "licence_reported_on", reported, _("报请注销日期"), today)
        if not values["licence_held"]:
            errors.add("licence_reported_on", _("未持有驾驶证，无需报请注销"))
        elif values.get("result") != DrivingResult.POSITIVE:
            errors.add("licence_reported_on", _("检测结果为阴性，不应报请注销驾驶证"))
        elif day is not None and reported < day:
            errors.add("licence_reported_on", _("报请注销日期不能早于检测日期"))
    plate = "".join(str(values.get("plate") or "").split()).upper()
    if len(plate) > 20:
        errors.add("plate", _("车牌号不能超过20个字符"))
    values["plate"] = plate
    _notes(values, errors)
    errors.raise_any()
    return values


@transaction.atomic
def record_driving_test(
    *,
    actor: Any,
    tested_on: date | None,
    name: str,
    id_number: str,
    result: str,
    org_unit: OrgUnit | None,
    department: Department | None,
    licence_held: bool = False,
    licence_reported_on: date | None = None,
    plate: str = "",
    notes: str = "",
) -> DrugDrivingTest:
    values = _driving_values(
        actor,
        {
            "tested_on": tested_on,
            "name": name,
            "id_number": id_number,
            "result": result,
            "licence_held": licence_held,
            "licence_reported_on": licence_reported_on,
            "plate": plate,
            "org_unit": org_unit,
            "department": department,
            "notes": notes,
        },
        timezone.localdate(),
    )
    unit = values.pop("org_unit")
    test = DrugDrivingTest(**values)
    test.set_org_unit(unit)
    test.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=test, after=snapshot(test, DRIVING_FIELDS)
    )
    return test


@transaction.atomic
def update_driving_test(*, actor: Any, test: DrugDrivingTest, **changes: Any) -> DrugDrivingTest:
    unknown = set(changes) - DRIVING_EDITABLE
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    test = (
        DrugDrivingTest.objects.select_for_update()
        .select_related("org_unit", "department")
        .get(pk=test.pk)
    )
    before = snapshot(test, DRIVING_FIELDS)
    current = {key: getattr(test, key) for key in DRIVING_EDITABLE}
    values = _driving_values(actor, {**current, **changes}, timezone.localdate())
    unit = values.pop("org_unit")
    for key, value in values.items():
        setattr(test, key, value)
    test.set_org_unit(unit)
    test.save()
    after = snapshot(test, DRIVING_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=test, before=before, after=after
        )
    return test
