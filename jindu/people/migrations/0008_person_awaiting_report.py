"""The day a person's report-in period runs from, kept on the person (``bulk.person_facts``)
so that the overdue filter reads a small partial index instead of every person of a
subtree and each one's measures. The people already registered get theirs here."""

from collections import defaultdict

from django.db import migrations, models

COMMUNITY = ("community_detox", "community_rehab")


def fill(apps, schema_editor):
    """The rule of ``person_facts`` as it stands now: the latest measure's decision day,
    when that measure is a community one neither reported in to nor ended."""
    Measure = apps.get_model("people", "Measure")
    Person = apps.get_model("people", "Person")
    waiting = Measure.objects.filter(
        kind__in=COMMUNITY, report_in_date__isnull=True, ended_on__isnull=True
    )
    candidates = sorted(set(waiting.values_list("person_id", flat=True)))
    for start in range(0, len(candidates), 1000):
        part = candidates[start : start + 1000]
        latest = {}
        for person_id, *facts in (
            Measure.objects.filter(person_id__in=part)
            .order_by("decision_date", "id")
            .values_list("person_id", "kind", "decision_date", "report_in_date", "ended_on")
        ):
            latest[person_id] = facts
        by_day = defaultdict(list)
        for person_id, (kind, decided, reported, ended) in latest.items():
            if kind in COMMUNITY and reported is None and ended is None:
                by_day[decided].append(person_id)
        for day, ids in by_day.items():
            Person.objects.filter(pk__in=ids).update(awaiting_report_since=day)


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0002_drop_redundant_path_index"),
        ("people", "0007_relapse_alerts_name_their_test"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="awaiting_report_since",
            field=models.DateField(blank=True, null=True, verbose_name="待报到起算日期"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("awaiting_report_since__isnull", False)),
                fields=["org_path", "id"],
                name="people_person_awaiting",
            ),
        ),
    ]
