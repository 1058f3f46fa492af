"""Model fields for personal data."""

from __future__ import annotations

from django.db import models

from jindu.core import crypto


class EncryptedTextField(models.BinaryField):
    """Text stored as an authenticated ciphertext; Python code sees plain ``str``.

    Lookups other than ``isnull`` make no sense on ciphertext; search goes through
    a blind index field beside it.
    """

    description = "Encrypted text"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", True)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("editable", "null", "blank"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return crypto.decrypt(bytes(value))

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return crypto.decrypt(bytes(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or value == "":
            return None
        if isinstance(value, (bytes, memoryview)):
            return super().get_db_prep_value(value, connection, prepared)
        return connection.Database.Binary(crypto.encrypt(str(value)))

    def value_to_string(self, obj):
        return "[encrypted]"

    def formfield(self, **kwargs):
        from django import forms

        return forms.CharField(required=not self.blank, **kwargs)


class BlindIndexField(models.BinaryField):
    """A blind index (``crypto.blind_index``): 16 bytes, found by exact match only.

    Python code sees ``bytes`` on every database (PostgreSQL hands ``bytea`` back as
    a ``memoryview``, which is neither hashable nor equal to a ``str``)."""

    description = "Blind index"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("max_length", crypto.BLIND_INDEX_BYTES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        if kwargs.get("max_length") == crypto.BLIND_INDEX_BYTES:
            kwargs.pop("max_length")
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return None if value is None else bytes(value)

    def to_python(self, value):
        return bytes(value) if isinstance(value, memoryview) else value


def blind_index_to_bytes(schema_editor, model, name: str) -> None:
    """Turn a column of blind indexes kept as 64 hex characters (a CharField) into a
    ``BlindIndexField`` holding their first 16 bytes, values included; for migrations.

    The column's indexes and uniqueness stay as they are. The values need no key:
    the new index of a value is the first half of the old one's hex digest, decoded.
    """
    connection = schema_editor.connection
    old = model._meta.get_field(name)
    new = BlindIndexField(old.verbose_name, unique=old.unique, db_index=old.db_index)
    new.set_attributes_from_name(name)
    new.model = model
    schema_editor.alter_field(model, old, new)
    table = schema_editor.quote_name(model._meta.db_table)
    column = schema_editor.quote_name(old.column)
    size = crypto.BLIND_INDEX_BYTES
    if connection.vendor == "postgresql":
        # The type change cast each text to the bytes of its characters.
        schema_editor.execute(
            f"UPDATE {table} SET {column} = "  # noqa: S608 (names from the model)
            f"decode(substr(convert_from({column}, 'UTF8'), 1, {size * 2}), 'hex') "
            f"WHERE octet_length({column}) = {size * 4}"
        )
        return
    connection.ensure_connection()
    connection.connection.create_function(
        "jindu_blind_bytes",
        1,
        lambda text: bytes.fromhex(text[: size * 2]),
        deterministic=True,
    )
    schema_editor.execute(
        f"UPDATE {table} SET {column} = jindu_blind_bytes({column}) "  # noqa: S608
        f"WHERE typeof({column}) = 'text'"
    )
