"""The periods the checks are counted in: a venue's inspection period, a patrol season,
and the townships that counts are rolled up to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from jindu.core.indicators import Period
from jindu.orgs.division import Level
from jindu.orgs.models import OrgUnit


def venue_period(on: date, months: int) -> Period:
    """The inspection period holding ``on``: the month, quarter, half or year of the calendar."""
    if months not in (1, 3, 6, 12):
        raise ValueError(f"a venue period is 1, 3, 6 or 12 months, not {months}")
    index = (on.month - 1) // months
    if months == 1:
        return Period.month(on.year, on.month)
    if months == 3:
        return Period.quarter(on.year, index + 1)
    if months == 12:
        return Period.year(on.year)
    start = date(on.year, 6 * index + 1, 1)
    end = date(on.year + 1, 1, 1) if index else date(on.year, 7, 1)
    label = _("%(year)s年上半年") if index == 0 else _("%(year)s年下半年")
    return Period(start, end, label % {"year": on.year})


def patrol_season(year: int, first_month: int, last_month: int) -> Period:
    """The months of a year in which patrols count (commonly February to September)."""
    if not 1 <= first_month <= last_month <= 12:
        raise ValueError("season months out of order")
    end = date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
    label = _("%(year)s年%(first)s月至%(last)s月") % {
        "year": year,
        "first": first_month,
        "last": last_month,
    }
    return Period(date(year, first_month, 1), end, label)


def townships_for(path: str) -> list[OrgUnit]:
    """The townships a subtree's counts roll up to: those below it, or the one above it."""
    below = list(
        OrgUnit.objects.filter(level=Level.TOWNSHIP, path__subtree=path).order_by(
            "sort_order", "division_code", "name", "id"
        )
    )
    if below:
        return below
    ids = [int(part) for part in path.strip("/").split("/") if part]
    return list(OrgUnit.objects.filter(pk__in=ids, level=Level.TOWNSHIP))


@dataclass
class RollUp:
    """Assigns rows to the given subtrees by their org path (longest path first)."""

    paths: list[str]

    def __post_init__(self) -> None:
        self._set = set(self.paths)

    def owner(self, org_path: str) -> str | None:
        """The given path that holds ``org_path``, the nearest one if several do."""
        parts = org_path.strip("/").split("/")
        for end in range(len(parts), 0, -1):
            prefix = "/" + "/".join(parts[:end]) + "/"
            if prefix in self._set:
                return prefix
        return None

    def owners(self, org_path: str) -> Iterable[str]:
        """Every given path that holds ``org_path`` (paths may nest: county and township)."""
        parts = org_path.strip("/").split("/")
        for end in range(len(parts), 0, -1):
            prefix = "/" + "/".join(parts[:end]) + "/"
            if prefix in self._set:
                yield prefix
