"""The demo county's precursor and controlled-medicine units, with a year of ledgers.

Dozens of units — chemical traders and the factories they supply, producers,
a drug wholesaler and the hospitals, clinics and pharmacies it supplies — each
with a licence (a few about to expire), allowed items and a contact. A year of
lines ends today: opening stocks, restocking from outside the county, sales to
registered customers recorded on both sides, use, and a count at the end of
every month that agrees with the book. Then a few discrepancies of each kind
are planted on purpose, deterministically: counts short of the book and one
over it, sales the buyer never recorded and purchases the seller never did,
sales reported late or not at all, purchases beyond the yearly allowance. The
reconciliation runs, some findings are assigned and one is closed, and a
special-check campaign is half done.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jindu.demo.steps import DemoContext
from jindu.regulation import campaigns, reconcile, services
from jindu.regulation.forms import last_year_to
from jindu.regulation.ledger import LedgerRules, LineInput, record_entries
from jindu.regulation.models import EntryKind, Finding, FindingKind, RegulatedUnit, Substance
from jindu.regulation.selectors import UnitFilter

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
GIVEN = [
    "建国",
    "秀英",
    "志强",
    "海燕",
    "国平",
    "丽华",
    "永红",
    "俊杰",
    "晓东",
    "桂兰",
    "德明",
    "春梅",
]
MEDICINES = ("盐酸哌替啶注射液", "盐酸吗啡注射液", "地西泮注射液", "艾司唑仑片")
TRADE_NAMES = [
    "兴达",
    "恒信",
    "鑫源",
    "宏盛",
    "瑞丰",
    "长青",
    "华通",
    "天成",
    "永利",
    "金穗",
    "安泰",
    "新科",
]


@dataclass
class Plan:
    """One unit to register and the part it plays in the trade."""

    name: str
    kind: str
    department: str
    items: dict[str, Decimal | None]
    role: str  # "supplier", "customer", "producer", "carrier"
    licence_kind: str
    suppliers: list[str] = field(default_factory=list)
    licence_days_left: int = 900
    unit: Any = None


def _plans(rng: random.Random, townships: list[Any]) -> list[Plan]:
    names = iter(rng.sample(TRADE_NAMES, len(TRADE_NAMES)))
    plans: list[Plan] = []
    traders = []
    for item_set in (
        ("硫酸", "盐酸"),
        ("丙酮", "甲苯"),
        ("高锰酸钾", "丙酮"),
        ("三氯甲烷", "乙醚"),
    ):
        name = f"青岚县{next(names)}化工经营部"
        traders.append((name, item_set))
        plans.append(
            Plan(
                name,
                "trader",
                "公安局",
                dict.fromkeys(item_set),
                "supplier",
                "precursor_trade_filing",
            )
        )
    producer = f"青岚{next(names)}化工有限公司"
    plans.append(
        Plan(
            producer,
            "producer",
            "工信局",
            {"硫酸": None},
            "producer",
            "precursor_production_filing",
        )
    )
    users = [
        ("青岚县第一中学", "user", "公安局"),
        ("青岚县自来水公司", "user", "工信局"),
        ("青岚县水泥厂", "user", "工信局"),
        ("青岚县印染厂", "user", "工信局"),
        ("青岚县农机修造厂", "user", "工信局"),
        ("青岚县人民医院检验科", "user", "卫健局"),
        ("青岚县疾控中心实验室", "user", "卫健局"),
        ("青岚县电镀厂", "user", "工信局"),
        ("青岚县职业中专", "user", "公安局"),
        ("青岚县污水处理厂", "user", "工信局"),
        ("青岚县皮革制品厂", "user", "工信局"),
        ("青岚县质量技术监督检测所", "user", "公安局"),
    ]
    for index, (name, kind, department) in enumerate(users):
        trader, item_set = traders[index % len(traders)]
        items = {item: Decimal(rng.choice([800, 1200, 2000])) for item in item_set}
        plans.append(
            Plan(name, kind, department, items, "customer", "precursor_purchase_filing", [trader])
        )
    plans.append(
        Plan(
            f"青岚县{next(names)}危险货物运输有限公司",
            "transporter",
            "公安局",
            {"硫酸": None},
            "carrier",
            "precursor_transport_filing",
        )
    )
    plans.append(
        Plan(
            f"青岚{next(names)}物流仓储有限公司",
            "storer",
            "商务局",
            {"丙酮": None},
            "carrier",
            "precursor_trade_filing",
        )
    )
    wholesaler = f"青岚县{next(names)}医药有限公司"
    medicines = MEDICINES
    plans.append(
        Plan(
            wholesaler,
            "drug_wholesaler",
            "市场监管局",
            dict.fromkeys(medicines),
            "supplier",
            "drug_trade",
        )
    )
    hospitals = ["青岚县人民医院", "青岚县中医医院", "青岚县妇幼保健院"] + [
        f"{t.name}卫生院" for t in townships[:4]
    ]
    for name in hospitals:
        plans.append(
            Plan(
                name,
                "medical_institution",
                "卫健局",
                dict.fromkeys(medicines[:3]),
                "customer",
                "narcotic_card",
                [wholesaler],
            )
        )
    for index in range(8):
        name = f"青岚县{rng.choice(TRADE_NAMES)}大药房第{index + 1}分店"
        plans.append(
            Plan(
                name,
                "pharmacy",
                "市场监管局",
                {"艾司唑仑片": None},
                "customer",
                "drug_trade",
                [wholesaler],
            )
        )
    # Three licences about to run out, so that the expiry warning has something to say.
    for plan, days in zip(plans[5:8], (12, 35, 58), strict=True):
        plan.licence_days_left = days
    return plans


def _register(ctx: DemoContext, rng: random.Random, plans: list[Plan], start: date) -> None:
    actor = ctx.users["office"]
    places = ctx.villages or ctx.townships
    today = timezone.localdate()
    for number, plan in enumerate(plans, start=1):
        place = rng.choice(places)
        registered = start - timedelta(days=rng.randint(30, 900))
        unit = services.register_unit(
            actor=actor,
            name=plan.name,
            kind=plan.kind,
            department=ctx.departments[plan.department],
            org_unit=place,
            registered_on=registered,
            address=f"{place.name}{rng.randint(1, 99)}号",
            credit_code=f"91621199MA{number:07d}X",
        )
        services.add_licence(
            actor=actor,
            unit=unit,
            kind=plan.licence_kind,
            number=f"（青）{plan.licence_kind[:2].upper()}-{2019 + number % 5}-{number:04d}",
            valid_from=registered,
            valid_until=today + timedelta(days=plan.licence_days_left),
            issuer="青岚县公安局"
            if plan.licence_kind.startswith("precursor")
            else "市市场监督管理局",
        )
        for item, yearly in plan.items.items():
            services.set_allowance(
                actor=actor,
                unit=unit,
                substance=Substance.objects.get(name=item),
                yearly_quantity=yearly,
            )
        services.add_contact(
            actor=actor,
            unit=unit,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            title=rng.choice(["安全员", "库管员", "负责人", "药剂科主任"]),
            phone=f"139{rng.randint(10000000, 99999999)}",
        )
        plan.unit = unit


@dataclass
class Line:
    unit: RegulatedUnit
    item: str
    kind: str
    day: date
    quantity: Decimal
    counterparty: str = ""
    reported_on: date | None = None
    document_no: str = ""


def _trade(rng: random.Random, plans: list[Plan], start: date, today: date) -> list[Line]:
    """A year of trade between the units, recorded on both sides, and use."""
    by_name = {p.name: p for p in plans}
    lines: list[Line] = []
    doc = iter(range(1, 10**6))
    for plan in plans:
        if plan.role == "carrier":
            continue
        for item in plan.items:
            big = item not in MEDICINES
            stock = Decimal(rng.randint(200, 600) if big else rng.randint(50, 200))
            lines.append(Line(plan.unit, item, EntryKind.OPENING, start, stock))
    for customer in (p for p in plans if p.role == "customer"):
        for supplier_name in customer.suppliers:
            supplier = by_name[supplier_name]
            for item in customer.items:
                if item not in supplier.items:
                    continue
                big = item not in MEDICINES
                day = start + timedelta(days=rng.randint(3, 20))
                while day <= today - timedelta(days=2):
                    quantity = Decimal(rng.randint(20, 90) if big else rng.randint(10, 40))
                    number = f"XS{next(doc):05d}"
                    reported = min(day + timedelta(days=rng.randint(0, 3)), today)
                    lines.append(
                        Line(
                            supplier.unit,
                            item,
                            EntryKind.SALE,
                            day,
                            quantity,
                            customer.name,
                            reported,
                            number,
                        )
                    )
                    received = min(day + timedelta(days=rng.randint(0, 2)), today)
                    lines.append(
                        Line(
                            customer.unit,
                            item,
                            EntryKind.PURCHASE,
                            received,
                            quantity,
                            supplier.name,
                            None,
                            number,
                        )
                    )
                    used = received
                    remaining = quantity
                    while remaining > 0 and used < today:
                        used = min(used + timedelta(days=rng.randint(3, 9)), today)
                        part = min(remaining, Decimal(rng.randint(5, 30)))
                        lines.append(Line(customer.unit, item, EntryKind.USE, used, part))
                        remaining -= part
                    day += timedelta(days=rng.randint(18, 40))
    for plan in plans:
        if plan.role not in ("supplier", "producer"):
            continue
        for item in plan.items:
            day = start + timedelta(days=rng.randint(1, 10))
            while day <= today:
                if plan.role == "producer":
                    lines.append(
                        Line(
                            plan.unit,
                            item,
                            EntryKind.PRODUCTION,
                            day,
                            Decimal(rng.randint(200, 400)),
                        )
                    )
                    sold = min(day + timedelta(days=rng.randint(1, 6)), today)
                    lines.append(
                        Line(
                            plan.unit,
                            item,
                            EntryKind.SALE,
                            sold,
                            Decimal(rng.randint(150, 200)),
                            "外省某化工集团",
                            sold,
                            f"XS{next(doc):05d}",
                        )
                    )
                else:
                    lines.append(
                        Line(
                            plan.unit,
                            item,
                            EntryKind.PURCHASE,
                            day,
                            Decimal(rng.randint(150, 300)),
                            "省医药集团" if item in MEDICINES else "市外某化工集团",
                            None,
                            f"CG{next(doc):05d}",
                        )
                    )
                day += timedelta(days=rng.randint(20, 35))
    return lines


def _plant(rng: random.Random, lines: list[Line], today: date) -> list[Line]:
    """Break a few things on purpose; each kind of discrepancy appears at least twice."""
    recent = today - timedelta(days=150)
    sales = [
        ln
        for ln in lines
        if ln.kind == EntryKind.SALE and ln.day >= recent and ln.document_no.startswith("XS")
    ]
    paired = [
        s for s in sales if s.counterparty and not s.counterparty.startswith(("外", "市", "省"))
    ]
    rng.shuffle(paired)
    dropped = set()
    # Sales the buyer never recorded, and purchases the seller never did.
    for sale in paired[:2]:
        dropped.add((sale.counterparty, sale.document_no, EntryKind.PURCHASE))
    for sale in paired[2:4]:
        dropped.add((sale.unit.name, sale.document_no, EntryKind.SALE))
    kept = [ln for ln in lines if (ln.unit.name, ln.document_no, ln.kind) not in dropped]
    # Sales of precursors reported late (category 2 or 3: 30 days) or never reported.
    late = [
        s for s in paired[4:] if s.day <= today - timedelta(days=60) and s.item not in MEDICINES
    ]
    for sale in late[:2]:
        sale.reported_on = sale.day + timedelta(days=41)
    for sale in late[2:3]:
        sale.reported_on = None
    return kept


def _with_counts(lines: list[Line], start: date, today: date) -> list[Line]:
    """A count at the end of every month (and today), equal to the book."""
    series: dict[tuple[int, str], list[Line]] = defaultdict(list)
    for ln in lines:
        series[(ln.unit.pk, ln.item)].append(ln)
    order = {EntryKind.OPENING: 0, EntryKind.COUNT: 2}
    result = list(lines)
    for (_unit_id, _item), items in series.items():
        items.sort(key=lambda ln: (ln.day, order.get(ln.kind, 1)))
        month_ends = []
        day = start
        while day <= today:
            next_month = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            month_ends.append(min(next_month - timedelta(days=1), today))
            day = next_month
        balance = Decimal(0)
        index = 0
        for end in month_ends:
            while index < len(items) and items[index].day <= end:
                ln = items[index]
                if ln.kind == EntryKind.OPENING:
                    balance = ln.quantity
                elif ln.kind in (EntryKind.PURCHASE, EntryKind.PRODUCTION, EntryKind.TRANSFER_IN):
                    balance += ln.quantity
                else:
                    balance -= ln.quantity
                index += 1
            first = items[0]
            result.append(
                Line(first.unit, first.item, EntryKind.COUNT, end, max(balance, Decimal(0)))
            )
    return result


def _plant_counts(rng: random.Random, lines: list[Line], today: date) -> None:
    """Counts short of the book (and one over it); the stock stays missing afterwards,
    so each later count agrees with the one before it."""
    counts = [
        ln
        for ln in lines
        if ln.kind == EntryKind.COUNT and today - timedelta(days=120) <= ln.day < today
    ]
    counts.sort(key=lambda ln: (ln.unit.pk, ln.item, ln.day))
    rng.shuffle(counts)
    chosen: list[Line] = []
    for count in counts:
        if count.quantity >= 20 and all(
            (c.unit.pk, c.item) != (count.unit.pk, count.item) for c in chosen
        ):
            chosen.append(count)
        if len(chosen) == 4:
            break
    for count, change in zip(chosen, (-12, -7, -3, 5), strict=False):
        for later in lines:
            if (
                later.kind == EntryKind.COUNT
                and later.unit.pk == count.unit.pk
                and later.item == count.item
                and later.day >= count.day
            ):
                later.quantity = max(later.quantity + change, Decimal(0))


def _overdraw_allowances(ctx: DemoContext, lines: list[Line]) -> None:
    """Two customers bought more in a year than they may: their allowance is set below
    their purchases in their busiest year."""
    bought: dict[tuple[int, str, int], Decimal] = defaultdict(Decimal)
    units = {}
    for ln in lines:
        if ln.kind == EntryKind.PURCHASE and ln.unit.kind not in ("trader", "drug_wholesaler"):
            bought[(ln.unit.pk, ln.item, ln.day.year)] += ln.quantity
            units[ln.unit.pk] = ln.unit
    chosen: list[tuple[int, str, int]] = []
    for key in sorted(bought, key=lambda key: (-bought[key], key)):
        if all(key[:2] != other[:2] for other in chosen):
            chosen.append(key)
        if len(chosen) == 2:
            break
    for unit_id, item, year in chosen:
        limit = bought[(unit_id, item, year)] * Decimal("0.85")
        services.set_allowance(
            actor=ctx.users["office"],
            unit=units[unit_id],
            substance=Substance.objects.get(name=item),
            yearly_quantity=limit.quantize(Decimal("1")),
        )


def demo_regulation(ctx: DemoContext) -> None:
    rng = ctx.rng("regulation")
    today = timezone.localdate()
    start = today - timedelta(days=364)
    office = ctx.users["office"]
    plans = _plans(rng, ctx.townships)
    _register(ctx, rng, plans, start)
    lines = _plant(rng, _trade(rng, plans, start, today), today)
    lines = _with_counts(lines, start, today)
    _plant_counts(rng, lines, today)
    units = [p.unit for p in plans]
    rules = LedgerRules(units, {ln.counterparty for ln in lines if ln.counterparty})
    order = {EntryKind.OPENING: 0, EntryKind.COUNT: 2}
    checked = []
    for ln in sorted(lines, key=lambda ln: (ln.unit.pk, ln.item, ln.day, order.get(ln.kind, 1))):
        values = rules.check(
            LineInput(
                unit=ln.unit,
                substance=_substance(ln.item),
                kind=ln.kind,
                occurred_on=ln.day,
                quantity=ln.quantity,
                measure_unit=_substance(ln.item).unit,
                counterparty=ln.counterparty,
                document_no=ln.document_no,
                reported_on=ln.reported_on if ln.kind == EntryKind.SALE else None,
            )
        )
        rules.accept(values)
        checked.append(values)
    record_entries(actor=office, rows=checked, source="demo")
    _overdraw_allowances(ctx, lines)
    result = reconcile.run(
        actor=office, units=RegulatedUnit.objects.for_user(office), period=last_year_to(today)
    )
    _follow_up(ctx, rng)
    _campaign(ctx, rng, today)
    ctx.log(f"  禁毒监管：单位 {len(units)} 家，台账 {len(checked)} 条，核对问题 {result.total} 个")


_SUBSTANCES: dict[str, Substance] = {}


def _substance(name: str) -> Substance:
    if name not in _SUBSTANCES or _SUBSTANCES[name].pk is None:
        _SUBSTANCES[name] = Substance.objects.get(name=name)
    return _SUBSTANCES[name]


def _follow_up(ctx: DemoContext, rng: random.Random) -> None:
    office = ctx.users["office"]
    police = ctx.departments["公安局"]
    findings = list(Finding.objects.select_related("unit").order_by("kind", "id"))
    for finding in findings[::3]:
        if finding.unit.department_id == police.pk:
            campaigns.assign_finding(actor=office, finding=finding, department=police)
    closable = [f for f in findings if f.kind == FindingKind.LATE_REPORT]
    if closable:
        campaigns.close_finding(
            actor=office,
            finding=closable[0],
            note="经核实为企业经办人休假未及时报告，已补报并对企业负责人进行约谈。",
        )


def _campaign(ctx: DemoContext, rng: random.Random, today: date) -> None:
    office = ctx.users["office"]
    campaign = campaigns.create_campaign(
        actor=office,
        name=f"{today.year}年易制毒化学品和精麻药品专项核对检查",
        starts_on=today - timedelta(days=40),
        ends_on=today + timedelta(days=20),
        filters=UnitFilter(),
        description="对精麻药品使用单位及易制毒化学品经营、运输、使用企业的台账、储存及管理情况进行专项核对检查，"
        "及时发现并堵塞管理漏洞。",
    )
    targets = list(campaign.targets.select_related("campaign").order_by("id"))
    rng.shuffle(targets)
    results = ["passed"] * 6 + ["rectify"] * 2 + ["violation"]
    for target in targets[: len(targets) // 2]:
        campaigns.record_check(
            actor=office,
            target=target,
            checked_on=today - timedelta(days=rng.randint(1, 39)),
            checkers="、".join(
                rng.sample(["县禁毒办", "县公安局治安大队", "县卫健局", "县市场监管局"], 2)
            ),
            result=rng.choice(results),
            notes="",
        )
