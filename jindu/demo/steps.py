"""The ordered steps that fill a demo county.

The territory, the departments and the accounts are the first steps; every
later area of the work adds its own demo data by registering a step from its
``AppConfig.ready``::

    from jindu.demo.steps import register_step

    def demo_people(ctx: DemoContext) -> None:
        rng = ctx.rng("people")
        for grid in ctx.grids: ...

    register_step("people", demo_people, order=200)

A step writes through the app's own service functions (so the audit chain
covers demo data as it covers real data) and draws its randomness from
``ctx.rng(name)``: each step has its own generator seeded from the demo seed
and the step's name, so adding a step never changes what earlier steps made.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class DemoAccount:
    """One printed account line: role, username, password, org unit [, TOTP secret]."""

    role: str
    username: str
    password: str
    org_unit: str
    totp_secret: str = ""

    def line(self) -> str:
        fields = [self.role, self.username, self.password, self.org_unit]
        if self.totp_secret:
            fields.append(self.totp_secret)
        return "\t".join(fields)


@dataclass
class DemoContext:
    """What the steps share: the seed, the county as built so far, the accounts."""

    seed: int
    townships_wanted: int
    villages_wanted: int
    log_stream: TextIO = field(default=sys.stderr)
    county: Any = None
    townships: list[Any] = field(default_factory=list)
    villages: list[Any] = field(default_factory=list)
    grids: list[Any] = field(default_factory=list)
    # Member departments by short name (公安局, 教育局 …).
    departments: dict[str, Any] = field(default_factory=dict)
    # Demo users by username.
    users: dict[str, Any] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)

    def rng(self, name: str) -> random.Random:
        """A generator for one step, independent of every other step's draws."""
        return random.Random(f"jindu-demo:{self.seed}:{name}")

    def log(self, message: str) -> None:
        self.log_stream.write(message + "\n")
        self.log_stream.flush()


StepFunc = Callable[[DemoContext], None]


@dataclass(frozen=True)
class Step:
    name: str
    func: StepFunc
    order: int


_STEPS: dict[str, Step] = {}


def register_step(name: str, func: StepFunc, *, order: int = 100) -> None:
    """Add a step; steps run by ``order``, then by registration.

    The built-in steps use orders below 100 (territory 10, departments 20,
    accounts 30), so a step with the default order finds them all in ``ctx``.
    Registering a name again replaces the earlier step, so a reloaded app
    config does not run its step twice.
    """
    if not name or "\t" in name:
        raise ValueError(f"invalid demo step name {name!r}")
    _STEPS.pop(name, None)
    _STEPS[name] = Step(name, func, order)


def registered_steps() -> list[Step]:
    positions = {name: index for index, name in enumerate(_STEPS)}
    return sorted(_STEPS.values(), key=lambda step: (step.order, positions[step.name]))
