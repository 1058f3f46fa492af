"""Official statistical division codes (统计用区划代码) and the levels of the org tree.

A code has 12 digits: province 2, city 2, county 2, township 3, village 3. A
unit's code carries its own significant digits followed by zeros, and starts
with its parent's significant digits. Grids are local and have no code.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（区）")
    TOWNSHIP = "township", _("乡镇/街道")
    VILLAGE = "village", _("村/社区")
    GRID = "grid", _("网格")


ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID]
SIGNIFICANT = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
}

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def normalize_code(raw: object) -> str:
    """Digits only, full-width converted, spaces removed; Excel numbers un-floated."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).translate(_FULLWIDTH).replace(" ", "").replace("\u3000", "").strip()


def expand_code(code: str) -> str:
    """A code written short, as civil-affairs lists do (6-digit county, 9-digit
    township), padded with zeros to the 12 digits of the statistical code."""
    if code.isdigit() and len(code) in (2, 4, 6, 9):
        return code + "0" * (12 - len(code))
    return code


def child_level(level: str) -> Level | None:
    index = ORDER.index(Level(level))
    return ORDER[index + 1] if index + 1 < len(ORDER) else None


_SEGMENTS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))


def level_of_code(code: str) -> Level | None:
    """The level a well-formed code belongs to: its own digits, then zeros.

    Every segment down to the unit's level is non-zero (no real township is
    numbered 000), so ``621199000201`` is no code at all rather than a village
    hanging straight under a county.
    """
    if len(code) != 12 or not code.isdigit():
        return None
    filled = [code[start:end].strip("0") != "" for start, end in _SEGMENTS]
    depth = filled.index(False) if False in filled else len(filled)
    if depth == 0 or any(filled[depth:]):
        return None
    return ORDER[depth - 1]


def parent_code(code: str) -> str | None:
    level = level_of_code(code)
    if level is None or level == Level.PROVINCE:
        return None
    index = ORDER.index(level)
    parent = ORDER[index - 1]
    digits = SIGNIFICANT[parent]
    return code[:digits] + "0" * (12 - digits)


def code_errors(
    code: str, level: str, parent_level: str | None, parent_code_: str | None
) -> list[str]:
    """Chinese messages for everything wrong with ``code`` at ``level`` under a parent."""
    if not code:
        return []
    if level == Level.GRID:
        return [str(_("网格没有统计用区划代码，请留空"))]
    if len(code) != 12 or not code.isdigit():
        return [
            str(_("区划代码须为12位数字，当前为“%(code)s”（%(n)d位）"))
            % {"code": code, "n": len(code)}
        ]
    found = level_of_code(code)
    if found != level:
        expected = Level(level).label
        return [str(_("区划代码“%(code)s”不是%(level)s级代码")) % {"code": code, "level": expected}]
    if parent_level and parent_code_ and parent_level in SIGNIFICANT:
        digits = SIGNIFICANT[Level(parent_level)]
        if code[:digits] != parent_code_[:digits]:
            return [
                str(_("区划代码“%(code)s”的前%(n)d位与上级单位代码“%(parent)s”不一致"))
                % {"code": code, "n": digits, "parent": parent_code_}
            ]
    return []
