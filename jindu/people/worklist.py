"""Worklists: "my people" for a worker and the township's overdue list.

What is due and overdue is computed here at query time from dates, never
stored. A list is built in a fixed number of queries whatever its length:

1. the people, with the dated facts on ``Person`` (their running community
   measure's kind, anchor and end) and their unit and the unit above it;
2. those measures' own rows (counts of evaded and refused tests, report-in);
3. the tests since each measure's anchor inside a recent window that holds the
   current and the previous test period, newest first; a result is decrypted
   only where it could be anything but a test carried out (a measure with
   evaded or refused tests, or a test not linked to the measure), and only
   until each person's latest test carried out is found;
4. for the few with no test carried out in that window, their older tests;
5. the latest half-year summary and yearly assessment per person (one grouped
   query: their kind is not encrypted);
6. absences and help-team roles for the flags;

then ``schedule.compute`` on the latest dates. Only the latest test carried
out matters to a schedule (see ``jindu.people.schedule``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, cached_property
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from jindu.core import crypto
from jindu.core.roles import Role
from jindu.core.sql import as_date, compiled, fetch
from jindu.orgs.division import Level
from jindu.people.dates import add_months
from jindu.people.models import (
    Absence,
    DrugTest,
    FollowUpPolicy,
    Measure,
    Person,
    Sex,
    TeamMember,
    Visit,
)
from jindu.people.rules import (
    ABSENCE_FIELDS,
    MEASURE_FIELDS,
    Flags,
    ListedAbsence,
    ListedMeasure,
    flags_for,
)
from jindu.people.schedule import (
    COMMUNITY_KINDS,
    ScheduleState,
    Task,
    compute,
    months_between,
)
from jindu.people.status import Status, status_on, under_community_q

COUNTING = frozenset({DrugTest.Result.NEGATIVE.value, DrugTest.Result.POSITIVE.value})
# What a list reads of a person: no encrypted column, so nothing is decrypted.
ROW_FIELDS = (
    "id",
    "name",
    "sex",
    "birth_date",
    "org_unit",
    "org_path",
    "measure_kind",
    "measure_anchor",
    "measure_until",
    "last_contact_on",
    "died_on",
    "moved_away_on",
    "clean_since",
    "key_person",
)
HOME_CARDS = 5
STATUS_BADGES = {
    Status.DIED: "text-bg-secondary",
    Status.MOVED_AWAY: "text-bg-secondary",
    Status.ABSTINENT: "text-bg-success",
    Status.NOT_UNDER_MEASURE: "text-bg-light border",
    Status.ISOLATION: "text-bg-dark",
    Status.CUSTODY: "text-bg-dark",
}
SEX_LABELS = dict(Sex.choices)


class ListedPerson:
    """A person as the lists read them: the columns of ``ROW_FIELDS`` and their unit.

    Not a model instance: a list builds hundreds of rows every time it is drawn,
    and a ``Person`` costs its forty fields to build even when only these are
    read. Everything the lists, their templates, the export and the indicators
    ask of a person is here, under the model's names.
    """

    __slots__ = (*ROW_FIELDS, "org_unit_id")

    def __init__(self, values: tuple[Any, ...], unit: Any) -> None:
        (
            self.id,
            self.name,
            self.sex,
            self.birth_date,
            self.org_unit_id,
            self.org_path,
            self.measure_kind,
            self.measure_anchor,
            self.measure_until,
            self.last_contact_on,
            self.died_on,
            self.moved_away_on,
            self.clean_since,
            self.key_person,
        ) = values
        self.org_unit = unit

    @property
    def pk(self) -> int:
        return self.id

    def get_sex_display(self) -> str:
        return str(SEX_LABELS.get(self.sex, self.sex))

    def __repr__(self) -> str:
        return f"<ListedPerson {self.pk}>"


class ListedUnit(NamedTuple):
    """An org unit as the lists show it (a person's unit, or the village it counts under)."""

    id: int
    name: str
    level: str
    parent_id: int | None

    @property
    def pk(self) -> int:
        return self.id


@dataclass
class Row:
    """One person on a worklist: their schedule (if under a community measure) and flags."""

    person: ListedPerson
    flags: Flags
    state: ScheduleState | None = None
    measure: ListedMeasure | None = None
    status: Status | None = None
    village: ListedUnit | None = None
    # The row's page addresses and its markup, filled by the view
    # (``followup_views.with_links``, ``followup_views.card_html`` …).
    links: dict[str, str] = field(default_factory=dict)
    html: str = ""

    # What the templates ask of a row, worked out once: a card or a line reads each
    # of these several times, and Django's templates pay for every lookup.
    @property
    def under_community(self) -> bool:
        return self.state is not None

    @cached_property
    def overdue(self) -> bool:
        return bool(self.state and self.state.overdue)

    @cached_property
    def due_this_week(self) -> bool:
        return bool(self.state and self.state.due_this_week)

    @cached_property
    def needs_action(self) -> bool:
        """On the township's overdue list: an overdue task or a flag that asks for action."""
        return self.overdue or self.flags.needs_action

    @property
    def test_due(self) -> bool:
        if self.state is None:
            return False
        test = self.state.tasks[Task.TEST]
        return bool(test.due or test.overdue)

    @property
    def year_of_measure(self) -> int | None:
        """Year 1, 2, 3 … of the running community measure."""
        if self.state is None or self.person.measure_anchor is None:
            return None
        return months_between(self.person.measure_anchor, self.state.today) // 12 + 1

    @cached_property
    def year_label(self) -> str:
        year = self.year_of_measure
        return _("第%(n)d年") % {"n": year} if year else ""

    @cached_property
    def task_lines(self) -> list[TaskLine]:
        return task_lines(self.state) if self.state is not None else []

    @cached_property
    def flag_labels(self) -> list[str]:
        return self.flags.labels()

    @property
    def key(self) -> str:
        """The person's id as text, for element ids (a number would be localised)."""
        return str(self.person.pk)

    @property
    def status_badge(self) -> str:
        """Bootstrap classes of the status badge (as ``people/_status.html`` draws it)."""
        return STATUS_BADGES.get(self.status, "text-bg-primary") if self.status else ""

    def urgency(self) -> tuple[Any, ...]:
        tier, day = self.state.urgency() if self.state else (3, date.max)
        return (tier, day, not self.flags.needs_action, self.person.name, self.person.pk)


@dataclass(frozen=True)
class TaskLine:
    task: str
    label: str
    # "overdue" (since ``day``, ``missed`` periods), "soon" (due within a week) or "due".
    state: str
    day: date | None
    missed: int

    @property
    def text(self) -> str:
        day = f"{self.day:%Y-%m-%d}" if self.day else ""
        if self.state == "overdue":
            return _("已逾期（%(day)s起，漏%(n)d期）") % {"day": day, "n": self.missed}
        if self.state == "soon":
            return _("本周到期，应于%(day)s前完成") % {"day": day}
        return _("应于%(day)s前完成") % {"day": day}


def task_lines(state: ScheduleState) -> list[TaskLine]:
    """What the worker has to do, overdue first, then due in the current period."""
    week_end = state.today + timedelta(days=7)
    lines = [
        TaskLine(s.task, s.label, "overdue", s.overdue_since, len(s.overdue))
        for s in state.overdue_tasks()
    ]
    for s in state.due_tasks():
        if s.overdue or s.due is None:
            continue
        soon = "soon" if s.due.due_on < week_end else "due"
        lines.append(TaskLine(s.task, s.label, soon, s.due.due_on, 0))
    return lines


@dataclass
class Summary:
    total: int = 0
    overdue: int = 0
    due_this_week: int = 0
    flagged: int = 0
    rows: list[Row] = field(default_factory=list)


# ------------------------------------------------------------------ selections


def my_people_queryset(user: Any, today: date) -> QuerySet[Person]:
    """The people a worker is responsible for, inside their scope.

    Those whose current help team they are in, and for a grid worker everyone
    whose responsible unit lies in their own unit's subtree.
    """
    qs = Person.objects.for_user(user)
    if Role.GRID_WORKER not in user.role_codes:
        team = TeamMember.objects.filter(user=user, left_on__isnull=True).values("person_id")
        qs = qs.filter(pk__in=team)
    # A grid worker's scope is their own unit's subtree: everyone in it is theirs,
    # team or not (a team outside the scope stays out of sight, like any record).
    return qs.filter(Q(died_on__isnull=True) | Q(died_on__gt=today)).filter(
        Q(moved_away_on__isnull=True) | Q(moved_away_on__gt=today)
    )


def overdue_queryset(user: Any, today: date, unit: Any = None) -> QuerySet[Person]:
    """Everyone in scope (or under ``unit``) under a community measure running today."""
    qs = Person.objects.for_user(user).filter(under_community_q(today))
    if unit is not None:
        qs = qs.within(unit.path)
    return qs


# ------------------------------------------------------------------ building rows


def _lookback_months(year: int, intervals: list[int]) -> int:
    """Months back from today that hold the current and the previous test period in
    year ``year`` of a measure (the previous one may be of the year before)."""
    year = min(year, len(intervals) - 1)
    return intervals[year] + max(intervals[: year + 1])


def _window_start(anchor: date, today: date, intervals: list[int]) -> date:
    """Where a person's window of recent tests starts; ``_window_case`` in Python."""
    for year in range(len(intervals) - 1):
        if anchor > add_months(today, -12 * (year + 1)):
            return add_months(today, -_lookback_months(year, intervals))
    return add_months(today, -_lookback_months(len(intervals) - 1, intervals))


# ------------------------------------------------------------------ the follow-up queries
#
# A list runs the same handful of queries every time it is drawn, each selecting
# its rows for the people of one scoped queryset. They are written out here once
# and run on the database cursor: building and compiling them through the ORM
# cost a list more than the database's own work on them (a township's overdue
# list: 7 ms in the database, 15 ms more in Django). The people they read are
# still chosen by the ORM: ``Scope`` is the scoped queryset compiled once
# (``jindu.core.sql``, as the regulators' reconciliation does), and every query
# selects by it.


class Scope(NamedTuple):
    """A queryset of people compiled to SQL once, to select the rows of its people by."""

    sql: str
    params: tuple[Any, ...]

    @classmethod
    def of(cls, people: QuerySet[Person]) -> Scope:
        return cls(*compiled(people.order_by().values("pk")))


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _columns(alias: str, model: type[Model], names: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(model._meta.get_field(n).column)}" for n in names)


@cache
def _sql(vendor: str) -> dict[str, str]:
    """The queries' text, with ``{scope}`` where the people's SQL goes (per database vendor,
    whose quoting it uses). Only model metadata is written into the text; every value
    is a parameter."""
    person = _table(Person)
    return {
        # Each person's measures not ended by today (the running community one is
        # picked in Python: a filter on the kind tempts the planner into scanning
        # every open measure).
        "measures": (
            f"SELECT {_columns('m', Measure, MEASURE_FIELDS)} FROM {_table(Measure)} m "  # noqa: S608
            "WHERE m.person_id IN ({scope}) AND (m.ended_on IS NULL OR m.ended_on > %s) "
            "ORDER BY m.person_id, m.decision_date, m.id"
        ),
        # Tests since each person's anchor, newest first; ``{window}`` narrows them.
        "tests": (
            f"SELECT t.person_id, t.tested_on, t.measure_id, t.result FROM {_table(DrugTest)} t "  # noqa: S608
            f"INNER JOIN {person} p ON t.person_id = p.id "
            "WHERE t.person_id IN ({scope}) AND t.tested_on >= p.measure_anchor "
            "AND t.tested_on <= %s{window} "
            "ORDER BY t.person_id, t.tested_on DESC, t.id DESC"
        ),
        # The latest half-year summary and yearly assessment since each anchor.
        "reports": (
            f"SELECT v.person_id, v.kind, MAX(v.visited_on) FROM {_table(Visit)} v "  # noqa: S608
            f"INNER JOIN {person} p ON v.person_id = p.id "
            "WHERE v.kind IN (%s, %s) AND v.person_id IN ({scope}) "
            "AND v.visited_on >= p.measure_anchor AND v.visited_on <= %s "
            "GROUP BY v.person_id, v.kind"
        ),
        # Absences still open, or begun since the anchor (the flags count them).
        "absences": (
            f"SELECT {_columns('a', Absence, ABSENCE_FIELDS)} FROM {_table(Absence)} a "  # noqa: S608
            f"INNER JOIN {person} p ON a.person_id = p.id "
            "WHERE a.person_id IN ({scope}) "
            "AND (a.returned_on IS NULL OR a.left_on >= p.measure_anchor)"
        ),
        "roles": (
            f"SELECT person_id, role FROM {_table(TeamMember)} "  # noqa: S608
            "WHERE left_on IS NULL AND person_id IN ({scope})"
        ),
    }


def _select(name: str, scope: Scope, before: Sequence[Any], after: Sequence[Any],
            **parts: str) -> list[tuple[Any, ...]]:  # fmt: skip
    """Rows of query ``name``: its parameters before the scope's, the scope's, then after."""
    text = _sql(connection.vendor)[name].format(scope=scope.sql, **parts)
    return fetch(text, [*before, *scope.params, *after])


def _window(today: date, intervals: list[int]) -> tuple[str, list[date]]:
    """``_window_start`` in SQL, on the joined person's anchor, and its parameters."""
    cases, params = [], []
    for year in range(len(intervals) - 1):
        cases.append("WHEN p.measure_anchor > %s THEN %s")
        params += [
            add_months(today, -12 * (year + 1)),
            add_months(today, -_lookback_months(year, intervals)),
        ]
    params.append(add_months(today, -_lookback_months(len(intervals) - 1, intervals)))
    return f" AND t.tested_on >= (CASE {' '.join(cases)} ELSE %s END)", params


def _latest_tests(
    scope: Scope,
    measures: dict[int, ListedMeasure],
    anchors: dict[int, date],
    today: date,
    intervals: list[int],
) -> dict[int, date]:
    """Each person's latest test carried out (negative or positive) since their anchor."""
    latest: dict[int, date] = {}
    no_decrypt = {
        pid: m.id for pid, m in measures.items() if not m.evaded_count and not m.refused_count
    }

    def scan(rows: Iterable[tuple[int, date, int | None, Any]]) -> None:
        # Newest first: the first test carried out is the person's latest. The result is
        # the ciphertext as stored: only the rows that matter are decrypted.
        for person_id, tested_on, measure_id, raw in rows:
            if person_id in latest:
                continue
            trusted = measure_id is not None and no_decrypt.get(person_id) == measure_id
            if trusted or crypto.decrypt(bytes(raw)) in COUNTING:
                latest[person_id] = tested_on

    window, window_params = _window(today, intervals)
    scan(_select("tests", scope, (), [today, *window_params], window=window))
    older = [
        pid
        for pid, anchor in anchors.items()
        if pid not in latest and _window_start(anchor, today, intervals) > anchor
    ]
    if older:
        ids = ", ".join(["%s"] * len(older))
        scan(_select("tests", scope, (), [today, *older], window=f" AND t.person_id IN ({ids})"))
    return latest


def _latest_reports(scope: Scope, today: date) -> dict[tuple[int, str], date]:
    kinds = (Visit.Kind.SUMMARY.value, Visit.Kind.ASSESSMENT.value)
    rows = _select("reports", scope, kinds, [today])
    return {(pid, kind): as_date(last) for pid, kind, last in rows}


# Each person's unit and the unit above it, read beside the person (a unit's
# columns cost less in the same query than a second query for them).
UNIT_FIELDS = (
    "org_unit__name",
    "org_unit__level",
    "org_unit__parent_id",
    "org_unit__parent__name",
    "org_unit__parent__level",
    "org_unit__parent__parent_id",
)


def _units(
    values: list[tuple[Any, ...]],
) -> tuple[dict[int, ListedUnit], dict[int, ListedUnit | None]]:
    """Each person's unit once, and the village (community) it counts under: the
    unit, or a grid's parent."""
    units: dict[int, ListedUnit] = {}
    villages: dict[int, ListedUnit | None] = {}
    at = len(ROW_FIELDS)
    for v in values:
        pk = v[4]
        if pk in units:
            continue
        name, level, parent_id, parent_name, parent_level, grandparent_id = v[at : at + 6]
        unit = units[pk] = ListedUnit(pk, name, level, parent_id)
        if level == Level.GRID and parent_id:
            villages[pk] = ListedUnit(parent_id, parent_name, parent_level, grandparent_id)
        else:
            villages[pk] = unit
    return units, villages


def _running_measures(community: Scope, today: date) -> dict[int, ListedMeasure]:
    """Each person's community measure running today (for its counts of evaded and
    refused tests, which say whether its tests need decrypting)."""
    measures: dict[int, ListedMeasure] = {}
    for m in _select("measures", community, (), [today]):
        if m[2] in COMMUNITY_KINDS:
            measures[m[1]] = ListedMeasure(*m)
    return measures


def tests_overdue(
    people_qs: QuerySet[Person], today: date, policy: FollowUpPolicy | None = None
) -> list[tuple[int, str]]:
    """(id, org path) of those of ``people_qs`` under a community measure today whose
    drug test is overdue: ``build_rows``'s test schedule alone, without the flags,
    visits, absences and teams a list shows (three queries)."""
    policy = policy or FollowUpPolicy.current()
    intervals = [int(i) for i in (policy.test_intervals or [1, 2, 3])]
    community = people_qs.filter(under_community_q(today)).order_by()
    people = list(community.values_list("pk", "org_path", "measure_anchor", "measure_until"))
    if not people:
        return []
    scope = Scope.of(community)
    anchors = {pk: anchor for pk, _path, anchor, _until in people}
    latest = _latest_tests(scope, _running_measures(scope, today), anchors, today, intervals)
    overdue = []
    for pk, path, anchor, until in people:
        last = latest.get(pk)
        state = compute(
            anchor=anchor,
            until=until or add_months(anchor, policy.detox_term_months),
            today=today,
            test_dates=[last] if last else [],
            intervals=intervals,
            summary_every=policy.summary_every_months,
            assessment_every=policy.assessment_every_months,
        )
        if state.tasks[Task.TEST].overdue:
            overdue.append((pk, path))
    return overdue


def build_rows(
    people_qs: QuerySet[Person], today: date, policy: FollowUpPolicy | None = None
) -> list[Row]:
    """Rows for every person of ``people_qs``, most urgent first.

    Rows are read as plain values (``ListedPerson``, ``ListedMeasure`` …), not
    model instances: building hundreds of model instances cost a list more than
    its queries did.
    """
    # Run on the cursor like the queries after it (``_select``): the people's columns
    # need no conversion beyond the driver's.
    try:
        values = fetch(*compiled(people_qs.order_by().values_list(*ROW_FIELDS, *UNIT_FIELDS)))
    except EmptyResultSet:  # a selection that is empty as written (``none()``, ``pk__in=[]``)
        return []
    if not values:
        return []
    units, villages = _units(values)
    at = len(ROW_FIELDS)
    people = [ListedPerson(v[:at], units[v[4]]) for v in values]
    policy = policy or FollowUpPolicy.current()
    intervals = [int(i) for i in (policy.test_intervals or [1, 2, 3])]
    abstinence_years = policy.abstinence_years
    statuses = {p.pk: status_on(p, today, abstinence_years) for p in people}
    community_ids = {
        pk
        for pk, status in statuses.items()
        if status in (Status.COMMUNITY_DETOX, Status.COMMUNITY_REHAB)
    }
    # The later queries select the same people by subquery rather than by a list
    # of ids: the database re-reads a township through its path index in well
    # under a millisecond, while hundreds of ids cost the driver more to bind for
    # every query (and a province's list would pass the limit of parameters).
    everyone = Scope.of(people_qs)
    community = Scope.of(people_qs.filter(under_community_q(today)))

    measures = _running_measures(community, today) if community_ids else {}
    anchors = {p.pk: p.measure_anchor for p in people if p.pk in community_ids}
    latest = _latest_tests(community, measures, anchors, today, intervals) if anchors else {}
    reports = _latest_reports(community, today) if anchors else {}

    absences: dict[int, list[ListedAbsence]] = {}
    for a in _select("absences", everyone, (), ()):
        absences.setdefault(a[1], []).append(ListedAbsence(*a))
    team_roles: dict[int, set[str]] = {}
    if community_ids:
        for person_id, role in _select("roles", community, (), ()):
            team_roles.setdefault(person_id, set()).add(role)

    rows = []
    no_roles: set[str] = set()
    summary_kind, assessment_kind = Visit.Kind.SUMMARY.value, Visit.Kind.ASSESSMENT.value
    for person in people:
        pk = person.pk
        measure = measures.get(pk)
        state = None
        if pk in community_ids:
            anchor = person.measure_anchor
            until = person.measure_until or add_months(anchor, policy.detox_term_months)
            last_test = latest.get(pk)
            summary = reports.get((pk, summary_kind))
            assessment = reports.get((pk, assessment_kind))
            state = compute(
                anchor=anchor,
                until=until,
                today=today,
                test_dates=[last_test] if last_test else [],
                summary_dates=[summary] if summary else [],
                assessment_dates=[assessment] if assessment else [],
                intervals=intervals,
                summary_every=policy.summary_every_months,
                assessment_every=policy.assessment_every_months,
            )
        row = Row(
            person=person,
            flags=flags_for(
                person,
                today=today,
                policy=policy,
                measure=measure,
                absences=absences.get(pk, ()),
                team_roles=team_roles.get(pk, no_roles),
            ),
            state=state,
            measure=measure,
            status=statuses[pk],
            village=villages.get(person.org_unit_id),
        )
        rows.append(row)
    rows.sort(key=Row.urgency)
    return rows


# ------------------------------------------------------------------ the two lists


def my_people(user: Any, today: date) -> list[Row]:
    return build_rows(my_people_queryset(user, today), today)


def summarise(rows: list[Row], cards: int = HOME_CARDS) -> Summary:
    return Summary(
        total=len(rows),
        overdue=sum(1 for r in rows if r.overdue),
        due_this_week=sum(1 for r in rows if r.due_this_week and not r.overdue),
        flagged=sum(1 for r in rows if r.flags.needs_action),
        rows=[r for r in rows if r.under_community or r.flags.needs_action][:cards],
    )


def overdue_rows(user: Any, today: date, unit: Any = None) -> list[Row]:
    """The township's overdue list: overdue tasks, lost contact, not reported in,
    absconded or in serious breach; most urgent first."""
    return [r for r in build_rows(overdue_queryset(user, today, unit), today) if r.needs_action]


@dataclass
class Group:
    village: Any
    rows: list[Row]


def _village_key(row: Row) -> tuple[bool, str, int]:
    village = row.village
    return (
        village is None,
        village.name if village is not None else "",
        village.pk if village else 0,
    )


def in_village_order(rows: list[Row]) -> list[Row]:
    """Rows by village (by name), most urgent first within each (the sort is stable)."""
    return sorted(rows, key=_village_key)


def by_village(rows: list[Row]) -> list[Group]:
    """Rows grouped by village (by name), each group keeping the rows' order."""
    groups: dict[Any, Group] = {}
    for row in rows:
        key = row.village.pk if row.village is not None else None
        if key not in groups:
            groups[key] = Group(row.village, [])
        groups[key].rows.append(row)
    return sorted(groups.values(), key=lambda g: _village_key(g.rows[0]))
