"""The people every test works with, and the territory they live in.

青岚县 (a fictional county) has two townships, 甲镇 and 乙镇, each with a village
and a grid. Every unit's name is unique, so a test can look for another
township's names in a page to prove they are not there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jindu.accounts import services as accounts
from jindu.core.roles import Role
from jindu.orgs import services as orgs

PASSWORD = "Qinglan#2026"


@dataclass
class Territory:
    county: Any
    township_a: Any
    village_a: Any
    grid_a: Any
    township_b: Any
    village_b: Any
    grid_b: Any
    police_dept: Any
    education_dept: Any


@dataclass
class Personas:
    territory: Territory
    users: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["users"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def build_territory() -> Territory:
    county = orgs.create_unit(
        actor=None, name="青岚县", level="county", parent=None, division_code="621199000000"
    )
    township_a = orgs.create_unit(
        actor=None, name="甲镇", level="township", parent=county, division_code="621199100000"
    )
    village_a = orgs.create_unit(
        actor=None, name="甲一村", level="village", parent=township_a, division_code="621199100201"
    )
    grid_a = orgs.create_unit(actor=None, name="甲一村第一网格", level="grid", parent=village_a)
    township_b = orgs.create_unit(
        actor=None, name="乙镇", level="township", parent=county, division_code="621199101000"
    )
    village_b = orgs.create_unit(
        actor=None, name="乙一村", level="village", parent=township_b, division_code="621199101201"
    )
    grid_b = orgs.create_unit(actor=None, name="乙一村第一网格", level="grid", parent=village_b)
    police = orgs.create_department(
        actor=None,
        county=county,
        name="青岚县公安局",
        short_name="公安局",
        duties="打击毒品违法犯罪，查处吸毒人员。",
    )
    education = orgs.create_department(
        actor=None,
        county=county,
        name="青岚县教育局",
        short_name="教育局",
        duties="青少年毒品预防教育。",
    )
    return Territory(
        county, township_a, village_a, grid_a, township_b, village_b, grid_b, police, education
    )


# name: (role or None, unit attribute, department attribute or None, full name)
PERSONAS: dict[str, tuple[Role | None, str, str | None, str]] = {
    "county_officer": (Role.COUNTY_OFFICE, "county", None, "周县办"),
    "cadre_a": (Role.TOWNSHIP_MANAGER, "township_a", None, "甲镇专干"),
    "cadre_b": (Role.TOWNSHIP_MANAGER, "township_b", None, "乙镇专干"),
    "grid_worker": (Role.GRID_WORKER, "grid_a", None, "甲网格员"),
    "police_officer": (Role.POLICE, "township_a", "police_dept", "甲所民警"),
    "dept_reporter": (Role.DEPT_REPORTER, "county", "education_dept", "教育局填报员"),
    "leader": (Role.LEADER, "county", None, "县领导"),
    "sys_admin": (Role.SYS_ADMIN, "county", None, "系统管理员"),
    "sec_admin": (Role.SEC_ADMIN, "county", None, "安全管理员"),
    "audit_admin": (Role.AUDIT_ADMIN, "county", None, "审计管理员"),
    "no_role": (None, "county", None, "无角色用户"),
}

ADMIN_PERSONAS = ("sys_admin", "sec_admin", "audit_admin")


def build_personas() -> Personas:
    territory = build_territory()
    result = Personas(territory)
    for name, (role, unit_attr, dept_attr, full_name) in PERSONAS.items():
        result.users[name] = accounts.create_user(
            actor=None,
            username=name,
            full_name=full_name,
            org_unit=getattr(territory, unit_attr),
            department=getattr(territory, dept_attr) if dept_attr else None,
            password=PASSWORD,
            roles={role.value} if role else set(),
            must_change_password=False,
        )
    return result
