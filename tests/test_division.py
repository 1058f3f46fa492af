"""Statistical division codes: length, level, prefix against the parent, full-width input."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jindu.orgs import services
from jindu.orgs.division import (
    Level,
    code_errors,
    expand_code,
    level_of_code,
    normalize_code,
    parent_code,
)
from jindu.orgs.models import OrgUnit


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("620000000000", Level.PROVINCE),
        ("621100000000", Level.CITY),
        ("621199000000", Level.COUNTY),
        ("621199100000", Level.TOWNSHIP),
        ("621199100201", Level.VILLAGE),
        ("6211991002", None),
        ("62119910020A", None),
        ("000000000000", None),
        ("621199000201", None),
        ("620099000000", None),
    ],
)
def test_level_follows_from_the_trailing_zeros(code, level):
    assert level_of_code(code) == level


def test_parent_code_drops_the_last_level():
    assert parent_code("621199100201") == "621199100000"
    assert parent_code("621199100000") == "621199000000"
    assert parent_code("621199000000") == "621100000000"
    assert parent_code("620000000000") is None


def test_full_width_digits_and_spaces_are_normalised():
    assert normalize_code("６２１１９９　１００２０１") == "621199100201"
    assert normalize_code(621199100201.0) == "621199100201"


def test_short_civil_affairs_codes_are_padded():
    assert expand_code("621199") == "621199000000"
    assert expand_code("621199100") == "621199100000"
    assert expand_code("6211991002") == "6211991002"


def test_wrong_length_is_explained():
    (message,) = code_errors("62119910020", Level.VILLAGE, Level.TOWNSHIP, "621199100000")
    assert "12位数字" in message and "11位" in message


def test_wrong_level_is_explained():
    (message,) = code_errors("621199100000", Level.VILLAGE, Level.TOWNSHIP, "621199100000")
    assert "不是村/社区级代码" in message


def test_prefix_disagreeing_with_parent_is_explained():
    (message,) = code_errors("621199101201", Level.VILLAGE, Level.TOWNSHIP, "621199100000")
    assert "前9位" in message and "621199100000" in message


def test_grids_carry_no_code():
    (message,) = code_errors("621199100201", Level.GRID, Level.VILLAGE, "621199100201")
    assert "网格没有" in message


# ------------------------------------------------------------------ through the services


def _create(parent, code, level=Level.VILLAGE, name="新村"):
    return services.create_unit(
        actor=None, name=name, level=level, parent=parent, division_code=code
    )


def test_creating_a_unit_with_a_bad_code_changes_nothing(territory):
    before = OrgUnit.objects.count()
    for code in ("6211991002", "621199101201", "621199100000"):
        with pytest.raises(ValidationError) as caught:
            _create(territory.township_a, code)
        assert "division_code" in caught.value.message_dict
    assert OrgUnit.objects.count() == before


def test_full_width_code_is_accepted_and_stored_half_width(territory):
    unit = _create(territory.township_a, "６２１１９９１００２０２")
    assert unit.division_code == "621199100202"


def test_a_code_already_used_is_refused(territory):
    with pytest.raises(ValidationError, match="已被其他单位使用"):
        _create(territory.township_a, "621199100201")


def test_a_child_of_the_wrong_level_is_refused(territory):
    with pytest.raises(ValidationError) as caught:
        _create(territory.county, None, level=Level.VILLAGE)
    assert "下级应为乡镇/街道" in caught.value.message_dict["level"][0]


def test_recoding_a_township_carries_its_villages_codes_along(territory, personas):
    services.update_unit(
        actor=personas.county_officer, unit=territory.township_a, division_code="621199102000"
    )
    territory.village_a.refresh_from_db()
    assert territory.village_a.division_code == "621199102201"
    changes = list(territory.village_a.history.values_list("change", "old_code", "new_code"))
    assert ("recoded", "621199100201", "621199102201") in changes
