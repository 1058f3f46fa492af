"""ID numbers (GB 11643-1999): what is accepted, what it says about the person, and
the Chinese message for each way a number can be wrong."""

from __future__ import annotations

from datetime import date

import pytest

from jindu.people import idnumber
from tests.people_factories import make_id_number

TODAY = date(2026, 3, 1)


def test_the_standards_own_example_is_a_woman_born_on_new_years_eve_1949():
    number = idnumber.parse("11010519491231002X", today=TODAY)
    assert number.value == "11010519491231002X"
    assert number.birth_date == date(1949, 12, 31)
    assert number.sex == "F"
    assert not number.converted_from_15


def test_a_lower_case_x_full_width_digits_and_spaces_are_normalised():
    assert idnumber.parse(" 110105 19491231 002x ", today=TODAY).value == "11010519491231002X"
    assert idnumber.parse("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).value == (
        "11010519491231002X"
    )


def test_a_fifteen_digit_number_becomes_eighteen_with_its_check_character():
    number = idnumber.parse("621199880808071", today=TODAY)
    assert number.value == make_id_number(date(1988, 8, 8), 71)
    assert number.converted_from_15
    assert number.birth_date == date(1988, 8, 8)
    assert number.sex == "M"


def test_the_factory_makes_numbers_the_parser_accepts_with_the_sex_of_the_sequence():
    assert idnumber.parse(make_id_number(date(1990, 5, 6), 11), today=TODAY).sex == "M"
    assert idnumber.parse(make_id_number(date(1990, 5, 6), 12), today=TODAY).sex == "F"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写身份证号"),
        ("11010519491231002", "应为18位（或15位旧号），当前为17位"),
        ("110105194912310021", "校验位不正确（应为X）"),
        ("11010519491231A02X", "前17位须为数字"),
        ("000105194912310028", "地区码000105不存在"),
        ("621199" + "20270101" + "0011", "晚于今天"),
        ("62119990023001X", "只能由数字组成"),
    ],
)
def test_a_wrong_number_is_explained_in_chinese(raw, message):
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse(raw, today=TODAY)
    assert message in str(caught.value)


def test_an_impossible_birth_date_is_named():
    first17 = "62119919900230001"
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse(first17 + idnumber.check_char(first17), today=TODAY)
    assert "出生日期19900230不是真实日期" in str(caught.value)


def test_a_birth_before_1900_is_refused():
    first17 = "62119918991231001"
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse(first17 + idnumber.check_char(first17), today=TODAY)
    assert "出生年份1899不合理" in str(caught.value)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2008, 3, 1), date(2026, 3, 1), 18),
        (date(2008, 3, 2), date(2026, 3, 1), 17),
        (date(2000, 2, 29), date(2026, 2, 28), 25),
    ],
)
def test_age_counts_whole_years(birth, on, age):
    assert idnumber.age_on(birth, on) == age
