from datetime import date
from decimal import Decimal

import pytest

from jindu.core import indicators
from jindu.core.indicators import Change, Indicator, Period


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(indicators, "REGISTRY", {})
    return indicators.REGISTRY


def test_periods_are_half_open_with_chinese_labels():
    q = Period.quarter(2018, 4)
    assert (q.start, q.end, q.label) == (date(2018, 10, 1), date(2019, 1, 1), "2018年第4季度")
    assert Period.month(2019, 2).last_day == date(2019, 2, 28)
    assert Period.year(2019).previous_year() == Period.year(2018)
    assert Period.between(date(2020, 2, 29), date(2020, 3, 1)).previous_year().start == date(
        2019, 2, 28
    )


def test_value_and_year_on_year_come_from_the_one_definition(registry):
    data = {"/1/": {2017: 10, 2018: 7}, "/1/2/": {2017: 4, 2018: 5}}
    indicators.register(
        Indicator(
            key="cases",
            name="破案数",
            unit="起",
            higher_is_better=True,
            compute=lambda path, period: data[path].get(period.start.year, 0),
        )
    )
    assert indicators.value("cases", "/1/", Period.year(2018)) == 7
    change = indicators.yoy("cases", "/1/", Period.year(2018))
    assert change.difference == -3
    assert change.ratio == Decimal("-0.3")
    assert change.moved_right_way(True) is False
    assert indicators.by_units("cases", ["/1/", "/1/2/"], Period.year(2018)) == {
        "/1/": 7,
        "/1/2/": 5,
    }


def test_a_zero_target_gives_no_completion_rather_than_an_error():
    assert indicators.completion(5, 0) is None
    assert indicators.completion(7, 8) == Decimal("87.5")
    assert indicators.rate(1, 0) is None


def test_change_against_a_zero_year_has_no_ratio():
    assert Change(3, 0).ratio is None
    assert Change(None, 4).difference is None


def test_registering_a_computed_indicator_without_a_function_is_refused(registry):
    with pytest.raises(ValueError):
        indicators.register(Indicator(key="x", name="x", unit="个", higher_is_better=True))


def test_reported_values_come_from_the_provider(registry, monkeypatch):
    indicators.register(
        Indicator(
            key="awareness",
            name="群众禁毒知晓率",
            unit="%",
            higher_is_better=True,
            kind="reported",
            is_rate=True,
            decimals=1,
        )
    )
    monkeypatch.setattr(indicators, "_reported_provider", lambda k, p, per: Decimal("91.26"))
    assert indicators.value("awareness", "/1/", Period.year(2019)) == Decimal("91.3")
