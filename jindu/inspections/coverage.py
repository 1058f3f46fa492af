"""Patrol coverage per township and season, and the one-vote veto.

The common provincial rubric: every township patrols at least six times between
February and September (the months and the minimum are the county's rules,
``InspectionRules``). Only a township's own patrols count; a check by a higher
level does not. A provincial or national check that finds illicit plants in a
township marks it for the one-vote veto (一票否决) of the year's assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from jindu.core.indicators import Period
from jindu.inspections.models import InspectionRules, Patrol
from jindu.inspections.periods import RollUp, patrol_season, townships_for
from jindu.orgs.models import OrgUnit

VETO_LEVELS = (Patrol.CheckLevel.NATIONAL, Patrol.CheckLevel.PROVINCIAL)


def season_of(year: int, rules: InspectionRules | None = None) -> Period:
    rules = rules or InspectionRules.current()
    return patrol_season(year, rules.patrol_first_month, rules.patrol_last_month)


def own_patrols(qs: QuerySet[Patrol]) -> QuerySet[Patrol]:
    return qs.filter(check_level=Patrol.CheckLevel.OWN)


def veto_findings(qs: QuerySet[Patrol]) -> QuerySet[Patrol]:
    """Provincial or national checks that found plants."""
    return qs.filter(check_level__in=VETO_LEVELS, plants_found__gt=0)


@dataclass
class TownshipCoverage:
    unit: OrgUnit
    patrols: int
    minimum: int
    season: Period
    on: date
    vetoed: bool = False

    @property
    def met(self) -> bool:
        return self.patrols >= self.minimum

    @property
    def remaining(self) -> int:
        return max(self.minimum - self.patrols, 0)

    @property
    def state(self) -> str:
        """met, short (the season is over and it fell short), running, or not started."""
        if self.met:
            return "met"
        if self.on >= self.season.end:
            return "short"
        if self.on < self.season.start:
            return "not_started"
        return "running"

    @property
    def percent(self) -> int:
        return min(100, self.patrols * 100 // self.minimum) if self.minimum else 100


def _scope_of(path: str, townships: list[OrgUnit]) -> str:
    """The path to count in: the subtree, or the township above it when it lies inside one."""
    if len(townships) == 1 and path.startswith(townships[0].path):
        return townships[0].path
    return path


def coverage(
    path: str, year: int, *, rules: InspectionRules | None = None, on: date | None = None
) -> list[TownshipCoverage]:
    """Each township's own patrols in the year's season, counted up to ``on`` (today)."""
    rules = rules or InspectionRules.current()
    on = on or timezone.localdate()
    season = season_of(year, rules)
    townships = townships_for(path)
    until = min(season.end, on + timedelta(days=1))
    counts = patrol_counts(Patrol.objects.within(path), [t.path for t in townships], season, until)
    vetoed = {t.pk for t in veto_townships(path, year)}
    return [
        TownshipCoverage(
            unit=t,
            patrols=counts[t.path],
            minimum=rules.patrol_minimum,
            season=season,
            on=on,
            vetoed=t.pk in vetoed,
        )
        for t in townships
    ]


def patrol_counts(
    qs: QuerySet[Patrol], paths: list[str], season: Period, until: date | None = None
) -> dict[str, int]:
    """Own patrols in the season (and before ``until``) for each given subtree: one GROUP BY."""
    end = min(season.end, until) if until else season.end
    roll = RollUp(paths)
    result = dict.fromkeys(paths, 0)
    rows = (
        own_patrols(qs)
        .filter(patrolled_on__gte=season.start, patrolled_on__lt=end)
        .order_by()
        .values_list("org_path")
        .annotate(n=Count("id"))
    )
    for org_path, n in rows:
        for owner in roll.owners(org_path):
            result[owner] += n
    return result


def veto_townships(path: str, year: int) -> list[OrgUnit]:
    """The townships in (or holding) ``path`` marked for the one-vote veto in ``year``.

    The assessment reads this: a township is marked when a provincial or national
    check found illicit plants anywhere in it during the year.
    """
    return veto_townships_between(path, Period.year(year))


def veto_townships_between(path: str, period: Period) -> list[OrgUnit]:
    townships = townships_for(path)
    if not townships:
        return []
    scope = _scope_of(path, townships)
    roll = RollUp([t.path for t in townships])
    found_paths = (
        veto_findings(Patrol.objects.within(scope))
        .filter(patrolled_on__gte=period.start, patrolled_on__lt=period.end)
        .order_by()
        .values_list("org_path", flat=True)
        .distinct()
    )
    marked = {roll.owner(p) for p in found_paths} - {None}
    return [t for t in townships if t.path in marked]


def plants_destroyed(qs: QuerySet[Patrol], period: Period) -> int:
    total = (
        qs.filter(patrolled_on__gte=period.start, patrolled_on__lt=period.end)
        .order_by()
        .aggregate(n=Sum("plants_destroyed"))["n"]
    )
    return int(total or 0)


def coverage_summary(rows: list[TownshipCoverage]) -> dict[str, Any]:
    return {
        "townships": len(rows),
        "met": sum(1 for row in rows if row.met),
        "patrols": sum(row.patrols for row in rows),
        "vetoed": sum(1 for row in rows if row.vetoed),
    }
