"""The regulation figures in the indicator registry, each computed for an org subtree
(a path) and a period, and for several subtrees at once with one grouped query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from django.db.models import Count, Q, QuerySet

from jindu.core.indicators import Indicator, Number, Period
from jindu.regulation.models import Finding, Licence, RegulatedUnit, UnitCheck

AREA = "regulation"


def _by_paths(
    qs: QuerySet, paths: Sequence[str], *, distinct: str = ""
) -> dict[str, Number | None]:
    """One query grouped by org path, summed into each asked subtree."""
    if not paths:
        return {}
    within = Q()
    for path in paths:
        within |= Q(org_path__subtree=path)
    qs = qs.filter(within)
    if distinct:
        seen: dict[str, set[int]] = {p: set() for p in paths}
        for path, key in qs.values_list("org_path", distinct).distinct().order_by():
            for asked in paths:
                if path.startswith(asked):
                    seen[asked].add(key)
        return {p: len(keys) for p, keys in seen.items()}
    counts: dict[str, Number | None] = {p: 0 for p in paths}
    for path, n in qs.values_list("org_path").annotate(n=Count("id")).order_by():
        for asked in paths:
            if path.startswith(asked):
                counts[asked] = (counts[asked] or 0) + n
    return counts


def _units(period: Period) -> QuerySet:
    # On the register at the end of the period: registered by then, not closed before it began.
    return RegulatedUnit.objects.filter(registered_on__lt=period.end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=period.start)
    )


def _checks(period: Period) -> QuerySet:
    return UnitCheck.objects.filter(checked_on__gte=period.start, checked_on__lt=period.end)


def _found(period: Period) -> QuerySet:
    return Finding.objects.filter(period_end__gte=period.start, period_end__lt=period.end)


def _closed(period: Period) -> QuerySet:
    return Finding.objects.filter(closed_on__gte=period.start, closed_on__lt=period.end)


def _expiring(period: Period) -> QuerySet:
    return Licence.objects.filter(
        valid_until__gte=period.start, valid_until__lte=period.end - timedelta(days=1)
    )


def _one(
    source: Callable[[Period], QuerySet], distinct: str = ""
) -> Callable[[str, Period], Number | None]:
    def compute(path: str, period: Period) -> Number | None:
        qs = source(period).filter(org_path__subtree=path)
        if distinct:
            return qs.values(distinct).distinct().count()
        return qs.count()

    return compute


def _many(
    source: Callable[[Period], QuerySet], distinct: str = ""
) -> Callable[[Sequence[str], Period], dict[str, Number | None]]:
    def compute_many(paths: Sequence[str], period: Period) -> dict[str, Number | None]:
        return _by_paths(source(period), paths, distinct=distinct)

    return compute_many


INDICATORS = [
    Indicator(
        key="regulation.units_registered",
        name="登记监管单位数",
        unit="家",
        higher_is_better=True,
        area=AREA,
        description="期末仍在册的易制毒化学品和精麻药品监管单位。",
        compute=_one(_units),
        compute_many=_many(_units),
    ),
    Indicator(
        key="regulation.units_checked",
        name="核查单位数",
        unit="家",
        higher_is_better=True,
        area=AREA,
        description="期间内至少有一次专项核查记录的单位（同一单位多次核查计一家）。",
        compute=_one(_checks, "unit_id"),
        compute_many=_many(_checks, "unit_id"),
    ),
    Indicator(
        key="regulation.discrepancies_found",
        name="台账核对发现问题数",
        unit="个",
        higher_is_better=False,
        area=AREA,
        description="所属期间止日在期间内的核对问题（账实不符、购销不符、逾期报告、超量购买）。",
        compute=_one(_found),
        compute_many=_many(_found),
    ),
    Indicator(
        key="regulation.discrepancies_closed",
        name="核对问题办结数",
        unit="个",
        higher_is_better=True,
        area=AREA,
        description="期间内办结的核对问题。",
        compute=_one(_closed),
        compute_many=_many(_closed),
    ),
    Indicator(
        key="regulation.licences_expiring",
        name="到期证件数",
        unit="个",
        higher_is_better=False,
        area=AREA,
        description="有效期截止日在期间内的许可证和备案证明。",
        compute=_one(_expiring),
        compute_many=_many(_expiring),
    ),
]


def register_all() -> None:
    from jindu.core.indicators import register

    for indicator in INDICATORS:
        register(indicator)
