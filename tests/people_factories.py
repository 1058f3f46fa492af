"""Build people for tests through the register's own services.

``make_id_number`` gives a valid 18-digit ID number (region 621199, the test
county) for a birth date and a sequence; ``make_person`` registers a person
with it, so every test row passes the same checks and audit as real ones.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from jindu.people.idnumber import check_char

REGION = "621199"
_sequence = itertools.count(1)


def make_id_number(birth: date, seq: int) -> str:
    """A valid ID number: odd ``seq`` gives a man, even a woman (``seq`` in 0..999)."""
    first17 = f"{REGION}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_char(first17)


def make_person(actor: Any, unit: Any, **kw: Any) -> Any:
    """Register a person in ``unit`` (a village or grid) as ``actor``.

    Defaults: a unique name and ID number of an adult born 1970-2002 (unique
    for 12,000 calls); pass ``name``, ``id_number``, ``birth`` or ``seq`` and any
    editable person field to override.
    """
    from datetime import timedelta

    from jindu.people import services

    n = next(_sequence)
    # 37 is prime to 12,000, so (birth, sequence) repeats only after 12,000 people.
    birth = kw.pop("birth", date(1970, 1, 1) + timedelta(days=(n * 37) % 12000))
    seq = kw.pop("seq", n % 1000)
    name = kw.pop("name", f"测试人员{n}")
    id_number = kw.pop("id_number", make_id_number(birth, seq))
    return services.register_person(
        actor=actor, org_unit=unit, name=name, id_number=id_number, **kw
    )
