"""Completion of targets: actual ÷ target for any unit and any day of the year, and
progress against the share of the year gone by.

**The colour rule.** ``elapsed`` is the share of the year up to and including
the day (50 % on 1 July of a leap year). For an indicator where more is better:
green when completion ≥ elapsed (on pace), yellow when ≥ 80 % of elapsed,
red below. Where less is better (a cap, such as people lost from control):
green while completion ≤ elapsed, yellow while ≤ 100 %, red above the cap. A
target of zero or none is "不适用" (grey), never a division.

Whose target: the county's own target for the county; a township's part
(``TargetShare``) for a township; a department's part for a member department,
measured against the county's figure, since the registry counts by territory
and a department works for the whole county.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jindu.core import indicators
from jindu.core.indicators import Indicator, Number, Period
from jindu.orgs.models import Department, OrgUnit
from jindu.targets.models import Target, TargetShare

YELLOW_SHARE = Decimal("0.8")
COLOUR_CSS = {
    "green": "text-bg-success",
    "yellow": "text-bg-warning",
    "red": "text-bg-danger",
    "na": "text-bg-secondary",
}
COLOUR_LABEL = {
    "green": _("进度正常"),
    "yellow": _("略有滞后"),
    "red": _("明显滞后"),
    "na": _("不适用"),
}


def day_in_year(year: int, on: date | None = None) -> date:
    """The day to measure on: ``on`` (today by default), kept inside the year."""
    on = on or timezone.localdate()
    return min(max(on, date(year, 1, 1)), date(year, 12, 31))


def elapsed_percent(year: int, on: date) -> Decimal:
    """The share of the year gone by, up to and including ``on``, in per cent."""
    on = day_in_year(year, on)
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    return Decimal((on - date(year, 1, 1)).days + 1) * 100 / Decimal(days)


def colour(completion: Decimal | None, elapsed: Decimal, higher_is_better: bool = True) -> str:
    if completion is None:
        return "na"
    if higher_is_better:
        if completion >= elapsed:
            return "green"
        return "yellow" if completion >= elapsed * YELLOW_SHARE else "red"
    if completion <= elapsed:
        return "green"
    return "yellow" if completion <= 100 else "red"


def period_to(year: int, on: date) -> Period:
    return Period.between(date(year, 1, 1), day_in_year(year, on))


def one_decimal(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Progress:
    key: str
    indicator: Indicator | None
    target: Decimal | None
    actual: Number | None
    elapsed: Decimal

    @property
    def completion(self) -> Decimal | None:
        return indicators.completion(self.actual, self.target)

    @property
    def completion_shown(self) -> Decimal | None:
        return one_decimal(self.completion)

    @property
    def colour(self) -> str:
        better = self.indicator.higher_is_better if self.indicator else True
        return colour(self.completion, self.elapsed, better)

    @property
    def css(self) -> str:
        return COLOUR_CSS[self.colour]

    @property
    def label(self) -> Any:
        return COLOUR_LABEL[self.colour]

    @property
    def name(self) -> str:
        return self.indicator.name if self.indicator else self.key

    @property
    def unit(self) -> str:
        return self.indicator.unit if self.indicator else ""


def _sorted(targets: dict[str, Decimal]) -> list[str]:
    order = {key: i for i, key in enumerate(indicators.REGISTRY)}
    return sorted(targets, key=lambda k: (order.get(k, len(order)), k))


def progress(path: str, targets: dict[str, Decimal], year: int, on: date) -> list[Progress]:
    """Each target against the figure of ``path`` from 1 January to ``on``."""
    period = period_to(year, on)
    elapsed = elapsed_percent(year, on)
    rows = []
    for key in _sorted(targets):
        indicator = indicators.REGISTRY.get(key)
        actual = indicators.value(key, path, period) if indicator else None
        rows.append(Progress(key, indicator, targets[key], actual, elapsed))
    return rows


def county_targets(county: OrgUnit, year: int) -> dict[str, Decimal]:
    return dict(
        Target.objects.filter(org_unit=county, year=year).values_list("indicator_key", "value")
    )


def share_targets(
    year: int, *, unit: OrgUnit | None = None, department: Department | None = None
) -> dict[str, Decimal]:
    qs = TargetShare.objects.filter(target__year=year)
    qs = (
        qs.filter(department=department)
        if department
        else qs.filter(org_unit=unit, department=None)
    )
    return dict(qs.values_list("target__indicator_key", "value"))


def county_of(unit: OrgUnit) -> OrgUnit | None:
    if unit.level == "county":
        return unit
    return OrgUnit.objects.filter(pk__in=unit.ancestor_ids(), level="county").first()


def completion_for(unit: OrgUnit, year: int, on: date) -> list[Progress]:
    """The completion table of a county (its targets) or a township (its parts)."""
    if unit.level == "county":
        return progress(unit.path, county_targets(unit, year), year, on)
    return progress(unit.path, share_targets(year, unit=unit), year, on)


def department_completion(department: Department, year: int, on: date) -> list[Progress]:
    return progress(department.org_path, share_targets(year, department=department), year, on)


@dataclass
class TownshipColumn:
    unit: OrgUnit
    cells: list[Progress | None]


def townships_side_by_side(
    county: OrgUnit, townships: Sequence[OrgUnit], year: int, on: date
) -> tuple[list[str], list[TownshipColumn]]:
    """For each county target, every township's part and figure (one ``by_units`` call
    per indicator, one query for all parts)."""
    keys = _sorted(county_targets(county, year))
    period = period_to(year, on)
    elapsed = elapsed_percent(year, on)
    shares: dict[tuple[int, str], Decimal] = {
        (unit_id, key): value
        for unit_id, key, value in TargetShare.objects.filter(
            target__org_unit=county, target__year=year, department=None, org_unit__in=townships
        ).values_list("org_unit_id", "target__indicator_key", "value")
    }
    paths = [t.path for t in townships]
    actuals = {
        key: indicators.by_units(key, paths, period) for key in keys if key in indicators.REGISTRY
    }
    columns = []
    for township in townships:
        cells: list[Progress | None] = []
        for key in keys:
            share = shares.get((township.pk, key))
            if share is None:
                cells.append(None)
                continue
            actual = actuals.get(key, {}).get(township.path)
            cells.append(Progress(key, indicators.REGISTRY.get(key), share, actual, elapsed))
        columns.append(TownshipColumn(township, cells))
    return keys, columns
