"""Build enforcement records for tests through the app's own services, so that every
test row passes the same checks and audit as real ones."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from jindu.enforcement import caught, services
from tests.people_factories import make_id_number

_numbers = itertools.count(1)
_sequence = itertools.count(500)


def d(text: str) -> date:
    return date.fromisoformat(text)


def make_case(actor: Any, unit: Any, department: Any, **kw: Any) -> Any:
    """A drug case filed (and, if ``solved_on`` is given, solved) in ``unit``."""
    values = {
        "number": f"测试〔2023〕{next(_numbers):04d}号",
        "offence": "trafficking",
        "filed_on": d("2023-03-01"),
    } | kw
    return services.create_case(actor=actor, org_unit=unit, department=department, **values)


def add_suspect(actor: Any, case: Any, *, birth: date = date(1985, 5, 5), **kw: Any) -> Any:
    values = {
        "name": "测试嫌疑人",
        "id_number": make_id_number(birth, next(_sequence)),
        "household": "local",
        "caught_on": case.solved_on or case.filed_on,
    } | kw
    return services.add_suspect(actor=actor, case=case, **values)


def seize(actor: Any, drug: str, grams: str, day: date, *, case: Any = None, **kw: Any) -> Any:
    return services.record_seizure(
        actor=actor, case=case, seized_on=day, drug_type=drug, weight_g=grams, **kw
    )


def catch(actor: Any, unit: Any, department: Any, day: date, drug: str = "heroin", **kw: Any):
    values = {
        "name": "测试吸毒人员",
        "id_number": make_id_number(date(1990, 1, 1), next(_sequence)),
        "outcome": "detention",
    } | kw
    return caught.record_user_caught(
        actor=actor, caught_on=day, drug_type=drug, org_unit=unit, department=department, **values
    )


def driving(actor: Any, unit: Any, department: Any, day: date, **kw: Any) -> Any:
    values = {
        "name": "测试驾驶人",
        "id_number": make_id_number(date(1988, 2, 2), next(_sequence)),
        "result": "positive",
    } | kw
    return caught.record_driving_test(
        actor=actor, tested_on=day, org_unit=unit, department=department, **values
    )
