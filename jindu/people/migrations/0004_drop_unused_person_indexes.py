"""Two indexes of the register that no query reads go, each costing every insert into a
large register a random-key write:

- ``name``: the lists search names with ``contains`` (``LIKE '%…%'``), which no
  B-tree index serves;
- ``measure_until``: whether a measure runs past a day is asked of a scope's people
  (``status._runs_past`` keeps the planner off this index on purpose: a third of a
  province runs past any day).

Dropped in place (SQLite would otherwise copy the table to change a field's index).
"""

from django.db import migrations, models

MEASURE_UNTIL = "people_person_measure_until_8bcbcd16"


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_person_key_indexes_in_composites"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="person", name="people_person_name"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{MEASURE_UNTIL}"',
                    reverse_sql=(
                        f'CREATE INDEX "{MEASURE_UNTIL}" ON "people_person" ("measure_until")'
                    ),
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="measure_until",
                    field=models.DateField(blank=True, null=True, verbose_name="措施截止日期"),
                ),
            ],
        ),
    ]
