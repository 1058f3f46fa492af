"""A large legacy sheet saved as Excel and WPS save it (shared strings): its rows are
built and encrypted in a forked child (jindu.core.offload) while the parent writes,
and the result is exactly what the same import gives in one process."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from django.db import transaction

from jindu.core import offload
from jindu.core.excel_import import commit, validate
from jindu.people.importer import PersonImport
from jindu.people.models import Measure, Person, Responsibility
from tests.people_factories import make_id_number

HEADER = ["序号", "姓名", "公民身份号码", "户籍地址", "联系电话", "所属村（社区）",
          "首次发现时间", "滥用毒品种类", "管控措施", "决定日期", "报到日期"]  # fmt: skip
UNITS = ("甲一村", "甲一村第一网格")
ROWS = 12_000  # more than two of the writer's chunks


def excel_sheet() -> bytes:
    """Written with XlsxWriter: text in the shared-string table, dates as date cells."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet("名册")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 0, 0, len(HEADER) - 1, "青岚县吸毒人员登记表")
    ws.write_row(1, 0, HEADER)
    start = date(1960, 1, 1)
    for i in range(ROWS):
        r = i + 2
        birth = start + timedelta(days=i // 900 * 97 + i % 29)
        number = make_id_number(birth, i % 900)
        found = date(2015, 1, 1) + timedelta(days=i % 2500)
        ws.write_number(r, 0, i + 1)
        ws.write_string(r, 1, f"人员{i}")
        ws.write_string(r, 2, number.lower() if number.endswith("X") else number)
        ws.write_string(r, 3, f"青岚县甲镇甲一村{i % 300}号")
        ws.write_string(r, 4, f"139{i:08d}")
        ws.write_string(r, 5, UNITS[i % 2])
        ws.write_datetime(r, 6, datetime.combine(found, datetime.min.time()), day)
        ws.write_string(r, 7, "冰毒" if i % 3 else "海洛因、冰毒")
        if i % 4 == 0:
            decided = found + timedelta(days=30)
            ws.write_string(r, 8, "社区戒毒")
            ws.write_string(r, 9, f"{decided.year}.{decided.month}.{decided.day}")
            ws.write_string(r, 10, (decided + timedelta(days=5)).isoformat())
    book.close()
    return buffer.getvalue()


def written() -> tuple[list, list, list]:
    """The register as written, keys replaced by each person's place in key order
    (PostgreSQL's sequences do not give back the keys of a rolled-back import)."""
    order = {
        pk: n for n, pk in enumerate(Person.objects.order_by("pk").values_list("pk", flat=True))
    }
    people = [
        (p.name, p.id_number, p.phone, p.household_address, p.org_path, p.birth_date,
         p.sex, p.first_found_on, p.drug_types, p.measure_kind, p.measure_until, p.clean_since)
        for p in Person.objects.order_by("pk")
    ]  # fmt: skip
    measures = [
        (order[person], *rest)
        for person, *rest in Measure.objects.order_by("pk").values_list(
            "person_id", "kind", "decision_date", "report_in_date", "planned_end", "org_path"
        )
    ]
    duties = sorted(
        (order[person], *rest)
        for person, *rest in Responsibility.objects.values_list(
            "person_id", "org_path", "valid_from"
        )
    )
    return people, measures, duties


class Undo(Exception):
    pass


def import_once(user, data: bytes, *, for_write: bool = False):
    preview = validate(PersonImport(actor=user), data, filename="名册.xlsx", for_write=for_write)
    assert list(preview.errors()) == []
    result = commit(preview, partial=False)
    return result.counts, written()


def test_a_large_excel_sheet_gives_the_same_register_forked_or_not(personas, monkeypatch):
    data = excel_sheet()
    monkeypatch.setattr(offload, "INLINE", True)
    try:
        with transaction.atomic():
            inline_counts, inline_state = import_once(personas.cadre_a, data)
            raise Undo
    except Undo:
        pass
    assert Person.objects.count() == 0
    monkeypatch.setattr(offload, "INLINE", False)
    assert offload.can_fork()
    forked_counts, forked_state = import_once(personas.cadre_a, data)
    assert forked_counts == inline_counts
    assert forked_counts["created"] == ROWS and forked_counts["measures"] == ROWS // 4
    people, measures, duties = forked_state
    assert len(people) == ROWS and len(measures) == ROWS // 4 and len(duties) == ROWS
    # Everything but the ciphertexts' random nonces is the same, key for key.
    assert forked_state == inline_state
    # Lower-case x is stored upper-case, as in one process.
    assert all(p[1] == p[1].upper() for p in people)


def _undone(user, data: bytes, **options):
    try:
        with transaction.atomic():
            outcome = import_once(user, data, **options)
            raise Undo
    except Undo:
        pass
    assert Person.objects.count() == 0
    return outcome


def test_personal_data_encrypted_beside_the_checks_gives_the_same_register(personas, monkeypatch):
    """``for_write``: the ID numbers, addresses and phones are encrypted in a second
    process while the rows are checked; should that process fail, the write encrypts
    them itself. Either way the register is what the plain import writes."""
    import jindu.people.importer as importer

    data = excel_sheet()
    plain = _undone(personas.cadre_a, data)
    taken = []
    real_take = importer.PersonImport._take_sealed

    def take(self):
        taken.append(real_take(self))
        return taken[-1]

    monkeypatch.setattr(importer.PersonImport, "_take_sealed", take)
    prepared = _undone(personas.cadre_a, data, for_write=True)
    assert prepared == plain
    assert taken == [True]  # the write took the rows' personal data encrypted

    def failing():
        raise ValueError("the second process failed")

    # The process that encrypts beside the checks fails (the write's own does not).
    real_apart = offload.computed_apart
    monkeypatch.setattr(offload, "computed_apart", lambda compute: real_apart(failing))
    fallen_back = _undone(personas.cadre_a, data, for_write=True)
    assert fallen_back == plain
    assert taken == [True, False]
