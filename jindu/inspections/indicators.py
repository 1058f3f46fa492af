"""The counts of key venues, courier outlets and patrols, as indicators of the registry.

Each is computed by the same selectors the pages use, for any subtree and any
period; ``compute_many`` answers several townships with one grouped query.
A venue's colour for a period is read on the period's last day (today, while
the period is running), with the period itself as the inspection period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from django.db.models import Count, Q, Sum
from django.utils import timezone

from jindu.core.indicators import Indicator, Number, Period, register
from jindu.inspections import coverage, rates
from jindu.inspections.models import (
    CourierInspection,
    InspectionRules,
    Patrol,
    Venue,
    VenueInspection,
)
from jindu.inspections.periods import RollUp
from jindu.inspections.selectors import Colour, colour_counts_by_path, open_on, with_colour

AREA = "regulation"
Values = dict[str, Number | None]


def _reading_day(period: Period) -> date | None:
    """The day a period is read on: its last day, or today while it runs; None before it starts."""
    today = timezone.localdate()
    if today < period.start:
        return None
    return min(period.last_day, today)


def _within_any(paths: Sequence[str]) -> Q:
    """Rows under any of the paths, read as one range over their common ancestor: SQLite
    scans the whole table for several ORed ranges. The roll-up then sorts rows to paths."""
    parts = [p.strip("/").split("/") for p in paths]
    common: list[str] = []
    for segments in zip(*parts, strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    return Q(org_path__subtree="/" + "".join(f"{s}/" for s in common))


def _single(
    many: Callable[[Sequence[str], Period], Values],
) -> Callable[[str, Period], Number | None]:
    return lambda path, period: many([path], period)[path]


# ------------------------------------------------------------------ venues


def _colour_counts(paths: Sequence[str], period: Period) -> dict[str, dict[str, int]] | None:
    on = _reading_day(period)
    if on is None:
        return None
    qs = with_colour(open_on(Venue.objects.filter(_within_any(paths)), on), on, period)
    roll = RollUp(list(paths))
    result: dict[str, dict[str, int]] = {p: {} for p in paths}
    for org_path, colour, n in colour_counts_by_path(qs):
        for owner in roll.owners(org_path):
            result[owner][colour] = result[owner].get(colour, 0) + n
    return result


def _colour_many(colour: Colour) -> Callable[[Sequence[str], Period], Values]:
    def many(paths: Sequence[str], period: Period) -> Values:
        counts = _colour_counts(paths, period)
        if counts is None:
            return dict.fromkeys(paths)
        return {p: counts[p].get(colour.value, 0) for p in paths}

    return many


def venues_open_many(paths: Sequence[str], period: Period) -> Values:
    counts = _colour_counts(paths, period)
    if counts is None:
        return dict.fromkeys(paths)
    return {p: sum(counts[p].values()) for p in paths}


def venues_inspected_many(paths: Sequence[str], period: Period) -> Values:
    on = _reading_day(period)
    if on is None:
        return dict.fromkeys(paths)
    roll = RollUp(list(paths))
    result: Values = dict.fromkeys(paths, 0)
    # A venue's inspections carry its path, so distinct venues per path add up.
    rows = (
        VenueInspection.objects.filter(_within_any(paths))
        .filter(inspected_on__gte=period.start, inspected_on__lte=on)
        .order_by()
        .values_list("org_path")
        .annotate(n=Count("venue", distinct=True))
    )
    for org_path, n in rows:
        for owner in roll.owners(org_path):
            result[owner] += n  # type: ignore[operator]
    return result


# ------------------------------------------------------------------ courier


def _rate_many(rule: str) -> Callable[[Sequence[str], Period], Values]:
    def many(paths: Sequence[str], period: Period) -> Values:
        qs = rates.in_period(CourierInspection.objects.filter(_within_any(paths)), period)
        sums = rates.by_paths(qs, paths)
        return {p: sums[p].rate(rule) for p in paths}

    return many


# ------------------------------------------------------------------ patrols


def _seasons_in(period: Period, rules: InspectionRules) -> list[Period]:
    """The parts of each year's season that fall inside the period."""
    parts = []
    for year in range(period.start.year, period.last_day.year + 1):
        season = coverage.season_of(year, rules)
        start, end = max(season.start, period.start), min(season.end, period.end)
        if start < end:
            parts.append(Period(start, end, season.label))
    return parts


def patrols_in_season_many(paths: Sequence[str], period: Period) -> Values:
    rules = InspectionRules.current()
    qs = Patrol.objects.filter(_within_any(paths))
    result: Values = dict.fromkeys(paths, 0)
    for part in _seasons_in(period, rules):
        for path, n in coverage.patrol_counts(qs, list(paths), part).items():
            result[path] += n  # type: ignore[operator]
    return result


def townships_meeting_rule(path: str, period: Period) -> Number | None:
    on = _reading_day(period)
    if on is None:
        return None
    rows = coverage.coverage(path, period.last_day.year, on=on)
    return sum(1 for row in rows if row.met)


def plants_destroyed_many(paths: Sequence[str], period: Period) -> Values:
    qs = Patrol.objects.filter(_within_any(paths)).filter(
        patrolled_on__gte=period.start, patrolled_on__lt=period.end
    )
    roll = RollUp(list(paths))
    result: Values = dict.fromkeys(paths, 0)
    rows = qs.order_by().values_list("org_path").annotate(n=Sum("plants_destroyed"))
    for org_path, n in rows:
        for owner in roll.owners(org_path):
            result[owner] += int(n or 0)  # type: ignore[operator]
    return result


def veto_marks(path: str, period: Period) -> Number | None:
    return len(coverage.veto_townships_between(path, period))


# ------------------------------------------------------------------ registration

_COLOUR_NAMES = {
    Colour.GREEN: ("venues_green", "重点场所（绿：本期检查合格）", True),
    Colour.YELLOW: ("venues_yellow", "重点场所（黄：本期未检查）", False),
    Colour.RED: ("venues_red", "重点场所（红：不合格未整改）", False),
    Colour.BLUE: ("venues_blue", "重点场所（蓝：不合格已整改）", True),
}
_RATE_NAMES = {
    "real_name": "寄递渠道实名登记率",
    "open_box": "寄递渠道开箱验视率",
    "xray": "寄递渠道过X光机率",
}


def register_all() -> None:
    for colour, (key, name, better) in _COLOUR_NAMES.items():
        many = _colour_many(colour)
        register(
            Indicator(
                key=key,
                name=name,
                unit="家",
                higher_is_better=better,
                area=AREA,
                compute=_single(many),
                compute_many=many,
                tags=frozenset({"venues"}),
            )
        )
    register(
        Indicator(
            key="venues_open",
            name="重点场所数",
            unit="家",
            higher_is_better=True,
            area=AREA,
            description="期末在营的重点场所",
            compute=_single(venues_open_many),
            compute_many=venues_open_many,
            tags=frozenset({"venues"}),
        )
    )
    register(
        Indicator(
            key="venues_inspected",
            name="本期检查的重点场所",
            unit="家",
            higher_is_better=True,
            area=AREA,
            description="期内至少检查一次（明察或暗访）的重点场所",
            compute=_single(venues_inspected_many),
            compute_many=venues_inspected_many,
            tags=frozenset({"venues"}),
        )
    )
    for rule, name in _RATE_NAMES.items():
        many = _rate_many(rule)
        register(
            Indicator(
                key=f"courier_{rule}_rate",
                name=name,
                unit="%",
                higher_is_better=True,
                area=AREA,
                description="期内各次检查合规件数之和除以抽查件数之和",
                decimals=1,
                is_rate=True,
                compute=_single(many),
                compute_many=many,
                tags=frozenset({"courier"}),
            )
        )
    register(
        Indicator(
            key="patrols_in_season",
            name="禁种铲毒踏查次数（踏查季内）",
            unit="次",
            higher_is_better=True,
            area=AREA,
            description="期内落在踏查季月份中的本级踏查",
            compute=_single(patrols_in_season_many),
            compute_many=patrols_in_season_many,
            tags=frozenset({"patrols"}),
        )
    )
    register(
        Indicator(
            key="townships_patrol_rule_met",
            name="踏查次数达标乡镇",
            unit="个",
            higher_is_better=True,
            area=AREA,
            description="截至期末，当年踏查季本级踏查达到规定次数的乡镇",
            compute=townships_meeting_rule,
            tags=frozenset({"patrols"}),
        )
    )
    register(
        Indicator(
            key="plants_destroyed",
            name="铲除毒品原植物",
            unit="株",
            higher_is_better=True,
            area=AREA,
            compute=_single(plants_destroyed_many),
            compute_many=plants_destroyed_many,
            tags=frozenset({"patrols"}),
        )
    )
    register(
        Indicator(
            key="patrol_veto_marks",
            name="禁种铲毒一票否决乡镇",
            unit="个",
            higher_is_better=False,
            area=AREA,
            description="期内省级或国家级核查发现非法种植毒品原植物的乡镇",
            compute=veto_marks,
            tags=frozenset({"patrols"}),
        )
    )


__all__ = ["register_all"]
