"""The blind indexes of ID numbers in enforcement records are kept as 16 bytes
instead of 64 hex characters (``crypto.BLIND_INDEX_BYTES``), as the register's are.
Existing values are shortened in place (no key is needed); one way only."""

from django.db import migrations

import jindu.core.fields
from jindu.core.fields import blind_index_to_bytes

MODELS = ("Suspect", "UserCaught", "DrugDrivingTest")


def forward(apps, schema_editor):
    for name in MODELS:
        blind_index_to_bytes(schema_editor, apps.get_model("enforcement", name), "id_index")


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0002_indexes_by_date_and_path"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward)],
            state_operations=[
                migrations.AlterField(
                    model_name=name.lower(),
                    name="id_index",
                    field=jindu.core.fields.BlindIndexField(
                        db_index=True, verbose_name="身份证号索引"
                    ),
                )
                for name in MODELS
            ],
        ),
    ]
