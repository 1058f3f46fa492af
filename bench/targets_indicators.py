"""Time the people-based indicators, reported values, completion and the board on a
large register.

    python bench/targets_indicators.py [--persons N] [--sqlite FILE | --postgres URL]
                                       [--runs N] [--rebuild]

Without ``--sqlite``/``--postgres`` the register is built once with ``jindu seed
--persons N`` (a synthetic province, some twenty events a person) into its own
database under /tmp and reused on later runs. With ``--sqlite FILE`` an
existing seeded database is read as it is (nothing is migrated or written
there); indicators whose tables it lacks are reported as skipped.

Prints, for each people-based indicator, the median time of one value for a
village, a township, a county and the whole province (last year, or this year
for the figures of the day); then, when the targets tables exist, the
townships of a county side by side (``by_units``), a county's completion table
and the four-up four-down board. Nothing is asserted: the figures are for the
closing note (target: well under 30 ms for one unit and period).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _register import add_register_options, median_ms, open_register

VAR = Path("/tmp/jindu-bench-targets")
DAILY = ("tests_overdue", "lost_control", "teams_complete_rate")
# Person by person over a whole province (a worklist, abstinence's windows): minutes.
SLOW_AT_PROVINCE = ("tests_overdue", "abstinent_3y", "abstinent_3y_growth")


def _tables() -> set[str]:
    from django.db import connection

    return set(connection.introspection.table_names())


def measure(runs: int) -> None:
    from django.utils import timezone

    from jindu.core import indicators
    from jindu.core.indicators import Period
    from jindu.orgs.models import OrgUnit
    from jindu.people.indicators import KEYS

    tables = _tables()
    today = timezone.localdate()
    root = OrgUnit.objects.filter(parent=None).order_by("path").first()
    county = OrgUnit.objects.filter(level="county").order_by("path").first()
    township = OrgUnit.objects.filter(parent=county).order_by("path").first()
    village = OrgUnit.objects.filter(parent=township).order_by("path").first()
    units = (("village", village), ("township", township), ("county", county), ("province", root))
    last_year, this_year = Period.year(today.year - 1), Period.year(today.year)
    print(f"\none value (median of {runs} runs), ms:")
    print(f"{'indicator':<24}" + "".join(f"{name:>14}" for name, _u in units))
    for key in KEYS:
        if key == "minors_share" and "enforcement_suspect" not in tables:
            print(f"{key:<24}  skipped: no enforcement tables in this database")
            continue
        period = this_year if key in DAILY else last_year
        cells = []
        for name, unit in units:
            if name == "province" and key in SLOW_AT_PROVINCE:
                cells.append("skipped")
                continue
            ms, _value = median_ms(
                lambda u=unit, k=key, p=period: indicators.value(k, u.path, p), runs
            )
            cells.append(f"{ms:.1f}")
        print(f"{key:<24}" + "".join(f"{c:>14}" for c in cells), flush=True)

    townships = list(OrgUnit.objects.filter(parent=county).order_by("path"))
    paths = [t.path for t in townships]
    print(f"\n{len(townships)} townships of a county side by side (by_units), ms:")
    for key in KEYS:
        if key == "minors_share" and "enforcement_suspect" not in tables:
            continue
        period = this_year if key in DAILY else last_year
        ms, _v = median_ms(lambda k=key, p=period: indicators.by_units(k, paths, p), runs)
        one, _v = median_ms(
            lambda k=key, p=period: [indicators.value(k, x, p) for x in paths], max(1, runs // 2)
        )
        print(f"  {key:<24}{ms:9.1f}   one at a time {one:9.1f}", flush=True)

    if "targets_target" not in tables:
        print("\nno targets tables in this database: completion and the board skipped")
        return
    from jindu.targets import board, completion

    ms, rows = median_ms(lambda: completion.completion_for(county, today.year, today), runs)
    print(f"\ncompletion table of a county ({len(rows)} targets): {ms:.1f} ms")
    ms, rows = median_ms(lambda: board.board(county.path, today.year - 1), runs)
    print(f"four-up four-down board of a county: {ms:.1f} ms")
    ms, _rows = median_ms(lambda: board.board_by_units(paths, today.year - 1), runs)
    print(f"board for {len(paths)} townships side by side: {ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_register_options(parser, "an existing seeded SQLite database, read as it is")
    args = parser.parse_args()
    open_register(args, VAR, "targets")
    from django.db import connection

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    measure(args.runs)


if __name__ == "__main__":
    main()
