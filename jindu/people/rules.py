"""Flags the law and local rules raise about a person, derived at query time.

Serious breach of a community agreement (戒毒条例 art. 17 as commonly applied):
evading tests three times, refusing three times, leaving the county without
leave three times or for more than thirty days in total. Not reporting in
within fifteen days of the decision. Lost from control (失控): no contact for
the policy's number of days while under a community measure. Absconding (脱管):
away without leave and not back. A "4+X" help team missing one of its four.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from jindu.people.models import Absence, FollowUpPolicy, Measure, Person, TeamMember
from jindu.people.schedule import COMMUNITY_KINDS

# Passed as ``measure`` when the caller has not looked the measure up.
_LOOK_UP: Any = object()


@dataclass
class Flags:
    serious_breach: list[str] = field(default_factory=list)
    not_reported: bool = False
    report_deadline: date | None = None
    lost_contact: bool = False
    absconded: bool = False
    team_missing: list[str] = field(default_factory=list)

    @property
    def needs_action(self) -> bool:
        """A flag that puts the person on the township's overdue list."""
        return bool(self.serious_breach or self.not_reported or self.lost_contact or self.absconded)

    @property
    def any(self) -> bool:
        return bool(
            self.serious_breach
            or self.not_reported
            or self.lost_contact
            or self.absconded
            or self.team_missing
        )

    def labels(self) -> list[str]:
        result = list(self.serious_breach)
        if self.not_reported:
            result.append(
                _("逾期未报到（应于%(day)s前报到）") % {"day": f"{self.report_deadline:%Y-%m-%d}"}
            )
        if self.lost_contact:
            result.append(_("失控"))
        if self.absconded:
            result.append(_("脱管"))
        if self.team_missing:
            result.append(_("帮教小组缺%(roles)s") % {"roles": "、".join(self.team_missing)})
        return result


def measure_anchor(measure: Measure | ListedMeasure) -> date:
    """The day a measure starts counting: report-in, else start, else the decision."""
    return measure.report_in_date or measure.start_date or measure.decision_date


def measure_until(measure: Measure | ListedMeasure) -> date | None:
    return measure.ended_on or measure.planned_end


def is_running(measure: Measure | ListedMeasure | None, today: date) -> bool:
    """The same rule as the person's status: from the anchor until the end (or planned end)."""
    if measure is None:
        return False
    until = measure_until(measure)
    return measure_anchor(measure) <= today and (until is None or today < until)


def days_away(absences: Iterable[Absence | ListedAbsence], start: date, today: date) -> int:
    total = 0
    for a in absences:
        if a.authorised:
            continue
        left = max(a.left_on, start)
        back = a.returned_on or today
        total += max((back - left).days, 0)
    return total


def breach_reasons(
    measure: Measure | ListedMeasure,
    absences: Iterable[Absence | ListedAbsence],
    policy: FollowUpPolicy,
    today: date,
) -> list[str]:
    reasons = []
    if measure.evaded_count >= policy.breach_evaded:
        reasons.append(_("逃避检测%(n)d次") % {"n": measure.evaded_count})
    if measure.refused_count >= policy.breach_refused:
        reasons.append(_("拒绝检测%(n)d次") % {"n": measure.refused_count})
    own = [a for a in absences if a.measure_id == measure.pk]
    departures = sum(1 for a in own if not a.authorised)
    if departures >= policy.breach_departures:
        reasons.append(_("擅自离开本县%(n)d次") % {"n": departures})
    away = days_away(own, measure_anchor(measure), today)
    if away > policy.breach_days_away:
        reasons.append(_("擅自离开累计%(n)d天") % {"n": away})
    return [_("严重违反协议：%(reason)s") % {"reason": r} for r in reasons]


# What the lists read of a measure and an absence, as plain values: a page of people
# costs its model instances more than its queries (``bulk_flags``, the worklists).
MEASURE_FIELDS = (
    "id",
    "person_id",
    "kind",
    "decision_date",
    "report_in_date",
    "start_date",
    "planned_end",
    "ended_on",
    "evaded_count",
    "refused_count",
)
ABSENCE_FIELDS = ("id", "person_id", "measure_id", "left_on", "returned_on", "authorised")


class ListedMeasure(NamedTuple):
    """The columns of a measure that the schedule and the flags read."""

    id: int
    person_id: int
    kind: str
    decision_date: date
    report_in_date: date | None
    start_date: date | None
    planned_end: date | None
    ended_on: date | None
    evaded_count: int
    refused_count: int

    @property
    def pk(self) -> int:
        return self.id


class ListedAbsence(NamedTuple):
    """The columns of an absence that the flags read (the destination stays encrypted)."""

    id: int
    person_id: int
    measure_id: int | None
    left_on: date
    returned_on: date | None
    authorised: bool

    @property
    def pk(self) -> int:
        return self.id


def team_missing(members: Iterable[TeamMember]) -> list[str]:
    return missing_roles({m.role for m in members if m.left_on is None})


def missing_roles(present: set[str]) -> list[str]:
    """Which of the four a team with these roles lacks, by label."""
    return [str(TeamMember.Role(role).label) for role in TeamMember.REQUIRED if role not in present]


def flags_for(
    person: Person,
    *,
    today: date,
    policy: FollowUpPolicy | None = None,
    measure: Measure | ListedMeasure | None = _LOOK_UP,
    absences: Iterable[Absence | ListedAbsence] | None = None,
    members: Iterable[TeamMember] | None = None,
    team_roles: set[str] | None = None,
) -> Flags:
    """Every flag for one person; pass prefetched rows to avoid queries in a list.

    ``measure`` is the person's latest measure; pass None when the caller knows
    there is none, so that nothing is looked up.
    """
    policy = policy or FollowUpPolicy.current()
    flags = Flags()
    if person.died_on or person.moved_away_on:
        return flags
    if measure is _LOOK_UP:
        measure = (
            person.measures.order_by("-decision_date", "-id").first()
            if person.measure_kind
            else None
        )
    absences = list(person.absences.defer("destination") if absences is None else absences)
    flags.absconded = any(not a.authorised and a.returned_on is None for a in absences)
    if measure is None or measure.kind not in COMMUNITY_KINDS:
        return flags
    if measure.report_in_date is None and not measure.ended_on:
        deadline = measure.decision_date + timedelta(days=policy.report_in_days)
        flags.report_deadline = deadline
        flags.not_reported = today > deadline
    if not is_running(measure, today):
        return flags
    flags.serious_breach = breach_reasons(measure, absences, policy, today)
    anchor = measure_anchor(measure)
    last = max(person.last_contact_on or anchor, anchor)
    flags.lost_contact = (today - last).days > policy.lost_contact_days
    if team_roles is None:
        if members is None:
            members = list(person.team.filter(left_on__isnull=True).defer("phone"))
        team_roles = {m.role for m in members if m.left_on is None}
    flags.team_missing = missing_roles(team_roles)
    return flags


def bulk_flags(
    people: list[Person], today: date, policy: FollowUpPolicy | None = None
) -> dict[int, Flags]:
    """Flags for a page of people in four queries, whatever the page size."""
    policy = policy or FollowUpPolicy.current()
    ids = [p.pk for p in people]
    # Read as plain values: model instances of a page's measures, absences and team
    # members cost more than their queries.
    measures: dict[int, ListedMeasure] = {}
    for m in (
        Measure.objects.filter(person_id__in=ids)
        .order_by("person_id", "decision_date", "id")
        .values_list(*MEASURE_FIELDS)
    ):
        measures[m[1]] = ListedMeasure(*m)
    absences: dict[int, list[ListedAbsence]] = {}
    for a in Absence.objects.filter(person_id__in=ids).order_by().values_list(*ABSENCE_FIELDS):
        absences.setdefault(a[1], []).append(ListedAbsence(*a))
    roles: dict[int, set[str]] = {}
    for person_id, role in (
        TeamMember.objects.filter(person_id__in=ids, left_on__isnull=True)
        .order_by()
        .values_list("person_id", "role")
    ):
        roles.setdefault(person_id, set()).add(role)
    none: set[str] = set()
    return {
        p.pk: flags_for(
            p,
            today=today,
            policy=policy,
            measure=measures.get(p.pk),
            absences=absences.get(p.pk, ()),
            team_roles=roles.get(p.pk, none),
        )
        for p in people
    }
