"""Blind indexes as 16 bytes: the values, the field, and the migration of old hex values."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from jindu.core import crypto
from jindu.core.fields import BlindIndexField, blind_index_to_bytes
from jindu.people import services
from jindu.people.models import Person
from tests.people_factories import make_person

ID = "110105199001010010"


def _old_hex(value: str, purpose: str) -> str:
    """The blind index as it was stored before: the whole HMAC-SHA256 digest in hex."""
    key = crypto.derive_key(f"blind/{purpose}")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def test_a_blind_index_is_the_first_16_bytes_of_the_keyed_digest():
    index = crypto.blind_index(ID, "person-id")
    assert isinstance(index, bytes) and len(index) == crypto.BLIND_INDEX_BYTES == 16
    assert index == bytes.fromhex(_old_hex(ID, "person-id"))[:16]
    assert crypto.blind_index_many([ID, "110105199001010038"], "person-id")[0] == index
    # The purpose keys it: the same number has another index in enforcement records.
    assert crypto.blind_index(ID, "enforcement-id") != index


@pytest.mark.django_db
def test_the_register_finds_and_refuses_by_the_16_bytes(personas):
    county_officer = personas.county_officer
    person = make_person(county_officer, personas.territory.village_a, id_number=ID)
    person.refresh_from_db()
    # bytes on every database (PostgreSQL gives bytea back as a memoryview)
    assert person.id_index == services.id_index(ID) and type(person.id_index) is bytes
    assert services.find_by_id_number(county_officer, ID) == person
    assert Person.objects.filter(id_index=crypto.blind_index(ID, "person-id")).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_index FROM people_person WHERE id = %s", [person.pk])
        (raw,) = cursor.fetchone()
    assert len(bytes(raw)) == 16


@isolate_apps("jindu.people")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("unique", [True, False])
def test_old_hex_indexes_become_the_new_bytes_in_place(unique):
    """``blind_index_to_bytes``, as the register's and enforcement's migrations run it."""

    class Old(models.Model):  # noqa: DJ008
        id_index = models.CharField(max_length=64, unique=unique, db_index=not unique)
        note = models.CharField(max_length=10)

        class Meta:
            app_label = "people"
            db_table = "test_blind_old"

    numbers = [ID, "110105199001010038", "11010519900101005X", "110105199001010054"]
    with connection.schema_editor() as editor:
        editor.create_model(Old)
    try:
        with connection.cursor() as cursor:
            for n, number in enumerate(numbers):
                cursor.execute(
                    "INSERT INTO test_blind_old (id_index, note) VALUES (%s, %s)",
                    [_old_hex(number, "person-id"), f"n{n}"],
                )
        with connection.schema_editor() as editor:
            blind_index_to_bytes(editor, Old, "id_index")
        with connection.cursor() as cursor:
            cursor.execute("SELECT note, id_index FROM test_blind_old ORDER BY note")
            rows = [(note, bytes(index)) for note, index in cursor.fetchall()]
        assert rows == [
            (f"n{n}", crypto.blind_index(x, "person-id")) for n, x in enumerate(numbers)
        ]
        # The index still serves an exact search, and uniqueness still holds.
        new = BlindIndexField(unique=unique, db_index=not unique)
        new.set_attributes_from_name("id_index")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT note FROM test_blind_old WHERE id_index = %s",
                [new.get_db_prep_value(crypto.blind_index(numbers[2], "person-id"), connection)],
            )
            assert cursor.fetchall() == [("n2",)]
        if unique:
            from django.db import IntegrityError, transaction

            with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as c:
                c.execute(
                    "INSERT INTO test_blind_old (id_index, note) VALUES (%s, 'dup')",
                    [new.get_db_prep_value(crypto.blind_index(ID, "person-id"), connection)],
                )
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Old)
