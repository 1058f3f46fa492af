"""On SQLite the register's path index goes: the keyset index (org_path, id) holds the
same entries in the same order there (every SQLite index ends with the row's key)
and serves every subtree query; the copy only cost each insert. PostgreSQL keeps it
(``PostgresOnlyIndex``): its ``LIKE`` prefix search needs ``varchar_pattern_ops``."""

from django.db import migrations

import jindu.core.paths


def drop_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute('DROP INDEX IF EXISTS "people_person_org_path_idx"')


def create_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS "people_person_org_path_idx" '
            'ON "people_person" ("org_path")'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_person_id_index_bytes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_on_sqlite, create_on_sqlite)],
            state_operations=[
                migrations.RemoveIndex(model_name="person", name="people_person_org_path_idx"),
                migrations.AddIndex(
                    model_name="person",
                    index=jindu.core.paths.PostgresOnlyIndex(
                        fields=["org_path"],
                        name="people_person_org_path_idx",
                        opclasses=["varchar_pattern_ops"],
                    ),
                ),
            ],
        ),
    ]
