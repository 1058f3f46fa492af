"""The demo's accounts: one per role, plus a second township cadre and grid worker.

Passwords come from the seed, so a county rebuilt with ``--reset`` keeps the
same sign-ins. The administrators' TOTP secrets are fresh on every build: they
are enrolled through the same service a person uses, which draws its own.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from jindu.accounts import services as accounts
from jindu.accounts import totp
from jindu.accounts.models import User
from jindu.core.roles import ADMIN_ROLES, Role
from jindu.demo import names
from jindu.demo.steps import DemoAccount, DemoContext
from jindu.orgs.models import OrgUnit


@dataclass(frozen=True)
class AccountSpec:
    role: Role
    username: str
    # Where the account sits: "county", "township", "grid"; "second" picks the
    # other township.
    place: str
    second: bool = False
    department: str | None = None


ACCOUNTS: list[AccountSpec] = [
    AccountSpec(Role.COUNTY_OFFICE, "office", "county"),
    AccountSpec(Role.DEPT_REPORTER, "reporter", "county", department="教育局"),
    AccountSpec(Role.TOWNSHIP_MANAGER, "cadre", "township"),
    AccountSpec(Role.TOWNSHIP_MANAGER, "cadre2", "township", second=True),
    AccountSpec(Role.GRID_WORKER, "grid", "grid"),
    AccountSpec(Role.GRID_WORKER, "grid2", "grid", second=True),
    AccountSpec(Role.POLICE, "police", "township", department="公安局"),
    AccountSpec(Role.LEADER, "leader", "county"),
    AccountSpec(Role.SYS_ADMIN, "sysadmin", "county"),
    AccountSpec(Role.SEC_ADMIN, "secadmin", "county"),
    AccountSpec(Role.AUDIT_ADMIN, "auditor", "county"),
]


def demo_password(rng: random.Random) -> str:
    """Readable, and within the default password rules (length, classes, not common)."""
    letters = "".join(rng.choice(string.ascii_lowercase) for _ in range(3))
    return f"Demo{rng.randint(1000, 9999)}#{letters}"


def demo_full_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = rng.choice(names.SURNAMES) + rng.choice(names.GIVEN)
        if name not in taken:
            taken.add(name)
            return name


def _home_townships(ctx: DemoContext) -> tuple[OrgUnit, OrgUnit]:
    """A town for the main accounts; a 乡 (or the next township) for the second ones,
    so that the two township cadres see different kinds of territory."""
    towns = [t for t in ctx.townships if t.name.endswith("镇")] or ctx.townships
    first = towns[0]
    others = [t for t in ctx.townships if t.name.endswith("乡") and t is not first]
    others = others or [t for t in ctx.townships if t is not first]
    return first, others[0]


def _first_grid_in(ctx: DemoContext, township: OrgUnit) -> OrgUnit:
    return next(grid for grid in ctx.grids if grid.path.startswith(township.path))


def build_accounts(ctx: DemoContext) -> None:
    rng = ctx.rng("accounts")
    first, second = _home_townships(ctx)
    taken: set[str] = set()
    for spec in ACCOUNTS:
        township = second if spec.second else first
        unit = {
            "county": ctx.county,
            "township": township,
            "grid": _first_grid_in(ctx, township),
        }[spec.place]
        password = demo_password(rng)
        full_name = demo_full_name(rng, taken)
        user = accounts.create_user(
            actor=None,
            username=spec.username,
            full_name=full_name,
            org_unit=unit,
            department=ctx.departments[spec.department] if spec.department else None,
            password=password,
            roles={spec.role.value},
            must_change_password=False,
        )
        secret = enrol_totp(user) if spec.role in ADMIN_ROLES else ""
        ctx.users[spec.username] = user
        ctx.accounts.append(
            DemoAccount(spec.role.value, spec.username, password, unit.name, secret)
        )
    ctx.log(f"  账号：{len(ctx.accounts)} 个（管理员已绑定动态口令）")


def enrol_totp(user: User) -> str:
    """Enrol as a person would: take the offered secret, answer with the current code."""
    secret = accounts.start_totp_enrolment(user=user)
    if not accounts.confirm_totp_enrolment(
        user=user, code=totp.code_at(secret, totp.current_counter())
    ):
        raise RuntimeError(f"TOTP enrolment of demo account {user.username} was refused")
    return secret
