"""The blind index of a person's ID number is kept as 16 bytes instead of 64 hex
characters (``crypto.BLIND_INDEX_BYTES``): its unique index, into which every new
person goes at a random place, is a quarter of the size. Existing values are
shortened in place (no key is needed). One way only: the dropped half of each
digest is not kept anywhere."""

from django.db import migrations

import jindu.core.fields
from jindu.core.fields import blind_index_to_bytes


def forward(apps, schema_editor):
    blind_index_to_bytes(schema_editor, apps.get_model("people", "Person"), "id_index")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_drop_unused_person_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward)],
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="id_index",
                    field=jindu.core.fields.BlindIndexField(
                        unique=True, verbose_name="身份证号索引"
                    ),
                ),
            ],
        ),
    ]
