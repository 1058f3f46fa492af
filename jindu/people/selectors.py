"""Reads of the register for its list, count and export.

Every read starts from ``Person.objects.for_user``. A page is fetched by keyset
(``org_path``, ``id``): the next page starts after the last row shown, so that
page 10,000 costs what page 1 costs, with no OFFSET. Flags that the dated facts
on ``Person`` decide are filtered in SQL; the ones that need a person's own rows
(measure, team) are narrowed in SQL and confirmed row by row with
``rules.bulk_flags``, the same rule that draws the badges.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from jindu.core.paths import upper_bound
from jindu.orgs.models import OrgUnit
from jindu.people.dates import add_years
from jindu.people.models import FollowUpPolicy, Measure, Person, TeamMember
from jindu.people.rules import Flags, bulk_flags
from jindu.people.schedule import COMMUNITY_KINDS
from jindu.people.status import annotate_status, lost_contact_q

PAGE_SIZE = 50
COUNT_CAP = 1000
MINOR_YEARS = 18

FLAG_CHOICES = [
    ("lost_contact", _("失控")),
    ("not_reported", _("逾期未报到")),
    ("team_incomplete", _("帮教小组不全")),
    ("key_person", _("重点人员")),
    ("sick_or_disabled", _("病残")),
    ("poverty", _("因毒致贫/返贫")),
    ("minor", _("未成年")),
]
# Flags whose SQL narrowing is confirmed per row with the rules' own answer.
CONFIRMED_FLAGS = {
    "lost_contact": lambda f: f.lost_contact,
    "team_incomplete": lambda f: bool(f.team_missing),
}
# Columns decrypted only on the detail page and in a full export.
LIST_DEFERRED = ("household_address", "current_address", "phone", "notes")


@dataclass
class PersonFilter:
    unit: OrgUnit | None = None
    status: str = ""
    flags: frozenset[str] = field(default_factory=frozenset)
    name: str = ""

    def describe(self) -> dict[str, Any]:
        """The filter as the audit log records it (no personal data in it)."""
        return {
            "unit": self.unit.name if self.unit else "",
            "status": self.status,
            "flags": sorted(self.flags),
            "name": self.name,
        }

    @property
    def empty(self) -> bool:
        return not (self.unit or self.status or self.flags or self.name)


def _alive_here() -> Q:
    return Q(died_on__isnull=True, moved_away_on__isnull=True)


def flag_q(flag: str, today: date, policy: FollowUpPolicy) -> Q:
    """The SQL side of one flag (for the confirmed ones, a superset of the rule)."""
    if flag == "key_person":
        return Q(key_person=True)
    if flag == "sick_or_disabled":
        return Q(sick_or_disabled=True)
    if flag == "poverty":
        return Q(poverty_by_drugs=True)
    if flag == "minor":
        return Q(birth_date__gt=add_years(today, -MINOR_YEARS))
    if flag == "lost_contact":
        return lost_contact_q(today, policy.lost_contact_days)
    if flag == "not_reported":
        # The rule's own answer (``rules.flags_for``): the latest measure is a community
        # one, neither reported in to nor ended, decided more than the period ago.
        deadline_passed = today - timedelta(days=policy.report_in_days)
        return Q(awaiting_report_since__lt=deadline_passed) & _alive_here()
    if flag == "team_incomplete":
        # The rules look at the latest measure (its kind is on the person) and call it
        # running until it is ended, whatever its planned end.
        open_community = Measure.objects.filter(
            person=OuterRef("pk"), kind__in=COMMUNITY_KINDS
        ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
        under = Q(measure_kind__in=COMMUNITY_KINDS) & _alive_here()
        missing = Q()
        for role in TeamMember.REQUIRED:
            present = TeamMember.objects.filter(
                person=OuterRef("pk"), role=role, left_on__isnull=True
            )
            missing |= ~Exists(present)
        return under & Exists(open_community) & missing
    raise ValueError(f"unknown flag {flag!r}")


def plain_flags(person: Person, today: date) -> list[str]:
    """The labels of the flags a person's own fields decide (no rule, no query)."""
    minor = person.birth_date > add_years(today, -MINOR_YEARS)
    held = {
        "key_person": person.key_person,
        "sick_or_disabled": person.sick_or_disabled,
        "poverty": person.poverty_by_drugs,
        "minor": minor,
    }
    return [str(label) for key, label in FLAG_CHOICES if held.get(key)]


def filtered(
    user: Any, filters: PersonFilter, today: date, policy: FollowUpPolicy | None = None
) -> QuerySet[Person]:
    """The people in ``user``'s scope matching ``filters``, in keyset order."""
    policy = policy or FollowUpPolicy.current()
    qs = Person.objects.for_user(user)
    if filters.unit is not None:
        qs = qs.within(filters.unit.path)
    if filters.status:
        qs = annotate_status(qs, today, policy.abstinence_years).filter(status=filters.status)
    for flag in sorted(filters.flags):
        qs = qs.filter(flag_q(flag, today, policy))
    if filters.name:
        qs = qs.filter(name__contains=filters.name)
    return qs.order_by("org_path", "id")


# ------------------------------------------------------------------ choosing a unit


def unit_options(user: Any, chosen: OrgUnit | None) -> list[dict[str, Any]]:
    """The unit chooser's options: the way down from the user's unit to the chosen one,
    and the chosen one's children.

    A province holds tens of thousands of units, too many for one list: choosing a
    unit opens its children, so any unit of the subtree is a few choices away.
    """
    own = user.org_unit
    base = chosen or own
    chain = [a for a in base.ancestors() if a.path.startswith(own.path)] + [base]
    options = [
        {"unit": unit, "depth": unit.depth - own.depth, "selected": unit == chosen}
        for unit in chain
    ]
    children = OrgUnit.objects.filter(parent=base, active=True).order_by(
        "sort_order", "division_code", "name", "id"
    )
    options += [
        {"unit": unit, "depth": unit.depth - own.depth, "selected": False} for unit in children
    ]
    for option in options:
        option["indent"] = "\u3000" * max(option["depth"], 0)
    return options


def responsible_units(user: Any, under: OrgUnit) -> QuerySet[OrgUnit]:
    """Villages and grids of ``under`` that a person may be made the responsibility of."""
    from jindu.people.services import RESPONSIBLE_LEVELS

    return (
        OrgUnit.objects.for_user(user)
        .within(under.path)
        .filter(level__in=RESPONSIBLE_LEVELS, active=True)
        .order_by("path")
    )


# ------------------------------------------------------------------ keyset pages

_CURSOR = re.compile(r"^(/(?:\d+/)+),(\d{1,18})$")


def encode_cursor(person: Person) -> str:
    return f"{person.org_path},{person.pk}"


def decode_cursor(raw: str | None) -> tuple[str, int] | None:
    """A cursor from the query string, or None when it is missing or malformed."""
    match = _CURSOR.match(raw or "")
    if not match:
        return None
    return match.group(1), int(match.group(2))


@cache
def _byte_ordered(vendor: str, database: str) -> bool:
    """Whether text compares byte by byte, so that a subtree is one contiguous range."""
    if vendor == "sqlite":
        return True
    if vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        row = cursor.fetchone()
    return bool(row) and row[0].split(".")[0] in ("C", "POSIX")


def _bounded(qs: QuerySet[Person], scope: str) -> QuerySet[Person]:
    """Add the subtree as a range on the keyset index, where the collation allows.

    ``for_user`` already selects the subtree (with ``LIKE`` on PostgreSQL, which
    the keyset index cannot serve); the range lets a scan on that index stop at
    the subtree's end instead of reading on to the end of the table.
    """
    if scope and _byte_ordered(connection.vendor, connection.settings_dict.get("NAME", "")):
        return qs.filter(org_path__gte=scope, org_path__lt=upper_bound(scope))
    return qs


def _keyset(qs: QuerySet[Person], condition: Q) -> QuerySet[Person]:
    """``qs`` from a cursor on, the cursor's condition first in the query.

    SQLite bounds a scan of the keyset index by the first range on ``org_path``
    it meets; after the scope's range (``for_user``) it would read the subtree
    from its start to the cursor and throw that away (400 ms at the end of a
    million rows instead of 1 ms).
    """
    return Person.objects.filter(condition) & qs


@dataclass
class Page:
    rows: list[Person]
    flags: dict[int, Flags]
    next_cursor: str | None
    prev_cursor: str | None
    first: bool


def page(
    qs: QuerySet[Person],
    *,
    scope: str,
    today: date,
    after: tuple[str, int] | None = None,
    before: tuple[str, int] | None = None,
    size: int = PAGE_SIZE,
    confirm: frozenset[str] = frozenset(),
    policy: FollowUpPolicy | None = None,
) -> Page:
    """One page of ``qs`` after (or before) a cursor, with each row's flags.

    Rows the per-row rules do not confirm (``confirm``) are left out of the page;
    the cursors still move past them, so every row is seen at most once.
    """
    qs = _bounded(qs, scope)
    backwards = before is not None and after is None
    if after is not None:
        path, pk = after
        qs = _keyset(qs, Q(org_path__gte=path) & (Q(org_path__gt=path) | Q(pk__gt=pk)))
    elif before is not None:
        path, pk = before
        qs = _keyset(qs, Q(org_path__lte=path) & (Q(org_path__lt=path) | Q(pk__lt=pk)))
        qs = qs.order_by("-org_path", "-id")
    qs = qs.select_related("org_unit").defer(*LIST_DEFERRED)
    fetched = list(qs[: size + 1])
    more = len(fetched) > size
    fetched = fetched[:size]
    if backwards:
        fetched.reverse()
    flags = bulk_flags(fetched, today, policy) if fetched else {}
    rows = [p for p in fetched if all(CONFIRMED_FLAGS[f](flags[p.pk]) for f in confirm)]
    if backwards:
        next_cursor = encode_cursor(fetched[-1]) if fetched else None
        prev_cursor = encode_cursor(fetched[0]) if more else None
        first = not more
    else:
        next_cursor = encode_cursor(fetched[-1]) if more else None
        prev_cursor = encode_cursor(fetched[0]) if after is not None and fetched else None
        first = after is None
    return Page(rows, flags, next_cursor, prev_cursor, first)


def capped_count(qs: QuerySet[Person], *, scope: str, cap: int | None = None) -> tuple[int, bool]:
    """How many rows match, counting no further than ``cap`` (True when capped)."""
    cap = COUNT_CAP if cap is None else cap
    n = _bounded(qs, scope).order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


def confirmed_flags(filters: PersonFilter) -> frozenset[str]:
    return frozenset(filters.flags) & CONFIRMED_FLAGS.keys()


def iterate(
    qs: QuerySet[Person],
    *,
    scope: str,
    today: date,
    confirm: frozenset[str] = frozenset(),
    chunk: int = 500,
    deferred: tuple[str, ...] = LIST_DEFERRED,
) -> Iterator[tuple[Person, Flags]]:
    """Every matching person with their flags, a keyset chunk at a time (for exports)."""
    after: tuple[str, int] | None = None
    base = _bounded(qs, scope)
    while True:
        batch = base
        if after is not None:
            path, pk = after
            batch = _keyset(batch, Q(org_path__gte=path) & (Q(org_path__gt=path) | Q(pk__gt=pk)))
        rows = list(batch.select_related("org_unit").defer(*deferred)[:chunk])
        if not rows:
            return
        flags = bulk_flags(rows, today)
        for person in rows:
            if all(CONFIRMED_FLAGS[f](flags[person.pk]) for f in confirm):
                yield person, flags[person.pk]
        after = (rows[-1].org_path, rows[-1].pk)
        if len(rows) < chunk:
            return
