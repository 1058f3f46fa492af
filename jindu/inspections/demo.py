"""The demo county's key venues, courier outlets and cultivation patrols.

About a hundred venues with their responsibility letters and a year of
inspections, so that every colour shows in the current period: most passed,
some not inspected yet, some failed and still open (a few past the deadline),
some failed and fixed (by a fix record or a passing re-inspection). Letters
are spread so that a few are missing, expired or about to expire. A dozen
courier outlets with checks of the three 100 % rules, and the last complete
patrol season: every township patrols enough except one, and one township has
a national check that found poppies (the one-vote veto).

Everything is written through ``jindu.inspections.services`` (so the audit
chain covers it) and drawn from the step's own generator, with dates counted
back from the day the demo is built.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jindu.demo import names
from jindu.demo.steps import DemoContext
from jindu.inspections import courier_services, patrol_services, services
from jindu.inspections.coverage import season_of
from jindu.inspections.models import InspectionRules
from jindu.inspections.periods import venue_period

VENUES_WANTED = 100
OUTLETS_WANTED = 12

# kind: (share, name endings, regulating department's short name)
VENUE_KINDS: dict[str, tuple[int, list[str], str]] = {
    "hotel": (14, ["大酒店", "宾馆", "商务酒店"], "公安局"),
    "internet_cafe": (14, ["网吧", "网咖"], "文旅局"),
    "guesthouse": (20, ["旅社", "客栈", "招待所"], "公安局"),
    "apartment": (10, ["公寓", "酒店式公寓"], "公安局"),
    "foot_massage": (12, ["足浴", "养生馆", "推拿馆"], "公安局"),
    "entertainment": (10, ["KTV", "歌舞厅", "娱乐会所"], "文旅局"),
    "rented_room": (20, ["出租屋"], "公安局"),
}
BRANDS = [
    "悦来", "鑫源", "福满", "天和", "君悦", "金顶", "星河", "云海", "聚贤", "顺达",
    "和平", "盛世", "龙腾", "恒通", "佳和", "兴隆", "华庭", "锦程", "嘉禾", "瑞丰",
]  # fmt: skip
CHECK_ITEMS = ["publicity", "staff_training", "registration", "patrol_record", "suspicious_report"]
PROBLEMS = {
    "publicity": "未张贴禁毒宣传海报",
    "staff_training": "从业人员未参加禁毒培训",
    "registration": "住宿登记不全，部分旅客未实名登记",
    "patrol_record": "巡查记录缺失近两周",
    "suspicious_report": "未建立可疑情况报告制度",
}
COURIERS = ["中国邮政", "顺丰", "中通", "圆通", "申通", "韵达", "极兔", "京东"]
# The demo county lies in the hills of 甘肃 (its province prefix is 62): GPS points near there.
CENTRE = (Decimal("35.52"), Decimal("105.73"))


def _person(rng: random.Random) -> str:
    return rng.choice(names.SURNAMES) + rng.choice(names.GIVEN)


def _team(rng: random.Random, size: int) -> str:
    return "、".join(_person(rng) for _ in range(size))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))


def _day_between(rng: random.Random, start: date, end: date) -> date:
    """A day in [start, end] (end if the range is empty)."""
    if end <= start:
        return end
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _places(ctx: DemoContext) -> list[list[Any]]:
    """The villages of each township (or the township itself), so that records go round
    the townships instead of filling the first ones."""
    return [[v for v in ctx.villages if v.path.startswith(t.path)] or [t] for t in ctx.townships]


def _kinds(rng: random.Random, count: int) -> list[str]:
    keys = list(VENUE_KINDS)
    weights = [VENUE_KINDS[k][0] for k in keys]
    return rng.choices(keys, weights=weights, k=count)


def _results(rng: random.Random, failed: list[str]) -> dict[str, tuple[bool, str]]:
    checked = rng.sample(CHECK_ITEMS, rng.randint(3, len(CHECK_ITEMS)))
    results = {code: (True, "") for code in checked}
    for code in failed:
        results[code] = (False, PROBLEMS[code])
    return results


def _inspect(
    rng: random.Random,
    actor: Any,
    venue: Any,
    on: date,
    *,
    failed: list[str] | None = None,
    checked: list[str] | None = None,
) -> Any:
    results = _results(rng, failed or [])
    for code in checked or []:
        results.setdefault(code, (True, ""))
    return services.record_venue_inspection(
        actor=actor,
        venue=venue,
        inspected_on=on,
        mode="covert" if rng.random() < 0.25 else "open",
        inspectors=_team(rng, 2),
        results=results,
        fix_deadline=on + timedelta(days=rng.choice([7, 15, 30])) if failed else None,
    )


def demo_venues(ctx: DemoContext, actor: Any, today: date) -> dict[str, int]:
    rng = ctx.rng("inspections:venues")
    rules = InspectionRules.current()
    period = venue_period(today, rules.venue_period_months)
    places = _places(ctx)
    count = min(VENUES_WANTED, max(12, 4 * len(ctx.villages)))
    tally: dict[str, int] = {}
    for number, kind in enumerate(_kinds(rng, count)):
        unit = rng.choice(places[number % len(places)])
        _share, endings, department = VENUE_KINDS[kind]
        operator = _person(rng)
        name = (
            f"{operator}{rng.choice(endings)}"
            if kind == "rented_room"
            else f"{rng.choice(BRANDS)}{rng.choice(endings)}"
        )
        registered = today - timedelta(days=rng.randint(400, 1500))
        venue = services.register_venue(
            actor=actor,
            org_unit=unit,
            name=f"{name}（{unit.name}）" if kind != "rented_room" else name,
            kind=kind,
            address=f"{unit.name}{rng.randint(1, 99)}号",
            operator_name=operator,
            operator_phone=_phone(rng),
            licence_number=f"JY{rng.randint(10**11, 10**12 - 1)}",
            department=ctx.departments.get(department),
            registered_on=registered,
        )
        _letters(rng, actor, venue, today)
        # History before the current period: one or two inspections, all closed.
        for _ in range(rng.randint(1, 2)):
            day = _day_between(rng, registered, period.start - timedelta(days=20))
            _inspect(rng, actor, venue, day)
        story = rng.choices(["green", "yellow", "red", "blue"], weights=[55, 17, 14, 14], k=1)[0]
        tally[story] = tally.get(story, 0) + 1
        _story(rng, actor, venue, story, period.start, today)
    return tally


def _letters(rng: random.Random, actor: Any, venue: Any, today: date) -> None:
    roll = rng.random()
    if roll < 0.05:
        return  # never signed
    if roll < 0.12:
        signed = today - timedelta(days=rng.randint(380, 450))  # expired, not renewed
    elif roll < 0.25:
        signed = today - timedelta(days=rng.randint(340, 360))  # expires within the month
    else:
        signed = today - timedelta(days=rng.randint(10, 300))
    services.sign_letter(
        actor=actor,
        venue=venue,
        signed_on=signed,
        term_end=signed + timedelta(days=365),
        signed_by=venue.operator_name,
    )


def _story(
    rng: random.Random, actor: Any, venue: Any, story: str, start: date, today: date
) -> None:
    """Make the venue's current period tell ``story`` (its colour today)."""
    if story == "yellow":
        return
    day = _day_between(rng, start, today)
    if story == "green":
        _inspect(rng, actor, venue, day)
        return
    failed = rng.sample(CHECK_ITEMS, rng.randint(1, 2))
    inspection = _inspect(rng, actor, venue, day, failed=failed)
    if story == "red":
        return
    fixed_on = _day_between(rng, day, today)
    if rng.random() < 0.5:
        _inspect(rng, actor, venue, fixed_on, checked=failed)
    else:
        services.record_fix(
            actor=actor,
            inspection=inspection,
            fixed_on=fixed_on,
            fix_note="已整改到位，经乡镇禁毒专干现场核实",
        )


def demo_outlets(ctx: DemoContext, actor: Any, today: date) -> int:
    rng = ctx.rng("inspections:outlets")
    places = _places(ctx)
    postal = ctx.departments.get("邮政管理局")
    year_start = today - timedelta(days=365)
    for number in range(OUTLETS_WANTED):
        unit = rng.choice(places[number % len(places)])
        company = COURIERS[number % len(COURIERS)]
        kind = (
            "logistics_park"
            if number == 0
            else ("post_office" if company == "中国邮政" else "outlet")
        )
        name = f"{unit.name}物流园区" if kind == "logistics_park" else f"{company}{unit.name}网点"
        outlet = courier_services.register_outlet(
            actor=actor,
            org_unit=unit,
            name=name,
            kind=kind,
            company="多家企业" if kind == "logistics_park" else company,
            address=f"{unit.name}{rng.randint(1, 99)}号",
            contact_name=_person(rng),
            contact_phone=_phone(rng),
            department=postal,
        )
        careful = rng.random() < 0.6
        for index in range(rng.randint(3, 6)):
            day = year_start + timedelta(days=60 * index + rng.randint(0, 40))
            if day > today:
                break
            counts = {}
            for rule in ("real_name", "open_box", "xray"):
                sampled = rng.randint(20, 60)
                missed = (
                    0 if careful or rng.random() < 0.5 else rng.randint(1, max(1, sampled // 8))
                )
                counts[rule] = (sampled, sampled - missed)
            courier_services.record_courier_inspection(
                actor=actor,
                outlet=outlet,
                inspected_on=day,
                inspectors=_team(rng, 2),
                counts=counts,
                problems="" if careful else "部分包裹未开箱验视即收寄",
            )
    return OUTLETS_WANTED


def _point(rng: random.Random) -> tuple[Decimal, Decimal]:
    lat = CENTRE[0] + Decimal(rng.randint(-3000, 3000)) / 10000
    lon = CENTRE[1] + Decimal(rng.randint(-3000, 3000)) / 10000
    return lat, lon


def demo_patrols(ctx: DemoContext, actor: Any, today: date) -> dict[str, Any]:
    rng = ctx.rng("inspections:patrols")
    rules = InspectionRules.current()
    year = today.year if today.month > rules.patrol_last_month else today.year - 1
    season = season_of(year, rules)
    townships = ctx.townships
    short = townships[-1] if len(townships) > 1 else None
    vetoed = townships[1] if len(townships) > 2 else townships[0]
    lands = ["field", "abandoned_yard", "greenhouse", "state_forest"]
    for township in townships:
        villages = [v for v in ctx.villages if v.path.startswith(township.path)] or [township]
        count = rng.randint(2, 4) if township is short else rng.randint(6, 9)
        days = sorted(_day_between(rng, season.start, season.last_day) for _ in range(count))
        for day in days:
            found = rng.randint(3, 40) if rng.random() < 0.03 else 0
            lat, lon = _point(rng) if rng.random() < 0.6 else (None, None)
            patrol_services.record_patrol(
                actor=actor,
                org_unit=rng.choice(villages),
                patrolled_on=day,
                land_kind=rng.choice(lands),
                place=rng.choice(["村后山坡", "河滩荒地", "废弃院落", "蔬菜大棚", "林区小路两侧"]),
                team=_team(rng, rng.randint(3, 5)),
                distance_km=Decimal(rng.randint(20, 120)) / 10,
                area_mu=Decimal(rng.randint(50, 800)) if rng.random() < 0.4 else None,
                plants_found=found,
                plants_destroyed=found,
                plant_species=[rng.choice(["poppy", "cannabis"])] if found else [],
                latitude=lat,
                longitude=lon,
            )
    finding_day = _day_between(rng, season.start + timedelta(days=90), season.last_day)
    village = next((v for v in ctx.villages if v.path.startswith(vetoed.path)), vetoed)
    patrol_services.record_patrol(
        actor=actor,
        org_unit=village,
        patrolled_on=finding_day,
        check_level="national",
        land_kind="abandoned_yard",
        place="村东废弃院落内",
        team="国家禁毒委核查组",
        area_mu=Decimal("12"),
        plants_found=37,
        plants_destroyed=37,
        plant_species=["poppy"],
        latitude=CENTRE[0],
        longitude=CENTRE[1],
        notes="国家卫星遥感核查发现，已全部铲除并立案调查",
    )
    return {"season": season.label, "short": short.name if short else "", "veto": vetoed.name}


def demo_inspections(ctx: DemoContext) -> None:
    actor = ctx.users.get("office")
    today = timezone.localdate()
    tally = demo_venues(ctx, actor, today)
    outlets = demo_outlets(ctx, actor, today)
    patrols = demo_patrols(ctx, actor, today)
    ctx.log(
        f"  重点场所：{sum(tally.values())} 家（绿 {tally.get('green', 0)}、黄 {tally.get('yellow', 0)}、"
        f"红 {tally.get('red', 0)}、蓝 {tally.get('blue', 0)}）；寄递网点：{outlets} 个；"
        f"踏查季 {patrols['season']}（{patrols['short'] or '无'}未达标，{patrols['veto']}国家核查发现）"
    )
