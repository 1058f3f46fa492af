"""National ID numbers (居民身份证号码, GB 11643-1999).

18 characters: a 6-digit region code, the birth date as YYYYMMDD, a 3-digit
sequence whose parity gives the sex (odd male, even female) and a check
character (ISO 7064 MOD 11-2). Legacy 15-digit numbers (before 1999) carry a
2-digit year and no check character; they convert to 18 by inserting "19" and
computing the check character.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
# Province-level prefixes in use (GB/T 2260), plus 71/81/82 for Taiwan, Hong Kong, Macao.
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
        "91",
    ]
)

_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸＸｘ", "0123456789XXX")


class IdNumberError(ValueError):
    """A Chinese explanation of what is wrong with an ID number."""


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    sex: str  # "M" or "F"
    converted_from_15: bool = False

    @property
    def region(self) -> str:
        return self.value[:6]


def check_char(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalize(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).translate(_FULLWIDTH)
    return "".join(text.split()).upper()


def _birth(text: str, shown: str) -> date:
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise IdNumberError(f"身份证号“{shown}”中的出生日期{text}不是真实日期") from exc
    return born


def parse(raw: object, *, today: date | None = None) -> IdNumber:
    """Validate and normalise an ID number; raise ``IdNumberError`` in Chinese."""
    value = normalize(raw)
    today = today or date.today()
    if not value:
        raise IdNumberError("请填写身份证号")
    converted = False
    if len(value) == 15:
        if not value.isdigit():
            raise IdNumberError(f"15位身份证号“{value}”只能由数字组成")
        first17 = value[:6] + "19" + value[6:]
        value = first17 + check_char(first17)
        converted = True
    if len(value) != 18:
        raise IdNumberError(f"身份证号应为18位（或15位旧号），当前为{len(value)}位")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError(f"身份证号“{value}”格式不正确：前17位须为数字，末位为数字或X")
    if value[:2] not in PROVINCES or value[2:6] == "0000":
        raise IdNumberError(f"身份证号“{value}”的地区码{value[:6]}不存在")
    born = _birth(value[6:14], value)
    if born > today:
        raise IdNumberError(f"身份证号“{value}”中的出生日期{born:%Y-%m-%d}晚于今天")
    if born.year < 1900:
        raise IdNumberError(f"身份证号“{value}”中的出生年份{born.year}不合理")
    if not converted and check_char(value[:17]) != value[17]:
        raise IdNumberError(f"身份证号“{value}”的校验位不正确（应为{check_char(value[:17])}）")
    sex = "M" if int(value[16]) % 2 == 1 else "F"
    return IdNumber(value=value, birth_date=born, sex=sex, converted_from_15=converted)


# Under this age on a day, a person was a minor that day (未成年人).
MINOR_AGE = 18


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
