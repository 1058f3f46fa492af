"""The single-column indexes on measures' and responsibilities' person key go: the
(person, decision_date) and (person, valid_from) indexes serve every lookup by
person, and the extra index only cost each insert. Dropped in place (SQLite would
otherwise copy both tables to change an index)."""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = {
    "people_measure": "people_measure_person_id_a40b9638",
    "people_responsibility": "people_responsibility_person_id_7b28e72f",
}


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_drop_id_index_pattern_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("person_id")',
                )
                for table, index in DROPPED.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="measure",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="measures",
                        to="people.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="responsibility",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="responsibilities",
                        to="people.person",
                    ),
                ),
            ],
        ),
    ]
