"""The register as an Excel file: the list's own filter, masked unless asked otherwise.

ID numbers and phones are masked. A user who may reveal personal data can ask
for them in full with a stated reason; the export is then audited as personal
data with that reason (``views.export``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db.models import QuerySet

from jindu.codes import registry
from jindu.core.excel import Column, Exporter
from jindu.core.masking import mask_id_number, mask_phone
from jindu.people import idnumber, selectors
from jindu.people.models import Person, Sex
from jindu.people.status import status_on

_SEX = dict(Sex.choices)


class PersonExporter(Exporter):
    title = "吸毒人员名册"
    columns = (
        Column("姓名", 12),
        Column("性别", 6),
        Column("出生日期", 12),
        Column("年龄", 6),
        Column("身份证号", 22),
        Column("民族", 10),
        Column("联系电话", 16),
        Column("责任单位", 20),
        Column("状态", 22),
        Column("当前/最近措施", 14),
        Column("标记", 40),
        Column("初次发现日期", 12),
        Column("发现方式", 16),
        Column("滥用毒品种类", 24),
        Column("就业状况", 10),
        Column("本县户籍", 8),
        Column("病残", 6),
        Column("因毒致贫/返贫", 8),
        Column("重点人员", 8),
        Column("最近联系日期", 12),
    )

    def __init__(
        self,
        qs: QuerySet[Person],
        *,
        scope: str,
        today: date,
        full: bool = False,
        confirm: frozenset[str] = frozenset(),
        abstinence_years: int = 3,
    ) -> None:
        self.qs = qs
        self.scope = scope
        self.today = today
        self.full = full
        self.confirm = confirm
        self.abstinence_years = abstinence_years
        self.contains_personal_data = full

    def rows(self) -> Iterable[Sequence[Any]]:
        # Labels once for the whole file, not a query per row.
        ethnicity = registry.labels("ethnicity")
        how_found = registry.labels("how_found")
        employment = registry.labels("employment_status")
        drugs = registry.labels("drug_type")
        kinds = registry.labels("measure_kind")
        people = selectors.iterate(
            self.qs,
            scope=self.scope,
            today=self.today,
            confirm=self.confirm,
            deferred=("household_address", "current_address", "notes"),
        )
        for person, flags in people:
            badges = [*flags.labels(), *selectors.plain_flags(person, self.today)]
            yield (
                person.name,
                _SEX.get(person.sex, ""),
                person.birth_date,
                idnumber.age_on(person.birth_date, self.today),
                person.id_number if self.full else mask_id_number(person.id_number),
                ethnicity.get(person.ethnicity, person.ethnicity),
                (person.phone or "") if self.full else mask_phone(person.phone),
                person.org_unit.name,
                status_on(person, self.today, self.abstinence_years).label,
                kinds.get(person.measure_kind, person.measure_kind),
                "；".join(badges),
                person.first_found_on,
                how_found.get(person.how_found, person.how_found),
                "、".join(drugs.get(code, code) for code in person.drug_types or []),
                employment.get(person.employment, person.employment),
                person.household_local,
                person.sick_or_disabled,
                person.poverty_by_drugs,
                person.key_person,
                person.last_contact_on,
            )
