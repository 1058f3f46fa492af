"""Follow-up schedules, computed from dates at query time and never stored.

A community measure's term is cut into periods counted in calendar months from
its anchor (the report-in): tests every month in year one, every two months in
year two, quarterly in year three (the policy's ``test_intervals``; a test
period never runs across the end of a year of the measure); summaries every six
months and assessments every twelve. A period is met when the thing it asks
for happened inside it. What is due now, due this week and overdue follows
from today's date and those periods.

Only the latest date a task was done matters for today's state: the periods
after the one holding it are unmet, and a task done in the current period puts
the schedule back on track. ``compute`` therefore jumps straight to the
periods around that date and today, so that a list of thousands of people
costs a few periods each, not the whole term.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from jindu.people.dates import add_months

# The community measures (社区戒毒, 社区康复): the kinds the law gives a report-in
# period and a three-year term, and this module a follow-up schedule. Every module
# asks this one tuple.
COMMUNITY_KINDS = ("community_detox", "community_rehab")
DEFAULT_INTERVALS = (1, 2, 3)


class Task:
    TEST = "test"
    SUMMARY = "summary"
    ASSESSMENT = "assessment"

    LABELS = {TEST: "尿检", SUMMARY: "半年小结", ASSESSMENT: "年度评估"}
    ORDER = (TEST, SUMMARY, ASSESSMENT)


class Period(NamedTuple):
    # A named tuple rather than a dataclass: lists make thousands of them a page.
    task: str
    start: date
    end: date  # exclusive

    @property
    def due_on(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        return Task.LABELS[self.task]

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def months_between(anchor: date, day: date) -> int:
    """Whole calendar months from ``anchor`` to ``day`` (the largest m with anchor+m <= day)."""
    months = (day.year - anchor.year) * 12 + day.month - anchor.month
    if add_months(anchor, months) > day:
        months -= 1
    return months


@dataclass(slots=True)
class Cadence:
    """Where one task's periods fall in a measure.

    ``intervals`` are the months per period in year 1, 2, 3 … of the measure (the
    last one applies after); with ``yearly`` False the first interval applies
    throughout and periods may run across the end of a year.
    """

    task: str
    anchor: date
    until: date
    intervals: tuple[int, ...]
    yearly: bool = True

    def _bounds(self, months: int) -> tuple[int, int]:
        """The period holding month ``months`` of the measure, as month offsets."""
        if not self.yearly:
            every = self.intervals[0]
            start = months // every * every
            return start, start + every
        year = months // 12
        every = self.intervals[min(year, len(self.intervals) - 1)]
        start = 12 * year + (months - 12 * year) // every * every
        return start, min(start + every, 12 * (year + 1))

    def _period(self, start_offset: int, end_offset: int) -> Period:
        start = add_months(self.anchor, start_offset)
        return Period(self.task, start, min(add_months(self.anchor, end_offset), self.until))

    def period_at(self, day: date) -> Period | None:
        if not self.anchor <= day < self.until:
            return None
        return self._period(*self._bounds(months_between(self.anchor, day)))

    def periods_from(self, day: date) -> Iterable[Period]:
        """Every period starting on or after the one holding ``day`` (or the first)."""
        months = months_between(self.anchor, day) if day > self.anchor else 0
        start, end = self._bounds(months)
        while True:
            period = self._period(start, end)
            if period.start >= self.until:
                return
            yield period
            start, end = self._bounds(end)

    def periods(self) -> list[Period]:
        return list(self.periods_from(self.anchor))


def test_periods(anchor: date, until: date, intervals: Sequence[int]) -> list[Period]:
    return Cadence(Task.TEST, anchor, until, _intervals(intervals)).periods()


def fixed_periods(task: str, anchor: date, until: date, every_months: int) -> list[Period]:
    return Cadence(task, anchor, until, (max(int(every_months), 1),), yearly=False).periods()


def _intervals(intervals: Sequence[int]) -> tuple[int, ...]:
    cleaned = tuple(max(int(i), 1) for i in intervals or ())
    return cleaned or DEFAULT_INTERVALS


@dataclass
class TaskState:
    task: str
    # The current period's task, not yet met (None when met or no period runs today).
    due: Period | None = None
    # Consecutive unmet periods up to today, oldest first; empty when on track.
    overdue: list[Period] = field(default_factory=list)
    # The latest day the task was done inside the measure, if ever.
    last_done: date | None = None

    @property
    def label(self) -> str:
        return Task.LABELS[self.task]

    @property
    def overdue_since(self) -> date | None:
        return self.overdue[0].end if self.overdue else None


@dataclass
class ScheduleState:
    tasks: dict[str, TaskState]
    today: date

    @property
    def overdue(self) -> bool:
        return any(state.overdue for state in self.tasks.values())

    @property
    def due_this_week(self) -> bool:
        week_end = self.today + timedelta(days=7)
        return any(s.due and s.due.due_on < week_end for s in self.tasks.values())

    def overdue_tasks(self) -> list[TaskState]:
        return [s for s in self.tasks.values() if s.overdue]

    def due_tasks(self) -> list[TaskState]:
        """Tasks due in the current period and not yet done, soonest first."""
        due = [s for s in self.tasks.values() if s.due]
        return sorted(due, key=lambda s: s.due.due_on)  # type: ignore[union-attr]

    def next_due(self) -> Period | None:
        dues = [s.due for s in self.tasks.values() if s.due]
        return min(dues, key=lambda p: p.due_on) if dues else None

    def urgency(self) -> tuple[int, date]:
        """Sort key: overdue first (longest overdue first), then by next due date."""
        since = [s.overdue_since for s in self.tasks.values() if s.overdue_since]
        if since:
            return (0, min(since))
        nxt = self.next_due()
        return (1, nxt.due_on) if nxt else (2, date.max)


def _state(cadence: Cadence, done: Iterable[date], today: date) -> TaskState:
    state = TaskState(cadence.task)
    inside = [d for d in done if cadence.anchor <= d < cadence.until and d <= today]
    last = max(inside, default=None)
    state.last_done = last
    if today < cadence.anchor:
        return state
    current = cadence.period_at(today)
    if last is not None and current is not None and current.contains(last):
        return state
    state.due = current
    # Every period that ended after the one holding the last test is unmet.
    for period in cadence.periods_from(last if last is not None else cadence.anchor):
        if last is not None and period.contains(last):
            continue
        if period.end > today:
            break
        state.overdue.append(period)
    return state


def compute(
    *,
    anchor: date,
    until: date,
    today: date,
    test_dates: Iterable[date],
    summary_dates: Iterable[date] = (),
    assessment_dates: Iterable[date] = (),
    intervals: Sequence[int] = DEFAULT_INTERVALS,
    summary_every: int = 6,
    assessment_every: int = 12,
) -> ScheduleState:
    """The state of one measure's schedule on ``today``.

    ``test_dates`` are the days a test was actually carried out (negative or
    positive); refused and evaded tests do not meet a period. Passing only the
    latest such day gives the same answer as passing them all.
    """
    tasks = {
        Task.TEST: _state(
            Cadence(Task.TEST, anchor, until, _intervals(intervals)), test_dates, today
        ),
        Task.SUMMARY: _state(
            Cadence(Task.SUMMARY, anchor, until, (max(summary_every, 1),), yearly=False),
            summary_dates,
            today,
        ),
        Task.ASSESSMENT: _state(
            Cadence(Task.ASSESSMENT, anchor, until, (max(assessment_every, 1),), yearly=False),
            assessment_dates,
            today,
        ),
    }
    return ScheduleState(tasks, today)


@dataclass(frozen=True)
class PeriodRecord:
    """One period of a measure with the days its task was done in it (for a person's page)."""

    period: Period
    done: tuple[date, ...]
    today: date

    @property
    def met(self) -> bool:
        return bool(self.done)

    @property
    def state(self) -> str:
        if self.done:
            return "met"
        if self.period.start > self.today:
            return "future"
        if self.period.end <= self.today:
            return "missed"
        return "due"


def history(
    *, task: str, periods: Sequence[Period], done: Iterable[date], today: date
) -> list[PeriodRecord]:
    """Each period with the days inside it: met, missed, due now, or still ahead."""
    days = sorted(done)
    return [
        PeriodRecord(p, tuple(d for d in days if p.contains(d)), today)
        for p in periods
        if p.task == task
    ]
