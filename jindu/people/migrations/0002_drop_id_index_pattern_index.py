"""Drop the pattern-ops twin PostgreSQL gets for the unique blind index.

Django adds a ``varchar_pattern_ops`` index beside every unique text column on
PostgreSQL, for ``LIKE 'x%'``. A blind index is only ever compared whole, which
the unique index serves; the twin only costs writes (a sixth of the time of a
100,000-row import's inserts into the register).
"""

from django.db import migrations

NAME = "people_person_id_index_abf286cd_like"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "people_person" ("id_index" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(drop, restore)]
