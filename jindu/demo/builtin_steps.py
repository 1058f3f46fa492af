"""The demo's own steps: the territory, the member departments and the accounts."""

from __future__ import annotations

from jindu.demo.accounts import build_accounts
from jindu.demo.county import build_departments, build_territory
from jindu.demo.steps import register_step


def register() -> None:
    register_step("territory", build_territory, order=10)
    register_step("departments", build_departments, order=20)
    register_step("accounts", build_accounts, order=30)
