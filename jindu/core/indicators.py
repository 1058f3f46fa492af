"""The indicator registry: every figure the county is judged by, defined once.

An indicator has a key, a Chinese name, a unit, whether higher is better, and
one way of being computed for any org subtree (a path) and any period. Two
kinds: *computed* from records by a function the owning app registers, and
*reported* — a value a responsible unit enters for a period — read through the
provider the targets app registers. Targets, dashboards, exports, assessment
and reports all call ``value``/``values``/``yoy``/``by_units`` here; nothing
computes an indicator a second way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Number = Decimal | int


@dataclass(frozen=True)
class Period:
    """A half-open date range [start, end) with a Chinese label."""

    start: date
    end: date
    label: str

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1), f"{year}年")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise ValueError("quarter must be 1..4")
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return cls(start, end, f"{year}年第{quarter}季度")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return cls(date(year, month, 1), end, f"{year}年{month}月")

    @classmethod
    def between(cls, start: date, end_inclusive: date) -> Period:
        from datetime import timedelta

        if end_inclusive < start:
            raise ValueError("end before start")
        return cls(
            start, end_inclusive + timedelta(days=1), f"{start:%Y-%m-%d}至{end_inclusive:%Y-%m-%d}"
        )

    def previous_year(self) -> Period:
        def back(day: date) -> date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                return day.replace(year=day.year - 1, day=28)

        label = self.label
        if label[:4].isdigit():
            label = f"{int(label[:4]) - 1}{label[4:]}"
        return Period(back(self.start), back(self.end), label)

    @property
    def last_day(self) -> date:
        from datetime import timedelta

        return self.end - timedelta(days=1)


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    unit: str
    higher_is_better: bool
    kind: str = "computed"  # or "reported"
    area: str = ""  # the area of the work (navigation area key)
    description: str = ""
    decimals: int = 0
    # A rate (a share in per cent) is bounded 0–100 and shown with decimals.
    is_rate: bool = False
    compute: Callable[[str, Period], Number | None] | None = None
    # Optional: values for several subtrees at once (one GROUP BY instead of N queries).
    compute_many: Callable[[Sequence[str], Period], dict[str, Number | None]] | None = None
    tags: frozenset[str] = field(default_factory=frozenset)

    def round(self, value: Number | None) -> Number | None:
        if value is None or isinstance(value, int):
            return value
        quantum = Decimal(1).scaleb(-self.decimals)
        return Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)


REGISTRY: dict[str, Indicator] = {}
# The targets app provides reported values: (key, path, period) -> value or None.
_reported_provider: Callable[[str, str, Period], Number | None] | None = None
_reported_many: Callable[[str, Sequence[str], Period], dict[str, Number | None]] | None = None


def register(indicator: Indicator) -> Indicator:
    if indicator.key in REGISTRY and REGISTRY[indicator.key] != indicator:
        raise ValueError(f"indicator {indicator.key} registered twice")
    if indicator.kind == "computed" and indicator.compute is None:
        raise ValueError(f"computed indicator {indicator.key} needs a compute function")
    REGISTRY[indicator.key] = indicator
    return indicator


def set_reported_provider(
    one: Callable[[str, str, Period], Number | None],
    many: Callable[[str, Sequence[str], Period], dict[str, Number | None]] | None = None,
) -> None:
    global _reported_provider, _reported_many
    _reported_provider, _reported_many = one, many


def get(key: str) -> Indicator:
    try:
        return REGISTRY[key]
    except KeyError as exc:
        raise KeyError(f"unknown indicator {key!r}") from exc


def value(key: str, path: str, period: Period) -> Number | None:
    indicator = get(key)
    if indicator.kind == "reported":
        result = _reported_provider(key, path, period) if _reported_provider else None
    else:
        assert indicator.compute is not None
        result = indicator.compute(path, period)
    return indicator.round(result)


def values(keys: Iterable[str], path: str, period: Period) -> dict[str, Number | None]:
    return {key: value(key, path, period) for key in keys}


def by_units(key: str, paths: Sequence[str], period: Period) -> dict[str, Number | None]:
    """The indicator for several subtrees (townships side by side), in as few queries as possible."""
    indicator = get(key)
    if indicator.kind == "reported":
        if _reported_many:
            raw = _reported_many(key, paths, period)
        else:
            raw = {
                p: (_reported_provider(key, p, period) if _reported_provider else None)
                for p in paths
            }
    elif indicator.compute_many is not None:
        raw = indicator.compute_many(paths, period)
    else:
        assert indicator.compute is not None
        raw = {p: indicator.compute(p, period) for p in paths}
    return {p: indicator.round(raw.get(p)) for p in paths}


@dataclass(frozen=True)
class Change:
    current: Number | None
    previous: Number | None

    @property
    def difference(self) -> Number | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def ratio(self) -> Decimal | None:
        """Year-on-year change as a fraction; None when last year was zero or unknown."""
        if self.current is None or not self.previous:
            return None
        return (Decimal(self.current) - Decimal(self.previous)) / Decimal(self.previous)

    def moved_right_way(self, higher_is_better: bool) -> bool | None:
        diff = self.difference
        if diff is None or diff == 0:
            return None if diff is None else False
        return (diff > 0) == higher_is_better


def yoy(key: str, path: str, period: Period) -> Change:
    return Change(value(key, path, period), value(key, path, period.previous_year()))


def rate(numerator: Number, denominator: Number) -> Decimal | None:
    """A share in per cent, None when the denominator is zero (never a division error)."""
    if not denominator:
        return None
    return Decimal(numerator) * 100 / Decimal(denominator)


def completion(actual: Number | None, target: Number | None) -> Decimal | None:
    """Actual / target in per cent; not applicable (None) for a zero or missing target."""
    if actual is None or not target:
        return None
    return Decimal(actual) * 100 / Decimal(target)


def describe() -> list[dict[str, Any]]:
    return [
        {
            "key": i.key,
            "name": i.name,
            "unit": i.unit,
            "higher_is_better": i.higher_is_better,
            "kind": i.kind,
            "area": i.area,
        }
        for i in sorted(REGISTRY.values(), key=lambda i: (i.area, i.key))
    ]
