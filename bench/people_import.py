"""Time the import of a 100,000-row legacy register sheet into a fresh database.

    python bench/people_import.py [--rows N] [--postgres URL] [--no-sqlite]

The sheet is generated once (cached under /tmp/jindu-bench/), saved the way Excel
and WPS save a workbook (shared strings; ``--sheet-style inline`` writes it as
openpyxl's write-only mode does instead), and filled the way county registers arrive: a merged title row, Chinese headers under their
usual aliases, dates in five notations, some 15-digit ID numbers, lower-case x,
full-width digits, phones typed as numbers, units by name or division code, and
about one row in a hundred wrong (bad check digit, duplicate, unknown unit,
impossible dates). Each database run is a fresh process on a fresh database
holding the demo county's territory and a county-office user, who imports the
sheet with full validation, encryption and de-duplication. Prints the time of
each phase (read, parse, prefetch, check, write) and the total, then imports
the same sheet again (which must change nothing) and prints that time too.

``--register FILE`` imports into a fresh copy of a SQLite register built by
``jindu seed`` (a province of 1,000,000 people and 20 million events), into its
first county, with a sheet made of that county's villages and grids.

``--runs N`` repeats each database's run and prints every run, then the best and
the median total, with the load average before each run (other work on the
machine slows every phase).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path("/tmp/jindu-bench")
ENV = {
    "JINDU_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "JINDU_DATA_KEY": "bench-only-data-key-0123456789",
    "DJANGO_SETTINGS_MODULE": "jindu.settings",
}
HEADERS = [
    "序号", "姓名", "性别", "民族", "公民身份号码", "户籍地址", "现住址", "联系电话",
    "所属村（社区）", "首次发现时间", "滥用毒品种类", "发现方式", "职业", "就业状况",
    "是否持有驾驶证", "病残", "因毒致贫", "重点人员", "管控措施", "决定日期", "报到日期", "备注",
]  # fmt: skip
DRUG_LABELS = {"methamphetamine": "冰毒", "heroin": "海洛因", "ketamine": "K粉",
               "meth_tablet": "麻古", "mdma": "摇头丸", "cannabis": "大麻",
               "methcathinone": "甲卡西酮", "nps": "新精神活性物质"}  # fmt: skip
HOW = {"police_seized": "公安查获", "community_screening": "社区排查",
       "self_reported": "自首/自愿", "isolation_transfer": "强制隔离戒毒所转入",
       "other_area_notice": "外地通报"}  # fmt: skip
EMPLOY = {"none": "无业", "flexible": "灵活就业", "employed": "就业", "unemployed": "失业",
          "other": "其他"}  # fmt: skip
KINDS = {"community_detox": "社区戒毒", "community_rehab": "社区康复",
         "compulsory_isolation": "强制隔离戒毒", "prison": "服刑", "methadone": "药物维持治疗"}  # fmt: skip
ETHNIC = {"01": "汉族", "03": "回族", "04": "藏族", "30": "土族", "26": "东乡族"}
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _date_cell(rng: random.Random, day: date):
    roll = rng.random()
    if roll < 0.4:
        return day
    if roll < 0.6:
        return f"{day.year}.{day.month}.{day.day}"
    if roll < 0.8:
        return f"{day.year}年{day.month}月{day.day}日"
    if roll < 0.9:
        return day.strftime("%Y/%m/%d")
    return (day - date(1899, 12, 30)).days


def make_sheet(path: Path, rows: int, style: str = "excel", county: tuple | None = None) -> None:
    """The legacy sheet, from the demo county's plan (or ``county``: its name, division
    code and units, as ``register_county`` reads them) and the seed's person generator.

    ``excel``: saved as Excel and WPS save a workbook (text in the shared-string
    table, UTF-8), written with XlsxWriter. ``inline``: as openpyxl's write-only
    mode saves it (each text in its cell, every Chinese character an XML character
    reference: twice the XML for the same sheet), which no county's file looks like
    but some programs write.
    """
    from jindu.demo.county import plan_county
    from jindu.demo.steps import DemoContext
    from jindu.people.synthetic import Generator, Place

    ctx = DemoContext(seed=2019, townships_wanted=15, villages_wanted=200)
    plan = plan_county(ctx.rng("territory"), 15, 200)
    places = []
    if county is None:
        name = plan.name
        for t_index, township in enumerate(plan.townships):
            for village in township.villages:
                address = f"{plan.name}{township.name}{village.name}"
                places.append(
                    (Place(0, "", village.name, t_index, plan.code, address), village.code)
                )
                for grid in village.grids:
                    places.append((Place(0, "", grid, t_index, plan.code, address), ""))
    else:
        # ID numbers keep the demo county's region, so that none is one of the register's.
        name, _code, units = county
        for unit, code, t_index, address in units:
            places.append((Place(0, "", unit, t_index, plan.code, address), code or ""))
    rng = random.Random(20260101)
    gen = Generator(random.Random(7), date.today())
    title = f"{name}吸毒人员登记表（截至{date.today():%Y年%m月}）"
    append, save = _sheet_writer(path, style, title)
    append(HEADERS)
    ids: list[str] = []
    for i in range(rows):
        place, code = places[i % len(places)]
        person = gen.person(place, i)
        v = person.values
        number = person.id_number
        if person.birth.year < 2000 and rng.random() < 0.03:
            number = number[:6] + number[8:17]  # the 15-digit number issued before 1999
        elif number.endswith("X") and rng.random() < 0.5:
            number = number[:-1] + "x"
        elif rng.random() < 0.01:
            number = number.translate(FULLWIDTH)
        unit = code if code and rng.random() < 0.3 else place.name
        measure = next((m for m in reversed(person.measures) if m[6] is None), None)
        row = [
            i + 1, person.name, "男" if person.sex == "M" else "女", ETHNIC.get(v["ethnicity"], "汉族"),
            number, v["household_address"], v["current_address"],
            int(v["phone"]) if rng.random() < 0.5 else v["phone"], unit,
            _date_cell(rng, person.first_found),
            "、".join(DRUG_LABELS.get(d, "其他") for d in v["drug_types"]),
            HOW.get(v["how_found"], ""), v["occupation"], EMPLOY.get(v["employment"], ""),
            "是" if v["has_driving_licence"] else "否", "是" if v["sick_or_disabled"] else "否",
            "是" if v["poverty_by_drugs"] else "否", "是" if v["key_person"] else "否",
            KINDS.get(measure[0], "") if measure else "",
            _date_cell(rng, measure[1]) if measure else None,
            _date_cell(rng, measure[2]) if measure and measure[2] else None,
            "",
        ]  # fmt: skip
        bad = rng.random()
        if bad < 0.003:
            row[4] = str(row[4])[:-1] + ("0" if str(row[4])[-1] != "0" else "1")
        elif bad < 0.005 and ids:
            row[4] = ids[rng.randrange(len(ids))]
        elif bad < 0.007:
            row[8] = "不存在的村"
        elif bad < 0.009:
            row[9] = "1950-01-01"
        elif bad < 0.01 and measure and measure[2]:
            row[20] = (measure[1] - timedelta(days=5)).isoformat()
        ids.append(row[4])
        append(row)
    save()


def _sheet_writer(path: Path, style: str, title: str):
    """(append a row, save) for a sheet whose first row is a title merged across it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if style == "inline":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("吸毒人员")
        sheet.append([title])
        return sheet.append, lambda: book.save(path)
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("吸毒人员")
    day_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, len(HEADERS) - 1, title)
    at = [1]

    def append(row: list) -> None:
        r = at[0]
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, datetime.combine(value, datetime.min.time()), day_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
        at[0] += 1

    return append, book.close


def worker(sheet_path: str, as_job: bool, county_id: int | None = None) -> None:
    """One run on the database the environment names; prints a JSON line of timings.

    The import runs either step by step (each phase timed) or as the background job
    a user's confirmation queues (``imports.commit``, run by ``jindu worker``): the
    sheet read back from the encrypted upload stash, checked and written, its
    outcome saved, timed from the job's claim to its end.
    """
    import io

    from django.core.management import call_command
    from django.db import connection

    from jindu.accounts import services as accounts
    from jindu.core import jobs
    from jindu.core.excel_import import commit, validate
    from jindu.core.memory import collector_paused
    from jindu.demo.county import build_territory
    from jindu.demo.steps import DemoContext
    from jindu.people.importer import PersonImport
    from jindu.people.models import Person

    call_command("migrate", verbosity=0)
    if county_id is None:
        ctx = DemoContext(
            seed=2019, townships_wanted=15, villages_wanted=200, log_stream=io.StringIO()
        )
        build_territory(ctx)
        county = ctx.county
    else:  # a county of the large register (--register)
        from jindu.orgs.models import OrgUnit

        county = OrgUnit.objects.get(pk=county_id)
    user = accounts.create_user(
        actor=None, username="bench-import-office", full_name="县禁毒办", org_unit=county,
        password="Bench#2026qlx", roles={"county_office"}, must_change_password=False,
    )  # fmt: skip
    # As a worker starts: every task known (the apps' import pages loaded), and SQLite's
    # checkpoint left until a job has recorded its end (jobs.hold_checkpoints).
    jobs.load_tasks()
    jobs.hold_checkpoints()
    data = Path(sheet_path).read_bytes()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if as_job:
        figures = _as_job(user, data, Path(sheet_path).name)
    else:
        # One pause of the cycle collector over check and write, as the job has.
        with collector_paused():
            figures = _step_by_step(user, data, Path(sheet_path).name)
    t5 = time.perf_counter()
    cpu5 = time.process_time()
    # Then the worker copies SQLite's log into the database file, and runs the job the
    # import queued to count its people into the county tallies (figures come from the
    # records meanwhile): done here as the worker does them, and timed apart.
    jobs.checkpoint()
    checkpoint_seconds = time.perf_counter() - t5
    while (job := jobs.claim("bench")) is not None:
        jobs.run(job)
        jobs.checkpoint()
    settle_seconds = time.perf_counter() - t5 - checkpoint_seconds
    people = Person.objects.count()
    t6 = time.perf_counter()
    again = commit(
        validate(PersonImport(actor=user), data, filename="again.xlsx", for_write=True),
        partial=True,
    )
    t7 = time.perf_counter()
    while (job := jobs.claim("bench")) is not None:
        jobs.run(job)
    print(json.dumps({
        "database": connection.vendor, **figures, "total": t5 - t0, "cpu": cpu5 - cpu0,
        "settle": settle_seconds, "checkpoint": checkpoint_seconds,
        "people_in_db": people, "again": t7 - t6, "again_created": again.counts.get("created"),
        "again_updated": again.counts.get("updated"), "again_unchanged": again.counts.get("unchanged"),
    }))  # fmt: skip


def _step_by_step(user, data: bytes, filename: str) -> dict:
    """The steps of ``validate`` and ``commit``, one by one, as they run them."""
    from jindu.core.excel_import import Preview, _parse_rows, commit, find_header, read_sheets
    from jindu.people.importer import PersonImport

    t0 = time.perf_counter()
    spec = PersonImport(actor=user)
    # The first sheet holds the header; a large one's second half is read (and then
    # parsed) in a second process where this one may fork, as validate does.
    header, sheet = find_header(spec, read_sheets(data, spec=spec))
    t1 = time.perf_counter()
    rows = _parse_rows(spec, header, sheet)
    t2 = time.perf_counter()
    # A write follows at once: the spec prepares it beside the checks (validate's for_write).
    spec.prepare(rows)
    spec.prefetch(rows)
    t3 = time.perf_counter()
    spec.check_rows(rows)
    if sheet.rest is not None:
        sheet.rest.give_cells(row for row in rows if not row.ok)
        sheet.rest.close()
    t4 = time.perf_counter()
    result = commit(Preview(spec, filename, header, rows), partial=True)
    t5 = time.perf_counter()
    return {
        "rows": len(rows), "read": t1 - t0, "parse": t2 - t1, "prefetch": t3 - t2,
        "check": t4 - t3, "write": t5 - t4, "created": result.counts.get("created"),
        "rejected": result.rejected,
    }  # fmt: skip


def _as_job(user, data: bytes, filename: str) -> dict:
    from jindu.core import jobs
    from jindu.core.excel_stash import stash_upload
    from jindu.orgs.views_import import COMMIT_JOB

    token = stash_upload(user=user, data=data, filename=filename, options={})
    params = {"spec": "persons", "token": token, "partial": True, "options": {}}
    queued = jobs.enqueue(actor=user, kind=COMMIT_JOB, params=params)
    job = jobs.claim("bench")
    assert job is not None and job.pk == queued.pk
    jobs.run(job)
    job.refresh_from_db()
    if job.status != "done":
        sys.exit(f"the import job ended {job.status}: {job.error}")
    result = job.result
    return {
        "rows": result["rows_read"],
        "created": result["created"],
        "rejected": result["rejected"],
    }


def run(sheet: Path, database_url: str, as_job: bool, register: tuple | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="jindu-bench-", dir=CACHE) as var_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JINDU_")}
        env.update(ENV, JINDU_VAR_DIR=var_dir)
        env["JINDU_DATABASE_URL"] = database_url or f"sqlite:///{var_dir}/bench.sqlite3"
        extra = ["--as-job"] if as_job else []
        if register is not None:
            # A fresh copy of the large register for each run.
            source, county_id = register
            shutil.copyfile(source, f"{var_dir}/bench.sqlite3")
            os.sync()  # its gigabytes on disk before the clock starts, not written meanwhile
            _uncache(source)
            extra += ["--county", str(county_id)]
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(sheet), *extra],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if out.returncode != 0:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _uncache(path: str) -> None:
    """Drop a file's pages from the page cache: a server holds one copy of its register
    in memory, not the copy the benchmark was made from beside it (on this 24 GB
    machine two copies of a 9 GB register squeeze everything else)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def register_county(path: Path) -> tuple[int, tuple]:
    """The first county of a register built by ``jindu seed`` (SQLite): its id, and its
    name, code and villages and grids (those whose name is unique in the county)."""
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        sys.exit(f"{path} has a write-ahead log: let its writer finish (or checkpoint it) first")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.execute("PRAGMA query_only=1")
        pk, name, path_, code = db.execute(
            "SELECT id, name, path, division_code FROM orgs_orgunit WHERE level = 'county' "
            "ORDER BY id LIMIT 1"
        ).fetchone()
        townships = {
            tid: (n, i)
            for i, (tid, n) in enumerate(
                db.execute(
                    "SELECT id, name FROM orgs_orgunit WHERE level = 'township' AND path LIKE ? "
                    "ORDER BY path",
                    [path_ + "%"],
                )
            )
        }
        found = db.execute(
            "SELECT name, division_code, path FROM orgs_orgunit "
            "WHERE level IN ('village', 'grid') AND path LIKE ? ORDER BY path",
            [path_ + "%"],
        ).fetchall()
    counts: dict[str, int] = {}
    for unit, _code, _path in found:
        counts[unit] = counts.get(unit, 0) + 1
    units = []
    for unit, unit_code, unit_path in found:
        if counts[unit] > 1:
            continue
        township_id = int(unit_path.strip("/").split("/")[3])
        township, index = townships[township_id]
        units.append((unit, unit_code, index, f"{name}{township}{unit}"))
    return pk, (name, code, units)


def fresh_postgres(url: str) -> str:
    import psycopg

    base, _slash, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def report(result: dict) -> None:
    if "read" in result:
        how = (
            f"read {result['read']:.2f} s, parse {result['parse']:.2f} s, prefetch "
            f"{result['prefetch']:.2f} s, check {result['check']:.2f} s, write {result['write']:.2f} s"
        )
    else:
        how = "as the background job (imports.commit: upload read from the stash, outcome saved)"
    print(
        f"{result['database']}: {result['rows']:,} rows — {how}; "
        f"TOTAL {result['total']:.2f} s wall, {result['cpu']:.2f} s CPU of this process "
        f"({result['created']:,} created, {result['rejected']:,} rejected rows); "
        f"then, after the commit, the log checkpointed in {result['checkpoint']:.2f} s and the "
        f"people counted into the county tallies in {result['settle']:.2f} s"
    )
    print(
        f"{result['database']}: the same sheet again (validate + commit): {result['again']:.2f} s "
        f"— created {result['again_created']}, updated {result['again_updated']}, "
        f"unchanged {result['again_unchanged']:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--postgres", default="", help="postgres://…/dbname (dropped and recreated)"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--runs", type=int, default=1, help="runs per database (best, median)")
    parser.add_argument(
        "--sheet-style",
        choices=("excel", "inline"),
        default="excel",
        help="excel: shared strings, as Excel and WPS save; inline: as openpyxl's write-only mode",
    )
    parser.add_argument(
        "--as-job",
        action="store_true",
        help="import as the background job a confirmation queues, not step by step",
    )
    parser.add_argument(
        "--register",
        help="a SQLite register built by `jindu seed` (e.g. 1,000,000 people): each run "
        "imports into a fresh copy of it, into its first county",
    )
    parser.add_argument("--county", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _setup({})
        worker(args.worker, args.as_job, args.county)
        return
    suffix = "" if args.sheet_style == "excel" else "-inline"
    register = county = None
    if args.register:
        if args.postgres:
            sys.exit("--register is a SQLite register")
        county_id, county = register_county(Path(args.register))
        register = (args.register, county_id)
        suffix += f"-{county[1]}"
        print(f"register: {args.register}, county {county[0]} ({len(county[2])} units)")
    sheet = CACHE / f"people-{args.rows}{suffix}.xlsx"
    if not sheet.exists():
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as var_dir:
            _setup({**ENV, "JINDU_VAR_DIR": var_dir})
            make_sheet(sheet, args.rows, args.sheet_style, county)
        print(f"generated {sheet} in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"sheet: {sheet} ({sheet.stat().st_size / 1e6:.1f} MB)", flush=True)
    databases = ([""] if not args.no_sqlite else []) + ([args.postgres] if args.postgres else [])
    for url in databases:
        totals = []
        for _run in range(args.runs):
            load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            print(f"load average before the run: {load}", flush=True)
            result = run(sheet, fresh_postgres(url) if url else "", args.as_job, register)
            report(result)
            totals.append(result["total"])
        if args.runs > 1:
            print(
                f"{result['database']}: best {min(totals):.2f} s, "
                f"median {statistics.median(totals):.2f} s of {args.runs} runs",
                flush=True,
            )


if __name__ == "__main__":
    main()
