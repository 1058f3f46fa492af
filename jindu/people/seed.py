"""Synthetic registers: a province for benchmarks (``jindu seed``), a county for the demo.

People come from ``jindu.people.synthetic``'s generator, spread over the
villages and grids of a territory (an existing county, or a synthetic province
built here in bulk). They are written through ``jindu.people.bulk`` with the
dated facts computed on the way, batch by batch; on SQLite the inserts of one
batch run while the next is drawn. A million people and twenty million events
take minutes, not days.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TextIO

from django.db import transaction

from jindu.core import crypto
from jindu.core.memory import collector_paused
from jindu.demo import names
from jindu.people import tallies
from jindu.people.bulk import FACT_FIELDS, BulkWriter, MeasureDates, person_facts
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
from jindu.people.synthetic import PLACES_AWAY, SUMMARIES, Generator, Place, Plan

# ------------------------------------------------------------------ territory


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

# ------------------------------------------------------------------ writing people

PERSON_FIELDS = (
    "id", "org_unit_id", "org_path", "name", "sex", "birth_date", "id_number", "id_index",
    "ethnicity", "household_address", "household_local", "current_address", "phone",
    "first_found_on", "drug_types", "how_found", "occupation", "employment",
    "has_driving_licence", "sick_or_disabled", "poverty_by_drugs", "key_person",
    "key_person_reason", "family_support", "use_started_on", "died_on", "moved_away_on",
    *FACT_FIELDS,
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


def _seal(rows: list[tuple], column: int) -> list[tuple]:
    """Encrypt one column of many rows in a single batch."""
    sealed = crypto.encrypt_many([row[column] for row in rows])
    return [
        (*row[:column], value, *row[column + 1 :]) for row, value in zip(rows, sealed, strict=True)
    ]


def write_plans(
    writer: BulkWriter,
    plans: list[Plan],
    *,
    put: Callable[..., Any] | None = None,
    users: Callable[[Plan, str], Any] | None = None,
    ids: list[int] | None = None,
) -> Counts:
    """Write a batch of planned people with all their rows; facts computed on the way.

    ``put`` takes the inserts (a pipeline's); by default they run in line. The new
    people's ids are added to ``ids`` when given (for their tallies).
    """
    put = put or writer.insert
    stamp = writer.stamp
    person_ids = writer.reserve_ids(Person, len(plans))
    if ids is not None:
        ids.extend(person_ids)
    measure_ids = iter(writer.reserve_ids(Measure, sum(len(p.measures) for p in plans)))
    people, measures, tests, visits, absences, team, resp, transfers, outflows = (
        [] for _ in range(9)
    )
    for pid, plan in zip(person_ids, plans, strict=True):
        place, values, old = plan.place, plan.values, plan.transfer
        unit, path = place.id, place.path
        mids = [next(measure_ids) for _m in plan.measures]
        counters = [[0, 0] for _m in plan.measures]
        last_met = last_pos = last_visit = None
        # Dated rows keep the unit where they happened: before a transfer, the old one.
        for day, method, result, index in plan.tests:
            where = old[0] if old and day < old[1] else place
            tests.append((pid, mids[index] if index >= 0 else None, where.id, where.path,
                          day.isoformat(), method, result, stamp(day)))  # fmt: skip
            if result != "evaded" and (last_met is None or day > last_met):
                last_met = day
            if result == "positive" and (last_pos is None or day > last_pos):
                last_pos = day
            if index >= 0 and result in ("evaded", "refused"):
                counters[index][result == "refused"] += 1
        for day, kind, help_kind, index in plan.visits:
            where = old[0] if old and day < old[1] else place
            visits.append((pid, mids[index] if index >= 0 else None, where.id, where.path, kind,
                           day.isoformat(), help_kind, SUMMARIES[day.toordinal() % 5], stamp(day)))  # fmt: skip
            if last_visit is None or day > last_visit:
                last_visit = day
        for left, back, authorised, index in plan.absences:
            where = old[0] if old and left < old[1] else place
            absences.append((pid, mids[index], where.id, where.path, left.isoformat(), _iso(back),
                             authorised, PLACES_AWAY[left.toordinal() % 5], stamp(left)))  # fmt: skip
        latest = None
        for mid, m, (evaded, refused) in zip(mids, plan.measures, counters, strict=True):
            kind, decision, report_in, start, term, planned, ended, reason = m
            # A running measure moves with the person; an ended one stays where it ran.
            where = old[0] if old and ended is not None and ended < old[1] else place
            measures.append((mid, pid, where.id, where.path, kind, decision.isoformat(),
                             _iso(report_in), _iso(start), term, _iso(planned), _iso(ended), reason,
                             evaded, refused, stamp(decision)))  # fmt: skip
            latest = MeasureDates(kind, decision, report_in, start, planned, ended)
        facts = person_facts(
            first_found_on=plan.first_found, latest=latest, last_met=last_met,
            last_visit=last_visit, last_positive=last_pos,
        )  # fmt: skip
        for role, member, joined, left in plan.team:
            team.append((pid, unit, path, role, users(plan, role) if users else None, member,
                         f"1{joined.toordinal() % 9 + 30}{pid % 100000000:08d}",
                         joined.isoformat(), _iso(left)))  # fmt: skip
        found = plan.first_found.isoformat()
        if old:
            moved = old[1].isoformat()
            resp.append((pid, old[0].id, old[0].path, found, moved))
            resp.append((pid, unit, path, moved, None))
            transfers.append(
                (pid, old[0].id, unit, old[0].path, path, moved, "迁居", stamp(old[1]))
            )
        else:
            resp.append((pid, unit, path, found, None))
        if plan.outflow:
            o_kind, o_day, o_place = plan.outflow
            outflows.append((pid, unit, path, plan.name, o_kind, o_day.isoformat(), o_place,
                             stamp(o_day)))  # fmt: skip
        people.append((
            pid, unit, path, plan.name, plan.sex, plan.birth.isoformat(), plan.id_number,
            plan.id_number, values["ethnicity"], values["household_address"],
            values["household_local"], values["current_address"], values["phone"], found,
            json.dumps(values["drug_types"]), values["how_found"], values["occupation"],
            values["employment"], values["has_driving_licence"], values["sick_or_disabled"],
            values["poverty_by_drugs"], values["key_person"], values.get("key_person_reason", ""),
            values["family_support"], _iso(values["use_started_on"]), _iso(values["died_on"]),
            _iso(values["moved_away_on"]), facts[0], *map(_iso, facts[1:]),
        ))  # fmt: skip
    indexes = crypto.blind_index_many([p.id_number for p in plans], "person-id")
    people = [(*row[:7], index, *row[8:]) for row, index in zip(people, indexes, strict=True)]
    for column in (6, 9, 11, 12):  # ID number, addresses, phone
        people = _seal(people, column)
    put(Person, PERSON_FIELDS, people)
    put(Responsibility, RESP_FIELDS, resp)
    put(Measure, MEASURE_FIELDS, measures)
    put(DrugTest, TEST_FIELDS, _seal(tests, 6))
    put(Visit, VISIT_FIELDS, _seal(visits, 7))
    put(Absence, ABSENCE_FIELDS, _seal(absences, 7))
    put(TeamMember, TEAM_FIELDS, _seal(team, 6))
    put(Transfer, TRANSFER_FIELDS, transfers)
    put(Outflow, OUTFLOW_FIELDS, outflows)
    return Counts(len(people), len(measures), len(tests), len(visits), len(absences), len(team),
                  len(transfers), len(outflows))  # fmt: skip


# ------------------------------------------------------------------ the register


def _existing_indexes() -> set[bytes]:
    return set(Person.objects.values_list("id_index", flat=True))


def _spread(rng: random.Random, persons: int, places: Sequence[Place]) -> list[int]:
    """How many people each place gets: uneven, as villages are, summing to ``persons``."""
    weights = [0.3 + rng.random() for _ in places]
    total = sum(weights)
    counts = [int(persons * w / total) for w in weights]
    short = persons - sum(counts)
    for i in rng.sample(range(len(places)), short) if short > 0 else ():
        counts[i] += 1
    return counts


def generate_register(
    *,
    places: Sequence[Place],
    persons: int,
    events: int | None,
    seed: int,
    today: date,
    log: TextIO = sys.stderr,
    batch: int = 5000,
    per_transaction: int = 50_000,
    transfer_share: float = 0.02,
    users: Callable[[Plan, str], Any] | None = None,
    first_index: int = 0,
) -> Counts:
    """Generate and write ``persons`` people spread over ``places`` (in place order).

    People are drawn and written ``batch`` at a time, committed every
    ``per_transaction`` (savepoints inside a caller's transaction), so that a
    province's register never sits in memory at once.
    """
    from jindu.people.models import FollowUpPolicy

    if not places:
        raise ValueError("no villages or grids to register people in")
    rng = random.Random(f"jindu-seed:{seed}")
    gen = Generator(rng, today, FollowUpPolicy.current().test_intervals or (1, 2, 3))
    if events is not None and persons:
        gen.density = _calibrate(seed, today, places, persons, events, gen.intervals)
    taken = _existing_indexes()
    by_township: dict[int, list[Place]] = {}
    for place in places:
        by_township.setdefault(place.township_id, []).append(place)
    townships = list(by_township)
    next_index = first_index

    def draw(place: Place) -> Plan:
        nonlocal next_index
        while True:
            plan = gen.person(place, next_index)
            next_index += 1
            if not taken or crypto.blind_index(plan.id_number, "person-id") not in taken:
                break
        settled = not (plan.values["died_on"] or plan.values["moved_away_on"])
        old_enough = plan.first_found < today - timedelta(days=60)
        if len(townships) > 1 and settled and old_enough and rng.random() < transfer_share:
            other = rng.choice(townships)
            if other != place.township_id:
                span = (today - plan.first_found).days - 30
                day = plan.first_found + timedelta(days=int(rng.random() * span))
                plan.transfer = (rng.choice(by_township[other]), day)
        return plan

    order = [
        place
        for place, n in zip(places, _spread(rng, persons, places), strict=True)
        for _ in range(n)
    ]
    writer = BulkWriter()
    counts = Counts()
    started = time.perf_counter()
    for tx_start in range(0, len(order), per_transaction):
        # The cycle collector would walk every batch's plans and rows over and over.
        with transaction.atomic(), collector_paused():
            writer.forget_ids()
            written: list[int] = []
            with writer.pipeline() as put:
                stop = min(tx_start + per_transaction, len(order))
                for start in range(tx_start, stop, batch):
                    plans = [draw(place) for place in order[start : min(start + batch, stop)]]
                    counts.add(write_plans(writer, plans, put=put, users=users, ids=written))
            # Counted in the large units' tallies in the same transaction as written.
            tallies.refresh(written)
        elapsed = time.perf_counter() - started
        log.write(
            f"  人员 {counts.persons:,}/{persons:,}，事件 {counts.events:,}，"
            f"共写入 {writer.rows:,} 行，{writer.rows / max(elapsed, 1e-6):,.0f} 行/秒\n"
        )
        log.flush()
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
