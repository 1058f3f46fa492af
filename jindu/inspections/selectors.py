"""Reading the venues: their colour and letter on a date, filters, and counts by township.

A venue's colour on a day D, in the inspection period P holding D (a quarter
by default, ``InspectionRules.venue_period_months``), looking only at what was
recorded as happening on or before D:

- red: an inspection failed and its problems are not fixed yet (whatever the
  period, and whether or not the deadline has passed; past it, the venue is also
  marked overdue);
- blue: no open failure, and in P an inspection failed or a failure was fixed;
- green: inspected in P, every inspection passed;
- yellow: not inspected in P.

It is computed here in SQL and nowhere else, so that a list, a count, a chart,
an export and an indicator always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import models
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from jindu.core.indicators import Period
from jindu.inspections.models import InspectionRules, ResponsibilityLetter, Venue, VenueInspection
from jindu.inspections.periods import RollUp, townships_for, venue_period


class Colour(models.TextChoices):
    RED = "red", _("红")
    YELLOW = "yellow", _("黄")
    BLUE = "blue", _("蓝")
    GREEN = "green", _("绿")


COLOUR_MEANING = {
    Colour.GREEN: _("本期检查合格"),
    Colour.YELLOW: _("本期未检查"),
    Colour.RED: _("检查不合格，尚未整改"),
    Colour.BLUE: _("不合格，已整改"),
}
COLOUR_SHORT = {
    Colour.GREEN: _("合格"),
    Colour.YELLOW: _("未检查"),
    Colour.RED: _("未整改"),
    Colour.BLUE: _("已整改"),
}
# Bootstrap's colour names for each, so that templates and the chart agree.
COLOUR_CSS = {
    Colour.GREEN: "success",
    Colour.YELLOW: "warning",
    Colour.RED: "danger",
    Colour.BLUE: "primary",
}


class LetterState(models.TextChoices):
    VALID = "valid", _("有效")
    EXPIRING = "expiring", _("即将到期")
    EXPIRED = "expired", _("已过期")
    MISSING = "missing", _("未签订")


def open_on(qs: QuerySet[Venue], on: date) -> QuerySet[Venue]:
    """Venues registered by ``on`` and not closed by then."""
    return qs.filter(registered_on__lte=on).filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on))


def with_colour(qs: QuerySet[Venue], on: date, period: Period) -> QuerySet[Venue]:
    """Annotate ``colour`` (see the module's doc), ``overdue`` and ``last_inspected_on``."""
    start = period.start
    known = VenueInspection.objects.filter(venue=OuterRef("pk"), inspected_on__lte=on)
    open_failures = known.filter(passed=False).filter(Q(fixed_on__isnull=True) | Q(fixed_on__gt=on))
    fixed_in_period = known.filter(passed=False, fixed_on__lte=on).filter(
        Q(inspected_on__gte=start) | Q(fixed_on__gte=start)
    )
    inspected_in_period = known.filter(inspected_on__gte=start)
    return qs.annotate(
        colour=Case(
            When(Exists(open_failures), then=Value(Colour.RED.value)),
            When(Exists(fixed_in_period), then=Value(Colour.BLUE.value)),
            When(Exists(inspected_in_period), then=Value(Colour.GREEN.value)),
            default=Value(Colour.YELLOW.value),
            output_field=models.CharField(),
        ),
        overdue=Exists(open_failures.filter(fix_deadline__lt=on)),
        last_inspected_on=Subquery(
            known.order_by("-inspected_on", "-id").values("inspected_on")[:1]
        ),
    )


def with_letter(qs: QuerySet[Venue], on: date, warning_days: int) -> QuerySet[Venue]:
    """Annotate ``letter_until`` (the latest term of a letter signed by ``on``) and ``letter_state``."""
    until = Subquery(
        ResponsibilityLetter.objects.filter(venue=OuterRef("pk"), signed_on__lte=on)
        .order_by("-term_end")
        .values("term_end")[:1]
    )
    return qs.annotate(letter_until=until).annotate(
        letter_state=Case(
            When(letter_until__isnull=True, then=Value(LetterState.MISSING.value)),
            When(letter_until__lt=on, then=Value(LetterState.EXPIRED.value)),
            When(
                letter_until__lte=on + timedelta(days=warning_days),
                then=Value(LetterState.EXPIRING.value),
            ),
            default=Value(LetterState.VALID.value),
            output_field=models.CharField(),
        )
    )


def colour_rank() -> Case:
    """Red first, then yellow, blue, green: what needs doing comes to the top."""
    return Case(
        *[When(colour=c.value, then=Value(i)) for i, c in enumerate(Colour)],
        output_field=models.IntegerField(),
    )


@dataclass(frozen=True)
class VenueFilter:
    unit: Any = None
    colour: str = ""
    kind: str = ""
    letter: str = ""
    name: str = ""

    def describe(self) -> dict[str, str]:
        return {
            key: str(value)
            for key, value in (
                ("unit", self.unit.name if self.unit else ""),
                ("colour", self.colour),
                ("kind", self.kind),
                ("letter", self.letter),
                ("name", self.name),
            )
            if value
        }


@dataclass(frozen=True)
class Situation:
    """The day the colours are read on, its period and the rules in force."""

    on: date
    period: Period
    rules: InspectionRules

    @classmethod
    def on_day(cls, on: date, rules: InspectionRules | None = None) -> Situation:
        rules = rules or InspectionRules.current()
        return cls(on, venue_period(on, rules.venue_period_months), rules)


def venues(user: Any, situation: Situation, filters: VenueFilter | None = None) -> QuerySet[Venue]:
    """The user's venues open on the day, with colour and letter, filtered, red first."""
    filters = filters or VenueFilter()
    qs = open_on(Venue.objects.for_user(user), situation.on)
    if filters.unit is not None:
        qs = qs.within(filters.unit.path)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.name:
        qs = qs.filter(name__contains=filters.name)
    qs = with_letter(
        with_colour(qs, situation.on, situation.period),
        situation.on,
        situation.rules.letter_warning_days,
    )
    if filters.colour:
        qs = qs.filter(colour=filters.colour)
    if filters.letter:
        qs = qs.filter(letter_state=filters.letter)
    return qs.select_related("org_unit").order_by(colour_rank(), "org_path", "name", "id")


def one_venue(qs: QuerySet[Venue], situation: Situation) -> Venue:
    """A single venue (already found in scope) with its colour and letter on the day."""
    return with_letter(
        with_colour(qs, situation.on, situation.period),
        situation.on,
        situation.rules.letter_warning_days,
    ).get()


@dataclass
class TownshipCounts:
    name: str
    unit: Any
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def ordered(self) -> list[tuple[str, int]]:
        return [(c.value, self.counts.get(c.value, 0)) for c in Colour]


def colour_counts_by_path(qs: QuerySet[Venue]) -> list[tuple[str, str, int]]:
    """(org_path, colour, venues) for an annotated queryset: one GROUP BY."""
    return list(qs.order_by().values_list("org_path", "colour").annotate(n=Count("id")).order_by())


def counts_by_township(
    user: Any, situation: Situation, filters: VenueFilter | None = None
) -> list[TownshipCounts]:
    """Each township of the user's scope with its venues counted by colour (one query)."""
    filters = filters or VenueFilter()
    qs = venues(user, situation, VenueFilter(**{**filters.__dict__, "colour": ""}))
    scope = filters.unit.path if filters.unit is not None else user.scope_path
    townships = townships_for(scope)
    roll = RollUp([t.path for t in townships])
    rows = {t.path: TownshipCounts(t.name, t, {}) for t in townships}
    other = TownshipCounts(str(_("县直及其他")), None, {})
    for org_path, colour, n in colour_counts_by_path(qs):
        owner = roll.owner(org_path)
        target = rows[owner] if owner else other
        target.counts[colour] = target.counts.get(colour, 0) + n
    result = list(rows.values())
    if other.total:
        result.append(other)
    return result


def letter_counts(
    user: Any, situation: Situation, filters: VenueFilter | None = None
) -> dict[str, int]:
    """How many of the user's venues have no letter, an expired one or one about to expire."""
    filters = filters or VenueFilter()
    qs = venues(user, situation, VenueFilter(**{**filters.__dict__, "letter": ""}))
    counts = dict(qs.order_by().values_list("letter_state").annotate(n=Count("id")).order_by())
    return {state.value: counts.get(state.value, 0) for state in LetterState}


def totals(rows: list[TownshipCounts]) -> dict[str, int]:
    result = {c.value: 0 for c in Colour}
    for row in rows:
        for colour, n in row.counts.items():
            result[colour] = result.get(colour, 0) + n
    return result


def chart_data(rows: list[TownshipCounts]) -> dict[str, Any]:
    """What the township bar chart draws, in the shape ``inspections-chart.js`` reads."""
    return {
        "townships": [row.name for row in rows],
        "series": [
            {
                "key": c.value,
                "name": f"{c.label}·{COLOUR_SHORT[c]}",
                "data": [row.counts.get(c.value, 0) for row in rows],
            }
            for c in Colour
        ],
    }


def latest_inspections(venue_ids: list[int]) -> dict[int, VenueInspection]:
    """Each venue's latest inspection by date, for lists and exports (one query)."""
    latest = (
        VenueInspection.objects.filter(venue=OuterRef("venue"))
        .order_by("-inspected_on", "-id")
        .values("id")[:1]
    )
    return {
        i.venue_id: i
        for i in VenueInspection.objects.filter(venue_id__in=venue_ids, id=Subquery(latest))
    }
