"""The people-based figures of the indicator registry, each defined here once.

Events of the register (a person first found, a measure decided) count for
**the unit responsible on the day of the event**: the rule of
``jindu.people.movement.responsible_q``. ``responsible_q`` says it as an
``EXISTS`` on ``Responsibility`` for one fixed day; here every row has its own
day, so the same condition (``valid_from <= day < valid_to``, ``valid_to``
open while still responsible) is written as a join on the person's
responsibility rows, which also lets one query group the rows by unit for
several subtrees at once (townships side by side) and roll them up by path
prefix: a village's events count for its township and its county.
``tests/test_people_indicators.py`` holds the join to ``responsible_q``'s answers.

Counties and the units above them are answered from the tallies
(``jindu.people.tallies``, kept by the services in the same transaction as
the records): the same rule per person, summed per unit and day, so that a
province's figure is a sum over a few hundred rows. ``tallies.answered`` routes
each asked path; ``tests/test_people_tallies.py`` holds both ways to the same answers.

Figures of the day (tests overdue, people lost from control, help teams
complete) describe the register as it stands: they are answered for the
period that holds today, counted by each person's unit today, and are None
for any other period (nothing records what they were on a past day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from jindu.core import indicators, tallies
from jindu.core.indicators import Indicator, Number, Period, rate, register
from jindu.core.paths import common_ancestor
from jindu.people import abstinence
from jindu.people.idnumber import MINOR_AGE, age_on
from jindu.people.models import (
    FollowUpPolicy,
    Measure,
    Outflow,
    Person,
    Responsibility,
    TeamMember,
)
from jindu.people.schedule import COMMUNITY_KINDS
from jindu.people.status import lost_contact_q, under_community_q
from jindu.people.tallies import decided_key

AREA = "rehab"
TAGS = frozenset({"people"})
Values = dict[str, Number | None]


# ------------------------------------------------------------------ shared pieces


def _within(field: str, paths: Sequence[str]) -> Q:
    """Rows within any of ``paths``, as one range over the path index where they share
    an ancestor (townships of a county): ORed ranges make SQLite scan the table.
    Rows of the ancestor outside every asked path are left out by ``_roll_up``."""
    ancestor = common_ancestor(paths)
    if ancestor != "/":
        return Q(**{f"{field}__subtree": ancestor})
    return reduce(or_, (Q(**{f"{field}__subtree": p}) for p in paths))


def _held_on(day_field: str, paths: Sequence[str], via: str) -> Q:
    """The row's person was the responsibility of a unit within ``paths`` on ``day_field``.

    ``via`` leads from the row to ``Responsibility`` (``"responsibilities__"``
    from a person). All conditions sit in one ``Q`` so that they apply to the
    same responsibility row.
    """
    day = F(day_field)
    return (
        _within(f"{via}org_path", paths)
        & Q(**{f"{via}valid_from__lte": day})
        & (Q(**{f"{via}valid_to__isnull": True}) | Q(**{f"{via}valid_to__gt": day}))
    )


def _roll_up(rows: Sequence[tuple[str, int]], paths: Sequence[str]) -> dict[str, int]:
    """Counts grouped by a unit's path, summed into each asked subtree."""
    result = dict.fromkeys(paths, 0)
    for path, n in rows:
        for asked in paths:
            if path.startswith(asked):
                result[asked] += n
    return result


def _in_period(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def _today_in(period: Period) -> date | None:
    today = timezone.localdate()
    return today if period.start <= today < period.end else None


def _one(many: Callable[[Sequence[str], Period], Values]) -> Callable[[str, Period], Number | None]:
    def compute(path: str, period: Period) -> Number | None:
        return many([path], period)[path]

    return compute


def _event_sums(key: str) -> Callable[[list[str], Period], Values]:
    def sums(paths: list[str], period: Period) -> Values:
        return dict(tallies.sums(key, paths, period.start, period.end))

    return sums


def _state_today(key: str) -> Callable[[list[str], Period], Values]:
    """A figure of the day from the tallies: the level today, None for other periods."""

    def level(paths: list[str], period: Period) -> Values:
        today = _today_in(period)
        if today is None:
            return dict.fromkeys(paths)
        return dict(tallies.levels_on(key, paths, today))

    return level


# ------------------------------------------------------------------ events by the responsible unit


def _found(paths: Sequence[str], period: Period) -> QuerySet:
    return Person.objects.filter(
        _in_period("first_found_on", period),
        _held_on("first_found_on", paths, "responsibilities__"),
    )


@tallies.answered(_event_sums("people.found"))
def new_users_found_many(paths: Sequence[str], period: Period) -> Values:
    """People first found in the period (新发现吸毒人员), by the unit responsible that day."""
    if not paths:
        return {}
    rows = (
        _found(paths, period)
        .order_by()
        .values_list("responsibilities__org_path")
        .annotate(n=Count("pk", distinct=True))
    )
    return dict(_roll_up(list(rows), paths))


def _growth(current: Number | None, previous: Number | None) -> Decimal | None:
    """增幅 in per cent: (this − last) ÷ last; None when last counted nobody."""
    if current is None or not previous:
        return None
    return (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)


def new_users_growth_many(paths: Sequence[str], period: Period) -> Values:
    now = new_users_found_many(paths, period)
    before = new_users_found_many(paths, period.previous_year())
    return {p: _growth(now[p], before[p]) for p in paths}


def _decided(kinds: Sequence[str], paths: Sequence[str], period: Period) -> QuerySet:
    # The people ever responsible within the paths come first (the path index),
    # then their measures (by person and decision date): otherwise a planner may
    # scan every measure of the installation for the dates.
    # The kind is compared through lower(), which no index serves, for the same reason:
    # an index on the kind alone covers a whole installation's measures.
    ever_here = Responsibility.objects.filter(_within("org_path", paths)).values("person_id")
    return Measure.objects.alias(kind_value=Lower("kind")).filter(
        _in_period("decision_date", period),
        _held_on("decision_date", paths, "person__responsibilities__"),
        kind_value__in=kinds,
        person_id__in=ever_here,
    )


def _decided_many(kind: str) -> Callable[[Sequence[str], Period], Values]:
    @tallies.answered(_event_sums(decided_key(kind)))
    def many(paths: Sequence[str], period: Period) -> Values:
        if not paths:
            return {}
        rows = (
            _decided([kind], paths, period)
            .order_by()
            .values_list("person__responsibilities__org_path")
            .annotate(n=Count("pk", distinct=True))
        )
        return dict(_roll_up(list(rows), paths))

    return many


def _execution_rate_tallied(paths: list[str], period: Period) -> Values:
    ordered = dict.fromkeys(paths, 0)
    for kind in COMMUNITY_KINDS:
        for path, n in tallies.sums(decided_key(kind), paths, period.start, period.end).items():
            ordered[path] += n
    reported = tallies.sums("people.community_reported", paths, period.start, period.end)
    return {p: rate(reported[p], ordered[p]) for p in paths}


@tallies.answered(_execution_rate_tallied)
def execution_rate_many(paths: Sequence[str], period: Period) -> Values:
    """Ordered to community detox or rehab in the period and reported in, ÷ ordered."""
    if not paths:
        return {}
    rows = list(
        _decided(COMMUNITY_KINDS, paths, period)
        .order_by()
        .values_list("person__responsibilities__org_path")
        .annotate(
            ordered=Count("pk", distinct=True),
            reported=Count("pk", distinct=True, filter=Q(report_in_date__isnull=False)),
        )
    )
    ordered = _roll_up([(p, o) for p, o, _r in rows], paths)
    reported = _roll_up([(p, r) for p, _o, r in rows], paths)
    return {p: rate(reported[p], ordered[p]) for p in paths}


def minors_found_many(
    paths: Sequence[str], period: Period
) -> tuple[dict[str, int], dict[str, int]]:
    """(people found in the period, of whom under 18 on the day they were found), by subtree."""
    found = dict.fromkeys(paths, 0)
    minors = dict.fromkeys(paths, 0)
    if not paths:
        return found, minors
    big = tallies.tallied(paths)
    if big:
        asked = [p for p in paths if p in big]
        found.update(tallies.sums("people.found", asked, period.start, period.end))
        minors.update(tallies.sums("people.found_minor", asked, period.start, period.end))
        rest = [p for p in paths if p not in big]
        if rest:
            more_found, more_minors = minors_found_many(rest, period)
            found.update(more_found)
            minors.update(more_minors)
        return found, minors
    rows = (
        _found(paths, period)
        .order_by()
        .values_list("pk", "responsibilities__org_path", "birth_date", "first_found_on")
        .distinct()
    )
    for _pk, path, birth, day in rows:
        minor = age_on(birth, day) < MINOR_AGE
        for asked in paths:
            if path.startswith(asked):
                found[asked] += 1
                minors[asked] += minor
    return found, minors


def _enforcement(key: str, paths: Sequence[str], period: Period) -> dict[str, Number]:
    """An enforcement figure through the registry; zero where that app is not installed."""
    if key not in indicators.REGISTRY:
        return dict.fromkeys(paths, 0)
    return {p: v or 0 for p, v in indicators.by_units(key, paths, period).items()}


def minors_share_many(paths: Sequence[str], period: Period) -> Values:
    """Minors among the drug-involved: users found in the period and suspects caught in it.

    Both halves count people once per event: a registered user under 18 on
    the day first found, a suspect under 18 at the offence (enforcement's
    ``minor_suspects`` over ``suspects_total``).
    """
    if not paths:
        return {}
    found, minors = minors_found_many(paths, period)
    suspects = _enforcement("suspects_total", paths, period)
    minor_suspects = _enforcement("minor_suspects", paths, period)
    return {p: rate(minors[p] + minor_suspects[p], found[p] + suspects[p]) for p in paths}


# ------------------------------------------------------------------ at a day


def _on_day(period: Period) -> date | None:
    """The day a count "at the period end" is taken: its last day, or today while it runs."""
    today = timezone.localdate()
    if period.start > today:
        return None
    return min(period.last_day, today)


def _abstinent_tallied(paths: list[str], period: Period) -> Values:
    day = _on_day(period)
    if day is None:
        return dict.fromkeys(paths)
    return dict(tallies.levels_on("people.abstinent", paths, day))


@tallies.answered(_abstinent_tallied)
def abstinent_many(paths: Sequence[str], period: Period) -> Values:
    """Abstinent three years or more (``jindu.people.abstinence``) at the period's end."""
    day = _on_day(period)
    years = FollowUpPolicy.current().abstinence_years
    return {p: (abstinence.abstinent_count(p, day, years) if day else None) for p in paths}


def abstinent_growth_many(paths: Sequence[str], period: Period) -> Values:
    now = abstinent_many(paths, period)
    before = abstinent_many(paths, period.previous_year())
    return {p: _growth(now[p], before[p]) for p in paths}


def _outflow_many(kind: str) -> Callable[[Sequence[str], Period], Values]:
    """Locals caught elsewhere (人次), by the unit the record was made under, as
    ``movement.outflow_counts`` counts them, for any period."""

    def many(paths: Sequence[str], period: Period) -> Values:
        if not paths:
            return {}
        rows = (
            Outflow.objects.filter(_within("org_path", paths), _in_period("caught_on", period))
            .filter(kind=kind)
            .order_by()
            .values_list("org_path")
            .annotate(n=Count("pk"))
        )
        return dict(_roll_up(list(rows), paths))

    return many


# ------------------------------------------------------------------ figures of the day


def _present(paths: Sequence[str], today: date) -> QuerySet:
    return Person.objects.filter(_within("org_path", paths), under_community_q(today))


@tallies.answered(_state_today("people.test_overdue"))
def tests_overdue_many(paths: Sequence[str], period: Period) -> Values:
    """People under a community measure whose drug test is overdue today (尿检逾期)."""
    from jindu.people.worklist import tests_overdue

    today = _today_in(period)
    if today is None or not paths:
        return dict.fromkeys(paths)
    counts = dict.fromkeys(paths, 0)
    for _pk, path in tests_overdue(_present(paths, today), today):
        for asked in paths:
            if path.startswith(asked):
                counts[asked] += 1
    return dict(counts)


@tallies.answered(_state_today("people.lost"))
def lost_control_many(paths: Sequence[str], period: Period) -> Values:
    """Under a community measure and out of contact past the policy's limit today (失控)."""
    today = _today_in(period)
    if today is None or not paths:
        return dict.fromkeys(paths)
    days = FollowUpPolicy.current().lost_contact_days
    rows = (
        Person.objects.filter(_within("org_path", paths), lost_contact_q(today, days))
        .order_by()
        .values_list("org_path")
        .annotate(n=Count("pk"))
    )
    return dict(_roll_up(list(rows), paths))


def _has_role(role: str) -> Exists:
    return Exists(
        TeamMember.objects.filter(person_id=OuterRef("pk"), role=role, left_on__isnull=True)
    )


def _teams_complete_tallied(paths: list[str], period: Period) -> Values:
    today = _today_in(period)
    if today is None:
        return dict.fromkeys(paths)
    present = tallies.levels_on("people.present", paths, today)
    complete = tallies.levels_on("people.team_complete", paths, today)
    return {p: rate(complete[p], present[p]) for p in paths}


@tallies.answered(_teams_complete_tallied)
def teams_complete_many(paths: Sequence[str], period: Period) -> Values:
    """Share of people under a community measure today whose "4+X" team has all four."""
    today = _today_in(period)
    if today is None or not paths:
        return dict.fromkeys(paths)
    complete = reduce(lambda a, b: a & b, (Q(_has_role(r)) for r in TeamMember.REQUIRED))
    rows = list(
        _present(paths, today)
        .order_by()
        .values_list("org_path")
        .annotate(total=Count("pk"), complete=Count("pk", filter=complete))
    )
    total = _roll_up([(p, t) for p, t, _c in rows], paths)
    done = _roll_up([(p, c) for p, _t, c in rows], paths)
    return {p: rate(done[p], total[p]) for p in paths}


# ------------------------------------------------------------------ the registry

_isolation = _decided_many(Measure.Kind.COMPULSORY_ISOLATION)
_detox = _decided_many(Measure.Kind.COMMUNITY_DETOX)
_trafficking = _outflow_many(Outflow.Kind.TRAFFICKING)
_using = _outflow_many(Outflow.Kind.USING)

# key, name, unit, higher is better, decimals, is a rate, many, description
SPECS: list[tuple[str, str, str, bool, int, bool, Callable[..., Values], str]] = [
    ("new_users_found", "新发现吸毒人员", "人", True, 0, False, new_users_found_many,
     "初次发现日期在期间内的吸毒人员，按发现当日的责任单位统计"),
    ("new_users_growth", "新滋生吸毒人员增幅", "%", False, 1, False, new_users_growth_many,
     "新发现吸毒人员较上年同期的增减幅度"),
    ("isolation_ordered", "强制隔离戒毒", "人", True, 0, False, _isolation,
     "决定日期在期间内的强制隔离戒毒措施，按决定当日的责任单位统计"),
    ("community_detox_ordered", "社区戒毒", "人", True, 0, False, _detox,
     "决定日期在期间内的社区戒毒措施，按决定当日的责任单位统计"),
    ("execution_rate", "社区戒毒社区康复执行率", "%", True, 1, True, execution_rate_many,
     "期间内责令社区戒毒、社区康复人员中已报到的比例"),
    ("abstinent_3y", "戒断三年以上未复吸人员", "人", True, 0, False, abstinent_many,
     "期末（进行中的期间为今天）戒断三年以上未复吸的人员"),
    ("abstinent_3y_growth", "戒断三年以上未复吸人员增幅", "%", True, 1, False,
     abstinent_growth_many, "戒断三年以上未复吸人员较上年同期末的增减幅度"),
    ("minors_share", "未成年人占涉毒人员比例", "%", False, 1, True, minors_share_many,
     "期间内新发现吸毒人员和到案犯罪嫌疑人中未满十八周岁者所占比例"),
    ("outflow_trafficking", "外地抓获本地籍贩毒人员", "人", False, 0, False, _trafficking,
     "期间内在外地被抓获的本地籍贩毒人员（人次）"),
    ("outflow_using", "外流吸毒人员", "人", False, 0, False, _using,
     "期间内在外地被查获的本地籍吸毒人员（人次）"),
    ("tests_overdue", "尿检逾期人数", "人", False, 0, False, tests_overdue_many,
     "社区戒毒社区康复人员中尿检已逾期的人数（当日）"),
    ("lost_control", "失控人员", "人", False, 0, False, lost_control_many,
     "社区戒毒社区康复人员中超过失联判定天数未联系的人数（当日）"),
    ("teams_complete_rate", "帮教小组配齐率", "%", True, 1, True, teams_complete_many,
     "社区戒毒社区康复人员中“4+X”帮教小组四类成员齐全的比例（当日）"),
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
        is_rate=is_rate,
        compute=_one(many),
        compute_many=many,
        tags=TAGS,
    )
    for key, name, unit, better, decimals, is_rate, many, description in SPECS
]
KEYS = tuple(indicator.key for indicator in INDICATORS)


def register_all() -> None:
    for indicator in INDICATORS:
        register(indicator)
