"""The demo county's territory: planned from the seed, then written through the services.

Planning is pure (names, codes and grids from a random generator) so the same
seed and sizes always give the same county; writing goes through
``jindu.orgs.services`` so every unit carries its history and audit row.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from jindu.demo import names
from jindu.demo.steps import DemoContext
from jindu.orgs import services as orgs
from jindu.orgs.division import Level

# Village numbers run from 200 within a township; this keeps them below 999.
MAX_VILLAGES = 600


@dataclass
class VillagePlan:
    name: str
    code: str
    is_community: bool
    grids: list[str] = field(default_factory=list)


@dataclass
class TownshipPlan:
    name: str
    code: str
    kind: str  # "street", "town" or "xiang"
    villages: list[VillagePlan] = field(default_factory=list)


@dataclass
class CountyPlan:
    name: str
    code: str
    townships: list[TownshipPlan]

    @property
    def village_count(self) -> int:
        return sum(len(t.villages) for t in self.townships)

    @property
    def grid_count(self) -> int:
        return sum(len(v.grids) for t in self.townships for v in t.villages)


def township_kinds(count: int) -> list[str]:
    """A county seat's streets, then towns (about 60 %), then 乡."""
    streets = 2 if count >= 6 else (1 if count >= 3 else 0)
    towns = math.ceil((count - streets) * 0.6)
    return ["street"] * streets + ["town"] * towns + ["xiang"] * (count - streets - towns)


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder), at least one each."""
    spare = total - len(weights)
    scaled = [spare * w / sum(weights) for w in weights]
    shares = [1 + int(s) for s in scaled]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: scaled[i] - int(scaled[i]), reverse=True
    )
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def plan_county(rng: random.Random, townships: int, villages: int) -> CountyPlan:
    if not 2 <= townships <= names.MAX_TOWNSHIPS:
        raise ValueError(f"townships must be between 2 and {names.MAX_TOWNSHIPS}")
    if villages < townships:
        raise ValueError("every township needs at least one village or community")
    village_names = [
        f + m + last
        for f in names.VILLAGE_FIRST
        for m in names.VILLAGE_MIDDLE
        for last in names.VILLAGE_LAST
    ]
    community_names = [
        "岚" + f + last for f in names.COMMUNITY_FIRST for last in names.COMMUNITY_LAST
    ]
    if villages > MAX_VILLAGES:
        raise ValueError(f"villages must be at most {MAX_VILLAGES}")
    rng.shuffle(village_names)
    rng.shuffle(community_names)

    kinds = township_kinds(townships)
    pools = {"street": iter(names.STREETS), "town": iter(names.TOWNS), "xiang": iter(names.XIANG)}
    numbers = {"street": 1, "town": 100, "xiang": 200}
    weight = {"street": 0.6, "town": 1.1, "xiang": 0.9}
    shares = _allocate(villages, [weight[k] * rng.uniform(0.75, 1.25) for k in kinds])

    county_prefix = names.COUNTY_CODE[:6]
    plan = CountyPlan(names.COUNTY_NAME, names.COUNTY_CODE, [])
    for kind, share in zip(kinds, shares, strict=True):
        code = f"{county_prefix}{numbers[kind]:03d}000"
        numbers[kind] += 1
        township = TownshipPlan(next(pools[kind]), code, kind)
        if kind == "street":
            communities = share
        elif kind == "town":
            communities = min(share - 1, max(1, share // 6)) if share > 1 else 0
        else:
            communities = 0
        communities = min(communities, len(community_names))
        # Statistical codes: 居委会 from 001, 村委会 from 200.
        for index in range(share):
            is_community = index < communities
            if is_community:
                name = community_names.pop() + "社区"
                number = index + 1
            else:
                name = village_names.pop() + "村"
                number = 200 + index - communities
            grids = rng.randint(2, 3) if is_community else rng.randint(1, 2)
            township.villages.append(
                VillagePlan(
                    name=name,
                    code=f"{code[:9]}{number:03d}",
                    is_community=is_community,
                    grids=[f"{name}第{names.GRID_ORDINALS[g]}网格" for g in range(grids)],
                )
            )
        plan.townships.append(township)
    return plan


def county_plan_for(ctx: DemoContext) -> CountyPlan:
    return plan_county(ctx.rng("territory"), ctx.townships_wanted, ctx.villages_wanted)


def build_territory(ctx: DemoContext) -> None:
    plan = county_plan_for(ctx)
    ctx.county = orgs.create_unit(
        actor=None, name=plan.name, level=Level.COUNTY, parent=None, division_code=plan.code
    )
    for t_order, t_plan in enumerate(plan.townships, start=1):
        township = orgs.create_unit(
            actor=None,
            name=t_plan.name,
            level=Level.TOWNSHIP,
            parent=ctx.county,
            division_code=t_plan.code,
            sort_order=t_order,
        )
        ctx.townships.append(township)
        for v_order, v_plan in enumerate(t_plan.villages, start=1):
            village = orgs.create_unit(
                actor=None,
                name=v_plan.name,
                level=Level.VILLAGE,
                parent=township,
                division_code=v_plan.code,
                sort_order=v_order,
            )
            ctx.villages.append(village)
            for g_order, grid_name in enumerate(v_plan.grids, start=1):
                ctx.grids.append(
                    orgs.create_unit(
                        actor=None,
                        name=grid_name,
                        level=Level.GRID,
                        parent=village,
                        sort_order=g_order,
                    )
                )
    ctx.log(
        f"  区划：1 个县、{len(ctx.townships)} 个乡镇（街道）、"
        f"{len(ctx.villages)} 个村（社区）、{len(ctx.grids)} 个网格"
    )


def build_departments(ctx: DemoContext) -> None:
    for order, (name, short_name, duties) in enumerate(names.DEPARTMENTS, start=1):
        ctx.departments[short_name] = orgs.create_department(
            actor=None,
            county=ctx.county,
            name=name,
            short_name=short_name,
            duties=duties,
            sort_order=order,
        )
    ctx.log(f"  成员单位：{len(ctx.departments)} 个")
