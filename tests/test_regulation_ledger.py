"""Ledger lines: what is refused (with the Chinese message on the field it concerns),
unit conversion by density, voiding, and loading lines from a sheet with row
errors, nothing half-written and nothing loaded twice."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from jindu.core.excel_import import commit, validate
from jindu.regulation import ledger
from jindu.regulation.importer import LedgerImport
from jindu.regulation.models import LedgerEntry
from tests.helpers import sign_in
from tests.test_regulation_factories import days_ago, line, make_unit, substance, today


@pytest.fixture
def office(personas):
    return personas.county_officer


@pytest.fixture
def trader(office, territory):
    return make_unit(
        office,
        territory.village_a,
        territory.police_dept,
        name="甲一化工经营部",
        registered_on=days_ago(200),
        items={"丙酮": None, "高锰酸钾": None, "盐酸吗啡注射液": None},
        licence_until=days_ago(20),
    )


def _refused(actor, unit, item, kind, day, quantity, **kw) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        line(actor, unit, item, kind, day, quantity, **kw)
    assert LedgerEntry.objects.count() == 0
    return caught.value.message_dict


# ------------------------------------------------------------------ refused lines


def test_a_negative_quantity_is_refused(office, trader):
    errors = _refused(office, trader, "丙酮", "use", days_ago(30), -3)
    assert errors["quantity"] == ["数量不能为负数"]


def test_a_movement_of_nothing_is_refused_but_a_count_of_nothing_is_kept(office, trader):
    errors = _refused(office, trader, "丙酮", "use", days_ago(30), 0)
    assert errors["quantity"] == ["数量须大于0"]
    line(office, trader, "丙酮", "count", days_ago(30), 0)


def test_a_line_dated_in_the_future_is_refused(office, trader):
    errors = _refused(office, trader, "丙酮", "use", today() + timedelta(days=1), 1)
    assert errors["occurred_on"] == ["日期不能晚于今天"]


def test_a_line_before_the_unit_was_registered_is_refused(office, trader):
    errors = _refused(office, trader, "丙酮", "use", days_ago(201), 1)
    assert errors["occurred_on"] == [f"日期早于该单位的登记日期（{days_ago(200)}）"]


def test_a_purchase_after_the_licence_expired_is_refused(office, trader):
    errors = _refused(office, trader, "丙酮", "purchase", days_ago(10), 5)
    assert errors["occurred_on"] == [
        f"证件XK-{_number(trader)}已于{days_ago(20)}到期，不能登记该日的购入"
    ]


def test_a_sale_after_the_licence_expired_is_refused_but_use_is_not(office, trader):
    errors = _refused(office, trader, "丙酮", "sale", days_ago(10), 5)
    assert "不能登记该日的销售" in errors["occurred_on"][0]
    line(office, trader, "丙酮", "use", days_ago(10), 5)


def test_a_purchase_while_the_licence_was_valid_is_kept(office, trader):
    entry = line(office, trader, "丙酮", "purchase", days_ago(21), 5)
    assert entry.pk


def test_an_item_the_unit_may_not_handle_is_refused(office, trader):
    errors = _refused(office, trader, "甲苯", "use", days_ago(30), 1)
    assert "未核定经营或使用“甲苯”" in errors["substance"][0]


def test_a_purchase_or_sale_must_name_the_other_party(office, trader):
    with pytest.raises(ValidationError) as caught:
        ledger.record_entry(
            actor=office,
            line=ledger.LineInput(
                unit=trader,
                substance=substance("丙酮"),
                kind="purchase",
                occurred_on=days_ago(30),
                quantity="5",
                measure_unit="L",
            ),
        )
    assert caught.value.message_dict["counterparty"] == ["请填写往来单位"]


def test_a_second_opening_stock_and_lines_before_the_opening_are_refused(office, trader):
    line(office, trader, "丙酮", "opening", days_ago(100), 10)
    with pytest.raises(ValidationError) as caught:
        line(office, trader, "丙酮", "opening", days_ago(90), 10)
    assert caught.value.message_dict["kind"] == [f"该品种已有{days_ago(100)}的期初结存"]
    with pytest.raises(ValidationError) as caught:
        line(office, trader, "丙酮", "use", days_ago(110), 1)
    assert caught.value.message_dict["occurred_on"] == [
        f"日期早于该品种的期初结存日期（{days_ago(100)}）"
    ]


def test_a_township_cadre_cannot_write_another_townships_ledger(personas, territory, office):
    other = make_unit(office, territory.village_b, territory.police_dept, name="乙一经营部")
    with pytest.raises(ValidationError):
        line(personas.cadre_a, other, "丙酮", "use", days_ago(3), 1)


def _number(unit) -> str:
    return unit.licences.get().number.split("-")[1]


# ------------------------------------------------------------------ units of measure


def test_litres_of_an_item_kept_in_litres_are_kept_as_typed(office, trader):
    entry = line(office, trader, "丙酮", "purchase", days_ago(30), "12.5")
    assert (entry.quantity, entry.entered_unit) == (Decimal("12.500"), "L")


def test_kilograms_of_an_item_kept_in_litres_are_converted_by_its_density(office, trader):
    entry = line(office, trader, "丙酮", "purchase", days_ago(30), "79.1", measure="kg")
    assert entry.quantity == Decimal("100.000")  # 79.1 kg ÷ 0.791 kg/L
    assert (entry.entered_quantity, entry.entered_unit) == (Decimal("79.100"), "kg")


def test_tonnes_and_millilitres_convert_within_their_kind(office, trader):
    assert line(
        office, trader, "丙酮", "purchase", days_ago(30), "1500", measure="mL"
    ).quantity == Decimal("1.500")
    assert line(
        office, trader, "高锰酸钾", "purchase", days_ago(30), "0.25", measure="t"
    ).quantity == Decimal("250.000")


def test_litres_of_an_item_without_a_density_are_refused(office, trader):
    errors = _refused(office, trader, "高锰酸钾", "purchase", days_ago(30), 10, measure="L")
    assert errors["measure_unit"] == ["“高锰酸钾”未设定密度，不能把升换算为千克，请按千克填报"]


def test_medicines_counted_in_ampoules_take_no_mass_or_volume(office, trader):
    errors = _refused(office, trader, "盐酸吗啡注射液", "purchase", days_ago(30), 10, measure="kg")
    assert errors["measure_unit"] == ["“盐酸吗啡注射液”以“支”计，不能按“千克”填报"]


# ------------------------------------------------------------------ voiding and reporting


def test_a_voided_line_stays_with_its_reason_and_cannot_be_voided_twice(office, trader):
    entry = line(office, trader, "丙酮", "use", days_ago(30), 3)
    with pytest.raises(ValidationError) as caught:
        ledger.void_entry(actor=office, entry=entry, reason="  ")
    assert caught.value.message_dict["reason"] == ["请填写作废原因"]
    ledger.void_entry(actor=office, entry=entry, reason="数量录错")
    entry.refresh_from_db()
    assert entry.voided_at is not None and entry.void_reason == "数量录错"
    with pytest.raises(ValidationError):
        ledger.void_entry(actor=office, entry=entry, reason="再次")


def test_the_report_date_of_a_sale_cannot_precede_the_sale(office, trader):
    entry = line(office, trader, "丙酮", "sale", days_ago(30), 3)
    with pytest.raises(ValidationError) as caught:
        ledger.set_reported(actor=office, entry=entry, reported_on=days_ago(31))
    assert caught.value.message_dict["reported_on"] == ["报告日期不能早于业务日期"]
    ledger.set_reported(actor=office, entry=entry, reported_on=days_ago(28))


# ------------------------------------------------------------------ the entry page


def test_a_refused_line_comes_back_with_its_message_and_what_was_typed(client, office, trader):
    sign_in(client, office)
    response = client.post(
        reverse("regulation:entry_add", args=[trader.pk]),
        {
            "substance": substance("高锰酸钾").pk,
            "kind": "purchase",
            "occurred_on": days_ago(30).isoformat(),
            "quantity": "10",
            "measure_unit": "L",
            "counterparty": "外省某化工厂",
            "document_no": "NO-778",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "未设定密度" in body
    assert 'value="NO-778"' in body and 'value="外省某化工厂"' in body
    assert LedgerEntry.objects.count() == 0


def test_a_line_entered_on_the_page_lands_in_the_ledger(client, office, trader):
    sign_in(client, office)
    response = client.post(
        reverse("regulation:entry_add", args=[trader.pk]),
        {
            "substance": substance("丙酮").pk,
            "kind": "use",
            "occurred_on": days_ago(3).isoformat(),
            "quantity": "2.5",
            "measure_unit": "L",
        },
    )
    entry = LedgerEntry.objects.get()
    assert response.status_code == 302 and f"#entry-{entry.pk}" in response.url


# ------------------------------------------------------------------ import


def _sheet(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["2024年台账"])
    sheet.append(
        ["单位名称", "品种", "类型", "日期", "数量", "计量单位", "往来单位", "单据号", "报告日期"]
    )
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rows_ok(day):
    return [
        ["甲一化工经营部", "丙酮", "期初结存", day, 100, "升", "", "", None],
        ["甲一化工经营部", "丙酮", "购入", day, "79.1", "公斤", "外省某化工厂", "FP-1", None],
        ["甲一化工经营部", "P3-02", "销售", day, 20, "L", "外县某厂", "XS-1", day],
    ]


def test_a_sheet_with_row_errors_is_refused_whole_with_row_numbers(office, trader):
    day = days_ago(40)
    rows = [
        *_rows_ok(day),
        ["甲一化工经营部", "丙酮", "使用", day, -5, "升", "", "", None],
        ["乙镇某公司", "丙酮", "使用", day, 5, "升", "", "", None],
        ["甲一化工经营部", "高锰酸钾", "使用", day, 5, "升", "", "", None],
        ["甲一化工经营部", "丙酮", "借出", day, 5, "升", "", "", None],
    ]
    preview = validate(LedgerImport(actor=office), _sheet(rows), filename="台账.xlsx")
    errors = {(e.row, e.column): e.message for e in preview.errors()}
    assert errors[(6, "数量")] == "数量不能为负数"
    assert errors[(7, "单位名称")] == "您的管辖范围内没有名为“乙镇某公司”的监管单位"
    assert "未设定密度" in errors[(8, "计量单位")]
    assert "不认识的类型“借出”" in errors[(9, "类型")]
    result = commit(preview, partial=False)
    assert not result.written
    assert LedgerEntry.objects.count() == 0


def test_a_clean_sheet_loads_once_and_a_second_load_adds_nothing(office, trader):
    data = _sheet(_rows_ok(days_ago(40)))
    result = commit(validate(LedgerImport(actor=office), data, filename="a.xlsx"), partial=False)
    assert result.written and result.counts["created"] == 3
    assert LedgerEntry.objects.get(kind="purchase").quantity == Decimal("100.000")
    again = commit(validate(LedgerImport(actor=office), data, filename="a.xlsx"), partial=False)
    assert again.counts == {"created": 0, "unchanged": 3}
    assert LedgerEntry.objects.count() == 3


def test_a_cadre_imports_only_into_their_own_townships_units(personas, office, trader, territory):
    make_unit(office, territory.village_b, territory.police_dept, name="乙一经营部")
    rows = [["乙一经营部", "丙酮", "使用", days_ago(3), 1, "升", "", "", None]]
    preview = validate(LedgerImport(actor=personas.cadre_a), _sheet(rows), filename="b.xlsx")
    assert [e.column for e in preview.errors()] == ["单位名称"]


def test_jindu_import_ledger_loads_a_sheet_from_the_console(tmp_path, office, trader):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(_sheet(_rows_ok(days_ago(40))))
    call_command("import", "ledger", str(path), "--all-or-nothing", stdout=io.StringIO())
    assert LedgerEntry.objects.count() == 3


def test_an_import_writes_one_audit_row_for_its_lines(office, trader):
    from jindu.audit.models import AuditEvent

    before = AuditEvent.objects.count()
    commit(validate(LedgerImport(actor=office), _sheet(_rows_ok(days_ago(40))), filename="a.xlsx"))
    kinds = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)[before:])
    assert kinds == ["record.created", "record.imported"]


def test_opening_lines_read_before_their_days_movements_in_a_sheet(office, trader):
    day = days_ago(40)
    rows = [
        ["甲一化工经营部", "丙酮", "使用", day, 5, "升", "", "", None],
        ["甲一化工经营部", "丙酮", "期初", day, 100, "升", "", "", None],
    ]
    result = commit(
        validate(LedgerImport(actor=office), _sheet(rows), filename="c.xlsx"), partial=False
    )
    assert result.written
