"""The four-up four-down board (四升四降): the speech's eight indicators, this year
against last, the way each should move and whether it did.

``board(path, year)`` is the one definition; the dashboards reuse it, and
``board_by_units`` puts townships side by side with one ``by_units`` call per
indicator and year.

Which periods are compared: a year that is over against the year before; the
running year from 1 January to today against the same days of last year, so
that half a year is not set against a whole one. A reported indicator (a
survey) is read for the whole year in both cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jindu.core import indicators
from jindu.core.excel import Column, Exporter
from jindu.core.indicators import Change, Indicator, Number, Period

# The speech's order: four that should rise, four that should fall.
UP = ("awareness_rate", "execution_rate", "abstinent_3y_growth", "satisfaction_rate")
DOWN = ("new_users_growth", "minors_share", "outflow_trafficking", "user_caused_cases")
BOARD_KEYS = (*UP, *DOWN)


@dataclass(frozen=True)
class BoardRow:
    key: str
    indicator: Indicator | None
    should_rise: bool
    current: Number | None
    previous: Number | None

    @property
    def change(self) -> Change:
        return Change(self.current, self.previous)

    @property
    def name(self) -> str:
        return self.indicator.name if self.indicator else self.key

    @property
    def unit(self) -> str:
        return self.indicator.unit if self.indicator else ""

    @property
    def direction(self) -> Any:
        return _("上升") if self.should_rise else _("下降")

    @property
    def moved_right_way(self) -> bool | None:
        """True when it moved the way it should; False when it did not (or stood still);
        None when a year has no figure."""
        return self.change.moved_right_way(self.should_rise)

    @property
    def verdict(self) -> Any:
        return {True: _("已实现"), False: _("未实现"), None: _("无法比较")}[self.moved_right_way]

    @property
    def css(self) -> str:
        return {True: "text-bg-success", False: "text-bg-danger", None: "text-bg-secondary"}[
            self.moved_right_way
        ]


def periods(key: str, year: int, today: date | None = None) -> tuple[Period, Period]:
    """(this year's period, last year's) for one indicator of the board."""
    today = today or timezone.localdate()
    indicator = indicators.REGISTRY.get(key)
    if year < today.year or (indicator is not None and indicator.kind == "reported"):
        current = Period.year(year)
    else:
        current = Period.between(date(year, 1, 1), max(today, date(year, 1, 1)))
    return current, current.previous_year()


def board(path: str, year: int) -> list[BoardRow]:
    """The eight rows for one subtree (a county, a township …)."""
    return [row[path] for row in board_by_units([path], year).values()]


def board_by_units(paths: Sequence[str], year: int) -> dict[str, dict[str, BoardRow]]:
    """``{key: {path: row}}`` for several subtrees side by side."""
    result: dict[str, dict[str, BoardRow]] = {}
    for key in BOARD_KEYS:
        indicator = indicators.REGISTRY.get(key)
        rise = key in UP
        if indicator is None:
            result[key] = {p: BoardRow(key, None, rise, None, None) for p in paths}
            continue
        current, previous = periods(key, year)
        now = indicators.by_units(key, paths, current)
        before = indicators.by_units(key, paths, previous)
        result[key] = {p: BoardRow(key, indicator, rise, now[p], before[p]) for p in paths}
    return result


def shown(value: Number | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


class BoardExporter(Exporter):
    """The board of a unit and, beside it, of each township below."""

    title = "四升四降指标"
    columns = (
        Column("单位", 18),
        Column("指标", 30),
        Column("应当", 8),
        Column("本年", 12),
        Column("上年", 12),
        Column("单位（计量）", 10),
        Column("是否实现", 10),
    )

    def __init__(self, units: Sequence[Any], year: int) -> None:
        self.units = list(units)
        self.year = year

    def filename(self) -> str:
        return f"四升四降-{self.year}年.xlsx"

    def rows(self) -> Any:
        table = board_by_units([u.path for u in self.units], self.year)
        for unit in self.units:
            for key in BOARD_KEYS:
                row = table[key][unit.path]
                yield (
                    unit.name,
                    row.name,
                    str(row.direction),
                    shown(row.current),
                    shown(row.previous),
                    row.unit,
                    str(row.verdict),
                )
