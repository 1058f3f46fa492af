"""Writes to the register: people and their measures.

Each function takes the acting user, checks the law's rules and the user's
scope, runs in one transaction and audits inside it. The dated facts on
``Person`` (latest measure, contact, abstinence start) are refreshed here, in
the same transaction, from the rows they summarise.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.services import record, record_change, snapshot
from jindu.core import crypto
from jindu.core.masking import mask
from jindu.core.roles import Perm
from jindu.orgs.models import OrgUnit
from jindu.people import idnumber, tallies
from jindu.people.bulk import FACT_FIELDS, MeasureDates, person_facts
from jindu.people.dates import add_months
from jindu.people.models import DrugTest, FollowUpPolicy, Measure, Person, Responsibility
from jindu.people.schedule import COMMUNITY_KINDS

PERSON_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "id_number",
    "ethnicity",
    "household_address",
    "household_local",
    "current_address",
    "phone",
    "org_unit_id",
    "first_found_on",
    "drug_types",
    "how_found",
    "occupation",
    "employment",
    "has_driving_licence",
    "licence_reported_on",
    "sick_or_disabled",
    "poverty_by_drugs",
    "key_person",
    "key_person_reason",
    "family_support",
    "use_started_on",
    "died_on",
    "moved_away_on",
    "notes",
)
EDITABLE = set(PERSON_FIELDS) - {"sex", "birth_date", "org_unit_id"}
MEASURE_FIELDS = (
    "kind",
    "decision_date",
    "authority",
    "report_in_date",
    "start_date",
    "term_months",
    "planned_end",
    "ended_on",
    "end_reason",
    "notes",
)
# Measures a person cannot be under twice at once.
EXCLUSIVE = frozenset(
    {"community_detox", "community_rehab", "compulsory_isolation", "detention", "prison"}
)
RESPONSIBLE_LEVELS = frozenset({"village", "grid"})


def id_index(value: str) -> bytes:
    return crypto.blind_index(value, "person-id")


def find_by_id_number(user: Any, raw: str) -> Person | None:
    """Exact search by ID number through the blind index, inside the user's scope."""
    try:
        number = idnumber.parse(raw)
    except idnumber.IdNumberError:
        return None
    return Person.objects.for_user(user).filter(id_index=id_index(number.value)).first()


def _check_unit(actor: Any, unit: OrgUnit) -> None:
    if unit.level not in RESPONSIBLE_LEVELS:
        raise ValidationError({"org_unit": ["责任单位须为村（社区）或网格"]})
    if getattr(actor, "is_authenticated", False) and not unit.path.startswith(actor.scope_path):
        raise ValidationError({"org_unit": ["责任单位不在您的管辖范围内"]})


def _check_dates(values: dict[str, Any], birth: date, today: date) -> None:
    errors: dict[str, list[str]] = {}
    for key in (
        "first_found_on",
        "use_started_on",
        "died_on",
        "moved_away_on",
        "licence_reported_on",
    ):
        day = values.get(key)
        if day is None:
            continue
        label = Person._meta.get_field(key).verbose_name
        if day > today:
            errors.setdefault(key, []).append(f"{label}不能晚于今天")
        elif day < birth:
            errors.setdefault(key, []).append(f"{label}不能早于出生日期")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def register_person(
    *, actor: Any, org_unit: OrgUnit, name: str, id_number: str, **fields: Any
) -> Person:
    """Register a person. A second registration of the same ID number is refused."""
    today = timezone.localdate()
    try:
        number = idnumber.parse(id_number, today=today)
    except idnumber.IdNumberError as exc:
        raise ValidationError({"id_number": [str(exc)]}) from exc
    if not name.strip():
        raise ValidationError({"name": ["请填写姓名"]})
    _check_unit(actor, org_unit)
    index = id_index(number.value)
    if Person.objects.filter(id_index=index).exists():
        raise ValidationError(
            {
                "id_number": [
                    "该身份证号已登记，不能重复登记；如人员已迁入本地，请联系原登记单位办理移交"
                ]
            }
        )
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    _check_dates(fields, number.birth_date, today)
    person = Person(
        name=name.strip(),
        id_number=number.value,
        id_index=index,
        sex=number.sex,
        birth_date=number.birth_date,
        **fields,
    )
    person.set_org_unit(org_unit)
    person.save()
    Responsibility.objects.create(
        person=person,
        org_unit=org_unit,
        org_path=org_unit.path,
        valid_from=fields.get("first_found_on") or today,
    )
    refresh_facts(person)
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=person,
        after=snapshot(person, PERSON_FIELDS),
        extra={"converted_from_15": number.converted_from_15} if number.converted_from_15 else None,
    )
    return person


@transaction.atomic
def update_person(*, actor: Any, person: Person, **changes: Any) -> Person:
    person = Person.objects.select_for_update().get(pk=person.pk)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    before = snapshot(person, PERSON_FIELDS)
    if "id_number" in changes:
        try:
            number = idnumber.parse(changes["id_number"])
        except idnumber.IdNumberError as exc:
            raise ValidationError({"id_number": [str(exc)]}) from exc
        index = id_index(number.value)
        if Person.objects.filter(id_index=index).exclude(pk=person.pk).exists():
            raise ValidationError({"id_number": ["该身份证号已登记给另一人员"]})
        changes["id_number"] = number.value
        person.id_index, person.sex, person.birth_date = index, number.sex, number.birth_date
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationError({"name": ["请填写姓名"]})
    _check_dates({**before, **changes}, person.birth_date, timezone.localdate())
    for key, value in changes.items():
        setattr(person, key, value)
    person.save()
    refresh_facts(person)
    after = snapshot(person, PERSON_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=person, before=before, after=after
        )
    return person


REVEALABLE = {
    "id_number": "身份证号",
    "phone": "联系电话",
    "household_address": "户籍地",
    "current_address": "现住址",
}


@transaction.atomic
def reveal(*, actor: Any, person: Person, field: str, reason: str) -> str:
    """The full value of one masked field, for a user allowed to see it, with a stated reason."""
    if not actor.has_jindu_perm(Perm.PERSONAL_REVEAL):
        raise PermissionError("无权查看完整个人信息")
    if field not in REVEALABLE:
        raise ValidationError({"field": ["该字段无需或不能查看"]})
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": ["请填写查看原因（至少4个字）"]})
    value = getattr(person, field) or ""
    record(
        actor=actor,
        action=Action.PERSONAL_REVEALED,
        obj=person,
        detail={
            "field": field,
            "reason": reason[:200],
            "masked": mask(Person.personal_fields[field], value),
        },
    )
    return value


# ------------------------------------------------------------------ measures


def _measure_errors(
    person: Person,
    values: dict[str, Any],
    policy: FollowUpPolicy,
    exclude_pk: int | None,
    today: date,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    kind = values["kind"]
    decision = values["decision_date"]

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if kind not in Measure.Kind.values:
        add("kind", "措施种类不正确")
        return errors
    if decision is None:
        add("decision_date", "请填写决定日期")
        return errors
    if decision > today:
        add("decision_date", "决定日期不能晚于今天")
    if decision < person.birth_date:
        add("decision_date", "决定日期不能早于出生日期")
    for key, label in (("report_in_date", "报到日期"), ("start_date", "开始日期")):
        day = values.get(key)
        if day and day < decision:
            add(key, f"{label}不能早于决定日期")
        if day and day > today:
            add(key, f"{label}不能晚于今天")
    ended = values.get("ended_on")
    anchor = values.get("report_in_date") or values.get("start_date")
    if ended and ended < (anchor or decision):
        add("ended_on", "结束日期不能早于开始（报到）日期")
    if ended and ended > today:
        add("ended_on", "结束日期不能晚于今天")
    if ended and not values.get("end_reason"):
        add("end_reason", "请选择结束原因")
    term = values.get("term_months")
    if kind == "community_detox" and term and term != policy.detox_term_months:
        add("term_months", f"社区戒毒期限为{policy.detox_term_months}个月（自报到之日起）")
    if kind == "community_rehab" and term and term > policy.rehab_max_months:
        add("term_months", f"社区康复期限不超过{policy.rehab_max_months}个月")
    if kind == "community_rehab":
        released = person.measures.filter(
            kind="compulsory_isolation", ended_on__isnull=False, ended_on__lte=decision
        ).exclude(pk=exclude_pk)
        if not released.exists():
            add(
                "kind",
                "社区康复应在解除强制隔离戒毒后决定：未找到该人员在决定日期前已解除的强制隔离戒毒记录",
            )
    if kind in EXCLUSIVE:
        start = anchor or decision
        end = ended or values.get("planned_end")
        others = person.measures.filter(kind__in=EXCLUSIVE).exclude(pk=exclude_pk)
        for other in others:
            o_start = other.report_in_date or other.start_date or other.decision_date
            o_end = other.ended_on or other.planned_end
            overlaps = (o_end is None or start < o_end) and (end is None or o_start < end)
            if overlaps:
                add(
                    "decision_date",
                    f"与已有的{other.get_kind_display()}（{o_start:%Y-%m-%d}起）时间重叠；"
                    "如系转为新措施，请先结束原措施",
                )
                break
    return errors


def _planned_end(values: dict[str, Any], policy: FollowUpPolicy) -> date | None:
    kind = values["kind"]
    anchor = (
        values.get("report_in_date")
        if kind in COMMUNITY_KINDS
        else (values.get("start_date") or values.get("decision_date"))
    )
    term = values.get("term_months")
    if term is None:
        term = {
            "community_detox": policy.detox_term_months,
            "community_rehab": policy.rehab_max_months,
            "compulsory_isolation": policy.isolation_term_months,
        }.get(kind)
        values["term_months"] = term
    if anchor is None or not term:
        return None
    return add_months(anchor, term)


@transaction.atomic
def add_measure(
    *,
    actor: Any,
    person: Person,
    kind: str,
    decision_date: date,
    authority: str = "",
    report_in_date: date | None = None,
    start_date: date | None = None,
    term_months: int | None = None,
    ended_on: date | None = None,
    end_reason: str = "",
    notes: str = "",
) -> Measure:
    person = Person.objects.select_for_update().get(pk=person.pk)
    policy = FollowUpPolicy.current()
    values = {
        "kind": kind,
        "decision_date": decision_date,
        "authority": authority.strip(),
        "report_in_date": report_in_date,
        "start_date": start_date,
        "term_months": term_months,
        "ended_on": ended_on,
        "end_reason": end_reason,
        "notes": notes,
    }
    if kind in COMMUNITY_KINDS and report_in_date and not start_date:
        values["start_date"] = report_in_date
    values["planned_end"] = _planned_end(values, policy)
    errors = _measure_errors(person, values, policy, None, timezone.localdate())
    if errors:
        raise ValidationError(errors)
    measure = Measure(person=person, **values)
    measure.set_org_unit(person.org_unit)
    measure.save()
    refresh_facts(person)
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=measure,
        after=snapshot(measure, MEASURE_FIELDS),
    )
    return measure


@transaction.atomic
def update_measure(*, actor: Any, measure: Measure, **changes: Any) -> Measure:
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    person = measure.person
    policy = FollowUpPolicy.current()
    before = snapshot(measure, MEASURE_FIELDS)
    values = {**before, **changes}
    if (
        values["kind"] in COMMUNITY_KINDS
        and values.get("report_in_date")
        and not values.get("start_date")
    ):
        values["start_date"] = values["report_in_date"]
    values["planned_end"] = _planned_end(values, policy)
    errors = _measure_errors(person, values, policy, measure.pk, timezone.localdate())
    if errors:
        raise ValidationError(errors)
    for key in MEASURE_FIELDS:
        setattr(measure, key, values.get(key))
    measure.save()
    refresh_facts(person)
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=measure,
        before=before,
        after=snapshot(measure, MEASURE_FIELDS),
    )
    return measure


def end_measure(*, actor: Any, measure: Measure, ended_on: date, end_reason: str) -> Measure:
    return update_measure(actor=actor, measure=measure, ended_on=ended_on, end_reason=end_reason)


def record_report_in(*, actor: Any, measure: Measure, report_in_date: date) -> Measure:
    return update_measure(
        actor=actor,
        measure=measure,
        report_in_date=report_in_date,
        start_date=measure.start_date or report_in_date,
    )


# ------------------------------------------------------------------ facts


def refresh_facts(person: Person) -> None:
    """Recompute the dated facts a person's lists and statuses are derived from
    (``bulk.person_facts``'s rule)."""
    latest = person.measures.order_by("-decision_date", "-id").first()
    # Results are encrypted at rest: read here, not compared in SQL.
    met = positive = None
    for day, result in person.tests.order_by("-tested_on", "-id").values_list(
        "tested_on", "result"
    ):
        if met is None and result != DrugTest.Result.EVADED:
            met = day
        if positive is None and result == DrugTest.Result.POSITIVE:
            positive = day
        if met is not None and positive is not None:
            break
    facts = person_facts(
        first_found_on=person.first_found_on,
        latest=None if latest is None else MeasureDates.of(latest),
        last_met=met,
        last_visit=person.visits.order_by().aggregate(day=Max("visited_on"))["day"],
        last_positive=positive,
    )
    values = dict(zip(FACT_FIELDS, facts, strict=True))
    for name, value in values.items():
        setattr(person, name, value)
    Person.objects.filter(pk=person.pk).update(**values)
    # The large units' counts follow in the same transaction (jindu.core.tallies).
    tallies.refresh([person.pk])
