"""The demo county generator, in-process: the plan, the steps and the guards."""

from __future__ import annotations

import random
import re

import pytest

from jindu.accounts.models import User
from jindu.audit.models import AuditEvent
from jindu.audit.services import verify
from jindu.core.roles import ADMIN_ROLES, Role
from jindu.demo import builder, names, steps
from jindu.demo.county import plan_county, township_kinds
from jindu.demo.models import DemoMarker
from jindu.orgs.division import Level, code_errors
from jindu.orgs.models import Department, OrgUnit


def plan(seed: int = 7, townships: int = 15, villages: int = 200):
    return plan_county(random.Random(seed), townships, villages)


def test_same_seed_plans_the_same_county():
    assert plan(seed=11) == plan(seed=11)


def test_another_seed_plans_other_villages():
    def village_names(p):
        return [v.name for t in p.townships for v in t.villages]

    assert village_names(plan(seed=1)) != village_names(plan(seed=2))


def test_default_county_has_the_requested_size_and_a_mix_of_township_kinds():
    county = plan()
    suffixes = [t.name[-2:] if t.name.endswith("街道") else t.name[-1] for t in county.townships]
    assert len(county.townships) == 15
    assert county.village_count == 200
    assert {"街道", "镇", "乡"} == set(suffixes)
    for township in county.townships:
        assert township.villages, township.name
        for village in township.villages:
            assert 1 <= len(village.grids) <= 3


def test_every_planned_code_is_valid_under_its_parent():
    county = plan()
    assert code_errors(county.code, Level.COUNTY, None, None) == []
    for township in county.townships:
        assert code_errors(township.code, Level.TOWNSHIP, Level.COUNTY, county.code) == []
        for village in township.villages:
            assert code_errors(village.code, Level.VILLAGE, Level.TOWNSHIP, township.code) == []


def test_unit_names_and_codes_are_unique_across_the_county():
    county = plan(villages=600, townships=20)
    unit_names = [t.name for t in county.townships]
    unit_names += [v.name for t in county.townships for v in t.villages]
    codes = [t.code for t in county.townships]
    codes += [v.code for t in county.townships for v in t.villages]
    assert len(unit_names) == len(set(unit_names))
    assert len(codes) == len(set(codes))


def test_the_county_code_is_an_unused_county_number_in_a_real_province():
    assert re.fullmatch(r"62\d{4}000000", names.COUNTY_CODE)
    # 定西市's real counties are 621102 and 621121–621126.
    assert names.COUNTY_CODE[:6] not in {"621102", *(f"6211{n}" for n in range(21, 27))}


def test_no_real_town_from_the_speech_is_used():
    county = plan(townships=names.MAX_TOWNSHIPS, villages=600)
    every_name = [county.name] + [t.name for t in county.townships]
    every_name += [v.name for t in county.townships for v in t.villages]
    assert not [n for n in every_name if "平襄" in n]


def test_small_counties_still_get_towns():
    assert township_kinds(2) == ["town", "town"]
    assert township_kinds(15).count("street") == 2


@pytest.mark.parametrize(
    ("townships", "villages"), [(1, 5), (names.MAX_TOWNSHIPS + 1, 300), (5, 4), (5, 601)]
)
def test_sizes_out_of_range_are_refused(townships, villages):
    with pytest.raises(ValueError):
        plan(townships=townships, villages=villages)


# ---------------------------------------------------------------- the steps, in the database
BUILTIN_STEPS = {"territory", "departments", "accounts"}


@pytest.fixture
def builtin_only(monkeypatch):
    """The demo's own steps; the areas' steps have their own tests, and one below runs all."""
    kept = {name: step for name, step in steps._STEPS.items() if name in BUILTIN_STEPS}
    monkeypatch.setattr(steps, "_STEPS", kept)


@pytest.fixture
def small_demo(db, builtin_only):
    return builder.generate(seed=5, townships=3, villages=8, log=_Discard())


def test_every_registered_step_builds_a_small_county_and_the_audit_chain_holds(db):
    accounts = builder.generate(seed=5, townships=2, villages=3, log=_Discard())
    assert len(accounts) >= len(Role) + 2
    assert DemoMarker.objects.get().steps == [s.name for s in steps.registered_steps()]
    assert verify().ok


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_generate_builds_territory_departments_and_one_account_per_role(small_demo):
    assert OrgUnit.objects.filter(level=Level.COUNTY).count() == 1
    assert OrgUnit.objects.filter(level=Level.TOWNSHIP).count() == 3
    assert OrgUnit.objects.filter(level=Level.VILLAGE).count() == 8
    assert OrgUnit.objects.filter(level=Level.GRID).count() >= 8
    assert Department.objects.count() == len(names.DEPARTMENTS)
    assert all(d.duties for d in Department.objects.all())
    roles = {account.role for account in small_demo}
    assert roles == {role.value for role in Role}
    assert len(small_demo) == len(Role) + 2


def test_demo_accounts_need_no_password_change_and_admins_have_totp(small_demo):
    for account in small_demo:
        user = User.objects.get(username=account.username)
        assert not user.must_change_password
        assert user.check_password(account.password)
        if Role(account.role) in ADMIN_ROLES:
            assert user.totp_enrolled
            assert user.totp_secret == account.totp_secret
        else:
            assert account.totp_secret == ""


def test_second_cadre_and_grid_worker_sit_in_another_township(small_demo):
    by_name = {a.username: User.objects.get(username=a.username) for a in small_demo}

    def township_of(user):
        return user.org_unit.ancestor_ids()[1]

    assert township_of(by_name["cadre"]) != township_of(by_name["cadre2"])
    assert township_of(by_name["grid"]) == township_of(by_name["cadre"])
    assert township_of(by_name["grid2"]) == township_of(by_name["cadre2"])
    assert by_name["grid"].org_unit.level == Level.GRID


def test_every_demo_write_is_in_the_audit_chain(small_demo):
    units = OrgUnit.objects.count()
    created = AuditEvent.objects.filter(action="record.created", object_type="orgs.orgunit")
    assert created.count() == units
    assert AuditEvent.objects.filter(action="account.created").count() == len(small_demo)
    assert verify().ok


def test_generate_marks_the_database_as_demo(small_demo):
    marker = DemoMarker.objects.get()
    assert marker.seed == 5
    assert [a["username"] for a in marker.accounts] == [a.username for a in small_demo]
    assert builder.missing_steps(marker) == []


def test_database_with_real_data_and_no_marker_is_refused(personas):
    with pytest.raises(builder.DemoRefused):
        builder.check_target(allow_postgres=True)


def test_empty_database_is_accepted(db):
    state = builder.check_target(allow_postgres=True)
    assert not state.has_data and state.marker is None


def test_demo_database_is_recognised(small_demo):
    state = builder.check_target(allow_postgres=True)
    assert state.has_data and state.marker is not None


# ---------------------------------------------------------------- the step registry
@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(steps, "_STEPS", dict(steps._STEPS))
    return steps


def test_a_later_step_runs_after_the_builtin_ones_and_sees_their_work(builtin_only, registry, db):
    seen = {}

    def count_grids(ctx):
        seen["grids"] = len(ctx.grids)
        seen["users"] = sorted(ctx.users)

    registry.register_step("count-grids", count_grids)
    builder.generate(seed=5, townships=2, villages=3, log=_Discard())
    assert seen["grids"] >= 3
    assert "cadre" in seen["users"]
    assert "count-grids" in DemoMarker.objects.get().steps


def test_steps_run_by_order_then_registration(registry):
    registry.register_step("late", lambda ctx: None, order=10_000)
    registry.register_step("early", lambda ctx: None, order=5)
    names_in_order = [step.name for step in registry.registered_steps()]
    assert names_in_order[0] == "early"
    assert names_in_order[-1] == "late"
    assert names_in_order.index("territory") < names_in_order.index("accounts")


def test_registering_a_name_again_replaces_the_step(registry):
    registry.register_step("twice", lambda ctx: None)
    registry.register_step("twice", lambda ctx: None)
    assert [step.name for step in registry.registered_steps()].count("twice") == 1


def test_a_marker_from_before_a_new_step_names_it_as_missing(registry, small_demo):
    registry.register_step("newer", lambda ctx: None)
    assert builder.missing_steps(DemoMarker.objects.get()) == ["newer"]


def test_each_step_draws_from_its_own_generator():
    ctx = steps.DemoContext(seed=3, townships_wanted=2, villages_wanted=2)
    assert ctx.rng("a").random() == ctx.rng("a").random()
    assert ctx.rng("a").random() != ctx.rng("b").random()
