"""Synthetic people and their histories, drawn from one seeded random generator.

``Generator.person`` draws a person as a county register would hold them:
identity and flags, then a history relative to today: measures with
report-ins (community detox and rehab, isolation, prison, methadone), tests
that mostly follow the policy's schedule (some missed, evaded or refused),
talks, home visits, help, half-year summaries and yearly assessments,
absences (a few without leave, a few not back), relapses that end a measure
in isolation, "4+X" help teams (some missing one of the four), people lost
from control and people abstinent for three years and more. The plans are
plain values; ``jindu.people.seed`` writes them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from jindu.demo import names
from jindu.people.idnumber import check_char
from jindu.people.schedule import COMMUNITY_KINDS

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """``jindu.people.dates.add_months`` without the calendar module: it runs a million times."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _MONTH_DAYS[month - 1]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return date(year, month, min(day.day, last))


@dataclass
class Place:
    """A village or grid people can be registered in."""

    id: int
    path: str
    name: str
    # The township the place lies in, and the county's division code.
    township_id: int
    county_code: str
    address: str


DRUGS = (
    ("methamphetamine", 48),
    ("heroin", 27),
    ("ketamine", 8),
    ("meth_tablet", 7),
    ("mdma", 3),
    ("cannabis", 3),
    ("methcathinone", 2),
    ("nps", 2),
)
HOW_FOUND = (
    ("police_seized", 70),
    ("community_screening", 12),
    ("self_reported", 6),
    ("isolation_transfer", 8),
    ("other_area_notice", 4),
)
EMPLOYMENT = (("none", 40), ("flexible", 28), ("employed", 15), ("unemployed", 14), ("other", 3))
OCCUPATIONS = ("农民", "无业", "个体经营", "务工", "司机", "服务员", "厨师", "装修工", "")
SUMMARIES = (
    "谈话教育，本人表示遵守社区戒毒协议，近期情绪稳定。",
    "入户走访，家属反映在家表现正常，按时参加尿检。",
    "了解就业情况，协助联系务工岗位。",
    "落实低保申请材料，转交民政所。",
    "提醒按期尿检，告知擅自离开本县的后果。",
)
PLACES_AWAY = ("云南省昆明市", "广东省东莞市", "四川省成都市", "甘肃省兰州市", "新疆乌鲁木齐市")


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _w in table], [w for _k, w in table])[0]


@dataclass
class Plan:
    """One generated person and everything that happened to them, as plain values."""

    place: Place
    name: str
    id_number: str
    sex: str
    birth: date
    first_found: date
    values: dict[str, Any]
    # [kind, decision, report_in, start, term, planned_end, ended_on, end_reason]
    measures: list[list[Any]] = field(default_factory=list)
    # (day, method, result, measure index or -1)
    tests: list[tuple[date, str, str, int]] = field(default_factory=list)
    # (day, kind, help_kind, measure index or -1)
    visits: list[tuple[date, str, str, int]] = field(default_factory=list)
    # (left, returned or None, authorised, measure index)
    absences: list[tuple[date, date | None, bool, int]] = field(default_factory=list)
    # (role, name, joined, left)
    team: list[tuple[str, str, date, date | None]] = field(default_factory=list)
    # (from place, day)
    transfer: tuple[Place, date] | None = None
    outflow: tuple[str, date, str] | None = None


class Generator:
    """Draws people and their histories from one random generator (deterministic by seed).

    ``density`` scales the optional follow-up (visits, tests outside a measure,
    schedule compliance) so that a register reaches the number of events asked for.
    """

    def __init__(self, rng: random.Random, today: date, intervals: Sequence[int] = (1, 2, 3)):
        self.rng = rng
        self.today = today
        self.intervals = [int(i) for i in intervals] or [1, 2, 3]
        self.density = 1.0

    # -- identity
    def id_number(self, region: str, index: int, male: bool) -> tuple[str, date]:
        # index // 500 picks the birth date and index % 500 the sequence, so every
        # index gives a different number; the spread keeps ages realistic.
        block, seq = divmod(index, 500)
        span = 16436  # 1960-01-01 … 2004-12-31
        born = date(1960, 1, 1) + timedelta(days=(block * 7919 + 1234) % span)
        sequence = seq * 2 + (1 if male else 0)
        first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
        return first17 + check_char(first17), born

    def person(self, place: Place, index: int) -> Plan:
        rng, today = self.rng, self.today
        male = rng.random() < 0.86
        local = rng.random() < 0.9
        region = (
            place.county_code[:6] if local else rng.choice(("510104", "530102", "620102", "441900"))
        )
        number, born = self.id_number(region, index, male)
        adult = add_months(born, 16 * 12)
        name = rng.choice(names.SURNAMES) + rng.choice(names.GIVEN)
        house = f"{place.address}{rng.randint(1, 180)}号"
        values = {
            "ethnicity": "01" if rng.random() < 0.9 else rng.choice(("03", "04", "30", "26")),
            "household_address": house,
            "household_local": local,
            "current_address": house
            if rng.random() < 0.7
            else f"{place.address}{rng.randint(1, 180)}号",
            "phone": f"1{rng.choice('35789')}{rng.randint(0, 999999999):09d}",
            "drug_types": sorted({_weighted(rng, DRUGS) for _ in range(1 + (rng.random() < 0.25))}),
            "how_found": _weighted(rng, HOW_FOUND),
            "occupation": rng.choice(OCCUPATIONS),
            "employment": _weighted(rng, EMPLOYMENT),
            "has_driving_licence": rng.random() < 0.18,
            "sick_or_disabled": rng.random() < 0.04,
            "poverty_by_drugs": rng.random() < 0.06,
            "key_person": rng.random() < 0.08,
            "family_support": rng.random() < 0.8,
            "died_on": None,
            "moved_away_on": None,
        }
        if values["key_person"]:
            values["key_person_reason"] = rng.choice(
                ("多次复吸", "有暴力倾向", "涉毒前科", "肇事肇祸风险")
            )
        plan = Plan(place, name, number, "M" if male else "F", born, today, values)
        self._history(plan, max(adult, today - timedelta(days=16 * 365)))
        if plan.first_found < adult:
            plan.first_found = adult
        values["use_started_on"] = max(
            adult, plan.first_found - timedelta(days=rng.randint(30, 1500))
        )
        return plan

    # -- history
    def _measure(
        self,
        plan: Plan,
        kind: str,
        decision: date,
        report_in: date | None,
        term: int | None,
        ended: date | None,
        reason: str,
    ) -> int:
        start = report_in if kind in COMMUNITY_KINDS else decision
        anchor = report_in if kind in COMMUNITY_KINDS else start
        planned = add_months(anchor, term) if anchor and term else None
        plan.measures.append([kind, decision, report_in, start, term, planned, ended, reason])
        return len(plan.measures) - 1

    def _history(self, plan: Plan, earliest: date) -> None:
        rng, today = self.rng, self.today
        days = timedelta
        draw = rng.random()
        earliest = min(earliest, today - days(40))
        first_measure: date | None = None
        if draw < 0.24:  # under a community measure now
            rehab = rng.random() < 0.25
            report_in = today - days(rng.randint(5, 1090))
            decision = report_in - days(rng.randint(1, 14))
            if rng.random() < 0.03:  # decided, not yet reported in
                report_in, decision = None, today - days(rng.randint(3, 60))
            if rehab:
                iso_end = decision - days(rng.randint(0, 7))
                iso_start = add_months(iso_end, -24)
                self._measure(
                    plan, "compulsory_isolation", iso_start, None, 24, iso_end, "completed"
                )
                first_measure = iso_start
            kind = "community_rehab" if rehab else "community_detox"
            index = self._measure(plan, kind, decision, report_in, 36, None, "")
            first_measure = first_measure or decision
            lost = rng.random() < 0.07
            stop = today - days(rng.randint(61, 400)) if lost else today
            if report_in:
                self._follow_up(plan, index, report_in, stop, current=True)
            self._team(plan, report_in or decision)
        elif draw < 0.31:  # in compulsory isolation after a relapse or a new finding
            start = max(today - days(rng.randint(1, 700)), earliest)
            if rng.random() < 0.5 and start - earliest > days(400):
                report_in = start - days(rng.randint(200, 900))
                report_in = max(report_in, earliest + days(20))
                decision = report_in - days(rng.randint(1, 14))
                index = self._measure(plan, "community_detox", decision, report_in, 36, None, "")
                relapse = start - days(rng.randint(3, 20))
                self._follow_up(plan, index, report_in, relapse, current=False)
                plan.tests.append((relapse, "urine", "positive", index))
                plan.measures[index][6], plan.measures[index][7] = start, "relapsed"
                first_measure = decision
            self._measure(plan, "compulsory_isolation", start, None, 24, None, "")
            first_measure = first_measure or start
        elif draw < 0.34:  # in prison
            start = max(today - days(rng.randint(30, 1000)), earliest)
            term = rng.choice((24, 36, 48, 60))
            while add_months(start, term) <= today:
                term += 12
            self._measure(plan, "prison", start, None, term, None, "")
            first_measure = start
        elif draw < 0.37:  # methadone maintenance, open-ended
            start = max(today - days(rng.randint(100, 2500)), earliest)
            index = self._measure(plan, "methadone", start, None, None, None, "")
            self._spot_tests(plan, start, today, index)
            first_measure = start
        elif draw < 0.97:  # a measure ended: long ago (abstinent) or recently
            abstinent = draw < 0.69
            ended = today - days(rng.randint(1100, 3300) if abstinent else rng.randint(1, 1090))
            kind = "community_detox" if rng.random() < 0.7 else "compulsory_isolation"
            months = 36 if kind in COMMUNITY_KINDS else 24
            anchor = add_months(ended, -months)
            if anchor < earliest + days(20):
                anchor = earliest + days(20)
                ended = add_months(anchor, months)
            if ended >= today:
                ended = today - days(1)
            report_in = anchor if kind in COMMUNITY_KINDS else None
            decision = anchor - days(rng.randint(1, 14)) if report_in else anchor
            index = self._measure(plan, kind, decision, report_in, months, ended, "completed")
            if kind in COMMUNITY_KINDS:
                self._follow_up(plan, index, anchor, ended, current=False)
            self._spot_tests(plan, ended, today, -1)
            first_measure = decision
            if draw > 0.95:
                gone = ended + days(rng.randint(30, max(31, (today - ended).days - 1)))
                if gone < today:
                    plan.values["died_on" if draw > 0.96 else "moved_away_on"] = gone
        else:  # found recently, no measure yet (a first use, or under assessment)
            first_measure = today - days(rng.randint(10, 300))
            self._spot_tests(plan, first_measure, today, -1)
        plan.first_found = max(earliest, (first_measure or today) - days(rng.randint(0, 700)))
        if first_measure and plan.first_found > first_measure:
            plan.first_found = first_measure
        moved = plan.values["died_on"] or plan.values["moved_away_on"]
        if moved:
            plan.tests = [t for t in plan.tests if t[0] < moved]
            plan.visits = [v for v in plan.visits if v[0] < moved]
        if rng.random() < 0.005:
            plan.outflow = (
                rng.choice(("using", "trafficking")),
                today - days(rng.randint(10, 900)),
                rng.choice(PLACES_AWAY),
            )
        for test in plan.tests:
            if test[0] < plan.first_found:
                plan.first_found = test[0]

    def _follow_up(
        self, plan: Plan, index: int, anchor: date, stop: date, *, current: bool
    ) -> None:
        """Tests on the policy's schedule (mostly kept), talks, visits, summaries, absences."""
        rng, density = self.rng, self.density
        months = 0
        start = anchor
        while start < stop:
            year = min(months // 12, len(self.intervals) - 1)
            step = self.intervals[year]
            end = min(add_months(anchor, months + step), stop)
            span = max((end - start).days, 1)
            if rng.random() < min(0.97, 0.88 * density**0.3):
                day = start + timedelta(days=int(rng.random() * span))
                roll = rng.random()
                result = (
                    "evaded"
                    if roll < 0.025
                    else "refused"
                    if roll < 0.04
                    else "positive"
                    if roll < 0.045 and not current
                    else "negative"
                )
                method = "urine" if rng.random() < 0.9 else rng.choice(("hair", "blood", "saliva"))
                plan.tests.append((day, method, result, index))
            for _ in range(self._count(0.9 * step)):
                kind = rng.choice(("talk", "talk", "home_visit", "home_visit", "help"))
                help_kind = (
                    rng.choice(("job", "welfare", "training", "treatment"))
                    if kind == "help"
                    else ""
                )
                plan.visits.append(
                    (start + timedelta(days=int(rng.random() * span)), kind, help_kind, index)
                )
            if months % 6 == 0 and months and rng.random() < 0.9:
                plan.visits.append((start, "summary" if months % 12 else "assessment", "", index))
            months += step
            start = end
        if rng.random() < 0.3:
            left = anchor + timedelta(days=rng.randrange(max((stop - anchor).days, 1)))
            back = left + timedelta(days=rng.randint(3, 20))
            plan.absences.append((left, back if back < self.today else None, True, index))
        if rng.random() < 0.05:
            left = anchor + timedelta(days=rng.randrange(max((stop - anchor).days, 1)))
            absconded = current and rng.random() < 0.3
            back = None if absconded else left + timedelta(days=rng.randint(2, 40))
            if back and back >= self.today:
                back = None
            plan.absences.append((left, back, False, index))

    def _count(self, mean: float) -> int:
        """A Poisson-like count with the given mean, scaled by the density."""
        mean *= self.density
        whole = int(mean)
        return whole + (self.rng.random() < mean - whole)

    def _spot_tests(self, plan: Plan, start: date, stop: date, index: int) -> None:
        """Occasional tests outside a community measure (police checks, treatment clinics)."""
        years = max((stop - start).days, 0) / 365
        for _ in range(self._count(0.7 * years)):
            day = start + timedelta(days=self.rng.randrange(max((stop - start).days, 1)))
            plan.tests.append((day, "urine", "negative", index))

    def _team(self, plan: Plan, joined: date) -> None:
        rng = self.rng
        roles = ["township_cadre", "community_police", "community_doctor", "family_member"]
        if rng.random() < 0.12:  # help teams that exist on paper only
            roles.remove(rng.choice(roles))
        roles += [
            r
            for r, p in (("social_worker", 0.6), ("volunteer", 0.2), ("employer", 0.1))
            if rng.random() < p
        ]
        for role in roles:
            person = rng.choice(names.SURNAMES) + rng.choice(names.GIVEN)
            plan.team.append((role, person, joined, None))
