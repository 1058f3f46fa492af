"""The demo county's targets, letters, key township and reported values, and the people
behind the speech's 2018 figures.

The speech reports for 2018: 7 users newly found, 9 put in compulsory
isolation, 3 in community detox, against city targets of 15, 18 and 12 (46.7 %,
50 %, 25 %). The people step draws histories reaching back sixteen years, so
it puts people of its own into 2018. This step therefore first takes out of
the register the demo people whose history would count in those three 2018
figures (found in 2018, or isolated or put in community detox by a decision
of 2018), with one audit row, as the people step wrote them with one; then
registers its own 2018 people through the people services, so that the three
figures are exactly the speech's. It runs before the enforcement step, which
links users caught to people on the register.

The key township is one of the demo's invented townships, never a real place.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jindu.demo import names
from jindu.demo.steps import DemoContext
from jindu.people import tallies
from jindu.people.idnumber import check_char

YEAR = 2018
# The city's 2018 targets for the county: with the year's actual figures they give
# the speech's completion rates (87.5 %, 85.7 %, 87.2 %, 489.8 %, 35.6 %, 40 %,
# 46.7 %, 50 %, 25 %).
SPEECH_TARGETS = {
    "cases_solved": "8",
    "suspects_prosecuted": "10.5",
    "seized_heroin_g": "130",
    "seized_meth_g": "19.988",
    "users_caught": "45",
    "users_caught_synthetic": "10",
    "new_users_found": "15",
    "isolation_ordered": "18",
    "community_detox_ordered": "12",
}
NEW_USERS = 7
ISOLATED = 9
DETOX = 3
# Of the isolation decisions, those on people found in 2018 (the rest relapsed).
ISOLATED_NEW = NEW_USERS - DETOX
KEY_TOWNSHIP_INDEX = 3
COUNTY_SIGNATORY = "林志远"


def demo_targets(ctx: DemoContext) -> None:
    rng = ctx.rng("targets")
    office = ctx.users.get("office")
    with transaction.atomic():
        removed = clear_2018(ctx)
        made = people_2018(ctx, rng)
    key = key_township(ctx, office)
    targets(ctx, office, rng)
    letters(ctx, office, key)
    reported(ctx, rng)
    ctx.log(
        f"  目标任务：清理2018年原有演示人员 {removed} 人，新建 {made} 人；"
        f"重点整治乡镇：{key.org_unit.name}"
    )


# ------------------------------------------------------------------ 2018 people


def clear_2018(ctx: DemoContext) -> int:
    """Take out the demo people whose history counts in the three 2018 figures."""
    from jindu.audit.actions import Action
    from jindu.audit.services import record
    from jindu.people.models import Measure, Person

    start, end = date(YEAR, 1, 1), date(YEAR + 1, 1, 1)
    decided = Measure.objects.filter(
        decision_date__gte=start,
        decision_date__lt=end,
        kind__in=(Measure.Kind.COMPULSORY_ISOLATION, Measure.Kind.COMMUNITY_DETOX),
    ).values("person_id")
    people = Person.objects.within(ctx.county.path).filter(
        Q(first_found_on__gte=start, first_found_on__lt=end) | Q(pk__in=decided)
    )
    ids = list(people.values_list("pk", flat=True))
    if ids:
        Person.objects.filter(pk__in=ids).delete()
        tallies.refresh(ids)
        record(
            actor=None,
            action=Action.RECORD_DELETED,
            object_type="people.person",
            object_repr="演示人员（2018年）",
            detail={"source": "demo", "persons": len(ids), "why": "speech_2018_figures"},
        )
    return len(ids)


def _id_number(rng: random.Random, region: str, taken: set[str]) -> tuple[str, date]:
    while True:
        born = date(1975, 1, 1) + timedelta(days=rng.randrange(9000))
        first17 = f"{region}{born:%Y%m%d}{rng.randrange(900, 1000):03d}"
        number = first17 + check_char(first17)
        if number not in taken:
            taken.add(number)
            return number, born


def _register(
    ctx: DemoContext, rng: random.Random, village: Any, found: date, taken: set[str]
) -> Any:
    from jindu.people import services

    region = (ctx.county.division_code or names.COUNTY_CODE)[:6]
    for _attempt in range(20):
        number, _born = _id_number(rng, region, taken)
        try:
            return services.register_person(
                actor=None,
                org_unit=village,
                name=rng.choice(names.SURNAMES) + rng.choice(names.GIVEN),
                id_number=number,
                first_found_on=found,
                household_address=f"{ctx.county.name}{village.name}{rng.randint(1, 120)}号",
                current_address=f"{ctx.county.name}{village.name}{rng.randint(1, 120)}号",
                phone=f"139{rng.randint(0, 99999999):08d}",
                drug_types=[rng.choice(("heroin", "methamphetamine"))],
                how_found="police_seized",
            )
        except ValidationError:
            continue  # the number is someone else's already: draw another
    raise RuntimeError("could not draw a free ID number for a demo person")


def _isolate(person: Any, decided: date) -> None:
    from jindu.people import services

    services.add_measure(
        actor=None,
        person=person,
        kind="compulsory_isolation",
        decision_date=decided,
        authority="青岚县公安局",
        start_date=decided,
        ended_on=date(decided.year + 2, decided.month, min(decided.day, 28)),
        end_reason="completed",
    )


def _detox(person: Any, decided: date) -> None:
    from jindu.people import services

    report_in = decided + timedelta(days=7)
    services.add_measure(
        actor=None,
        person=person,
        kind="community_detox",
        decision_date=decided,
        authority="青岚县公安局",
        report_in_date=report_in,
        ended_on=date(report_in.year + 3, report_in.month, min(report_in.day, 28)),
        end_reason="completed",
    )


def people_2018(ctx: DemoContext, rng: random.Random) -> int:
    """7 people first found in 2018 (4 isolated, 3 in community detox) and 5 found
    earlier who relapsed and were isolated in 2018."""
    from jindu.people.models import Person

    taken: set[str] = set()  # numbers drawn here; the register refuses the others
    villages = ctx.villages or []
    if not villages:
        return 0
    made = 0
    for index in range(NEW_USERS):
        village = villages[(index * 7 + 3) % len(villages)]
        found = date(YEAR, 1 + index * 12 // NEW_USERS, 5 + rng.randrange(20))
        person = _register(ctx, rng, village, found, taken)
        decided = found + timedelta(days=rng.randint(3, 25))
        (_isolate if index < ISOLATED_NEW else _detox)(person, decided)
        made += 1
    for index in range(ISOLATED - ISOLATED_NEW):
        village = villages[(index * 11 + 5) % len(villages)]
        found = date(YEAR - 3 + index % 2, 3 + index, 10)
        person = _register(ctx, rng, village, found, taken)
        _isolate(person, date(YEAR, 2 + 2 * index, 12 + index))
        made += 1
    assert Person.objects.within(ctx.county.path).exists()
    return made


# ------------------------------------------------------------------ targets, letters, key township


def key_township(ctx: DemoContext, office: Any) -> Any:
    from jindu.targets import letters as service

    township = ctx.townships[min(KEY_TOWNSHIP_INDEX, len(ctx.townships) - 1)]
    today = timezone.localdate()
    key = service.list_key_township(
        actor=office,
        township=township,
        listed_on=date(today.year, 1, 20),
        listed_by="市禁毒委员会",
        reason="登记吸毒人员超过百人，零包贩毒问题突出",
    )
    tasks = (
        ("排查辖区出租屋、宾馆等重点场所，建立台账", 60, True),
        ("吸毒人员“4+X”帮教小组全部配齐", 120, True),
        ("开展打击零包贩毒专项行动", 200, False),
        ("禁毒宣传“八进”活动覆盖全部村（社区）", 300, False),
    )
    for text, days, done in tasks:
        deadline = key.listed_on + timedelta(days=days)
        task = service.add_task(actor=office, key=key, task=text, deadline=deadline)
        finished = min(deadline - timedelta(days=5), today)
        if done and finished >= key.listed_on:
            service.complete_task(actor=office, item=task, done_on=finished)
    return key


def _split(total: Decimal, parts: int, rng: random.Random) -> list[Decimal]:
    """Shares adding up to ``total`` exactly, none negative (largest remainders), whole
    numbers where the total is whole; a small total leaves some townships at zero."""
    quantum = Decimal(1) if total == total.to_integral_value() else Decimal("0.001")
    units = int(total / quantum)
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    raw = [units * w / sum(weights) for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(parts), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in by_remainder[: units - sum(shares)]:
        shares[i] += 1
    return [quantum * n for n in shares]


def targets(ctx: DemoContext, office: Any, rng: random.Random) -> None:
    from jindu.targets import services

    townships = ctx.townships
    police = ctx.departments.get("公安局")
    this_year = timezone.localdate().year
    plans = {YEAR: SPEECH_TARGETS, this_year: {k: v for k, v in SPEECH_TARGETS.items()}}
    plans[this_year]["new_users_found"] = "12"
    for year, plan in plans.items():
        for key, value in plan.items():
            target = services.set_target(
                actor=office, county=ctx.county, year=year, key=key, value=value
            )
            shares = _split(Decimal(value), len(townships), rng)
            if year == this_year and key == "new_users_found":
                # One breakdown that does not add up, so that the page has one to show.
                shares[-1] += 1
            services.set_breakdown(
                actor=office,
                target=target,
                # A township with no part is left blank rather than given a zero target.
                townships={t: (s or "") for t, s in zip(townships, shares, strict=True)},
                departments={police: value} if police is not None else {},
            )


def letters(ctx: DemoContext, office: Any, key: Any) -> None:
    """This year's letters: every township and department, some drafted, some issued,
    most signed; and the key township's own."""
    from jindu.targets import letters as service

    year = timezone.localdate().year
    issued_on = date(year, 2, 20)
    parties = [{"unit": t} for t in ctx.townships] + [
        {"department": d} for d in ctx.departments.values()
    ]
    for index, party in enumerate(parties):
        letter = service.draft_letter(
            actor=office, year=year, county_signatory=COUNTY_SIGNATORY, **party
        )
        if index % 5 == 4:
            continue  # still a draft
        letter = service.issue_letter(actor=office, letter=letter, issued_on=issued_on)
        if index % 3 == 2:
            continue  # issued, not signed yet
        service.sign_letter(
            actor=office, letter=letter, signed_on=issued_on + timedelta(days=3), scan=_scan()
        )
    service.draft_letter(
        actor=office, year=year, key_township=key, county_signatory=COUNTY_SIGNATORY
    )


def _scan() -> Any:
    """A one-page PDF standing in for a signed and stamped letter."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return SimpleUploadedFile("signed.pdf", body, content_type="application/pdf")


def reported(ctx: DemoContext, rng: random.Random) -> None:
    """Approved survey rates for last year and the year before, per township, so that the
    board compares two years; this year's survey is not in yet."""
    from jindu.targets import reporting

    office = ctx.users.get("office")
    this_year = timezone.localdate().year
    for year in (this_year - 2, this_year - 1):
        for key, base in (("awareness_rate", 86), ("satisfaction_rate", 88)):
            for township in ctx.townships:
                value = Decimal(base + (year - this_year) * 2 + rng.randint(0, 8))
                row = reporting.unlock_reported_value(
                    actor=office, key=key, unit=township, year=year, quarter=0,
                    until=timezone.localdate(),
                )  # fmt: skip
                row = reporting.save_reported_value(
                    actor=office, key=key, unit=township, year=year, value=value,
                    sample_size=rng.randint(200, 600), submit=True,
                )  # fmt: skip
                reporting.approve_reported_value(actor=office, row=row)
