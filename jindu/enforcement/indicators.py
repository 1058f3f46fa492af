"""The enforcement figures of the indicator registry, each defined here once.

Every indicator is a count or a sum over one table, restricted to a period by
the date that decides it (cases solved by their solving date, suspects
prosecuted by their prosecution date, seizures by the day seized …), for any
org subtree. ``compute_many`` answers several subtrees (townships side by side)
with one query grouped by org path, rolled up by path prefix here: a village's
records count for its township and its county.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from jindu.core.indicators import Indicator, Number, Period, register
from jindu.core.paths import common_ancestor
from jindu.enforcement.models import (
    AssetConfiscation,
    Case,
    DrugDrivingTest,
    Seizure,
    Suspect,
    UserCaught,
)
from jindu.enforcement.selectors import non_drug_offences, synthetic_codes

AREA = "enforcement"
TAGS = frozenset({"enforcement"})
Values = dict[str, Number | None]

HEROIN = "heroin"
METH = "methamphetamine"


def _within(paths: Sequence[str]) -> Q:
    """Rows within any of ``paths``: those under their shared ancestor where they have
    one (the townships of a county); rows of it outside every asked path are left out
    when the groups are summed into the asked paths.

    A prefix test, not the subtree range: grouped by path, SQLite would read a range
    of the path index in path order to save a sort, and fetch every row of the county
    from the table for its date (800 ms for a year of 200,000 users caught). A prefix
    test it cannot serve from that index, so it keeps to the date index, which holds
    the path as well (20 ms).
    """
    shared = common_ancestor(paths)
    if shared != "/":
        return Q(org_path__startswith=shared)
    return reduce(or_, (Q(org_path__subtree=p) for p in paths))


def _in(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


@dataclass(frozen=True)
class Measure:
    """What one indicator counts: rows of a table in a period, counted or summed."""

    source: Callable[[Period], QuerySet]
    # The column summed; None counts rows.
    total: str | None = None

    def many(self, paths: Sequence[str], period: Period) -> Values:
        if not paths:
            return {}
        qs = self.source(period).filter(_within(paths))
        aggregate = Sum(self.total) if self.total else Count("id")
        zero: Number = Decimal(0) if self.total else 0
        result: Values = dict.fromkeys(paths, zero)
        for org_path, amount in qs.order_by().values_list("org_path").annotate(n=aggregate):
            for asked in paths:
                if org_path.startswith(asked):
                    result[asked] += amount or zero  # type: ignore[operator]
        return result

    def one(self, path: str, period: Period) -> Number | None:
        qs = self.source(period).filter(org_path__subtree=path)
        if self.total is None:
            return qs.count()
        return qs.aggregate(n=Sum(self.total))["n"] or Decimal(0)


# ------------------------------------------------------------------ sources


def _solved(period: Period) -> QuerySet:
    return Case.objects.filter(_in("solved_on", period)).exclude(offence__in=non_drug_offences())


def _street_dealing(period: Period) -> QuerySet:
    return _solved(period).filter(street_dealing=True)


def _user_caused(period: Period) -> QuerySet:
    return Case.objects.filter(_in("filed_on", period), caused_by_user=True)


def _drug_suspects() -> QuerySet:
    return Suspect.objects.exclude(case__offence__in=non_drug_offences())


def _prosecuted(period: Period) -> QuerySet:
    return _drug_suspects().filter(_in("prosecuted_on", period))


def _suspects(period: Period) -> QuerySet:
    return _drug_suspects().filter(_in("caught_on", period))


def _minors(period: Period) -> QuerySet:
    # A minor at the offence: the 18th birthday still ahead on the day it happened.
    offence_day = Coalesce(F("case__occurred_on"), F("case__filed_on"))
    return _suspects(period).filter(adult_on__gt=offence_day)


def _seized(drug_type: str | None) -> Callable[[Period], QuerySet]:
    def source(period: Period) -> QuerySet:
        qs = Seizure.objects.filter(_in("seized_on", period))
        return qs.filter(drug_type=drug_type) if drug_type else qs

    return source


def _caught(period: Period) -> QuerySet:
    return UserCaught.objects.filter(_in("caught_on", period))


def _caught_synthetic(period: Period) -> QuerySet:
    return _caught(period).filter(drug_type__in=synthetic_codes())


def _licences(period: Period) -> QuerySet:
    return DrugDrivingTest.objects.filter(_in("licence_reported_on", period))


def _assets(period: Period) -> QuerySet:
    return AssetConfiscation.objects.filter(_in("confiscated_on", period))


# ------------------------------------------------------------------ the registry

# key, name, unit, higher is better, decimals, measure, description
SPECS: list[tuple[str, str, str, bool, int, Measure, str]] = [
    ("cases_solved", "破案数", "起", True, 0, Measure(_solved),
     "破案日期在期间内的涉毒案件（不含吸毒人员引发的盗窃等非涉毒案件）"),
    ("suspects_prosecuted", "公诉犯罪嫌疑人", "名", True, 0, Measure(_prosecuted),
     "移送起诉日期在期间内的涉毒案件犯罪嫌疑人"),
    ("suspects_total", "涉毒犯罪嫌疑人", "名", True, 0, Measure(_suspects),
     "到案日期在期间内的涉毒案件犯罪嫌疑人"),
    ("minor_suspects", "涉毒未成年人", "名", False, 0, Measure(_minors),
     "到案日期在期间内、案发时未满十八周岁的犯罪嫌疑人"),
    ("seized_heroin_g", "缴获海洛因", "克", True, 1, Measure(_seized(HEROIN), "weight_g"),
     "缴获日期在期间内的海洛因重量"),
    ("seized_meth_g", "缴获冰毒", "克", True, 1, Measure(_seized(METH), "weight_g"),
     "缴获日期在期间内的甲基苯丙胺（冰毒）重量"),
    ("seized_total_g", "缴获毒品合计", "克", True, 1, Measure(_seized(None), "weight_g"),
     "缴获日期在期间内的各类毒品重量合计"),
    ("users_caught", "查处吸毒人员", "人次", True, 0, Measure(_caught),
     "查获日期在期间内的吸毒人员，按次计"),
    ("users_caught_synthetic", "其中滥用合成毒品", "人次", True, 0, Measure(_caught_synthetic),
     "查处吸毒人员中吸食合成毒品（毒品种类字典标为合成毒品）的人次"),
    ("street_dealing_cases", "零包贩毒案件", "起", True, 0, Measure(_street_dealing),
     "破案日期在期间内的零包贩毒案件"),
    ("drug_driving_licences", "吸毒驾驶人员注销驾驶证", "人", True, 0, Measure(_licences),
     "报请注销驾驶证日期在期间内的毒驾检测阳性人员"),
    ("user_caused_cases", "吸毒人员引发的刑事治安案件", "起", False, 0, Measure(_user_caused),
     "立案日期在期间内、由吸毒人员引发的刑事和治安案件"),
    ("assets_confiscated", "收缴涉毒资产", "元", True, 2,
     Measure(_assets, "amount"), "收缴日期在期间内的涉毒资产价值"),
]  # fmt: skip

INDICATORS = [
    Indicator(
        key=key,
        name=name,
        unit=unit,
        higher_is_better=better,
        area=AREA,
        description=description,
        decimals=decimals,
        compute=measure.one,
        compute_many=measure.many,
        tags=TAGS,
    )
    for key, name, unit, better, decimals, measure, description in SPECS
]
KEYS = tuple(indicator.key for indicator in INDICATORS)


def register_all() -> None:
    for indicator in INDICATORS:
        register(indicator)
