"""Relapse alerts raised before alerts named their test (source "people.Person:<id>:
relapse") are given the source they would have today ("people.DrugTest:<id>:relapse"),
so that deleting a positive test entered by mistake withdraws its alert whenever the
alert was raised.

An alert was created in the same transaction as its test, right after it: its test is
the person's test of the day the alert's title names, created in the minute before
the alert (the nearest, if there were two). No test result is read (they are
encrypted; the key is not needed). An alert whose test is gone or cannot be told
keeps its source. One way: the old source names no test to go back to.
"""

import re
from datetime import date, timedelta

from django.db import migrations

OLD = re.compile(r"^people\.Person:(\d+):relapse$")
DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
WINDOW = timedelta(minutes=1)
CHUNK = 2000


def name_their_test(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    DrugTest = apps.get_model("people", "DrugTest")
    alerts = Notification.objects.filter(
        source__startswith="people.Person:", source__endswith=":relapse"
    ).values_list("pk", "source", "title", "created_at")
    # Alerts by person: one alert goes to each member of a team, all alike.
    by_person: dict[int, list[tuple[int, date, object]]] = {}
    for pk, source, title, created_at in alerts.iterator(chunk_size=CHUNK):
        person, day = OLD.match(source), DAY.search(title)
        if person is None or day is None:
            continue
        tested_on = date(*map(int, day.groups()))
        by_person.setdefault(int(person[1]), []).append((pk, tested_on, created_at))
    people = list(by_person)
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        # Only the tests of the days the alerts name.
        days = {tested_on for person_id in chunk for _pk, tested_on, _at in by_person[person_id]}
        tests: dict[tuple[int, date], list[tuple[object, int]]] = {}
        for pk, person_id, tested_on, created_at in DrugTest.objects.filter(
            person_id__in=chunk, tested_on__in=days
        ).values_list("pk", "person_id", "tested_on", "created_at"):
            tests.setdefault((person_id, tested_on), []).append((created_at, pk))
        moves: dict[int, list[int]] = {}
        for person_id in chunk:
            for alert_pk, tested_on, raised_at in by_person[person_id]:
                before = sorted(
                    (created, pk)
                    for created, pk in tests.get((person_id, tested_on), [])
                    if raised_at - WINDOW <= created <= raised_at
                )
                if not before or (len(before) > 1 and before[-1][0] == before[-2][0]):
                    continue  # gone, or two tests of one instant: left as it was
                moves.setdefault(before[-1][1], []).append(alert_pk)
        for test_pk, alert_pks in moves.items():
            Notification.objects.filter(pk__in=alert_pks).update(
                source=f"people.DrugTest:{test_pk}:relapse"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0006_person_path_index_postgres_only"),
        ("notifications", "0002_withdrawn"),
    ]

    operations = [migrations.RunPython(name_their_test, migrations.RunPython.noop)]
