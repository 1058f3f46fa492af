"""Flags the law and local rules raise about a person, derived at query time.

Serious breach of a community agreement (戒毒条例 art. 17 as commonly applied):
evading tests three times, refusing three times, leaving the county without
leave three times or for more than thirty days in total. Not reporting in
within fifteen days of the decision. Lost from control (失控): no contact for
the policy's number of days while under a community measure. Absconding (脱管):
away without leave and not back. A "4+X" help team missing one of its four.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from jindu.people.models import Absence, FollowUpPolicy, Measure, Person, TeamMember
from jindu.people.schedule import SCHEDULED_KINDS


@dataclass
class Flags:
    serious_breach: list[str] = field(default_factory=list)
    not_reported: bool = False
    report_deadline: date | None = None
    lost_contact: bool = False
    absconded: bool = False
    team_missing: list[str] = field(default_factory=list)

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
            result.append(f"逾期未报到（应于{self.report_deadline:%Y-%m-%d}前报到）")
        if self.lost_contact:
            result.append("失控")
        if self.absconded:
            result.append("脱管")
        if self.team_missing:
            result.append("帮教小组缺" + "、".join(self.team_missing))
        return result


def days_away(absences: list[Absence], start: date, today: date) -> int:
    total = 0
    for a in absences:
        if a.authorised:
            continue
        left = max(a.left_on, start)
        back = a.returned_on or today
        total += max((back - left).days, 0)
    return total


def breach_reasons(
    measure: Measure, absences: list[Absence], policy: FollowUpPolicy, today: date
) -> list[str]:
    reasons = []
    if measure.evaded_count >= policy.breach_evaded:
        reasons.append(f"逃避检测{measure.evaded_count}次")
    if measure.refused_count >= policy.breach_refused:
        reasons.append(f"拒绝检测{measure.refused_count}次")
    own = [a for a in absences if a.measure_id == measure.pk]
    departures = sum(1 for a in own if not a.authorised)
    if departures >= policy.breach_departures:
        reasons.append(f"擅自离开本县{departures}次")
    start = measure.report_in_date or measure.start_date or measure.decision_date
    away = days_away(own, start, today)
    if away > policy.breach_days_away:
        reasons.append(f"擅自离开累计{away}天")
    return [f"严重违反协议：{r}" for r in reasons]


def team_missing(members: list[TeamMember]) -> list[str]:
    present = {m.role for m in members if m.left_on is None}
    return [TeamMember.Role(role).label for role in TeamMember.REQUIRED if role not in present]


def flags_for(
    person: Person,
    *,
    today: date,
    policy: FollowUpPolicy | None = None,
    measure: Measure | None = None,
    absences: list[Absence] | None = None,
    members: list[TeamMember] | None = None,
) -> Flags:
    """Every flag for one person; pass prefetched rows to avoid queries in a list."""
    policy = policy or FollowUpPolicy.current()
    flags = Flags()
    if person.died_on or person.moved_away_on:
        return flags
    if measure is None and person.measure_kind:
        measure = person.measures.order_by("-decision_date", "-id").first()
    running = measure is not None and (measure.ended_on is None or measure.ended_on > today)
    if absences is None:
        absences = list(person.absences.all())
    flags.absconded = any(not a.authorised and a.returned_on is None for a in absences)
    if running and measure.kind in SCHEDULED_KINDS:
        if measure.report_in_date is None:
            deadline = measure.decision_date + timedelta(days=policy.report_in_days)
            flags.report_deadline = deadline
            flags.not_reported = today > deadline
        flags.serious_breach = breach_reasons(measure, absences, policy, today)
        anchor = measure.report_in_date or measure.decision_date
        last = person.last_contact_on or anchor
        flags.lost_contact = (today - last).days > policy.lost_contact_days
        if members is None:
            members = list(person.team.all())
        flags.team_missing = team_missing(members)
    return flags


def bulk_flags(people: list[Person], today: date) -> dict[int, Flags]:
    """Flags for a page of people in four queries, whatever the page size."""
    policy = FollowUpPolicy.current()
    ids = [p.pk for p in people]
    measures: dict[int, Measure] = {}
    for m in Measure.objects.filter(person_id__in=ids).order_by("person_id", "decision_date", "id"):
        measures[m.person_id] = m
    absences: dict[int, list[Absence]] = {}
    for a in Absence.objects.filter(person_id__in=ids).defer("destination"):
        absences.setdefault(a.person_id, []).append(a)
    members: dict[int, list[TeamMember]] = {}
    for t in TeamMember.objects.filter(person_id__in=ids).defer("phone"):
        members.setdefault(t.person_id, []).append(t)
    return {
        p.pk: flags_for(
            p,
            today=today,
            policy=policy,
            measure=measures.get(p.pk),
            absences=absences.get(p.pk, []),
            members=members.get(p.pk, []),
        )
        for p in people
    }
