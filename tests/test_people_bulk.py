"""jindu.people.bulk.BulkWriter: rows inserted by the block read back as they were given."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from jindu.core import crypto
from jindu.people.bulk import BulkWriter
from jindu.people.models import Person
from tests.people_factories import make_id_number

FIELDS = (
    "id", "org_unit_id", "org_path", "name", "sex", "birth_date", "id_number", "id_index",
    "phone", "drug_types", "has_driving_licence", "key_person", "first_found_on",
)  # fmt: skip


def _rows(unit, ids, *, as_bytearray: bool = False) -> list[tuple]:
    rows = []
    for n, pk in enumerate(ids):
        birth = date(1970, 1, 1 + n % 28)
        number = make_id_number(birth, n % 1000)
        sealed = crypto.encrypt(number)
        phone = crypto.encrypt(f"139{n:08d}") if n % 3 else None
        if as_bytearray:
            sealed = bytearray(sealed)
        rows.append((
            pk, unit.pk, unit.path, f"人员{n}", "M" if n % 2 else "F", birth.isoformat(), sealed,
            crypto.blind_index(number, "person-id"), phone, '["methamphetamine"]', n % 2 == 0,
            bool(n % 5 == 0), None if n % 4 else "2020-03-05",
        ))  # fmt: skip
    return rows


@pytest.mark.parametrize("count", [1, 999, 1000, 2345])
def test_rows_are_inserted_whole_blocks_and_the_rest_alike(personas, count):
    """SQLite takes whole blocks of rows to a statement and the rest one by one
    (PostgreSQL copies them): either way every row reads back as it was given,
    None, booleans and bytes (or bytearrays) included."""
    unit = personas.territory.grid_a
    writer = BulkWriter()
    ids = writer.reserve_ids(Person, count)
    rows = _rows(unit, ids, as_bytearray=count == 2345)
    with transaction.atomic():
        assert writer.insert(Person, FIELDS, rows) == count
    people = Person.objects.order_by("pk")
    assert [p.pk for p in people] == list(ids)
    for n, person in enumerate(people):
        assert person.name == f"人员{n}"
        assert person.id_number == make_id_number(date(1970, 1, 1 + n % 28), n % 1000)
        assert person.phone == (f"139{n:08d}" if n % 3 else None)
        assert person.has_driving_licence is (n % 2 == 0)
        assert person.key_person is (n % 5 == 0)
        assert person.first_found_on == (None if n % 4 else date(2020, 3, 5))
        assert person.drug_types == ["methamphetamine"]
        # Defaults of the fields not given.
        assert person.notes == "" and person.died_on is None


def test_a_row_of_the_wrong_length_is_refused_not_shifted(personas):
    unit = personas.territory.grid_a
    writer = BulkWriter()
    ids = writer.reserve_ids(Person, 1500)
    rows = _rows(unit, ids)
    rows[700] = rows[700][:-1]  # one value short
    rows[701] = (*rows[701], None)  # and one too many: together the block still adds up
    # SQLite's blocks are checked row by row (PostgreSQL's copy refuses the row itself).
    refused = ValueError if connection.vendor == "sqlite" else DatabaseError
    match = "13 values" if refused is ValueError else None
    with pytest.raises(refused, match=match), transaction.atomic():
        writer.insert(Person, FIELDS, rows)
    assert not Person.objects.exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's driver only")
def test_none_booleans_and_bytes_bind_as_before(db):
    """``bind_directly`` registers adapters that give back what SQLite would bind anyway."""
    BulkWriter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s IS NULL, %s, %s, typeof(%s), %s", [None, True, False, b"\x00\xff", b"\x01"]
        )
        assert cursor.fetchone() == (1, 1, 0, "blob", b"\x01")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's limits")
@pytest.mark.parametrize(
    ("limit", "value"),
    [("SQLITE_LIMIT_VARIABLE_NUMBER", 100), ("SQLITE_LIMIT_SQL_LENGTH", 20_000)],
)
def test_blocks_keep_within_sqlites_limits(personas, limit, value):
    """A SQLite built with lower limits on a statement's parameters or length gets
    smaller blocks, not an error."""
    import sqlite3

    unit = personas.territory.grid_a
    writer = BulkWriter()
    ids = writer.reserve_ids(Person, 2500)
    raw = connection.connection
    which = getattr(sqlite3, limit)
    before = raw.setlimit(which, value)
    try:
        with transaction.atomic():
            assert writer.insert(Person, FIELDS, _rows(unit, ids)) == 2500
    finally:
        raw.setlimit(which, before)
    assert list(Person.objects.order_by("pk").values_list("name", flat=True)) == [
        f"人员{n}" for n in range(2500)
    ]
