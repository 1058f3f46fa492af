"""Reads of enforcement records: what dates and suspects say about a case, the lists'
filters, and the drug types that count as synthetic.

A case's stage is never stored: it is closed when it has a closing date,
referred for prosecution when any suspect has a prosecution date, solved when it
has a solving date, under investigation once a suspect is identified, and
filed before that. ``case_status`` says so in Python and ``with_status`` in SQL,
by the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet, Value

from jindu.codes.models import CodeItem
from jindu.enforcement.models import (
    Case,
    CaseStatus,
    DrugDrivingTest,
    Seizure,
    Suspect,
    UserCaught,
)
from jindu.orgs.division import Level
from jindu.orgs.models import OrgUnit

PAGE_SIZE = 30
# The years the lists offer: from the first year any record was kept.
FIRST_YEAR = 2010


def synthetic_codes() -> frozenset[str]:
    """Drug types the code list marks as synthetic (``extra.synthetic``), read once."""
    rows = CodeItem.objects.filter(code_list__key="drug_type").values_list("code", "extra")
    return frozenset(code for code, extra in rows if (extra or {}).get("synthetic"))


def non_drug_offences() -> frozenset[str]:
    """Kinds of case that are not drug offences (``extra.drug_related`` false): a theft
    caused by a drug user is recorded here but is no drug case solved."""
    rows = CodeItem.objects.filter(code_list__key="offence").values_list("code", "extra")
    return frozenset(code for code, extra in rows if (extra or {}).get("drug_related") is False)


def case_status(case: Case, *, prosecuted: bool, has_suspects: bool) -> CaseStatus:
    if case.closed_on is not None:
        return CaseStatus.CLOSED
    if prosecuted:
        return CaseStatus.PROSECUTED
    if case.solved_on is not None:
        return CaseStatus.SOLVED
    if has_suspects:
        return CaseStatus.INVESTIGATING
    return CaseStatus.FILED


def with_status(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate ``status`` (a ``CaseStatus`` value) by ``case_status``'s rule, in SQL."""
    suspects = Suspect.objects.filter(case=OuterRef("pk"))
    return qs.annotate(
        any_prosecuted=Exists(suspects.filter(prosecuted_on__isnull=False)),
        any_suspect=Exists(suspects),
    ).annotate(
        status=models.Case(
            models.When(closed_on__isnull=False, then=Value(CaseStatus.CLOSED.value)),
            models.When(any_prosecuted=True, then=Value(CaseStatus.PROSECUTED.value)),
            models.When(solved_on__isnull=False, then=Value(CaseStatus.SOLVED.value)),
            models.When(any_suspect=True, then=Value(CaseStatus.INVESTIGATING.value)),
            default=Value(CaseStatus.FILED.value),
            output_field=models.CharField(),
        )
    )


def townships_for(user: Any) -> list[OrgUnit]:
    """Townships a list may be narrowed to: those in the user's subtree (or the user's own)."""
    unit = user.org_unit
    if unit is None:
        return []
    if unit.level in (Level.TOWNSHIP, Level.VILLAGE, Level.GRID):
        return []
    return list(
        OrgUnit.objects.for_user(user)
        .filter(level=Level.TOWNSHIP)
        .order_by("sort_order", "division_code", "name", "id")
    )


def year_choices(today: date) -> list[int]:
    return list(range(today.year, FIRST_YEAR - 1, -1))


@dataclass(frozen=True)
class CaseFilter:
    year: int | None = None
    status: str = ""
    offence: str = ""
    township: OrgUnit | None = None
    number: str = ""


def cases_for(user: Any, filters: CaseFilter) -> QuerySet[Case]:
    """The case list: the user's cases, narrowed by filing year (or solving year), stage,
    kind and township."""
    qs = with_status(Case.objects.for_user(user)).select_related("org_unit", "department")
    if filters.year:
        # A year means "filed or solved in it", so that a case filed last December
        # and solved in January is found under both years.
        qs = qs.filter(
            models.Q(filed_on__year=filters.year) | models.Q(solved_on__year=filters.year)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.offence:
        qs = qs.filter(offence=filters.offence)
    if filters.township is not None:
        qs = qs.within(filters.township.path)
    if filters.number:
        qs = qs.filter(number__icontains=filters.number)
    return qs.order_by("-filed_on", "-id")


@dataclass(frozen=True)
class DatedFilter:
    """Year and township: the filters of the seizure, users-caught and drug-driving lists."""

    year: int | None = None
    township: OrgUnit | None = None
    drug_type: str = ""


def _dated(qs: QuerySet, field: str, filters: DatedFilter) -> QuerySet:
    if filters.year:
        qs = qs.filter(**{f"{field}__year": filters.year})
    if filters.township is not None:
        qs = qs.within(filters.township.path)
    return qs


def seizures_for(user: Any, filters: DatedFilter) -> QuerySet[Seizure]:
    qs = _dated(Seizure.objects.for_user(user), "seized_on", filters)
    if filters.drug_type:
        qs = qs.filter(drug_type=filters.drug_type)
    return qs.select_related("org_unit", "department", "case").order_by("-seized_on", "-id")


def caught_for(user: Any, filters: DatedFilter) -> QuerySet[UserCaught]:
    qs = _dated(UserCaught.objects.for_user(user), "caught_on", filters)
    if filters.drug_type:
        qs = qs.filter(drug_type=filters.drug_type)
    return qs.select_related("org_unit", "department", "person").order_by("-caught_on", "-id")


def driving_for(user: Any, filters: DatedFilter) -> QuerySet[DrugDrivingTest]:
    qs = _dated(DrugDrivingTest.objects.for_user(user), "tested_on", filters)
    return qs.select_related("org_unit", "department").order_by("-tested_on", "-id")
