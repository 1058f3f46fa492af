"""People abstinent three years or more (戒断三年以上未复吸), counted on any date.

The rule is the status rule (``status.Status.ABSTINENT``) applied on a past
date with only what was known by then: on day D a person is abstinent when
they have not died or moved away by D, no measure decided by D is still
running on D, and the latest of their first finding, the end of their
measures and their positive tests, all up to D, lies at least the policy's
``abstinence_years`` before D. A relapse after D does not change the count
for D: a year's figure stays what it was.

People are counted by the unit responsible on D (``movement.responsible_q``).

How it stays cheap on a large register: ``Person.clean_since`` (kept by the
services) is the start of abstinence as known today. Anyone whose
``clean_since`` lies N years before D was abstinent on D; anyone whose
``clean_since`` falls between D - N and D was not. Only people whose
``clean_since`` lies after D (or who are under a measure now) need a closer
look, and of those only the ones with no measure and no finding in the
window; their tests in the window are decrypted to look for a positive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from jindu.people.dates import add_years
from jindu.people.models import DrugTest, FollowUpPolicy, Measure, Person, Responsibility
from jindu.people.movement import responsible_q


def _years(abstinence_years: int | None) -> int:
    if abstinence_years is None:
        return FollowUpPolicy.current().abstinence_years
    return abstinence_years


def _present_on(path: str, day: date) -> Q:
    alive = Q(died_on__isnull=True) | Q(died_on__gt=day)
    here = Q(moved_away_on__isnull=True) | Q(moved_away_on__gt=day)
    # Everyone ever responsible within the path first (the path index): without it a
    # planner may test the EXISTS below on every person of the installation.
    ever_here = Responsibility.objects.filter(org_path__subtree=path).values("person_id")
    return Q(pk__in=ever_here) & responsible_q(path, day) & alive & here


def abstinent_ids(path: str, on_date: date, abstinence_years: int | None = None) -> set[int]:
    """The ids of the people counted by ``abstinent_count``."""
    years = _years(abstinence_years)
    since = add_years(on_date, -years)
    base = Person.objects.filter(_present_on(path, on_date))
    sure = set(base.filter(clean_since__lte=since).values_list("pk", flat=True))
    # Known today to have something after D: perhaps abstinent on D, if nothing
    # happened between D - N and D.
    measure_in_window = Measure.objects.annotate(
        end=Coalesce(F("ended_on"), F("planned_end"))
    ).filter(
        Q(end__isnull=True) | Q(end__gt=since),
        person_id=OuterRef("pk"),
        decision_date__lte=on_date,
    )
    maybe = list(
        base.filter(Q(clean_since__gt=on_date) | Q(clean_since__isnull=True))
        .exclude(first_found_on__gt=since)
        .exclude(Exists(measure_in_window))
        .annotate(
            had_measure=Exists(
                Measure.objects.filter(person_id=OuterRef("pk"), decision_date__lte=on_date)
            )
        )
        .values_list("pk", "first_found_on", "had_measure")
    )
    if not maybe:
        return sure
    tests: dict[int, list[DrugTest]] = {}
    for test in DrugTest.objects.filter(
        person_id__in=[pk for pk, _found, _measure in maybe], tested_on__lte=on_date
    ).only("person_id", "tested_on", "result"):
        tests.setdefault(test.person_id, []).append(test)
    for pk, found, had_measure in maybe:
        positives = [t.tested_on for t in tests.get(pk, []) if t.result == DrugTest.Result.POSITIVE]
        if any(day > since for day in positives):
            continue
        # Abstinence needs a start: a finding, an ended measure or a positive test.
        if found is not None or had_measure or positives:
            sure.add(pk)
    return sure


def abstinent_count(path: str, on_date: date, abstinence_years: int | None = None) -> int:
    """How many people the units within ``path`` counted as abstinent on ``on_date``."""
    return len(abstinent_ids(path, on_date, abstinence_years))


@dataclass(frozen=True)
class YearCount:
    year: int
    on: date  # the year's last day (today, for the year still running)
    count: int
    previous: int  # the count at the end of the year before
    growth: int

    @property
    def growth_rate(self) -> float | None:
        """增幅 in percent, one decimal; None when the year before counted nobody."""
        if not self.previous:
            return None
        return round(self.growth * 100 / self.previous, 1)


def year_end(year: int, today: date | None = None) -> date:
    today = today or timezone.localdate()
    return min(date(year, 12, 31), today)


def abstinent_counts_by_year(
    path: str, years: Iterable[int], abstinence_years: int | None = None
) -> list[YearCount]:
    """For the four-up four-down indicator: the number abstinent at each year's end and
    its growth over the year before."""
    n = _years(abstinence_years)
    today = timezone.localdate()
    wanted = sorted(set(years))
    counts: dict[int, int] = {}
    for year in {*wanted, *(y - 1 for y in wanted)}:
        counts[year] = abstinent_count(path, year_end(year, today), n)
    return [
        YearCount(
            year=year,
            on=year_end(year, today),
            count=counts[year],
            previous=counts[year - 1],
            growth=counts[year] - counts[year - 1],
        )
        for year in wanted
    ]
