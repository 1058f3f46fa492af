"""A person's status on a given day, derived from measures and dated facts, never typed.

``status_on`` answers for one person in Python; ``annotate_status`` answers for a
whole queryset in SQL (for list filters and counts), from the same facts with
the same rule.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan

from jindu.people.dates import add_years
from jindu.people.schedule import COMMUNITY_KINDS


class Status(models.TextChoices):
    DIED = "died", "死亡"
    MOVED_AWAY = "moved_away", "迁出本县"
    COMMUNITY_DETOX = "community_detox", "社区戒毒中"
    COMMUNITY_REHAB = "community_rehab", "社区康复中"
    ISOLATION = "isolation", "强制隔离戒毒中"
    CUSTODY = "custody", "拘留/服刑中"
    TREATMENT = "treatment", "自愿戒毒/药物维持治疗中"
    ABSTINENT = "abstinent", "戒断三年以上未复吸"
    NOT_UNDER_MEASURE = "free", "未在措施期（戒断未满三年）"


KIND_STATUS = {
    "community_detox": Status.COMMUNITY_DETOX,
    "community_rehab": Status.COMMUNITY_REHAB,
    "compulsory_isolation": Status.ISOLATION,
    "detention": Status.CUSTODY,
    "prison": Status.CUSTODY,
    "voluntary": Status.TREATMENT,
    "methadone": Status.TREATMENT,
    "other": Status.TREATMENT,
}
UNDER_COMMUNITY = (Status.COMMUNITY_DETOX, Status.COMMUNITY_REHAB)


def status_on(person: Any, day: date, abstinence_years: int = 3) -> Status:
    if person.died_on and person.died_on <= day:
        return Status.DIED
    if person.moved_away_on and person.moved_away_on <= day:
        return Status.MOVED_AWAY
    if (
        person.measure_kind
        and person.measure_anchor
        and person.measure_anchor <= day
        and (person.measure_until is None or day < person.measure_until)
    ):
        return KIND_STATUS.get(person.measure_kind, Status.TREATMENT)
    if person.clean_since and add_years(person.clean_since, abstinence_years) <= day:
        return Status.ABSTINENT
    return Status.NOT_UNDER_MEASURE


def _years_before(day: date, years: int) -> date:
    return add_years(day, -years)


def status_case(day: date, abstinence_years: int = 3) -> Case:
    running = Q(measure_anchor__lte=day) & (
        Q(measure_until__isnull=True) | Q(measure_until__gt=day)
    )
    whens = [
        When(died_on__lte=day, then=Value(Status.DIED.value)),
        When(moved_away_on__lte=day, then=Value(Status.MOVED_AWAY.value)),
    ]
    for kind, status in KIND_STATUS.items():
        whens.append(When(running & Q(measure_kind=kind), then=Value(status.value)))
    whens.append(
        When(
            clean_since__lte=_years_before(day, abstinence_years),
            then=Value(Status.ABSTINENT.value),
        )
    )
    return Case(
        *whens, default=Value(Status.NOT_UNDER_MEASURE.value), output_field=models.CharField()
    )


def annotate_status(qs: models.QuerySet, day: date, abstinence_years: int = 3) -> models.QuerySet:
    return qs.annotate(status=status_case(day, abstinence_years))


def _runs_past(day: date) -> Q:
    """``measure_until`` empty or after ``day``, written so that no index is read for it:
    a third of a province runs past any day, and a planner that joins that index to
    a township's path index reads hundreds of thousands of entries for a few hundred
    people (17 ms on PostgreSQL for a township's list)."""
    return Q(GreaterThan(Coalesce(F("measure_until"), Value(date.max)), day))


def under_community_q(day: date) -> Q:
    """Alive, here, and under a community detox or rehab running on ``day``."""
    return (
        Q(measure_kind__in=COMMUNITY_KINDS, measure_anchor__lte=day)
        & _runs_past(day)
        & Q(died_on__isnull=True, moved_away_on__isnull=True)
    )


def lost_contact_q(day: date, days: int) -> Q:
    """Under a community measure and no contact for ``days`` days: lost from control (失控)."""
    cutoff = day - timedelta(days=days)
    running = Q(measure_anchor__lte=day) & _runs_past(day)
    community = Q(measure_kind__in=COMMUNITY_KINDS)
    # The later of the last contact and the measure's start: a contact from before
    # the measure does not make a person lost on the day they report in.
    no_contact = Q(measure_anchor__lt=cutoff) & (
        Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=cutoff)
    )
    return running & community & no_contact & Q(died_on__isnull=True, moved_away_on__isnull=True)
