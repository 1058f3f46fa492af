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
