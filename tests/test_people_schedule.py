"""Follow-up schedules by year of a measure, and what is due, due this week and overdue.

Pure date arithmetic: no database. The default rule is the common local one:
tests monthly in year one, every two months in year two, quarterly in year
three; a half-year summary and a yearly assessment.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from jindu.people.dates import add_months
from jindu.people.schedule import (
    Task,
    compute,
    fixed_periods,
    history,
    months_between,
)
from jindu.people.schedule import (
    test_periods as periods_of_tests,
)

ANCHOR = date(2023, 3, 10)
UNTIL = add_months(ANCHOR, 36)


def _starts(periods):
    return [p.start for p in periods]


def test_tests_are_monthly_in_year_one_every_two_months_in_year_two_quarterly_in_year_three():
    periods = periods_of_tests(ANCHOR, UNTIL, [1, 2, 3])
    year1 = [p for p in periods if p.start < add_months(ANCHOR, 12)]
    year2 = [p for p in periods if add_months(ANCHOR, 12) <= p.start < add_months(ANCHOR, 24)]
    year3 = [p for p in periods if add_months(ANCHOR, 24) <= p.start]
    assert len(year1) == 12 and len(year2) == 6 and len(year3) == 4
    assert len(periods) == 22
    assert _starts(year1)[:3] == [date(2023, 3, 10), date(2023, 4, 10), date(2023, 5, 10)]
    assert _starts(year2)[:2] == [date(2024, 3, 10), date(2024, 5, 10)]
    assert _starts(year3) == [
        date(2025, 3, 10),
        date(2025, 6, 10),
        date(2025, 9, 10),
        date(2025, 12, 10),
    ]
    assert periods[-1].end == UNTIL
    # Contiguous: each period starts where the one before it ends.
    assert all(a.end == b.start for a, b in zip(periods, periods[1:], strict=False))


def test_summary_every_six_months_and_assessment_every_twelve():
    summaries = fixed_periods(Task.SUMMARY, ANCHOR, UNTIL, 6)
    assessments = fixed_periods(Task.ASSESSMENT, ANCHOR, UNTIL, 12)
    assert len(summaries) == 6 and len(assessments) == 3
    assert summaries[1].start == date(2023, 9, 10)
    assert assessments[1].start == date(2024, 3, 10)
    assert assessments[0].due_on == date(2024, 3, 9)


def test_a_local_rule_with_other_intervals_is_followed():
    periods = periods_of_tests(ANCHOR, UNTIL, [2, 4])
    assert len(periods) == 6 + 3 + 3
    # An interval that does not divide the year ends its last period at the year's end.
    odd = periods_of_tests(ANCHOR, add_months(ANCHOR, 24), [5])
    assert [months_between(ANCHOR, p.start) for p in odd] == [0, 5, 10, 12, 17, 22]


def test_month_end_anchors_do_not_drift():
    anchor = date(2024, 1, 31)
    periods = periods_of_tests(anchor, add_months(anchor, 12), [1])
    assert _starts(periods)[:4] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


def test_a_test_in_the_current_period_means_nothing_is_due():
    today = date(2023, 4, 20)
    state = compute(
        anchor=ANCHOR, until=UNTIL, today=today, test_dates=[date(2023, 3, 15), date(2023, 4, 12)]
    )
    test = state.tasks[Task.TEST]
    assert test.due is None and test.overdue == []


def test_no_test_yet_in_the_current_period_is_due_by_its_last_day():
    today = date(2023, 4, 20)
    state = compute(anchor=ANCHOR, until=UNTIL, today=today, test_dates=[date(2023, 3, 15)])
    test = state.tasks[Task.TEST]
    assert test.due is not None
    assert test.due.due_on == date(2023, 5, 9)
    assert test.overdue == []
    assert not state.overdue


def test_due_this_week_only_in_the_last_seven_days_of_the_period():
    tests = [date(2023, 3, 15)]
    early = compute(anchor=ANCHOR, until=UNTIL, today=date(2023, 4, 25), test_dates=tests)
    late = compute(anchor=ANCHOR, until=UNTIL, today=date(2023, 5, 3), test_dates=tests)
    assert not early.due_this_week
    assert late.due_this_week


def test_a_missed_period_is_overdue_from_its_end():
    state = compute(
        anchor=ANCHOR, until=UNTIL, today=date(2023, 5, 12), test_dates=[date(2023, 3, 15)]
    )
    test = state.tasks[Task.TEST]
    assert [p.start for p in test.overdue] == [date(2023, 4, 10)]
    assert test.overdue_since == date(2023, 5, 10)
    assert state.overdue
    assert state.urgency() == (0, date(2023, 5, 10))


def test_overdue_counts_every_missed_period_since_the_last_test():
    state = compute(
        anchor=ANCHOR, until=UNTIL, today=date(2023, 9, 1), test_dates=[date(2023, 4, 1)]
    )
    test = state.tasks[Task.TEST]
    assert len(test.overdue) == 4  # May, June, July, August periods
    assert test.overdue_since == date(2023, 5, 10)


def test_never_tested_is_overdue_from_the_end_of_the_first_period():
    state = compute(anchor=ANCHOR, until=UNTIL, today=date(2023, 6, 1), test_dates=[])
    assert state.tasks[Task.TEST].overdue_since == date(2023, 4, 10)


def test_a_test_in_the_current_period_puts_the_schedule_back_on_track():
    state = compute(
        anchor=ANCHOR,
        until=UNTIL,
        today=date(2023, 9, 20),
        test_dates=[date(2023, 4, 1), date(2023, 9, 15)],
    )
    assert state.tasks[Task.TEST].overdue == []
    assert state.tasks[Task.TEST].due is None


def test_in_year_two_a_test_every_two_months_is_enough():
    tests = [date(2024, 3, 20), date(2024, 5, 20), date(2024, 7, 20)]
    state = compute(anchor=ANCHOR, until=UNTIL, today=date(2024, 9, 15), test_dates=tests)
    test = state.tasks[Task.TEST]
    assert test.overdue == []
    assert test.due is not None and test.due.due_on == date(2024, 11, 9)


def test_in_year_three_quarterly_tests_are_enough():
    tests = [date(2025, 3, 20), date(2025, 7, 1)]
    state = compute(anchor=ANCHOR, until=UNTIL, today=date(2025, 11, 30), test_dates=tests)
    test = state.tasks[Task.TEST]
    assert test.overdue == []
    assert test.due.start == date(2025, 9, 10)


def test_summary_and_assessment_fall_due_and_overdue_on_their_own_cadence():
    state = compute(
        anchor=ANCHOR,
        until=UNTIL,
        today=date(2024, 3, 20),
        test_dates=[date(2024, 3, 15)],
        summary_dates=[date(2023, 8, 1)],
        assessment_dates=[],
    )
    summary = state.tasks[Task.SUMMARY]
    assessment = state.tasks[Task.ASSESSMENT]
    assert summary.overdue_since == date(2024, 3, 10)  # second half-year missed
    assert summary.due is not None
    assert assessment.overdue_since == date(2024, 3, 10)


def test_before_the_anchor_nothing_is_due():
    state = compute(anchor=ANCHOR, until=UNTIL, today=ANCHOR - timedelta(days=1), test_dates=[])
    assert not state.overdue and state.next_due() is None
    assert state.urgency() == (2, date.max)


def test_urgency_puts_the_longest_overdue_first_then_the_soonest_due():
    def state(today, tests):
        return compute(
            anchor=ANCHOR,
            until=UNTIL,
            today=today,
            test_dates=tests,
            summary_dates=[ANCHOR],
            assessment_dates=[ANCHOR],
        )

    today = date(2023, 9, 15)
    long_overdue = state(today, [date(2023, 3, 15)])
    short_overdue = state(today, [date(2023, 7, 15)])
    due_soon = state(today, [date(2023, 8, 15)])
    assert sorted([due_soon, short_overdue, long_overdue], key=lambda s: s.urgency()) == [
        long_overdue,
        short_overdue,
        due_soon,
    ]


@pytest.mark.parametrize("seed", range(5))
def test_only_the_latest_test_matters(seed):
    """``compute`` with every test date and with only the latest gives the same state."""
    rng = random.Random(seed)
    for _ in range(300):
        anchor = date(2021, 1, 1) + timedelta(days=rng.randrange(900))
        until = add_months(anchor, 36)
        today = anchor + timedelta(days=rng.randrange(-20, 1150))
        done = sorted(
            anchor + timedelta(days=rng.randrange(-30, 1100)) for _ in range(rng.randrange(8))
        )
        done = [d for d in done if d <= today]
        inside = [d for d in done if anchor <= d < until]
        full = compute(anchor=anchor, until=until, today=today, test_dates=done)
        latest = compute(anchor=anchor, until=until, today=today, test_dates=inside[-1:])
        a, b = full.tasks[Task.TEST], latest.tasks[Task.TEST]
        assert (a.due, a.overdue) == (b.due, b.overdue), (anchor, today, done)


def test_history_marks_each_period_met_missed_due_or_ahead():
    today = date(2023, 6, 20)
    periods = periods_of_tests(ANCHOR, UNTIL, [1, 2, 3])
    records = history(
        task=Task.TEST, periods=periods, done=[date(2023, 3, 12), date(2023, 5, 15)], today=today
    )
    assert [r.state for r in records[:5]] == ["met", "missed", "met", "due", "future"]
