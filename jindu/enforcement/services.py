"""Writes to the case records: cases, their suspects, seizures and confiscated assets.

Each function takes the acting user (or None for the system: the demo, a
console import), checks the rules (``jindu.enforcement.rules``), the user's
scope and department, runs in one transaction and audits inside it. A case's
stage is never written: it follows from the dates written here.
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
from jindu.enforcement.models import (
    AssetConfiscation,
    Case,
    CausedKind,
    Household,
    Seizure,
    Suspect,
)
from jindu.enforcement.rules import (
    Errors,
    check_department,
    check_place,
    clean_text,
    is_user,
    not_future,
    parse_amount,
    parse_pills,
    parse_weight,
)
from jindu.orgs.models import Department, OrgUnit

CASE_FIELDS = (
    "number",
    "offence",
    "occurred_on",
    "filed_on",
    "solved_on",
    "closed_on",
    "org_unit_id",
    "department_id",
    "street_dealing",
    "gang",
    "synthetic_drug",
    "caused_by_user",
    "caused_kind",
    "caused_person_id",
    "summary",
)
CASE_EDITABLE = frozenset(
    {
        "number",
        "offence",
        "occurred_on",
        "filed_on",
        "solved_on",
        "closed_on",
        "org_unit",
        "department",
        "street_dealing",
        "gang",
        "synthetic_drug",
        "caused_by_user",
        "caused_kind",
        "caused_id_number",
        "summary",
    }
)
SUSPECT_FIELDS = (
    "name",
    "id_number",
    "sex",
    "birth_date",
    "household",
    "caught_on",
    "prosecuted_on",
    "sentenced_on",
    "notes",
)
SUSPECT_EDITABLE = frozenset(
    {"name", "id_number", "household", "caught_on", "prosecuted_on", "sentenced_on", "notes"}
)
SEIZURE_FIELDS = (
    "case_id",
    "seized_on",
    "drug_type",
    "weight_g",
    "pills",
    "org_unit_id",
    "department_id",
    "notes",
)
ASSET_FIELDS = ("confiscated_on", "kind", "amount", "description")
MAX_NUMBER = 40


# ------------------------------------------------------------------ cases


def check_case_dates(values: dict[str, Any], errors: Errors, today: date) -> None:
    """The order of a case's dates: happened, filed, solved, closed; none in the future."""
    filed, occurred = values["filed_on"], values["occurred_on"]
    solved, closed = values["solved_on"], values["closed_on"]
    if filed is None:
        errors.add("filed_on", _("请填写立案日期"))
    not_future(errors, "filed_on", filed, _("立案日期"), today)
    not_future(errors, "occurred_on", occurred, _("案发日期"), today)
    not_future(errors, "solved_on", solved, _("破案日期"), today)
    not_future(errors, "closed_on", closed, _("结案日期"), today)
    if filed is not None:
        if occurred is not None and occurred > filed:
            errors.add("occurred_on", _("案发日期不能晚于立案日期"))
        if solved is not None and solved < filed:
            errors.add("solved_on", _("破案日期不能早于立案日期"))
        if closed is not None and closed < filed:
            errors.add("closed_on", _("结案日期不能早于立案日期"))
    if solved is not None and closed is not None and closed < solved:
        errors.add("closed_on", _("结案日期不能早于破案日期"))


def _case_errors(
    actor: Any, values: dict[str, Any], today: date, *, case: Case | None
) -> tuple[Errors, Any]:
    """Check a case's values as they would be after the write; find the causing person."""
    errors = Errors()
    number = values["number"]
    if not number:
        errors.add("number", _("请填写案件编号"))
    elif len(number) > MAX_NUMBER:
        errors.add("number", _("案件编号不能超过40个字符"))
    kept = case is not None and values["offence"] == case.offence
    if not kept and not registry.is_valid("offence", values["offence"]):
        errors.add("offence", _("请选择案件类别"))
    check_place(actor, values["org_unit"], errors)
    check_department(actor, values["department"], values["org_unit"], errors)
    check_case_dates(values, errors, today)
    if number and values["department"] is not None and not errors.by_field.get("number"):
        same = Case.objects.filter(
            number=number, department__org_unit_id=values["department"].org_unit_id
        )
        if case is not None:
            same = same.exclude(pk=case.pk)
        if same.exists():
            errors.add("number", _("本县已有编号为“%(n)s”的案件") % {"n": number})
    person = values.get("caused_person")
    if values["caused_by_user"]:
        if values["caused_kind"] not in CausedKind.values:
            errors.add("caused_kind", _("请选择引发案件的性质（刑事或治安）"))
        raw = values.get("caused_id_number")
        if raw:
            try:
                number_id = identity.parse_id(raw, field="caused_id_number", today=today)
            except ValidationError as exc:
                for message in exc.message_dict["caused_id_number"]:
                    errors.add("caused_id_number", message)
            else:
                person = identity.find_person(actor, number_id.value)
                if person is None:
                    errors.add(
                        "caused_id_number",
                        _("您的管辖范围内的吸毒人员名册中没有该身份证号；请先登记该人员"),
                    )
    else:
        person = None
        if values["caused_kind"]:
            values["caused_kind"] = ""
    filed = values["filed_on"]
    if case is not None and filed is not None:
        # The case's suspects were caught and referred on dates the filing date must not pass.
        earliest = (
            case.suspects.exclude(prosecuted_on__isnull=True).order_by("prosecuted_on").first()
        )
        if earliest is not None and earliest.prosecuted_on < filed:
            errors.add(
                "filed_on",
                _("本案犯罪嫌疑人%(name)s的移送起诉日期（%(day)s）早于该立案日期")
                % {"name": earliest.name, "day": f"{earliest.prosecuted_on:%Y-%m-%d}"},
            )
    return errors, person


def _case_values(values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    clean["number"] = " ".join(str(clean.get("number") or "").split()).upper()
    clean["offence"] = str(clean.get("offence") or "").strip()
    clean["caused_kind"] = str(clean.get("caused_kind") or "").strip()
    clean["summary"] = clean_text(clean.get("summary"), 2000, "summary", _("简要案情"))
    for key in ("street_dealing", "gang", "synthetic_drug", "caused_by_user"):
        clean[key] = bool(clean.get(key))
    return clean


@transaction.atomic
def create_case(
    *,
    actor: Any,
    number: str,
    offence: str,
    filed_on: date | None,
    org_unit: OrgUnit | None,
    department: Department | None,
    occurred_on: date | None = None,
    solved_on: date | None = None,
    closed_on: date | None = None,
    street_dealing: bool = False,
    gang: bool = False,
    synthetic_drug: bool = False,
    caused_by_user: bool = False,
    caused_kind: str = "",
    caused_id_number: str = "",
    summary: str = "",
) -> Case:
    """File a case (立案), solved or not."""
    values = _case_values(
        {
            "number": number,
            "offence": offence,
            "filed_on": filed_on,
            "occurred_on": occurred_on,
            "solved_on": solved_on,
            "closed_on": closed_on,
            "org_unit": org_unit,
            "department": department,
            "street_dealing": street_dealing,
            "gang": gang,
            "synthetic_drug": synthetic_drug,
            "caused_by_user": caused_by_user,
            "caused_kind": caused_kind,
            "caused_id_number": caused_id_number,
            "summary": summary,
        }
    )
    errors, person = _case_errors(actor, values, timezone.localdate(), case=None)
    errors.raise_any()
    values.pop("caused_id_number", None)
    case = Case(**{k: v for k, v in values.items() if k not in ("org_unit",)})
    case.caused_person = person
    case.created_by = actor if is_user(actor) else None
    case.set_org_unit(org_unit)
    case.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=case, after=snapshot(case, CASE_FIELDS)
    )
    return case


@transaction.atomic
def update_case(*, actor: Any, case: Case, **changes: Any) -> Case:
    """Change a case: its dates (solving it, closing it), place, department, flags.

    ``caused_id_number`` left out (or None) keeps the linked person.
    """
    unknown = set(changes) - CASE_EDITABLE
    if unknown:
        raise TypeError(f"unknown case fields: {sorted(unknown)}")
    case = Case.objects.select_for_update().select_related("org_unit", "department").get(pk=case.pk)
    before = snapshot(case, CASE_FIELDS)
    current = {
        "number": case.number,
        "offence": case.offence,
        "filed_on": case.filed_on,
        "occurred_on": case.occurred_on,
        "solved_on": case.solved_on,
        "closed_on": case.closed_on,
        "org_unit": case.org_unit,
        "department": case.department,
        "street_dealing": case.street_dealing,
        "gang": case.gang,
        "synthetic_drug": case.synthetic_drug,
        "caused_by_user": case.caused_by_user,
        "caused_kind": case.caused_kind,
        "summary": case.summary,
        "caused_person": case.caused_person,
    }
    if changes.get("caused_id_number") is None:
        changes.pop("caused_id_number", None)
    values = _case_values({**current, **changes})
    errors, person = _case_errors(actor, values, timezone.localdate(), case=case)
    errors.raise_any()
    for key in CASE_EDITABLE - {"org_unit", "caused_id_number"}:
        setattr(case, key, values[key])
    case.caused_person = person
    moved = values["org_unit"].pk != case.org_unit_id
    case.set_org_unit(values["org_unit"])
    case.save()
    if moved:
        # Suspects and assets are the case's and live where it happened.
        case.suspects.update(org_unit=case.org_unit, org_path=case.org_path)
        case.assets.update(org_unit=case.org_unit, org_path=case.org_path)
    # A seizure in a case is the case department's, wherever it was made.
    case.seizures.exclude(department=case.department).update(department=case.department)
    after = snapshot(case, CASE_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=case, before=before, after=after
        )
    return case


# ------------------------------------------------------------------ suspects


def _suspect_errors(case: Case, values: dict[str, Any], today: date) -> Errors:
    errors = Errors()
    if values["household"] not in Household.values:
        errors.add("household", _("请选择户籍（本地或外地）"))
    caught, prosecuted, sentenced = (
        values["caught_on"],
        values["prosecuted_on"],
        values["sentenced_on"],
    )
    if caught is None:
        errors.add("caught_on", _("请填写到案日期"))
    not_future(errors, "caught_on", caught, _("到案日期"), today)
    not_future(errors, "prosecuted_on", prosecuted, _("移送起诉日期"), today)
    not_future(errors, "sentenced_on", sentenced, _("判决日期"), today)
    if caught is not None and case.occurred_on is not None and caught < case.occurred_on:
        errors.add("caught_on", _("到案日期不能早于案发日期"))
    if prosecuted is not None:
        if prosecuted < case.filed_on:
            errors.add(
                "prosecuted_on",
                _("移送起诉日期不能早于立案日期（%(day)s）") % {"day": f"{case.filed_on:%Y-%m-%d}"},
            )
        elif caught is not None and prosecuted < caught:
            errors.add("prosecuted_on", _("移送起诉日期不能早于到案日期"))
    if sentenced is not None:
        if prosecuted is None:
            errors.add("sentenced_on", _("尚未移送起诉，不能填写判决日期"))
        elif sentenced < prosecuted:
            errors.add("sentenced_on", _("判决日期不能早于移送起诉日期"))
    birth = values.get("birth_date")
    if birth is not None and birth > case.offence_day:
        errors.add("id_number", _("身份证号中的出生日期晚于案发日期，请核对"))
    return errors


def _identity(values: dict[str, Any], today: date) -> None:
    """Parse name and ID number in place; their errors join the rest."""
    errors = Errors()
    try:
        values["name"] = identity.clean_name(values.get("name"))
    except ValidationError as exc:
        errors.add("name", exc.message_dict["name"][0])
    try:
        number = identity.parse_id(values.get("id_number"), today=today)
    except ValidationError as exc:
        errors.add("id_number", exc.message_dict["id_number"][0])
    else:
        values.update(
            id_number=number.value,
            id_index=identity.id_index(number.value),
            sex=number.sex,
            birth_date=number.birth_date,
            adult_on=identity.adult_on(number.birth_date),
        )
    values["_identity_errors"] = errors


def _suspect_write(case: Case, values: dict[str, Any], exclude_pk: int | None) -> None:
    today = timezone.localdate()
    values["notes"] = clean_text(values.get("notes"), 200, "notes", _("备注"))
    _identity(values, today)
    errors = values.pop("_identity_errors")
    more = _suspect_errors(case, values, today)
    for key, messages in more.by_field.items():
        for message in messages:
            errors.add(key, message)
    if "id_index" in values:
        twice = case.suspects.filter(id_index=values["id_index"]).exclude(pk=exclude_pk)
        if twice.exists():
            errors.add("id_number", _("该身份证号已在本案犯罪嫌疑人中"))
    errors.raise_any()


@transaction.atomic
def add_suspect(
    *,
    actor: Any,
    case: Case,
    name: str,
    id_number: str,
    household: str,
    caught_on: date | None,
    prosecuted_on: date | None = None,
    sentenced_on: date | None = None,
    notes: str = "",
) -> Suspect:
    case = Case.objects.select_for_update().get(pk=case.pk)
    values: dict[str, Any] = {
        "name": name,
        "id_number": id_number,
        "household": household,
        "caught_on": caught_on,
        "prosecuted_on": prosecuted_on,
        "sentenced_on": sentenced_on,
        "notes": notes,
    }
    _suspect_write(case, values, None)
    suspect = Suspect(case=case, **values)
    suspect.set_org_unit(case.org_unit)
    suspect.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=suspect,
        after=snapshot(suspect, SUSPECT_FIELDS),
    )
    return suspect


@transaction.atomic
def update_suspect(*, actor: Any, suspect: Suspect, **changes: Any) -> Suspect:
    unknown = set(changes) - SUSPECT_EDITABLE
    if unknown:
        raise TypeError(f"unknown suspect fields: {sorted(unknown)}")
    suspect = Suspect.objects.select_for_update().select_related("case").get(pk=suspect.pk)
    before = snapshot(suspect, SUSPECT_FIELDS)
    values = {key: getattr(suspect, key) for key in SUSPECT_EDITABLE}
    values.update(changes)
    _suspect_write(suspect.case, values, suspect.pk)
    for key, value in values.items():
        setattr(suspect, key, value)
    suspect.save()
    after = snapshot(suspect, SUSPECT_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=suspect, before=before, after=after
        )
    return suspect


# ------------------------------------------------------------------ seizures


def _seizure_values(actor: Any, values: dict[str, Any], today: date) -> dict[str, Any]:
    errors = Errors()
    case: Case | None = values.get("case")
    if case is not None:
        # A seizure in a case is handled by the case's department; it happened
        # where the case did unless the form says otherwise.
        values["department"] = case.department
        values["org_unit"] = values.get("org_unit") or case.org_unit
    check_place(actor, values.get("org_unit"), errors)
    check_department(actor, values.get("department"), values.get("org_unit"), errors)
    seized = values.get("seized_on")
    if seized is None:
        errors.add("seized_on", _("请填写缴获日期"))
    not_future(errors, "seized_on", seized, _("缴获日期"), today)
    if seized is not None and case is not None and case.occurred_on and seized < case.occurred_on:
        errors.add("seized_on", _("缴获日期不能早于案发日期"))
    drug = str(values.get("drug_type") or "").strip()
    if not registry.is_valid("drug_type", drug):
        errors.add("drug_type", _("请选择毒品种类"))
    values["drug_type"] = drug
    for key, parse in (("weight_g", parse_weight), ("pills", parse_pills)):
        try:
            values[key] = parse(values.get(key))
        except ValidationError as exc:
            errors.add(key, exc.message_dict[key][0])
    try:
        values["notes"] = clean_text(values.get("notes"), 200, "notes", _("备注"))
    except ValidationError as exc:
        errors.add("notes", exc.message_dict["notes"][0])
    errors.raise_any()
    return values


@transaction.atomic
def record_seizure(
    *,
    actor: Any,
    seized_on: date | None,
    drug_type: str,
    weight_g: Any,
    case: Case | None = None,
    org_unit: OrgUnit | None = None,
    department: Department | None = None,
    pills: Any = None,
    notes: str = "",
) -> Seizure:
    """Record drugs seized, in a case or not (a find with no case filed)."""
    values = _seizure_values(
        actor,
        {
            "case": case,
            "seized_on": seized_on,
            "drug_type": drug_type,
            "weight_g": weight_g,
            "pills": pills,
            "org_unit": org_unit,
            "department": department,
            "notes": notes,
        },
        timezone.localdate(),
    )
    unit = values.pop("org_unit")
    seizure = Seizure(**values, created_by=actor if is_user(actor) else None)
    seizure.set_org_unit(unit)
    seizure.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=seizure,
        after=snapshot(seizure, SEIZURE_FIELDS),
    )
    return seizure


@transaction.atomic
def update_seizure(*, actor: Any, seizure: Seizure, **changes: Any) -> Seizure:
    allowed = {"seized_on", "drug_type", "weight_g", "pills", "org_unit", "department", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown seizure fields: {sorted(unknown)}")
    seizure = (
        Seizure.objects.select_for_update()
        .select_related("case", "org_unit", "department")
        .get(pk=seizure.pk)
    )
    before = snapshot(seizure, SEIZURE_FIELDS)
    current = {key: getattr(seizure, key) for key in allowed}
    values = _seizure_values(
        actor, {**current, **changes, "case": seizure.case}, timezone.localdate()
    )
    unit = values.pop("org_unit")
    values.pop("case")
    for key, value in values.items():
        setattr(seizure, key, value)
    seizure.set_org_unit(unit)
    seizure.save()
    after = snapshot(seizure, SEIZURE_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=seizure, before=before, after=after
        )
    return seizure


# ------------------------------------------------------------------ assets


def _asset_values(case: Case, values: dict[str, Any], today: date) -> dict[str, Any]:
    errors = Errors()
    day = values.get("confiscated_on")
    if day is None:
        errors.add("confiscated_on", _("请填写收缴日期"))
    not_future(errors, "confiscated_on", day, _("收缴日期"), today)
    if day is not None and day < case.offence_day:
        label = _("案发日期") if case.occurred_on else _("立案日期")
        errors.add("confiscated_on", _("收缴日期不能早于%(label)s") % {"label": label})
    kind = str(values.get("kind") or "").strip()
    if not registry.is_valid("asset_kind", kind):
        errors.add("kind", _("请选择资产类别"))
    values["kind"] = kind
    try:
        values["amount"] = parse_amount(values.get("amount"))
    except ValidationError as exc:
        errors.add("amount", exc.message_dict["amount"][0])
    try:
        values["description"] = clean_text(values.get("description"), 200, "description", _("说明"))
    except ValidationError as exc:
        errors.add("description", exc.message_dict["description"][0])
    errors.raise_any()
    return values


@transaction.atomic
def record_asset(
    *,
    actor: Any,
    case: Case,
    confiscated_on: date | None,
    kind: str,
    amount: Any,
    description: str = "",
) -> AssetConfiscation:
    values = _asset_values(
        case,
        {"confiscated_on": confiscated_on, "kind": kind, "amount": amount,
         "description": description},
        timezone.localdate(),
    )  # fmt: skip
    asset = AssetConfiscation(case=case, **values)
    asset.set_org_unit(case.org_unit)
    asset.save()
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=asset, after=snapshot(asset, ASSET_FIELDS)
    )
    return asset


@transaction.atomic
def update_asset(*, actor: Any, asset: AssetConfiscation, **changes: Any) -> AssetConfiscation:
    unknown = set(changes) - set(ASSET_FIELDS)
    if unknown:
        raise TypeError(f"unknown asset fields: {sorted(unknown)}")
    asset = AssetConfiscation.objects.select_for_update().select_related("case").get(pk=asset.pk)
    before = snapshot(asset, ASSET_FIELDS)
    values = _asset_values(asset.case, {**before, **changes}, timezone.localdate())
    for key, value in values.items():
        setattr(asset, key, value)
    asset.save()
    after = snapshot(asset, ASSET_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=asset, before=before, after=after
        )
    return asset
