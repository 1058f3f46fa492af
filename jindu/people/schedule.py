"""Follow-up schedules, computed from dates at query time and never stored.

A community measure's term is cut into periods: tests every month in year one,
every two months in year two, quarterly in year three (the policy's
``test_intervals``); summaries every six months and assessments every twelve.
A period is met when the thing it asks for happened inside it. What is due now,
due this week and overdue follows from today's date and those periods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from jindu.people.dates import add_months

SCHEDULED_KINDS = ("community_detox", "community_rehab")


class Task:
    TEST = "test"
    SUMMARY = "summary"
    ASSESSMENT = "assessment"

    LABELS = {TEST: "尿检", SUMMARY: "半年小结", ASSESSMENT: "年度评估"}


@dataclass(frozen=True)
class Period:
    task: str
    start: date
    end: date  # exclusive

    @property
    def due_on(self) -> date:
        return self.end - timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def test_periods(anchor: date, until: date, intervals: Sequence[int]) -> list[Period]:
    periods = []
    start = anchor
    while start < until:
        months_in = (start.year - anchor.year) * 12 + start.month - anchor.month
        year_index = min(months_in // 12, len(intervals) - 1)
        end = min(add_months(start, int(intervals[year_index])), until)
        periods.append(Period(Task.TEST, start, end))
        start = end
    return periods


def fixed_periods(task: str, anchor: date, until: date, every_months: int) -> list[Period]:
    periods = []
    start = anchor
    step = 1
    while start < until:
        end = min(add_months(anchor, every_months * step), until)
        periods.append(Period(task, start, end))
        start, step = end, step + 1
    return periods


@dataclass
class TaskState:
    task: str
    # The current period's task, not yet met (None when met or no period runs today).
    due: Period | None = None
    # Consecutive unmet periods up to today, oldest first; empty when on track.
    overdue: list[Period] = field(default_factory=list)

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


def _state(task: str, periods: Iterable[Period], done: Sequence[date], today: date) -> TaskState:
    state = TaskState(task)
    done_sorted = sorted(done)
    unmet_run: list[Period] = []
    for period in periods:
        if period.start > today:
            break
        met = any(period.contains(d) for d in done_sorted)
        if period.end <= today:
            unmet_run = [] if met else [*unmet_run, period]
        else:
            if not met:
                state.due = period
            elif unmet_run:
                # Met in the current period: back on track.
                unmet_run = []
    state.overdue = unmet_run
    return state


def compute(
    *,
    anchor: date,
    until: date,
    today: date,
    test_dates: Sequence[date],
    summary_dates: Sequence[date] = (),
    assessment_dates: Sequence[date] = (),
    intervals: Sequence[int] = (1, 2, 3),
    summary_every: int = 6,
    assessment_every: int = 12,
) -> ScheduleState:
    """The state of one measure's schedule on ``today``.

    ``test_dates`` are the days a test was actually carried out (negative or
    positive); refused and evaded tests do not meet a period.
    """
    tasks = {
        Task.TEST: _state(Task.TEST, test_periods(anchor, until, intervals), test_dates, today),
        Task.SUMMARY: _state(
            Task.SUMMARY,
            fixed_periods(Task.SUMMARY, anchor, until, summary_every),
            summary_dates,
            today,
        ),
        Task.ASSESSMENT: _state(
            Task.ASSESSMENT,
            fixed_periods(Task.ASSESSMENT, anchor, until, assessment_every),
            assessment_dates,
            today,
        ),
    }
    return ScheduleState(tasks, today)
