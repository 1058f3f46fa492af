"""Courier compliance with the three 100 % rules, per outlet, township and period.

A rate is always the sum of items that complied over the sum of items sampled,
over whatever is being rolled up; averaging the outlets' percentages would give
a five-parcel check the weight of a five-hundred-parcel one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from jindu.core.indicators import Period, rate
from jindu.inspections.models import COURIER_RULES, CourierInspection
from jindu.inspections.periods import RollUp, townships_for

RULE_KEYS = tuple(rule for rule, _label in COURIER_RULES)
RULE_LABELS = dict(COURIER_RULES)
SUM_FIELDS = tuple(f"{rule}_{part}" for rule in RULE_KEYS for part in ("sampled", "complied"))


@dataclass
class Compliance:
    """Sampled and complied items for each rule; rates derived from the sums."""

    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUM_FIELDS, 0))
    inspections: int = 0

    def add(self, row: dict[str, Any]) -> None:
        for name in SUM_FIELDS:
            self.sums[name] += int(row.get(name) or 0)
        self.inspections += int(row.get("inspections") or 0)

    def sampled(self, rule: str) -> int:
        return self.sums[f"{rule}_sampled"]

    def complied(self, rule: str) -> int:
        return self.sums[f"{rule}_complied"]

    def rate(self, rule: str) -> Decimal | None:
        """Per cent complied, None when nothing was sampled for the rule."""
        return rate(self.complied(rule), self.sampled(rule))

    def rules(self) -> list[dict[str, Any]]:
        return [
            {
                "key": rule,
                "label": RULE_LABELS[rule],
                "sampled": self.sampled(rule),
                "complied": self.complied(rule),
                "rate": self.rate(rule),
            }
            for rule in RULE_KEYS
        ]


def in_period(qs: QuerySet[CourierInspection], period: Period) -> QuerySet[CourierInspection]:
    return qs.filter(inspected_on__gte=period.start, inspected_on__lt=period.end)


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in SUM_FIELDS}


def total(qs: QuerySet[CourierInspection]) -> Compliance:
    result = Compliance()
    result.add(qs.order_by().aggregate(**_sums(), inspections=Count("id")))
    return result


def by_outlet(qs: QuerySet[CourierInspection]) -> dict[int, Compliance]:
    """Each outlet's sums (one GROUP BY)."""
    result: dict[int, Compliance] = {}
    for row in qs.order_by().values("outlet_id").annotate(**_sums(), inspections=Count("id")):
        result.setdefault(row["outlet_id"], Compliance()).add(row)
    return result


def by_paths(qs: QuerySet[CourierInspection], paths: Sequence[str]) -> dict[str, Compliance]:
    """Sums for each given subtree (nested ones included): one GROUP BY on org path."""
    roll = RollUp(list(paths))
    result = {path: Compliance() for path in paths}
    rows = qs.order_by().values("org_path").annotate(**_sums(), inspections=Count("id"))
    for row in rows:
        for owner in roll.owners(row["org_path"]):
            result[owner].add(row)
    return result


@dataclass
class TownshipCompliance:
    unit: Any
    compliance: Compliance


def by_township(qs: QuerySet[CourierInspection], scope: str) -> list[TownshipCompliance]:
    townships = townships_for(scope)
    sums = by_paths(qs, [t.path for t in townships])
    return [TownshipCompliance(t, sums[t.path]) for t in townships]


def combined(parts: Iterable[Compliance]) -> Compliance:
    result = Compliance()
    for part in parts:
        result.add({**part.sums, "inspections": part.inspections})
    return result
