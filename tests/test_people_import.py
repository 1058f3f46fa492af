"""The legacy register sheet: columns by name, people by ID number, scope, row checks,
the bulk write and its facts, re-import, all-or-nothing and the command line."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from jindu.audit.actions import Action, Result
from jindu.audit.models import AuditEvent
from jindu.core.excel_import import ImportFileError, commit, validate
from jindu.people import services
from jindu.people.bulk import FACT_FIELDS
from jindu.people.importer import PersonImport
from jindu.people.models import Measure, Person, Responsibility
from tests.people_factories import make_id_number, make_person

HEADER = ["序号", "姓名", "公民身份号码", "性别", "民族", "户籍地址", "现住址", "手机号码",
          "所属村（社区）", "首次发现时间", "滥用毒品种类", "发现方式", "就业状况",
          "是否持有驾驶证", "病残", "因毒致贫", "重点人员", "措施类型", "决定日期", "报到日期"]  # fmt: skip
ID_A = make_id_number(date(1985, 3, 7), 11)  # a man
ID_B = make_id_number(date(1990, 12, 1), 22)  # a woman


def sheet(rows, *, header=HEADER, title="青岚县吸毒人员登记表"):
    """A workbook as counties keep them: a merged title row above the header."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    if header:
        ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row(number=1, *, name="张某", id_number=ID_A, unit="甲一村", **cells):
    """One data row under HEADER; keyword cells by header name override the defaults."""
    values = dict.fromkeys(HEADER, None)
    values.update(
        {
            "序号": number,
            "姓名": name,
            "公民身份号码": id_number,
            "所属村（社区）": unit,
            "户籍地址": "青岚县甲镇甲一村5号",
            "手机号码": 13912345678,
            "首次发现时间": "2019.3.5",
            "滥用毒品种类": "冰毒、海洛因",
            "民族": "汉族",
            "发现方式": "公安查获",
            "就业状况": "无业",
            "是否持有驾驶证": "否",
            "病残": "否",
            "因毒致贫": "是",
            "重点人员": "否",
        }  # fmt: skip
    )
    values.update(cells)
    return [values[h] for h in HEADER]


def run(user, data, *, partial=True, dry=False):
    preview = validate(PersonImport(actor=user), data, filename="名册.xlsx")
    if dry:
        return preview, None
    return preview, commit(preview, partial=partial)


def errors_of(preview):
    return [(e.row, e.column, e.message) for e in preview.errors()]


def state():
    """Everything an import could change, to prove that another changed nothing."""
    # ``updated_at`` is in the values: a row written again would show it.
    people = list(Person.objects.order_by("pk").values())
    measures = list(Measure.objects.order_by("pk").values())
    return people, measures, Responsibility.objects.count()


# ------------------------------------------------------------------ happy path


def test_a_cadre_imports_a_legacy_sheet_into_own_villages_and_grids(personas):
    territory = personas.territory
    old_id = ID_B[:6] + ID_B[8:17]  # the 15-digit number of before 1999
    rows = [
        row(
            1, **{"措施类型": "社区戒毒", "决定日期": "2024年5月6日", "报到日期": date(2024, 5, 10)}
        ),
        row(2, name="王某", id_number=old_id, unit="甲一村第一网格", **{"首次发现时间": 43164}),
    ]
    preview, result = run(personas.cadre_a, sheet(rows))
    assert errors_of(preview) == []
    assert result.written and result.counts["created"] == 2
    zhang = Person.objects.get(id_index=services.id_index(ID_A))
    assert (zhang.name, zhang.sex, zhang.birth_date) == ("张某", "M", date(1985, 3, 7))
    assert zhang.id_number == ID_A and zhang.phone == "13912345678"
    assert zhang.household_address == "青岚县甲镇甲一村5号" and zhang.current_address is None
    assert (
        zhang.org_unit_id == territory.village_a.pk and zhang.org_path == territory.village_a.path
    )
    assert zhang.drug_types == ["heroin", "methamphetamine"]
    assert (zhang.ethnicity, zhang.how_found, zhang.employment) == ("01", "police_seized", "none")
    assert zhang.poverty_by_drugs and not zhang.has_driving_licence
    assert zhang.first_found_on == date(2019, 3, 5)
    measure = zhang.measures.get()
    assert (measure.kind, measure.decision_date, measure.report_in_date) == (
        "community_detox",
        date(2024, 5, 6),
        date(2024, 5, 10),
    )
    assert measure.planned_end == date(2027, 5, 10) and measure.term_months == 36
    wang = Person.objects.get(id_index=services.id_index(ID_B))
    assert wang.id_number == ID_B, "a 15-digit number is stored as its 18-digit form"
    assert wang.sex == "F" and wang.org_unit_id == territory.grid_a.pk
    assert wang.first_found_on == date(2018, 3, 5)
    assert Responsibility.objects.get(person=zhang).valid_from == date(2019, 3, 5)
    event = AuditEvent.objects.filter(action=Action.IMPORTED).latest("pk")
    assert json.loads(event.detail)["converted_from_15"] == 1


def test_facts_written_by_the_import_are_those_refresh_facts_computes(personas):
    rows = [
        row(1, **{"措施类型": "强制隔离戒毒", "决定日期": "2024-01-02"}),
        row(2, name="李某", id_number=ID_B, **{"措施类型": "社区康复", "决定日期": "2025-02-03"}),
        row(3, name="赵某", id_number=make_id_number(date(1970, 1, 1), 33)),
    ]
    run(personas.cadre_a, sheet(rows))
    fields = FACT_FIELDS
    for person in Person.objects.all():
        written = [getattr(person, f) for f in fields]
        services.refresh_facts(person)
        person.refresh_from_db()
        assert written == [getattr(person, f) for f in fields], person.name


def test_one_audit_row_for_the_whole_import(personas):
    rows = [
        row(i, name=f"人员{i}", id_number=make_id_number(date(1980, 1, 1), i)) for i in range(30)
    ]
    before = AuditEvent.objects.count()
    run(personas.cadre_a, sheet(rows))
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [e.action for e in events] == [Action.IMPORTED]
    detail = json.loads(events[0].detail)
    assert detail["created"] == 30 and detail["scope"] == "甲镇"
    assert "6211991980" not in events[0].detail, "no ID number in the audit log"


def test_headers_in_any_order_with_aliases(personas):
    header = ["身份证号码", "现居住地", "网格", "姓名", "管控措施", "措施决定日期", "报到时间"]
    data = sheet(
        [[ID_A.lower(), "甲一村8号", "甲镇/甲一村", "张某", "社戒", "2025/1/2", "2025.1.9"]],
        header=header,
    )
    preview, result = run(personas.cadre_a, data)
    assert errors_of(preview) == [] and result.counts["created"] == 1
    person = Person.objects.get()
    assert person.current_address == "甲一村8号" and person.measure_kind == "community_detox"


# ------------------------------------------------------------------ re-import


def test_importing_the_same_sheet_again_changes_nothing(personas):
    data = sheet(
        [
            row(1, **{"措施类型": "社区戒毒", "决定日期": "2024-05-06"}),
            row(2, name="李某", id_number=ID_B),
        ]
    )
    run(personas.cadre_a, data)
    before = state()
    audit_before = AuditEvent.objects.count()
    preview, result = run(personas.cadre_a, data)
    assert result.counts == {"created": 0, "updated": 0, "unchanged": 2, "measures": 0}
    assert state() == before
    assert AuditEvent.objects.count() == audit_before + 1


def test_a_changed_cell_updates_the_person_and_a_blank_cell_changes_nothing(personas):
    run(personas.cadre_a, sheet([row(1)]))
    person = Person.objects.get()
    changed = row(1, **{"手机号码": "13800001111", "户籍地址": None, "重点人员": "是"})
    preview, result = run(personas.cadre_a, sheet([changed]))
    assert result.counts["updated"] == 1
    person.refresh_from_db()
    assert person.phone == "13800001111" and person.key_person
    assert person.household_address == "青岚县甲镇甲一村5号", "a blank cell keeps the value"


def test_a_measure_already_recorded_is_unchanged_and_a_missing_report_in_is_filled(personas):
    person = make_person(personas.cadre_a, personas.territory.village_a, id_number=ID_A)
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=date(2025, 1, 2),
    )
    data = sheet(
        [row(1, **{"措施类型": "社区戒毒", "决定日期": "2025-01-02", "报到日期": "2025-01-10"})]
    )
    preview, result = run(personas.cadre_a, data)
    assert errors_of(preview) == [] and result.counts["updated"] == 1
    measure = person.measures.get()
    assert measure.report_in_date == date(2025, 1, 10) and measure.planned_end == date(2028, 1, 10)
    person.refresh_from_db()
    assert person.measure_anchor == date(2025, 1, 10)


def test_a_measure_overlapping_an_existing_one_is_a_row_error(personas):
    person = make_person(personas.cadre_a, personas.territory.village_a, id_number=ID_A)
    services.add_measure(
        actor=personas.cadre_a,
        person=person,
        kind="community_detox",
        decision_date=date(2025, 1, 2),
        report_in_date=date(2025, 1, 8),
    )
    data = sheet([row(1, **{"措施类型": "强制隔离戒毒", "决定日期": "2025-06-01"})])
    preview, result = run(personas.cadre_a, data)
    ((number, column, message),) = errors_of(preview)
    assert (number, column) == (
        3,
        "措施类型",
    ) and "与已有的社区戒毒（2025-01-08起）时间重叠" in message
    assert person.measures.count() == 1 and not result.written


# ------------------------------------------------------------------ scope


def test_a_person_registered_in_another_township_is_a_row_error_and_stays_there(personas):
    territory = personas.territory
    other = make_person(personas.cadre_b, territory.village_b, id_number=ID_A, name="原登记")
    preview, result = run(personas.cadre_a, sheet([row(1), row(2, name="李某", id_number=ID_B)]))
    assert errors_of(preview) == [
        (
            3,
            "公民身份号码",
            "该人员已在其他单位登记，不能导入；如人员已迁入本地，请联系原登记单位办理移交",
        )
    ]
    other.refresh_from_db()
    assert other.org_unit_id == territory.village_b.pk and other.name == "原登记"
    assert result.counts["created"] == 1


def test_a_cadre_cannot_import_into_another_townships_units(personas):
    rows = [row(1, unit="乙一村"), row(2, name="李某", id_number=ID_B, unit="621199101201")]
    preview, result = run(personas.cadre_a, sheet(rows))
    messages = [m for _r, _c, m in errors_of(preview)]
    assert messages == [
        "责任单位“乙一村”不在您的管辖范围（甲镇）内",
        "责任单位“621199101201”不在您的管辖范围（甲镇）内",
    ]
    assert not result.written and not Person.objects.exists()


def test_the_county_office_imports_into_both_townships(personas):
    rows = [row(1, unit="乙一村"), row(2, name="李某", id_number=ID_B, unit="621199100201")]
    preview, result = run(personas.county_officer, sheet(rows))
    assert errors_of(preview) == [] and result.counts["created"] == 2


def test_units_by_full_name_and_ambiguous_names(personas):
    from jindu.orgs import services as orgs

    territory = personas.territory
    village = orgs.create_unit(
        actor=None,
        name="甲二村",
        level="village",
        parent=territory.township_a,
        division_code="621199100202",
    )
    orgs.create_unit(actor=None, name="第一网格", level="grid", parent=village)
    orgs.create_unit(actor=None, name="第一网格", level="grid", parent=territory.village_a)
    rows = [
        row(1, unit="第一网格"),
        row(2, name="李某", id_number=ID_B, unit="甲二村 第一网格"),
        row(3, name="赵某", id_number=make_id_number(date(1970, 1, 1), 33), unit="甲镇"),
        row(4, name="钱某", id_number=make_id_number(date(1971, 1, 1), 35), unit="丙村"),
    ]
    preview, result = run(personas.cadre_a, sheet(rows))
    assert errors_of(preview) == [
        (3, "所属村（社区）", "“第一网格”对应多个单位（甲镇甲一村第一网格、甲镇甲二村第一网格），请写明所属乡镇、村，或填写区划代码"),
        (5, "所属村（社区）", "责任单位须为村（社区）或网格，“甲镇”是乡镇（街道）"),
        (6, "所属村（社区）", "找不到责任单位“丙村”"),
    ]  # fmt: skip
    assert Person.objects.get().org_unit.parent_id == village.pk


# ------------------------------------------------------------------ bad rows


def test_invalid_and_duplicate_id_numbers_are_row_errors(personas):
    rows = [
        row(1, id_number=ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")),
        row(2, id_number="62119919850307"),
        row(3, name="李某", id_number=ID_B),
        row(4, name="李某某", id_number=ID_B),
    ]
    preview, result = run(personas.cadre_a, sheet(rows))
    errors = errors_of(preview)
    assert errors[0][:2] == (3, "公民身份号码") and "校验位不正确" in errors[0][2]
    assert errors[1] == (4, "公民身份号码", "身份证号应为18位（或15位旧号），当前为14位")
    assert errors[2:] == [
        (5, "公民身份号码", "与第6行的身份证号重复，同一人员只能有一行"),
        (6, "公民身份号码", "与第5行的身份证号重复，同一人员只能有一行"),
    ]
    assert not result.written


def test_impossible_dates_are_row_errors(personas):
    tomorrow = timezone.localdate() + timedelta(days=1)
    rows = [
        row(1, **{"首次发现时间": "1980-01-01"}),
        row(2, name="李某", id_number=ID_B, **{"措施类型": "社区戒毒", "决定日期": "2025-03-01", "报到日期": "2025-02-20"}),
        row(3, name="赵某", id_number=make_id_number(date(1970, 1, 1), 33), **{"首次发现时间": tomorrow}),
        row(4, name="钱某", id_number=make_id_number(date(1971, 1, 1), 35), **{"决定日期": "2025-03-01"}),
        row(5, name="孙某", id_number=make_id_number(date(1972, 1, 1), 37), **{"首次发现时间": "2019-2-30"}),
    ]  # fmt: skip
    preview, _result = run(personas.cadre_a, sheet(rows), dry=True)
    assert errors_of(preview) == [
        (3, "首次发现时间", "初次发现日期（1980-01-01）不能早于出生日期"),
        (4, "报到日期", "报到日期不能早于决定日期"),
        (5, "首次发现时间", "初次发现日期不能晚于今天"),
        (6, "措施类型", "填写了决定日期或报到日期，请同时填写管控措施"),
        (7, "首次发现时间", "日期“2019-2-30”不存在"),
    ]


def test_sex_birth_date_and_codes_must_make_sense(personas):
    header = [*HEADER, "出生日期"]
    rows = [
        [*row(1, **{"性别": "女"}), None],
        [*row(2, name="李某", id_number=ID_B), "1990-12-02"],
        [*row(3, name="赵某", id_number=make_id_number(date(1970, 1, 1), 33), **{"滥用毒品种类": "冰毒/外星粉"}), None],
        [*row(4, name="钱某", id_number=make_id_number(date(1971, 1, 1), 35), **{"民族": "火星族"}), None],
        [*row(5, name="孙某", id_number=make_id_number(date(1972, 1, 1), 37), **{"措施类型": "关禁闭"}), None],
    ]  # fmt: skip
    preview, _result = run(personas.cadre_a, sheet(rows, header=header), dry=True)
    errors = errors_of(preview)
    assert errors[0] == (3, "性别", "性别与身份证号不符（身份证号显示为男）")
    assert errors[1] == (4, "出生日期", "出生日期与身份证号不符（身份证号显示为1990-12-01）")
    assert errors[2][:2] == (5, "滥用毒品种类") and "无法识别的毒品种类“外星粉”" in errors[2][2]
    assert errors[3][:2] == (6, "民族") and "无法识别的民族“火星族”" in errors[3][2]
    assert errors[4][:2] == (7, "措施类型") and "无法识别的措施“关禁闭”" in errors[4][2]


def test_a_row_lists_all_its_problems_at_once(personas):
    bad = row(1, id_number="123", unit="丙村", **{"首次发现时间": "明年"})
    preview, _result = run(personas.cadre_a, sheet([bad]), dry=True)
    assert [c for _r, c, _m in errors_of(preview)] == [
        "公民身份号码",
        "首次发现时间",
        "所属村（社区）",
    ]


# ------------------------------------------------------------------ files and modes


def test_a_file_that_is_not_excel_is_refused(personas):
    with pytest.raises(ImportFileError, match="不是Excel表格"):
        validate(PersonImport(actor=personas.cadre_a), "姓名,身份证号\n张某,1\n".encode())


def test_an_empty_sheet_and_a_sheet_without_the_required_columns_are_refused(personas):
    with pytest.raises(ImportFileError, match="表格是空的"):
        validate(PersonImport(actor=personas.cadre_a), sheet([], header=[], title=None))
    with pytest.raises(ImportFileError, match="缺少必填列"):
        validate(PersonImport(actor=personas.cadre_a), sheet([["张某"]], header=["姓名", "性别"]))
    with pytest.raises(ImportFileError, match="没有数据"):
        validate(PersonImport(actor=personas.cadre_a), sheet([]))


def test_all_or_nothing_writes_nothing_when_one_row_is_wrong(personas):
    rows = [row(1), row(2, name="李某", id_number=ID_B, unit="丙村")]
    before = AuditEvent.objects.count()
    preview, result = run(personas.cadre_a, sheet(rows), partial=False)
    assert not result.written and not Person.objects.exists()
    event = AuditEvent.objects.order_by("pk")[before:].get()
    assert event.action == Action.IMPORTED and event.result == Result.FAILURE


def test_valid_rows_only_writes_the_good_rows_and_gives_back_the_bad_ones(personas):
    rows = [row(1), row(2, name="李某", id_number=ID_B, unit="丙村")]
    preview, result = run(personas.cadre_a, sheet(rows), partial=True)
    assert result.written and result.counts["created"] == 1 and result.rejected == 1
    rejected = preview.rejected()
    assert rejected["headers"] == HEADER
    ((*cells, explanation),) = rejected["rows"]
    assert cells[1] == "李某" and explanation == "所属村（社区）：找不到责任单位“丙村”"


def test_ten_thousand_bad_rows_are_all_reported(personas):
    # 17 digits: every row is wrong.
    rows = [row(i, id_number=f"6211991980010{i:04d}") for i in range(10_000)]
    preview, result = run(personas.cadre_a, sheet(rows))
    assert len(preview.invalid_rows) == 10_000 and not result.written
    summary = preview.summary(error_limit=300)
    assert len(summary["errors"]) == 300 and summary["error_count"] == 10_000
    assert len(preview.rejected()["rows"]) == 10_000


# ------------------------------------------------------------------ the command


def _file(tmp_path, data):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(data)
    return str(path)


def test_command_prints_a_json_summary(personas, tmp_path):
    rows = [row(1), row(2, name="李某", id_number=ID_B, unit="丙村")]
    out = io.StringIO()
    call_command(
        "import", "persons", _file(tmp_path, sheet(rows)), "--user", "cadre_a", "--json", stdout=out
    )
    report = json.loads(out.getvalue())
    assert (report["rows_read"], report["valid"], report["created"], report["updated"]) == (
        2,
        1,
        1,
        0,
    )
    assert report["errors"] == [
        {"row": 4, "column": "所属村（社区）", "message": "找不到责任单位“丙村”"}
    ]
    assert Person.objects.count() == 1


def test_command_dry_run_and_all_or_nothing_write_nothing(personas, tmp_path):
    rows = [row(1), row(2, name="李某", id_number=ID_B, unit="丙村")]
    path = _file(tmp_path, sheet(rows))
    out = io.StringIO()
    call_command("import", "persons", path, "--user", "cadre_a", "--dry-run", "--json", stdout=out)
    assert json.loads(out.getvalue())["created"] == 1
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command(
            "import", "persons", path, "--user", "cadre_a", "--all-or-nothing", stdout=io.StringIO()
        )
    assert not Person.objects.exists()


def test_the_quick_id_number_check_agrees_with_the_register_rules():
    import random

    from jindu.core.excel_import import CellError
    from jindu.people import idnumber
    from jindu.people.importer import _id_number

    rng = random.Random(3)
    samples = ["00" + ID_A[2:], ID_A[:2] + "0000" + ID_A[6:], ID_A.lower(), f" {ID_A} "]
    future = timezone.localdate() + timedelta(days=30)
    samples += [make_id_number(future, 1), make_id_number(date(1899, 12, 31), 1)]
    samples += ["6211991985023011" + "12", "621199198502301112"]  # 30 February
    for _ in range(3000):
        number = make_id_number(
            date(1950, 1, 1) + timedelta(days=rng.randrange(25000)), rng.randrange(1000)
        )
        spot = rng.randrange(18)
        samples += [number, number[:spot] + rng.choice("0123456789X") + number[spot + 1 :]]
    for text in samples:
        try:
            expected = idnumber.parse(text)
        except idnumber.IdNumberError as exc:
            expected = str(exc)
        try:
            got = _id_number(text)
        except CellError as exc:
            got = str(exc)
        assert got == expected, text


def test_the_write_names_everyone_it_created_or_updated(personas):
    first = [row(1), row(2, name="王某", id_number=ID_B)]
    preview, _result = run(personas.cadre_a, sheet(first))
    created = sorted(preview.spec.written_ids)
    assert created == sorted(Person.objects.values_list("pk", flat=True))
    changed = [row(1, name="张某某"), row(2, name="王某", id_number=ID_B)]
    preview, result = run(personas.cadre_a, sheet(changed))
    zhang = Person.objects.get(id_index=services.id_index(ID_A))
    assert preview.spec.written_ids == [zhang.pk]
    assert (result.counts["updated"], result.counts["unchanged"]) == (1, 1)
