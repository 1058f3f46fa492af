"""The demo county's people: a few thousand, with three years and more of history.

Drawn by ``jindu.people.seed``'s generator from the demo seed and written
through the bulk path in one step with one audit row: measures with report-ins,
tests mostly on schedule and some missed, talks and visits, relapses, transfers
between townships, people lost from control, people abstinent for three years
and more, help teams mostly complete. The demo's township cadres and police
officer sit in the teams of people in their township, so that their "my people"
pages have people in them (a grid worker sees everyone in their grid anyway).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from jindu.demo.steps import DemoContext, register_step
from jindu.people.seed import Counts, generate_register, places_in
from jindu.people.synthetic import Plan

# About twelve registered people per village or community: a county of 200
# villages has some 2,400, as a county of 300,000 people might.
PEOPLE_PER_VILLAGE = 12


def _team_accounts(ctx: DemoContext) -> dict[tuple[str, int], int]:
    """(team role, township id) → the demo account that fills that role there."""
    accounts: dict[tuple[str, int], int] = {}
    for username, role in (
        ("cadre", "township_cadre"),
        ("cadre2", "township_cadre"),
        ("police", "community_police"),
    ):
        user = ctx.users.get(username)
        if user is not None and user.org_unit.level == "township":
            accounts[(role, user.org_unit_id)] = user.pk
    return accounts


def build_people(ctx: DemoContext) -> None:
    from jindu.audit.actions import Action
    from jindu.audit.services import record

    places = places_in(ctx.county.path)
    accounts = _team_accounts(ctx)

    def account(plan: Plan, role: str) -> Any:
        return accounts.get((role, plan.place.township_id))

    counts: Counts = generate_register(
        places=places,
        persons=max(len(ctx.villages), 1) * PEOPLE_PER_VILLAGE,
        events=None,
        seed=ctx.rng("people").randrange(2**31),
        today=timezone.localdate(),
        log=_Quiet(),
        batch=2000,
        transfer_share=0.03,
        users=account,
    )
    record(
        actor=None,
        action=Action.IMPORTED,
        object_type="people.person",
        object_repr="演示人员",
        detail={"source": "demo", **counts.__dict__},
    )
    ctx.log(
        f"  人员：{counts.persons} 人，{counts.measures} 条措施，{counts.tests} 次检测，"
        f"{counts.visits} 次走访，{counts.absences} 条外出，{counts.transfers} 次移交"
    )


class _Quiet:
    """The generator's progress lines are for hour-long seeds, not for the demo's log."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def register() -> None:
    register_step("people", build_people, order=200)
