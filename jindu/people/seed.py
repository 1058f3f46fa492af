"""Synthetic registers: a province for benchmarks (``jindu seed``), a county for the demo.

People are drawn with their histories from one seeded generator: measures with
report-ins, tests that mostly follow the policy's schedule, talks and visits,
absences, relapses, "4+X" help teams (some incomplete), transfers between
townships, people lost from control and people abstinent for years. They are
written through ``jindu.people.bulk`` with the dated facts computed on the way,
so a million people and twenty million events take minutes, not days.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TextIO

from django.db import transaction

from jindu.core import crypto
from jindu.demo import names
from jindu.people.bulk import COMMUNITY, BulkWriter, MeasureDates, person_facts
from jindu.people.dates import add_months, add_years
from jindu.people.idnumber import check_char

# ------------------------------------------------------------------ territory


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


def places_in(root_path: str) -> list[Place]:
    """The active villages and grids under a unit, in path order."""
    from jindu.orgs.models import OrgUnit

    units = list(
        OrgUnit.objects.within(root_path)
        .filter(active=True)
        .only("id", "name", "level", "path", "parent_id", "division_code")
        .order_by("path")
    )
    by_id = {u.pk: u for u in units}
    places = []
    for unit in units:
        if unit.level not in ("village", "grid"):
            continue
        chain = [by_id[i] for i in unit.ancestor_ids() if i in by_id]
        township = next((u for u in chain if u.level == "township"), None)
        county = next((u for u in chain if u.level == "county"), None)
        if township is None or county is None:
            continue
        village = next(u for u in reversed(chain) if u.level == "village")
        places.append(
            Place(
                unit.pk,
                unit.path,
                unit.name,
                township.pk,
                county.division_code or "621199000000",
                f"{county.name}{township.name}{village.name}",
            )
        )
    return places


def _syllable_names(rng: random.Random, count: int, suffix: str) -> list[str]:
    first = names.VILLAGE_FIRST
    middle = names.VILLAGE_MIDDLE
    last = names.VILLAGE_LAST
    pool = [f + m + la for f in first for m in middle for la in last]
    picked = [pool[rng.randrange(len(pool))] + suffix for _ in range(count)]
    return picked


@dataclass
class ProvincePlan:
    counties: int
    townships_per_county: int = 12
    villages_per_township: int = 12
    grids_per_village: int = 2

    @property
    def cities(self) -> int:
        return math.ceil(self.counties / 9)


def build_province(
    writer: BulkWriter, *, persons: int, rng: random.Random, code: str = "63"
) -> tuple[Any, list[Place]]:
    """A synthetic province sized for ``persons`` people (about 8,000 per county).

    Returns the root unit and its places. Written in bulk: a province has tens
    of thousands of units, too many for one service call each.
    """
    from jindu.orgs.models import OrgUnit

    plan = ProvincePlan(counties=max(1, math.ceil(persons / 8000)))
    rows: list[tuple] = []
    total = (
        1
        + plan.cities
        + plan.counties
        * (
            1
            + plan.townships_per_county
            * (1 + plan.villages_per_township * (1 + plan.grids_per_village))
        )
    )
    ids = iter(writer.reserve_ids(OrgUnit, total))

    def add(name: str, level: str, code: str | None, parent: tuple[int, str] | None, order: int):
        pk = next(ids)
        path = f"{parent[1] if parent else '/'}{pk}/"
        depth = path.count("/") - 2
        rows.append((pk, name, level, code, parent[0] if parent else None, path, depth, order))
        return pk, path

    province = add("合成省（基准测试）", "province", f"{code}0000000000", None, 0)
    county_names = _syllable_names(rng, plan.counties, "县")
    county_index = 0
    for c in range(plan.cities):
        city = add(f"合成第{c + 1}市", "city", f"{code}{c + 1:02d}00000000", province, c)
        for k in range(min(9, plan.counties - county_index)):
            county_code = f"{code}{c + 1:02d}{k + 21:02d}"
            county = add(county_names[county_index], "county", county_code + "000000", city, k)
            county_index += 1
            for t in range(plan.townships_per_county):
                township = add(
                    f"{county_names[county_index - 1][:-1]}{t + 1}镇",
                    "township",
                    f"{county_code}{100 + t:03d}000",
                    county,
                    t,
                )
                village_names = _syllable_names(rng, plan.villages_per_township, "村")
                for v in range(plan.villages_per_township):
                    village = add(
                        village_names[v],
                        "village",
                        f"{county_code}{100 + t:03d}{200 + v:03d}",
                        township,
                        v,
                    )
                    for g in range(plan.grids_per_village):
                        add(
                            f"{village_names[v]}第{names.GRID_ORDINALS[g]}网格",
                            "grid",
                            None,
                            village,
                            g,
                        )
    fields = ("id", "name", "level", "division_code", "parent_id", "path", "depth", "sort_order")
    for start in range(0, len(rows), 20000):
        writer.insert(OrgUnit, fields, rows[start : start + 20000])
    root = OrgUnit.objects.get(pk=province[0])
    return root, places_in(root.path)


# ------------------------------------------------------------------ people

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
        self._block = 0

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
        adult = add_years(born, 16)
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
        start = report_in if kind in COMMUNITY else decision
        anchor = report_in if kind in COMMUNITY else start
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
            months = 36 if kind in COMMUNITY else 24
            anchor = add_months(ended, -months)
            if anchor < earliest + days(20):
                anchor = earliest + days(20)
                ended = add_months(anchor, months)
            if ended >= today:
                ended = today - days(1)
            report_in = anchor if kind in COMMUNITY else None
            decision = anchor - days(rng.randint(1, 14)) if report_in else anchor
            index = self._measure(plan, kind, decision, report_in, months, ended, "completed")
            if kind in COMMUNITY:
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
                day = start + timedelta(days=rng.randrange(span))
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
                    (start + timedelta(days=rng.randrange(span)), kind, help_kind, index)
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


# ------------------------------------------------------------------ writing people

PERSON_FIELDS = (
    "id", "org_unit_id", "org_path", "name", "sex", "birth_date", "id_number", "id_index",
    "ethnicity", "household_address", "household_local", "current_address", "phone",
    "first_found_on", "drug_types", "how_found", "occupation", "employment",
    "has_driving_licence", "sick_or_disabled", "poverty_by_drugs", "key_person",
    "key_person_reason", "family_support", "use_started_on", "died_on", "moved_away_on",
    "measure_kind", "measure_anchor", "measure_until", "last_contact_on", "clean_since",
)  # fmt: skip
MEASURE_FIELDS = (
    "id", "person_id", "org_unit_id", "org_path", "kind", "decision_date", "report_in_date",
    "start_date", "term_months", "planned_end", "ended_on", "end_reason", "evaded_count",
    "refused_count", "created_at",
)  # fmt: skip
TEST_FIELDS = ("person_id", "measure_id", "org_unit_id", "org_path", "tested_on", "method",
               "result", "created_at")  # fmt: skip
VISIT_FIELDS = ("person_id", "measure_id", "org_unit_id", "org_path", "kind", "visited_on",
                "help_kind", "summary", "created_at")  # fmt: skip
ABSENCE_FIELDS = ("person_id", "measure_id", "org_unit_id", "org_path", "left_on", "returned_on",
                  "authorised", "destination", "created_at")  # fmt: skip
TEAM_FIELDS = ("person_id", "org_unit_id", "org_path", "role", "user_id", "name", "phone",
               "joined_on", "left_on")  # fmt: skip
RESP_FIELDS = ("person_id", "org_unit_id", "org_path", "valid_from", "valid_to")
TRANSFER_FIELDS = ("person_id", "from_unit_id", "to_unit_id", "from_path", "to_path",
                   "transferred_on", "reason", "created_at")  # fmt: skip
OUTFLOW_FIELDS = ("person_id", "org_unit_id", "org_path", "name", "kind", "caught_on", "place",
                  "created_at")  # fmt: skip


@dataclass
class Counts:
    persons: int = 0
    measures: int = 0
    tests: int = 0
    visits: int = 0
    absences: int = 0
    team: int = 0
    transfers: int = 0
    outflows: int = 0

    @property
    def events(self) -> int:
        return self.tests + self.visits + self.absences

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def write_plans(
    writer: BulkWriter, plans: list[Plan], *, users: Callable[[Plan, str], Any] | None = None
) -> Counts:
    """Write a batch of planned people with all their rows; facts computed on the way."""
    from jindu.people.models import (
        Absence,
        DrugTest,
        Measure,
        Outflow,
        Person,
        Responsibility,
        TeamMember,
        Transfer,
        Visit,
    )

    encrypt, stamp = crypto.encrypt, writer.stamp
    person_ids = writer.reserve_ids(Person, len(plans))
    measure_ids = iter(writer.reserve_ids(Measure, sum(len(p.measures) for p in plans)))
    people, measures, tests, visits, absences, team, resp, transfers, outflows = (
        [] for _ in range(9)
    )
    evaded_result = "evaded"
    for pid, plan in zip(person_ids, plans, strict=True):
        place, values = plan.place, plan.values
        unit, path = place.id, place.path
        old = plan.transfer
        mids = [next(measure_ids) for _m in plan.measures]
        counters = [[0, 0] for _m in plan.measures]
        last_met = last_pos = None
        for day, method, result, index in plan.tests:
            where = old[0] if old and day < old[1] else place
            tests.append(
                (
                    pid,
                    mids[index] if index >= 0 else None,
                    where.id,
                    where.path,
                    day.isoformat(),
                    method,
                    encrypt(result),
                    stamp(day),
                )
            )
            if result != evaded_result and (last_met is None or day > last_met):
                last_met = day
            if result == "positive" and (last_pos is None or day > last_pos):
                last_pos = day
            if index >= 0 and result in ("evaded", "refused"):
                counters[index][result == "refused"] += 1
        last_visit = None
        for day, kind, help_kind, index in plan.visits:
            where = old[0] if old and day < old[1] else place
            visits.append(
                (
                    pid,
                    mids[index] if index >= 0 else None,
                    where.id,
                    where.path,
                    kind,
                    day.isoformat(),
                    help_kind,
                    encrypt(SUMMARIES[day.toordinal() % 5]),
                    stamp(day),
                )
            )
            if last_visit is None or day > last_visit:
                last_visit = day
        for left, back, authorised, index in plan.absences:
            where = old[0] if old and left < old[1] else place
            absences.append(
                (
                    pid,
                    mids[index],
                    where.id,
                    where.path,
                    left.isoformat(),
                    _iso(back),
                    authorised,
                    encrypt(PLACES_AWAY[left.toordinal() % 5]),
                    stamp(left),
                )
            )
        latest = None
        for mid, m, (evaded, refused) in zip(mids, plan.measures, counters, strict=True):
            kind, decision, report_in, start, term, planned, ended, reason = m
            running = ended is None
            where = old[0] if old and not running and ended < old[1] else place
            measures.append(
                (
                    mid,
                    pid,
                    where.id,
                    where.path,
                    kind,
                    decision.isoformat(),
                    _iso(report_in),
                    _iso(start),
                    term,
                    _iso(planned),
                    _iso(ended),
                    reason,
                    evaded,
                    refused,
                    stamp(decision),
                )
            )
            latest = MeasureDates(kind, decision, report_in, start, planned, ended)
        kind, anchor, until, contact, clean = person_facts(
            first_found_on=plan.first_found,
            latest=latest,
            last_met=last_met,
            last_visit=last_visit,
            last_positive=last_pos,
        )
        for role, member, joined, left in plan.team:
            user = users(plan, role) if users else None
            team.append(
                (
                    pid,
                    unit,
                    path,
                    role,
                    user,
                    member,
                    encrypt(f"1{joined.toordinal() % 9 + 30}{pid % 100000000:08d}"),
                    joined.isoformat(),
                    _iso(left),
                )
            )
        if old:
            resp.append(
                (pid, old[0].id, old[0].path, plan.first_found.isoformat(), old[1].isoformat())
            )
            resp.append((pid, unit, path, old[1].isoformat(), None))
            transfers.append(
                (pid, old[0].id, unit, old[0].path, path, old[1].isoformat(), "迁居", stamp(old[1]))
            )
        else:
            resp.append((pid, unit, path, plan.first_found.isoformat(), None))
        if plan.outflow:
            o_kind, o_day, o_place = plan.outflow
            outflows.append(
                (pid, unit, path, plan.name, o_kind, o_day.isoformat(), o_place, stamp(o_day))
            )
        people.append((
            pid, unit, path, plan.name, plan.sex, plan.birth.isoformat(),
            encrypt(plan.id_number), crypto.blind_index(plan.id_number, "person-id"),
            values["ethnicity"], encrypt(values["household_address"]), values["household_local"],
            encrypt(values["current_address"]), encrypt(values["phone"]),
            plan.first_found.isoformat(), json.dumps(values["drug_types"]), values["how_found"],
            values["occupation"], values["employment"], values["has_driving_licence"],
            values["sick_or_disabled"], values["poverty_by_drugs"], values["key_person"],
            values.get("key_person_reason", ""), values["family_support"],
            _iso(values["use_started_on"]), _iso(values["died_on"]), _iso(values["moved_away_on"]),
            kind, _iso(anchor), _iso(until), _iso(contact), _iso(clean),
        ))  # fmt: skip
    writer.insert(Person, PERSON_FIELDS, people)
    writer.insert(Responsibility, RESP_FIELDS, resp)
    writer.insert(Measure, MEASURE_FIELDS, measures)
    writer.insert(DrugTest, TEST_FIELDS, tests)
    writer.insert(Visit, VISIT_FIELDS, visits)
    writer.insert(Absence, ABSENCE_FIELDS, absences)
    writer.insert(TeamMember, TEAM_FIELDS, team)
    writer.insert(Transfer, TRANSFER_FIELDS, transfers)
    writer.insert(Outflow, OUTFLOW_FIELDS, outflows)
    return Counts(len(people), len(measures), len(tests), len(visits), len(absences), len(team),
                  len(transfers), len(outflows))  # fmt: skip


# ------------------------------------------------------------------ the register


def _existing_indexes() -> set[str]:
    from jindu.people.models import Person

    return set(Person.objects.values_list("id_index", flat=True))


def generate_register(
    *,
    places: Sequence[Place],
    persons: int,
    events: int | None,
    seed: int,
    today: date,
    log: TextIO = sys.stderr,
    batch: int = 5000,
    transfer_share: float = 0.02,
    users: Callable[[Plan, str], Any] | None = None,
    first_index: int = 0,
) -> Counts:
    """Generate and write ``persons`` people spread over ``places`` (in place order).

    Each batch is written in its own transaction (a savepoint inside a caller's
    transaction), so a province's register never sits in memory at once.
    """
    from jindu.people.models import FollowUpPolicy

    if not places:
        raise ValueError("no villages or grids to register people in")
    rng = random.Random(f"jindu-seed:{seed}")
    gen = Generator(rng, today, FollowUpPolicy.current().test_intervals or (1, 2, 3))
    if events is not None and persons:
        gen.density = _calibrate(seed, today, places, persons, events, gen.intervals)
    taken = _existing_indexes()
    weights = [0.3 + rng.random() for _ in places]
    total_weight = sum(weights)
    per_place = [int(persons * w / total_weight) for w in weights]
    for i in (
        rng.sample(range(len(places)), persons - sum(per_place)) if persons > sum(per_place) else ()
    ):
        per_place[i] += 1
    by_township: dict[int, list[Place]] = {}
    for place in places:
        by_township.setdefault(place.township_id, []).append(place)
    townships = list(by_township)
    writer = BulkWriter()
    counts = Counts()
    started = time.perf_counter()
    index = first_index
    plans: list[Plan] = []

    def flush() -> None:
        with transaction.atomic():
            counts.add(write_plans(writer, plans, users=users))
        plans.clear()
        elapsed = time.perf_counter() - started
        log.write(
            f"  人员 {counts.persons:,}/{persons:,}，事件 {counts.events:,}，"
            f"共写入 {writer.rows:,} 行，{writer.rows / max(elapsed, 1e-6):,.0f} 行/秒\n"
        )
        log.flush()

    for place, count in zip(places, per_place, strict=True):
        for _ in range(count):
            plan = gen.person(place, index)
            index += 1
            while crypto.blind_index(plan.id_number, "person-id") in taken:
                plan = gen.person(place, index)
                index += 1
            settled = not (plan.values["died_on"] or plan.values["moved_away_on"])
            old_enough = plan.first_found < today - timedelta(days=60)
            if len(townships) > 1 and settled and old_enough and rng.random() < transfer_share:
                other = rng.choice(townships)
                if other != place.township_id:
                    day = plan.first_found + timedelta(
                        days=rng.randrange((today - plan.first_found).days - 30)
                    )
                    plan.transfer = (rng.choice(by_township[other]), day)
            plans.append(plan)
            if len(plans) >= batch:
                flush()
    if plans:
        flush()
    return counts


def _calibrate(
    seed: int,
    today: date,
    places: Sequence[Place],
    persons: int,
    events: int,
    intervals: Sequence[int],
) -> float:
    """The density at which a sample of people has the events per person asked for."""
    target = events / persons
    density = 1.0
    for _round in range(3):
        gen = Generator(random.Random(f"jindu-calibrate:{seed}"), today, intervals)
        gen.density = density
        sample = [gen.person(places[i % len(places)], i) for i in range(1500)]
        mean = sum(len(p.tests) + len(p.visits) + len(p.absences) for p in sample) / len(sample)
        if mean <= 0:
            break
        density *= target / mean
        density = min(max(density, 0.05), 20.0)
    return density
