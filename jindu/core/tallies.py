"""Tallies: the indicator registry's counts for large units, kept in step with the records.

A county's or a province's figure (people first found this year, people under
community detox today …) counted from the records means reading hundreds of
thousands of rows. Tallies hold the same counts per unit and per day for the
units from the county up (``TALLIED_LEVELS``), so that such a figure is a sum
over a few hundred small rows.

They are never stale and need no rebuild step: a *source* (the people register)
says what each of its records contributes — its *facts*, ``(key, leaf path,
day, n)`` — and every service that changes a record calls ``refresh`` in its own
transaction. ``refresh`` works the record's facts out again, compares them with
what the record added last time (kept in ``TallyFacts``), and adds the
difference to the tally of every large unit above the leaf. A record saved is
therefore counted before its transaction commits, and a failed transaction
takes its tally change with it.

Two kinds of key: an *event* (a person first found) is counted on its day and
summed over a period (``sums``); a *state* (under a measure, abstinent) adds +1
on the day it begins and −1 on the day it ends, and its level on a day is the
sum of everything up to that day (``levels``).

Units below a county are small: their figures are counted from the records
directly (the registry's own queries). ``jindu tallies verify`` recomputes every
fact and compares; ``jindu tallies rebuild`` starts the tallies again (after a
bulk load that bypassed the services, or a change of the rules the facts follow).
"""

from __future__ import annotations

import functools
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from jindu.core import jobs
from jindu.core.models import Tally, TallyFacts, TallyPending
from jindu.core.paths import ancestor_paths, common_ancestor

logger = logging.getLogger(__name__)

Fact = tuple[str, str, date, int]  # key, leaf path, day, n


class Counted(NamedTuple):
    """One record's facts, with the org path of the record itself (kept beside its
    facts, so that they are partitioned and sharded with it)."""

    org_path: str
    facts: list[Fact]


TALLIED_LEVELS = ("province", "city", "county")
# The first day of a state that has held "for ever" (before any record).
EPOCH = date(1900, 1, 1)
_CHUNK = 2000
_UPSERT_ROWS = 400


@dataclass(frozen=True)
class Source:
    """Records that feed tallies: their facts, and which records a subtree may hold.

    ``name`` prefixes every key the source writes (``people.found``).
    ``facts(ids)`` returns each record's facts (``Counted``); ``all_ids()`` every record;
    ``ids_within(path)`` every record that may have facts under ``path`` (for moves).
    """

    name: str
    facts: Callable[[Sequence[int]], dict[int, Counted]]
    all_ids: Callable[[], QuerySet]
    ids_within: Callable[[str], QuerySet]


SOURCES: dict[str, Source] = {}
# Set by ``from_records``: every figure counted from the records (tests, the benchmark).
_bypass: ContextVar[bool] = ContextVar("tallies_bypass", default=False)


def register_source(source: Source) -> Source:
    SOURCES[source.name] = source
    return source


# ------------------------------------------------------------------ where facts are added


class _Levels:
    """Which prefixes of the paths met are tallied units (one query per batch of new paths)."""

    def __init__(self) -> None:
        self.known: dict[str, list[str]] = {}

    def tallied_above(self, leaves: Iterable[str]) -> dict[str, list[str]]:
        from jindu.orgs.models import OrgUnit

        new = {leaf for leaf in leaves if leaf not in self.known}
        if new:
            prefixes = {p for leaf in new for p in ancestor_paths(leaf)}
            tallied: set[str] = set()
            ordered = sorted(prefixes)
            for start in range(0, len(ordered), 500):
                tallied.update(
                    OrgUnit.objects.filter(
                        path__in=ordered[start : start + 500], level__in=TALLIED_LEVELS
                    ).values_list("path", flat=True)
                )
            for leaf in new:
                self.known[leaf] = [p for p in ancestor_paths(leaf) if p in tallied]
        return self.known


def _expand(delta: Counter[StoredKey], levels: _Levels) -> Counter[StoredKey]:
    """Leaf facts summed into each tallied unit above (and at) their leaf."""
    above = levels.tallied_above({leaf for _key, leaf, _day in delta})
    out: Counter[StoredKey] = Counter()
    for (key, leaf, day), n in delta.items():
        if n:
            for path in above[leaf]:
                out[(key, path, day)] += n
    return out


def _upsert(rows: Counter[StoredKey]) -> None:
    """Add ``n`` to each tally, creating it where missing (sorted: no lock-order deadlocks)."""
    items = sorted((k, p, date.fromordinal(d), n) for (k, p, d), n in rows.items() if n)
    q = connection.ops.quote_name
    table = q(Tally._meta.db_table)
    n = q("n")
    cols_unique = ", ".join(q(c) for c in ("key", "org_path", "day"))
    cols = f"{cols_unique}, {n}"
    with connection.cursor() as cursor:
        for start in range(0, len(items), _UPSERT_ROWS):
            part = items[start : start + _UPSERT_ROWS]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
            params: list[Any] = [v for row in part for v in row]
            cursor.execute(
                f"INSERT INTO {table} ({cols}) VALUES {values} "  # noqa: S608
                f"ON CONFLICT ({cols_unique}) DO UPDATE SET {n} = {table}.{n} + excluded.{n}",
                params,
            )


Stored = tuple[str, str, int, int]  # a fact as kept: key, leaf path, day ordinal, n
StoredKey = tuple[str, str, int]


def _encode(facts: Iterable[Fact]) -> list[Stored]:
    # Days as ordinals: a register's facts take half the room of ISO dates. In the
    # source's order; compared as sorted (``_same``).
    return [(key, path, day.toordinal(), n) for key, path, day, n in facts if n]


def _same(before: list[Stored], after: list[Stored]) -> bool:
    return len(before) == len(after) and sorted(before) == sorted(after)


def _chunks(ids: Sequence[int], size: int = _CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def ids_q(field: str, ids: Sequence[int]) -> Q:
    """``field`` among sorted ``ids``: a range when they are one block of consecutive keys
    (a bulk load's), cheaper to build and to run than a list of thousands."""
    if ids and ids[-1] - ids[0] + 1 == len(ids):
        return Q(**{f"{field}__gte": ids[0], f"{field}__lte": ids[-1]})
    return Q(**{f"{field}__in": list(ids)})


def _insert_facts(source: str, rows: list[tuple[int, str, list[Stored]]]) -> None:
    """TallyFacts rows in plain multi-row inserts (a bulk load writes a hundred thousand)."""
    if not rows:
        return
    q = connection.ops.quote_name
    table = q(TallyFacts._meta.db_table)
    cols = ", ".join(q(c) for c in ("source", "record_id", "org_path", "facts"))
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            values = ", ".join([f"(%s, %s, %s, %s{cast})"] * len(part))
            params: list[Any] = []
            for record_id, path, stored in part:
                params += [source, record_id, path, json.dumps(stored, separators=(",", ":"))]
            cursor.execute(f"INSERT INTO {table} ({cols}) VALUES {values}", params)  # noqa: S608


def refresh(source: str, ids: Iterable[int], facts: dict[int, Counted] | None = None) -> int:
    """Count these records again: add to the tallies what changed since they were last
    counted. Call it inside the transaction that changed them. Returns how many
    records' facts changed. A record that no longer exists takes its facts away.

    ``facts`` may bring the records' facts already worked out by the source's own
    rule (a bulk load that holds the values it has just written)."""
    spec = SOURCES[source]
    wanted = sorted({int(i) for i in ids if i is not None})
    levels = _Levels()
    changed = 0
    # Summed over every chunk and written once at the end: each tally row is
    # updated once, not once per chunk (on PostgreSQL a row updated fifty times in
    # one transaction leaves fifty versions behind).
    # Facts are summed at the lowest tallied unit above their leaf (a county) as they
    # are read, then into the units above it once at the end.
    lowest: dict[str, str | None] = {}
    total: Counter[StoredKey] = Counter()
    for part in _chunks(wanted):
        new = spec.facts(part) if facts is None else {i: facts[i] for i in part if i in facts}
        old = {
            rid: (path, [tuple(f) for f in stored])
            for rid, path, stored in TallyFacts.objects.filter(
                ids_q("record_id", part), source=source
            ).values_list("record_id", "org_path", "facts")
        }
        fresh = {rid: _encode(c.facts) for rid, c in new.items()}
        leaves = {f[1] for stored in fresh.values() for f in stored}
        leaves.update(f[1] for _path, stored in old.values() for f in stored)
        above = levels.tallied_above(leaves - lowest.keys())
        for leaf in leaves - lowest.keys():
            lowest[leaf] = above[leaf][-1] if above[leaf] else None
        replace: dict[int, tuple[str, list[Stored]]] = {}
        for record_id in part:
            encoded = fresh.get(record_id, [])
            path = new[record_id].org_path if record_id in new else ""
            before_path, before = old.get(record_id, ("", []))
            if before and _same(before, encoded) and before_path == path:
                continue
            if not before and not encoded:
                continue
            for key, leaf, day, n in before:
                at = lowest[leaf]
                if at is not None:
                    total[(key, at, day)] = total.get((key, at, day), 0) - n
            for key, leaf, day, n in encoded:
                at = lowest[leaf]
                if at is not None:
                    total[(key, at, day)] = total.get((key, at, day), 0) + n
            replace[record_id] = (path, encoded)
        if not replace:
            continue
        changed += len(replace)
        gone = [rid for rid in replace if rid in old]
        if gone:
            TallyFacts.objects.filter(source=source, record_id__in=gone).delete()
        _insert_facts(source, [(rid, p, enc) for rid, (p, enc) in replace.items() if enc])
    _upsert(_expand(total, levels))
    return changed


# ------------------------------------------------------------------ bulk loads: counted after commit


SETTLE_JOB = "tallies.settle"


def defer(source: str, ids: Iterable[int], paths: Iterable[str]) -> TallyPending | None:
    """For a bulk load: note in its transaction that these records are still to be
    counted, and queue the background job that counts them (``settle``) once it
    commits; the loading process does not wait for the count (inline, for the
    command line and the tests, it runs right after the commit).

    Until then the units on ``paths`` (where the records may count: the load's
    scope), their ancestors and everything below them are counted from the records
    by the registry (``tallied`` leaves them out), so no figure is ever stale; the
    load's own transaction stays as short as the rows it writes. A settle that does
    not happen (the job fails) is done by the next one, or ``jindu tallies settle``.
    """
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return None
    where = [p for p in dict.fromkeys(paths) if p] or ["/"]
    # Records counted before may take counts away from where they counted then.
    for part in _chunks(wanted, 5000):
        for stored in TallyFacts.objects.filter(
            ids_q("record_id", part), source=source
        ).values_list("facts", flat=True):
            where.extend(leaf for _key, leaf, _day, _n in stored)
    pending = TallyPending.objects.create(
        source=source, org_path=common_ancestor(where), ids=wanted
    )
    jobs.enqueue(actor=None, kind=SETTLE_JOB, org_path="/")
    return pending


@jobs.task(SETTLE_JOB)
def _settle_job(job: Any, progress: Callable[..., None]) -> dict[str, int]:
    """The job a bulk load queues: count what it left pending."""
    progress(_("统计导入的记录"))
    return {"counted": settle()}


def settle() -> int:
    """Count every deferred block (each in its own transaction); returns how many
    records were counted. A block another process is counting is left to it."""
    counted = 0
    for pk in list(TallyPending.objects.order_by("pk").values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                block = (
                    TallyPending.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
                )
                if block is None:
                    continue
                refresh(block.source, block.ids)
                counted += len(block.ids)
                block.delete()
        except Exception:  # noqa: BLE001 — the load is committed; its block waits for the next settle
            logger.exception(
                "tallies: counting a deferred block failed; it stays for the next settle"
            )
            break
    return counted


def pending_paths() -> list[str]:
    return list(TallyPending.objects.values_list("org_path", flat=True).distinct())


def refresh_within(path: str) -> Callable[[], int]:
    """For a unit move: note every record that may count under ``path`` now, and return
    a function that counts them again once the paths are rewritten. What they added
    before is taken from the units above that keep their paths; the moved units' own
    tallies are dropped first (``forget_within``) and filled again."""
    noted = {name: list(spec.ids_within(path)) for name, spec in SOURCES.items()}

    def again() -> int:
        return sum(refresh(name, ids) for name, ids in noted.items())

    return again


def forget_within(path: str) -> int:
    """Drop the tallies of the units within ``path`` (a unit about to move: its records
    are counted again under its new path by ``refresh_within``'s function)."""
    deleted, _by_model = Tally.objects.filter(org_path__subtree=path).delete()
    return deleted


def rebuild(
    source: str | None = None, progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Forget and count again every record of a source (all sources when None).

    Run inside a transaction; the tallies are consistent when it commits.
    Returns the number of records counted per source.
    """
    done: dict[str, int] = {}
    for name in [source] if source else list(SOURCES):
        spec = SOURCES[name]
        Tally.objects.filter(key__startswith=f"{name}.").delete()
        TallyFacts.objects.filter(source=name).delete()
        TallyPending.objects.filter(source=name).delete()
        ids = list(spec.all_ids())
        levels = _Levels()
        totals: Counter[StoredKey] = Counter()
        for count, part in enumerate(_chunks(ids), start=1):
            rows = []
            leaf: Counter[StoredKey] = Counter()
            for record_id, (org_path, facts) in spec.facts(part).items():
                encoded = _encode(facts)
                if encoded:
                    rows.append((record_id, org_path, encoded))
                for key, path, day, n in encoded:
                    leaf[(key, path, day)] += n
            _insert_facts(name, rows)
            totals.update(_expand(leaf, levels))
            if progress:
                progress(min(count * _CHUNK, len(ids)), len(ids))
        _upsert(totals)
        done[name] = len(ids)
    return done


@dataclass(frozen=True)
class Difference:
    key: str
    org_path: str
    day: date
    expected: int
    found: int


def verify(source: str | None = None) -> list[Difference]:
    """Every tally that differs from the records' facts worked out afresh (empty when sound).

    Deferred bulk loads are counted first (``settle``): until then they are not in
    the tallies by design."""
    settle()
    differences: list[Difference] = []
    for name in [source] if source else list(SOURCES):
        spec = SOURCES[name]
        levels = _Levels()
        expected: Counter[StoredKey] = Counter()
        for part in _chunks(list(spec.all_ids())):
            leaf: Counter[StoredKey] = Counter()
            for _org_path, facts in spec.facts(part).values():
                for key, path, day, n in facts:
                    leaf[(key, path, day.toordinal())] += n
            expected.update(_expand(leaf, levels))
        found: Counter[StoredKey] = Counter()
        for key, path, day, n in Tally.objects.filter(key__startswith=f"{name}.").values_list(
            "key", "org_path", "day", "n"
        ):
            found[(key, path, day.toordinal())] += n
        for fact_key in sorted(set(expected) | set(found)):
            if expected[fact_key] != found[fact_key]:
                key, path, day = fact_key
                differences.append(
                    Difference(
                        key, path, date.fromordinal(day), expected[fact_key], found[fact_key]
                    )
                )
    return differences


# ------------------------------------------------------------------ reading


@contextmanager
def from_records() -> Iterator[None]:
    """Inside this block the registry counts every unit from the records, as it does
    below a county: what the tallies are checked against, and what they save."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


def tallied(paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` that are units with tallies (from the county up)."""
    from jindu.orgs.models import OrgUnit

    wanted = list(dict.fromkeys(paths))
    if not wanted or _bypass.get():
        return set()
    found = set(
        OrgUnit.objects.filter(path__in=wanted, level__in=TALLIED_LEVELS).values_list(
            "path", flat=True
        )
    )
    if found:
        # A unit a bulk load is still to be counted in (or above or below it) is
        # counted from the records until it is.
        for pending in pending_paths():
            found = {p for p in found if not (p.startswith(pending) or pending.startswith(p))}
    return found


Many = Callable[[Sequence[str], Any], dict[str, Any]]


def answered(from_tallies: Many) -> Callable[[Many], Many]:
    """For an indicator's ``compute_many``: the tallied units among the paths asked
    (counties and above, none pending) are answered by ``from_tallies``, the rest by
    the function decorated, which counts the records themselves."""

    def wrap(from_records: Many) -> Many:
        @functools.wraps(from_records)
        def many(paths: Sequence[str], period: Any) -> dict[str, Any]:
            if not paths:
                return {}
            big = tallied(paths)
            result: dict[str, Any] = {}
            if big:
                result.update(from_tallies([p for p in paths if p in big], period))
            rest = [p for p in paths if p not in big]
            if rest:
                result.update(from_records(rest, period))
            return result

        return many

    return wrap


def sums(key: str, paths: Sequence[str], start: date | None, end: date) -> dict[str, int]:
    """Σ n of an event key for each path over days in [start, end) (from the beginning
    when ``start`` is None)."""
    if not paths:
        return {}
    condition = Q(key=key, org_path__in=list(paths), day__lt=end)
    if start is not None:
        condition &= Q(day__gte=start)
    rows = (
        Tally.objects.filter(condition).order_by().values_list("org_path").annotate(total=Sum("n"))
    )
    result = dict.fromkeys(paths, 0)
    result.update({path: int(total or 0) for path, total in rows})
    return result


def levels_on(key: str, paths: Sequence[str], day: date) -> dict[str, int]:
    """The level of a state key on ``day`` for each path (everything up to and on that day)."""
    return sums(key, paths, None, day + timedelta(days=1))


def levels_by_key(keys: Sequence[str], path: str, day: date) -> dict[str, int]:
    """Several state keys at one path on ``day`` (one query)."""
    rows = (
        Tally.objects.filter(key__in=list(keys), org_path=path, day__lt=day + timedelta(days=1))
        .order_by()
        .values_list("key")
        .annotate(total=Sum("n"))
    )
    return {key: int(total or 0) for key, total in rows}
