"""What each person on the register adds to the tallies (``jindu.core.tallies``).

Each figure follows the rule its registry indicator states in
``jindu.people.indicators`` (which counts townships and villages straight from
the records); ``tests/test_people_tallies.py`` holds the two to the same answers.

Events, on their day, for the unit responsible that day (``movement.responsible_q``):

- ``people.found``: first found (新发现); ``people.found_minor``: of them under 18 that day;
- ``people.decided.<kind>``: a measure decided; ``people.community_reported``: a
  community detox or rehab decided and reported in (counted on its decision day).

States, +1 on the day they begin and −1 on the day they end:

- ``people.status.<status>``: the person's status (``status.status_on``), by their unit now;
- ``people.present``: under a community measure (``status.under_community_q``), by their unit
  now; ``people.team_complete``: the same, with all four of the "4+X" team;
- ``people.test_overdue``: present with a drug test overdue (``schedule``), by their unit now;
- ``people.lost``: present and out of contact past the policy's limit (``status.lost_contact_q``);
- ``people.abstinent``: abstinent three years or more (``abstinence``), by the unit
  responsible each day.

A state is worked out by evaluating its rule on every day where one of the
person's dates could change it (a sorted set of candidate days) and keeping the
runs; between two candidates nothing the rule reads changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, QuerySet

from jindu.core import tallies
from jindu.core.tallies import EPOCH, Counted, Fact, Source, ids_q
from jindu.people.dates import add_months, add_years
from jindu.people.idnumber import MINOR_AGE, age_on
from jindu.people.models import (
    DrugTest,
    FollowUpPolicy,
    Measure,
    Person,
    Responsibility,
    TeamMember,
)
from jindu.people.schedule import COMMUNITY_KINDS, Cadence, Task, _intervals
from jindu.people.status import KIND_STATUS, Status

SOURCE = "people"
ONE_DAY = timedelta(days=1)
COUNTING = frozenset({DrugTest.Result.NEGATIVE.value, DrugTest.Result.POSITIVE.value})
PERSON_FIELDS = (
    "id",
    "org_path",
    "birth_date",
    "first_found_on",
    "died_on",
    "moved_away_on",
    "measure_kind",
    "measure_anchor",
    "measure_until",
    "clean_since",
    "last_contact_on",
)


def status_key(status: str) -> str:
    return f"people.status.{status}"


def decided_key(kind: str) -> str:
    return f"people.decided.{kind}"


@dataclass
class MeasureFacts:
    id: int
    kind: str
    decision_date: date
    report_in_date: date | None
    end: date | None  # ended_on or planned_end


@dataclass
class PersonFacts:
    """Everything the tallies read of one person (plain values, no query)."""

    id: int
    org_path: str
    birth_date: date
    first_found_on: date | None
    died_on: date | None
    moved_away_on: date | None
    measure_kind: str
    measure_anchor: date | None
    measure_until: date | None
    clean_since: date | None
    last_contact_on: date | None
    responsibilities: list[tuple[date, date | None, str]] = field(default_factory=list)
    measures: list[MeasureFacts] = field(default_factory=list)
    positives: list[date] = field(default_factory=list)
    # Days a test was carried out (negative or positive), newest first.
    carried_out: list[date] = field(default_factory=list)
    team_complete: bool = False

    def responsible_on(self, day: date) -> str | None:
        for valid_from, valid_to, path in self.responsibilities:
            if valid_from <= day and (valid_to is None or day < valid_to):
                return path
        return None


@dataclass(frozen=True)
class Rules:
    """The policy's numbers the facts depend on."""

    abstinence_years: int
    lost_contact_days: int
    detox_term_months: int
    intervals: tuple[int, ...]

    @classmethod
    def current(cls) -> Rules:
        policy = FollowUpPolicy.current()
        return cls(
            policy.abstinence_years,
            policy.lost_contact_days,
            policy.detox_term_months,
            _intervals(policy.test_intervals),
        )


# ------------------------------------------------------------------ runs of a state


def _runs(
    candidates: Iterable[date], state: Callable[[date], str | None]
) -> list[tuple[str, date, date | None]]:
    """(path, from, to) for each run of days on which ``state`` names a path.

    ``state(day)`` returns the path counting the state that day, or None when
    the state does not hold. It is read on each candidate day (and EPOCH).
    """
    days = sorted({EPOCH, *(d for d in candidates if d is not None and d >= EPOCH)})
    runs: list[tuple[str, date, date | None]] = []
    current: str | None = None
    since = EPOCH
    for day in days:
        now = state(day)
        if now == current:
            continue
        if current is not None:
            runs.append((current, since, day))
        current, since = now, day
    if current is not None:
        runs.append((current, since, None))
    return runs


def _state_facts(key: str, runs: Iterable[tuple[str, date, date | None]]) -> list[Fact]:
    facts: list[Fact] = []
    for path, start, end in runs:
        facts.append((key, path, start, 1))
        if end is not None:
            facts.append((key, path, end, -1))
    return facts


def _turn(day: date | None, years: int) -> date | None:
    """The first D with ``day <= add_years(D, -years)``: where "``years`` years since
    ``day``" starts to hold (a 29 February reaches it on 1 March of a common year)."""
    if day is None:
        return None
    turn = add_years(day, years)
    return turn if add_years(turn, -years) >= day else turn + ONE_DAY


# ------------------------------------------------------------------ one person's facts


def person_facts(p: PersonFacts, rules: Rules) -> list[Fact]:
    facts: list[Fact] = []
    # Events, by the unit responsible on their day.
    if p.first_found_on is not None:
        path = p.responsible_on(p.first_found_on)
        if path is not None:
            facts.append(("people.found", path, p.first_found_on, 1))
            if age_on(p.birth_date, p.first_found_on) < MINOR_AGE:
                facts.append(("people.found_minor", path, p.first_found_on, 1))
    for m in p.measures:
        path = p.responsible_on(m.decision_date)
        if path is None:
            continue
        facts.append((decided_key(m.kind), path, m.decision_date, 1))
        if m.kind in COMMUNITY_KINDS and m.report_in_date is not None:
            facts.append(("people.community_reported", path, m.decision_date, 1))
    facts.extend(_status_facts(p, rules))
    facts.extend(_community_facts(p, rules))
    facts.extend(_abstinent_facts(p, rules))
    return facts


def _status_facts(p: PersonFacts, rules: Rules) -> list[Fact]:
    years = rules.abstinence_years
    clean_turns = add_years(p.clean_since, years) if p.clean_since else None
    candidates = [
        p.died_on,
        p.moved_away_on,
        p.measure_anchor,
        p.measure_until,
        clean_turns,
    ]
    by_status: dict[str, list[tuple[str, date, date | None]]] = defaultdict(list)

    def status(day: date) -> str:
        # ``status.status_on`` with the abstinence turn worked out once.
        if p.died_on and p.died_on <= day:
            return Status.DIED.value
        if p.moved_away_on and p.moved_away_on <= day:
            return Status.MOVED_AWAY.value
        if (
            p.measure_kind
            and p.measure_anchor
            and p.measure_anchor <= day
            and (p.measure_until is None or day < p.measure_until)
        ):
            return KIND_STATUS.get(p.measure_kind, Status.TREATMENT).value
        if clean_turns is not None and clean_turns <= day:
            return Status.ABSTINENT.value
        return Status.NOT_UNDER_MEASURE.value

    for path, start, end in _runs(candidates, status):
        by_status[path].append((p.org_path, start, end))
    facts: list[Fact] = []
    for status, runs in by_status.items():
        facts.extend(_state_facts(status_key(status), runs))
    return facts


def _community_facts(p: PersonFacts, rules: Rules) -> list[Fact]:
    """Present under a community measure, its team, overdue test and lost contact."""
    anchor, until = p.measure_anchor, p.measure_until
    if (
        p.measure_kind not in COMMUNITY_KINDS
        or anchor is None
        or p.died_on is not None
        or p.moved_away_on is not None
        or (until is not None and until <= anchor)
    ):
        return []
    path = p.org_path
    present = [(path, anchor, until)]
    facts = _state_facts("people.present", present)
    if p.team_complete:
        facts.extend(_state_facts("people.team_complete", present))
    overdue_from = _test_overdue_from(p, rules)
    if overdue_from is not None and (until is None or overdue_from < until):
        facts.extend(
            _state_facts("people.test_overdue", [(path, max(overdue_from, anchor), until)])
        )
    last = max(anchor, p.last_contact_on) if p.last_contact_on else anchor
    lost_from = last + timedelta(days=rules.lost_contact_days + 1)
    if until is None or lost_from < until:
        facts.extend(_state_facts("people.lost", [(path, lost_from, until)]))
    return facts


def _test_overdue_from(p: PersonFacts, rules: Rules) -> date | None:
    """The first day a drug test is overdue given the tests recorded (the worklist's rule:
    the end of the first test period after the one holding the latest test carried
    out since the anchor)."""
    anchor = p.measure_anchor
    assert anchor is not None
    until = p.measure_until or add_months(anchor, rules.detox_term_months)
    cadence = Cadence(Task.TEST, anchor, until, rules.intervals)
    latest = next((d for d in p.carried_out if d >= anchor), None)
    last = latest if latest is not None and latest < until else None
    for period in cadence.periods_from(last if last is not None else anchor):
        if last is not None and period.contains(last):
            continue
        return period.end
    return None


def _abstinent_facts(p: PersonFacts, rules: Rules) -> list[Fact]:
    """``abstinence.abstinent_ids``'s rule, day by day. Each "``x`` lies ``years`` before
    D" (``x <= add_years(D, -years)``) is read as "D is on or after ``_turn(x)``",
    worked out once per date rather than once per day looked at."""
    years = rules.abstinence_years
    if not (p.first_found_on or p.measures or p.positives):
        return []
    clean, found = p.clean_since, p.first_found_on
    clean_turn, found_turn = _turn(clean, years), _turn(found, years)
    # (decided, the day its end lies ``years`` back — None while it has no end)
    measures = [(m.decision_date, _turn(m.end, years)) for m in p.measures]
    positives = [(day, _turn(day, years)) for day in p.positives]

    def abstinent(day: date) -> bool:
        if clean_turn is not None and day >= clean_turn:
            return True  # clean_since <= D - years: nothing since, by today's knowledge
        if clean is not None and clean <= day:
            return False  # something within the years before D
        if found_turn is not None and day < found_turn:
            return False  # first found within the years before D (or after D)
        decided = False
        for decided_on, end_turn in measures:
            if decided_on <= day:
                if end_turn is None or day < end_turn:
                    return False  # a measure decided by D not over ``years`` before D
                decided = True
        tested = False
        for tested_on, turn in positives:
            if tested_on <= day:
                if day < turn:
                    return False  # a positive test within the years before D
                tested = True
        return found is not None or decided or tested

    def holds(day: date) -> str | None:
        if p.died_on is not None and p.died_on <= day:
            return None
        if p.moved_away_on is not None and p.moved_away_on <= day:
            return None
        path = p.responsible_on(day)
        if path is None:
            return None
        return path if abstinent(day) else None

    candidates: list[date | None] = [p.died_on, p.moved_away_on, clean, clean_turn, found_turn]
    for valid_from, valid_to, _path in p.responsibilities:
        candidates += [valid_from, valid_to]
    for decided_on, end_turn in measures:
        candidates += [decided_on, end_turn]
    for tested_on, turn in positives:
        candidates += [tested_on, turn]
    return _state_facts("people.abstinent", _runs(candidates, holds))


# ------------------------------------------------------------------ from the database


def load(ids: Sequence[int]) -> list[PersonFacts]:
    """The people of ``ids`` with what their facts need, in six queries."""
    ids = sorted(ids)
    people = {
        row["id"]: PersonFacts(**row)
        for row in Person.objects.filter(ids_q("pk", ids)).order_by().values(*PERSON_FIELDS)
    }
    if not people:
        return []
    if len(people) != len(ids):
        ids = sorted(people)
    whose = ids_q("person_id", ids)
    for person_id, valid_from, valid_to, path in (
        Responsibility.objects.filter(whose)
        .order_by("person_id", "valid_from", "id")
        .values_list("person_id", "valid_from", "valid_to", "org_path")
    ):
        people[person_id].responsibilities.append((valid_from, valid_to, path))
    for row in (
        Measure.objects.filter(whose)
        .order_by("person_id", "decision_date", "id")
        .values_list(
            "id", "person_id", "kind", "decision_date", "report_in_date", "ended_on",
            "planned_end",
        )
    ):  # fmt: skip
        mid, person_id, kind, decided, reported, ended, planned = row
        people[person_id].measures.append(
            MeasureFacts(mid, kind, decided, reported, ended or planned)
        )
    for person_id, tested_on, result in (
        DrugTest.objects.filter(whose)
        .order_by("person_id", "-tested_on", "-id")
        .values_list("person_id", "tested_on", "result")
    ):
        person = people[person_id]
        if result == DrugTest.Result.POSITIVE:
            person.positives.append(tested_on)
        if result in COUNTING:
            person.carried_out.append(tested_on)
    complete = set(TeamMember.REQUIRED)
    roles: dict[int, set[str]] = defaultdict(set)
    for person_id, role in TeamMember.objects.filter(
        whose, left_on__isnull=True, role__in=complete
    ).values_list("person_id", "role"):
        roles[person_id].add(role)
    for person_id, held in roles.items():
        people[person_id].team_complete = held >= complete
    return list(people.values())


def facts(ids: Sequence[int]) -> dict[int, Counted]:
    rules = Rules.current()
    return {p.id: Counted(p.org_path, person_facts(p, rules)) for p in load(ids)}


def _all_ids() -> QuerySet:
    return Person.objects.order_by("pk").values_list("pk", flat=True)


def _ids_within(path: str) -> QuerySet:
    # Anyone ever responsible there, or there now.
    ever = Responsibility.objects.filter(org_path__subtree=path).values("person_id")
    return (
        Person.objects.filter(Q(org_path__subtree=path) | Q(pk__in=ever))
        .order_by()
        .values_list("pk", flat=True)
    )


def refresh(ids: Iterable[int]) -> int:
    """Count these people again (call inside the transaction that changed them)."""
    return tallies.refresh(SOURCE, ids)


def status_levels(path: str, day: date) -> dict[str, int]:
    """People within a tallied unit by their status on ``day`` (``annotate_status``'s count)."""
    prefix = status_key("")
    levels = tallies.levels_by_key([status_key(s.value) for s in Status], path, day)
    return {key.removeprefix(prefix): n for key, n in levels.items() if n}


def defer(ids: Iterable[int], paths: Iterable[str]) -> None:
    """A bulk load's people, counted right after it commits (``jindu.core.tallies.defer``)."""
    tallies.defer(SOURCE, ids, paths)


def rebuild() -> int:
    """Count every person again (after a change of the policy's numbers, or a bulk load)."""
    return tallies.rebuild(SOURCE)[SOURCE]


def register() -> None:
    tallies.register_source(Source(SOURCE, facts, _all_ids, _ids_within))
