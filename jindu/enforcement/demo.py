"""The demo county's enforcement records, from 2017 to today.

The year 2018 carries the speech's figures exactly (破案7起，公诉犯罪嫌疑人9名，
缴获海洛因113.3克、冰毒97.9克；查处吸毒人员16人次，其中滥用合成毒品4人次):
its cases, suspects and seizures are written out below, dated in 2018, with a
case filed in 2017 and solved in January, a suspect referred in the next year,
a case filed in December and solved in the next year, and a theft caused by a
drug user (recorded, but no drug case) to show where the year's edges fall.
Every other year is drawn from the step's own random generator, so that
year-on-year comparisons have something to compare. Everything is written
through the services, as the office would enter it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jindu.demo import names
from jindu.demo.steps import DemoContext
from jindu.enforcement import caught, services
from jindu.people.idnumber import check_char

SPEECH_YEAR = 2018
FIRST_YEAR = 2017


@dataclass
class SuspectPlan:
    caught_on: date
    prosecuted_on: date | None = None
    birth: date | None = None
    local: bool = True


@dataclass
class CasePlan:
    offence: str
    filed_on: date
    solved_on: date | None
    suspects: list[SuspectPlan] = field(default_factory=list)
    # (drug type, grams, day)
    seizures: list[tuple[str, str, date]] = field(default_factory=list)
    street_dealing: bool = False
    gang: bool = False
    synthetic_drug: bool = False
    caused_kind: str = ""
    asset: tuple[str, str] | None = None


def d(text: str) -> date:
    return date.fromisoformat(text)


# The speech's year. Solved in 2018: cases 1–7 (case 1 was filed in 2017; case 8,
# filed in December, is solved in 2019; the theft is no drug case). Referred for
# prosecution in 2018: 2+1+3+1+1+0+1 = 9 (case 6's suspect and case 7's second
# go in 2019; the theft's suspect is no drug suspect). Heroin 38.2+12.5+52.6+10.0
# = 113.3 g, methamphetamine 61.4+25.0+11.5 = 97.9 g.
YEAR_2018 = [
    CasePlan("trafficking", d("2017-12-06"), d("2018-01-15"),
             [SuspectPlan(d("2018-01-15"), d("2018-02-26")),
              SuspectPlan(d("2018-01-15"), d("2018-02-26"), local=False)],
             [("heroin", "38.2", d("2018-01-15"))], asset=("cash", "12600.00")),
    CasePlan("street_dealing", d("2018-03-02"), d("2018-03-20"),
             [SuspectPlan(d("2018-03-20"), d("2018-05-08"))],
             [("heroin", "12.5", d("2018-03-20"))], street_dealing=True),
    CasePlan("trafficking", d("2018-04-11"), d("2018-05-03"),
             [SuspectPlan(d("2018-05-03"), d("2018-06-15")),
              SuspectPlan(d("2018-05-03"), d("2018-06-15"), local=False),
              SuspectPlan(d("2018-05-04"), d("2018-06-15"))],
             [("methamphetamine", "61.4", d("2018-05-03")), ("heroin", "52.6", d("2018-05-03"))],
             gang=True, synthetic_drug=True, asset=("vehicle", "45000.00")),
    CasePlan("street_dealing", d("2018-06-26"), d("2018-07-09"),
             [SuspectPlan(d("2018-07-09"), d("2018-08-20"))],
             [("methamphetamine", "25.0", d("2018-07-09"))], street_dealing=True,
             synthetic_drug=True),
    CasePlan("harbouring", d("2018-08-14"), d("2018-08-30"),
             [SuspectPlan(d("2018-08-30"), d("2018-10-12"))]),
    CasePlan("possession", d("2018-09-18"), d("2018-10-05"),
             [SuspectPlan(d("2018-10-05"), d("2019-01-08"))],
             [("methamphetamine", "11.5", d("2018-10-05"))], synthetic_drug=True),
    CasePlan("street_dealing", d("2018-11-07"), d("2018-11-26"),
             [SuspectPlan(d("2018-11-26"), d("2018-12-21")),
              SuspectPlan(d("2018-11-27"), d("2019-01-16"))],
             [("heroin", "10.0", d("2018-11-26"))], street_dealing=True),
    CasePlan("trafficking", d("2018-12-10"), d("2019-02-20"),
             [SuspectPlan(d("2019-02-20"), d("2019-04-02"))],
             [("ketamine", "3.2", d("2019-02-20"))], synthetic_drug=True),
    CasePlan("theft", d("2018-07-20"), d("2018-08-02"),
             [SuspectPlan(d("2018-08-02"), d("2018-09-10"))], caused_kind="criminal"),
]  # fmt: skip
# Users caught in 2018: 16 occasions, 4 of them on synthetic drugs.
CAUGHT_2018 = [
    ("2018-01-22", "heroin"), ("2018-02-13", "heroin"), ("2018-03-20", "heroin"),
    ("2018-04-05", "methamphetamine"), ("2018-04-28", "heroin"), ("2018-05-16", "heroin"),
    ("2018-06-08", "heroin"), ("2018-06-26", "methamphetamine"), ("2018-07-14", "heroin"),
    ("2018-08-09", "heroin"), ("2018-08-30", "ketamine"), ("2018-09-21", "heroin"),
    ("2018-10-17", "heroin"), ("2018-11-03", "methamphetamine"), ("2018-11-26", "heroin"),
    ("2018-12-12", "heroin"),
]  # fmt: skip
OUTCOMES = ["detention", "community_detox", "compulsory_isolation", "detention", "other"]
SYNTHETIC = ("methamphetamine", "ketamine", "meth_tablet", "mdma")


class Writer:
    """Writes the plans through the services, drawing names, ID numbers and places."""

    def __init__(self, ctx: DemoContext, rng: random.Random) -> None:
        self.ctx = ctx
        self.rng = rng
        self.actor = ctx.users["office"]
        self.police = ctx.departments["公安局"]
        self.region = ctx.county.division_code[:6]
        self.places = ctx.villages or ctx.townships
        self.numbers: dict[int, int] = {}
        self.sequence = 0
        self.registered = self._registered()

    def _registered(self) -> list[Any]:
        from jindu.people.models import Person

        return list(
            Person.objects.filter(org_path__startswith=self.ctx.county.path)
            .exclude(first_found_on__isnull=True)
            .select_related("org_unit__parent")
            .order_by("pk")[:400]
        )

    def name(self) -> str:
        return self.rng.choice(names.SURNAMES) + self.rng.choice(names.GIVEN)

    def id_number(self, birth: date) -> str:
        self.sequence += 1
        first17 = f"{self.region}{birth:%Y%m%d}{(self.sequence * 7) % 1000:03d}"
        return first17 + check_char(first17)

    def adult_birth(self, on: date) -> date:
        return on - timedelta(days=self.rng.randint(19 * 365, 52 * 365))

    def case_number(self, year: int) -> str:
        self.numbers[year] = self.numbers.get(year, 0) + 1
        return f"禁立〔{year}〕{self.numbers[year]:03d}号"

    def place(self) -> Any:
        return self.rng.choice(self.places)

    def case(self, plan: CasePlan) -> None:
        case = services.create_case(
            actor=self.actor,
            number=self.case_number(plan.filed_on.year),
            offence=plan.offence,
            occurred_on=plan.filed_on - timedelta(days=self.rng.randint(0, 3)),
            filed_on=plan.filed_on,
            solved_on=plan.solved_on,
            org_unit=self.place(),
            department=self.police,
            street_dealing=plan.street_dealing,
            gang=plan.gang,
            synthetic_drug=plan.synthetic_drug,
            caused_by_user=bool(plan.caused_kind),
            caused_kind=plan.caused_kind,
        )
        for s in plan.suspects:
            birth = s.birth or self.adult_birth(s.caught_on)
            services.add_suspect(
                actor=self.actor,
                case=case,
                name=self.name(),
                id_number=self.id_number(birth),
                household="local" if s.local else "non_local",
                caught_on=s.caught_on,
                prosecuted_on=s.prosecuted_on,
            )
        for drug, grams, day in plan.seizures:
            services.record_seizure(
                actor=self.actor, case=case, seized_on=day, drug_type=drug, weight_g=grams
            )
        if plan.asset is not None:
            kind, amount = plan.asset
            services.record_asset(
                actor=self.actor,
                case=case,
                confiscated_on=plan.solved_on or plan.filed_on,
                kind=kind,
                amount=amount,
            )

    def user_caught(self, day: date, drug: str, *, link: bool) -> None:
        known = [p for p in self.registered if p.first_found_on <= day] if link else []
        place = None
        if known:
            person = self.rng.choice(known)
            name, number = person.name, person.id_number
            # Caught in the village the person is registered in (a grid's village).
            unit = person.org_unit
            place = unit.parent if unit.level == "grid" else unit
        else:
            name, number = self.name(), self.id_number(self.adult_birth(day))
        if place is None or place.level != "village":
            place = self.place()
        caught.record_user_caught(
            actor=self.actor,
            caught_on=day,
            name=name,
            id_number=number,
            drug_type=drug,
            outcome=self.rng.choice(OUTCOMES),
            org_unit=place,
            department=self.police,
        )

    def driving_test(self, day: date, last: date) -> None:
        positive = self.rng.random() < 0.5
        licence = positive and self.rng.random() < 0.8
        reported = min(day + timedelta(days=self.rng.randint(1, 10)), last)
        caught.record_driving_test(
            actor=self.actor,
            tested_on=day,
            name=self.name(),
            id_number=self.id_number(self.adult_birth(day)),
            result="positive" if positive else "negative",
            licence_held=licence,
            licence_reported_on=reported if licence else None,
            org_unit=self.place(),
            department=self.police,
        )

    @property
    def today(self) -> date:
        return timezone.localdate()


def _day_in(rng: random.Random, year: int, until: date) -> date:
    start = date(year, 1, 1)
    last = min(date(year, 12, 31), until)
    return start + timedelta(days=rng.randint(0, (last - start).days))


def _drawn_year(w: Writer, year: int) -> None:
    """A plausible year: some 5–11 drug cases, their suspects and seizures, users caught."""
    rng, today = w.rng, w.today
    last = min(date(year, 12, 31), today)
    share = min(0.2 + 0.05 * (year - FIRST_YEAR), 0.6)
    # Dates that would fall in the next year are left out (not yet solved, not yet
    # referred), so that no drawn year touches the speech's.
    for _ in range(rng.randint(5, 11)):
        filed = _day_in(rng, year, today)
        solved = filed + timedelta(days=rng.randint(3, 40))
        plan = CasePlan(
            rng.choice(["trafficking", "street_dealing", "possession", "harbouring"]),
            filed,
            solved if solved <= last else None,
        )
        plan.street_dealing = plan.offence == "street_dealing"
        caught_on = min(plan.solved_on or filed, today)
        for _ in range(rng.randint(1, 3)):
            prosecuted = caught_on + timedelta(days=rng.randint(20, 70))
            minor = rng.random() < 0.06
            birth = caught_on - timedelta(days=rng.randint(16 * 365, 17 * 365)) if minor else None
            plan.suspects.append(
                SuspectPlan(
                    caught_on,
                    prosecuted if plan.solved_on and prosecuted <= last else None,
                    birth=birth,
                    local=rng.random() < 0.75,
                )
            )
        if plan.offence != "harbouring":
            drug = rng.choice(SYNTHETIC[:2]) if rng.random() < share else "heroin"
            grams = Decimal(rng.randint(20, 900)) / 10
            plan.seizures.append((drug, str(grams), caught_on))
            plan.synthetic_drug = drug in SYNTHETIC
        if rng.random() < 0.2:
            plan.asset = ("cash", f"{rng.randint(20, 400) * 100}.00")
        w.case(plan)
    for _ in range(rng.randint(1, 3)):
        filed = _day_in(rng, year, today)
        w.case(CasePlan(rng.choice(["theft", "robbery", "assault"]), filed, None,
                        caused_kind=rng.choice(["criminal", "public_order"])))  # fmt: skip
    for _ in range(rng.randint(12, 30) if last.month == 12 else rng.randint(6, 20)):
        drug = rng.choice(SYNTHETIC[:2]) if rng.random() < share else "heroin"
        w.user_caught(_day_in(rng, year, today), drug, link=rng.random() < 0.5)
    for _ in range(rng.randint(2, 6)):
        w.driving_test(_day_in(rng, year, today), last)


def demo_enforcement(ctx: DemoContext) -> None:
    rng = ctx.rng("enforcement")
    w = Writer(ctx, rng)
    today = w.today
    for plan in YEAR_2018:
        w.case(plan)
    for day, drug in CAUGHT_2018:
        w.user_caught(d(day), drug, link=False)
    for day in ("2018-04-17", "2018-09-02", "2018-12-03"):
        w.driving_test(d(day), d("2018-12-31"))
    for year in range(FIRST_YEAR, today.year + 1):
        if year != SPEECH_YEAR:
            _drawn_year(w, year)
    ctx.log(f"  缉毒打击：{FIRST_YEAR}年至今的案件、犯罪嫌疑人、缴获、查处吸毒人员和毒驾检测")
