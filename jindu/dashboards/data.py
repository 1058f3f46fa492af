"""What a dashboard shows for one unit and one year, assembled from the functions
that define each figure: the registry (``jindu.core.indicators``), the targets
app's completion and four-up four-down board, ``annotate_status`` for people by
status and the letters' status table. Nothing here computes an indicator a
second way, and nothing is cached: every request reads the records as they are,
so a record saved shows on the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from jindu.core import indicators, tallies
from jindu.core.indicators import Number, Period
from jindu.orgs.division import Level
from jindu.orgs.models import Department, OrgUnit
from jindu.people import tallies as people_tallies
from jindu.people.models import Person
from jindu.people.status import Status, annotate_status
from jindu.targets import board as board_module
from jindu.targets import completion, letters

# The figures put side by side for the units below, and drawn month by month.
SIDE_KEYS = (
    "cases_solved",
    "users_caught",
    "new_users_found",
    "seized_total_g",
    "community_detox_ordered",
    "execution_rate",
)
TREND_KEYS = ("cases_solved", "users_caught", "new_users_found", "user_caused_cases")
# The big screen's headline figures.
HEADLINE_KEYS = ("cases_solved", "suspects_prosecuted", "seized_total_g", "users_caught")


def shown(value: Number | None) -> str:
    return board_module.shown(value)


def chart_number(value: Number | None) -> float | int | None:
    """A figure as JSON can carry it (ECharts draws a gap for None)."""
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


@dataclass
class SideRow:
    unit: OrgUnit
    values: list[Number | None]


@dataclass
class Alert:
    key: str
    label: Any
    value: Number | None
    unit: str
    url: str
    bad: bool

    @property
    def text(self) -> str:
        return shown(self.value)


@dataclass
class Dashboard:
    user: Any
    unit: OrgUnit
    year: int
    on: date
    children: list[OrgUnit] = field(default_factory=list)
    department: Department | None = None

    @property
    def period(self) -> Period:
        """1 January to the day measured on (the whole year once it is over)."""
        return completion.period_to(self.year, self.on)

    # ---------------------------------------------------------- targets

    def completion_rows(self) -> list[completion.Progress]:
        if self.department is not None:
            return completion.department_completion(self.department, self.year, self.on)
        return completion.completion_for(self.unit, self.year, self.on)

    def elapsed(self) -> Decimal | None:
        return completion.one_decimal(completion.elapsed_percent(self.year, self.on))

    def board_rows(self) -> list[board_module.BoardRow]:
        return board_module.board(self.unit.path, self.year)

    # ---------------------------------------------------------- units side by side

    def side_indicators(self) -> list[indicators.Indicator]:
        return [indicators.get(k) for k in SIDE_KEYS if k in indicators.REGISTRY]

    def side_rows(self) -> list[SideRow]:
        """Each unit below with the key figures: one ``by_units`` call per indicator."""
        if not self.children:
            return []
        paths = [c.path for c in self.children]
        columns = [indicators.by_units(i.key, paths, self.period) for i in self.side_indicators()]
        return [SideRow(c, [column[c.path] for column in columns]) for c in self.children]

    # ---------------------------------------------------------- months

    def months(self) -> list[int]:
        today = timezone.localdate()
        last = today.month if self.year == today.year else 12
        return list(range(1, last + 1)) if self.year <= today.year else []

    def trend(self) -> dict[str, Any]:
        months = self.months()
        series = []
        for key in TREND_KEYS:
            if key not in indicators.REGISTRY:
                continue
            indicator = indicators.get(key)
            data = [
                chart_number(indicators.value(key, self.unit.path, Period.month(self.year, m)))
                for m in months
            ]
            series.append(
                {"key": key, "name": indicator.name, "unit": indicator.unit, "data": data}
            )
        return {"months": [f"{m}月" for m in months], "series": series}

    # ---------------------------------------------------------- people

    def people_by_status(self) -> list[tuple[Status, int]]:
        """People on the register in the unit's subtree, by their status on the day (one query).

        A county or a larger unit whose people the user may all see is read from the
        tallies (the same count, kept by the services); anything else is counted."""
        qs = Person.objects.for_user(self.user).within(self.unit.path).order_by()
        scope = getattr(self.user, "scope_path", "") or ""
        if (
            not qs.query.is_empty()
            and self.unit.path.startswith(scope)
            and tallies.tallied([self.unit.path])
        ):
            counts = people_tallies.status_levels(self.unit.path, self.on)
        else:
            counts = dict(
                annotate_status(qs, self.on).values_list("status").annotate(n=Count("pk"))
            )
        return [(status, counts.get(status.value, 0)) for status in Status]

    # ---------------------------------------------------------- alerts

    def alerts(self) -> list[Alert]:
        """Figures of today that need somebody's attention, each linking to the people."""
        today = timezone.localdate()
        now = Period.year(today.year)
        unit_query = {"unit": self.unit.pk}
        found = {
            key: indicators.value(key, self.unit.path, now)
            for key in ("tests_overdue", "lost_control", "teams_complete_rate")
            if key in indicators.REGISTRY
        }
        people = reverse("people:list")
        rows = [
            Alert(
                "tests_overdue", _("尿检逾期"), found.get("tests_overdue"), _("人"),
                f"{reverse('people:overdue')}?{urlencode(unit_query)}",
                bool(found.get("tests_overdue")),
            ),
            Alert(
                "lost_control", _("失控人员"), found.get("lost_control"), _("人"),
                f"{people}?{urlencode({**unit_query, 'flags': 'lost_contact'})}",
                bool(found.get("lost_control")),
            ),
            Alert(
                "teams_complete_rate", _("帮教小组配齐率"), found.get("teams_complete_rate"),
                "%", f"{people}?{urlencode({**unit_query, 'flags': 'team_incomplete'})}",
                found.get("teams_complete_rate") not in (None, 100),
            ),
        ]  # fmt: skip
        unsigned = self.unsigned_letters()
        if unsigned is not None:
            rows.append(
                Alert(
                    "letters_unsigned", _("责任书未签订"), unsigned, _("份"),
                    f"{reverse('targets:letters')}?{urlencode({'year': self.year})}",
                    bool(unsigned),
                )
            )  # fmt: skip
        return rows

    def unsigned_letters(self) -> int | None:
        """Townships and departments of the year whose letter is not signed, within the unit."""
        if self.unit.level not in (Level.COUNTY, Level.TOWNSHIP):
            # Letters are signed by a county's townships and departments only.
            return None
        county = completion.county_of(self.unit)
        if county is None:
            return None
        rows = letters.status_table(self.user, county, self.year)
        if self.unit.level != Level.COUNTY:
            rows = [r for r in rows if not r.is_department and r.name == self.unit.name]
        return sum(1 for r in rows if r.unsigned)

    # ---------------------------------------------------------- the big screen

    def headline(self) -> list[tuple[indicators.Indicator, indicators.Change]]:
        return [
            (indicators.get(k), indicators.yoy(k, self.unit.path, self.period))
            for k in HEADLINE_KEYS
            if k in indicators.REGISTRY
        ]

    # ---------------------------------------------------------- charts

    def chart_data(self, side: list[SideRow], status: list[tuple[Status, int]]) -> dict[str, Any]:
        side_indicators = self.side_indicators()
        return {
            "units": [row.unit.name for row in side],
            "side": [
                {"name": i.name, "unit": i.unit, "data": [chart_number(r.values[n]) for r in side]}
                for n, i in enumerate(side_indicators[:3])
            ],
            "trend": self.trend(),
            "status": [{"name": s.label, "value": n} for s, n in status if n],
        }


def children_in_scope(user: Any, unit: OrgUnit) -> list[OrgUnit]:
    """The active units directly below ``unit`` that ``user`` may see (one query)."""
    return list(
        OrgUnit.objects.for_user(user)
        .filter(parent=unit, active=True)
        .order_by("sort_order", "division_code", "name")
    )


def build(user: Any, unit: OrgUnit, year: int, on: date) -> Dashboard:
    department = None
    if user.scoped_to_department and unit.pk == user.org_unit_id:
        department = Department.objects.filter(pk=user.department_id).first()
    # Grids are the leaves: nothing below them to put side by side.
    children = [] if unit.level == Level.GRID else children_in_scope(user, unit)
    return Dashboard(user, unit, year, on, children, department)
