"""Which village or grid a cell of a legacy sheet names, inside the importing user's scope.

Registers name the responsible unit in many ways: the village's name, the
grid's name (often "第一网格", found in every village), "township village grid"
with or without separators, or the 12-digit division code. ``UnitFinder``
loads the scope's townships, villages and grids once and answers each distinct
cell once; a name it cannot place is looked up outside the scope in one query,
so that the message can say "not in your area" rather than "not found".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from jindu.core.excel_import import code_text
from jindu.orgs.division import expand_code

_CHUNK = 5000
_SEPARATORS = re.compile(r"[\s/\\\-－—·>＞、,，]+")


def unit_key(text: str) -> str:
    """A name as compared: no spaces or separators between township, village and grid."""
    return _SEPARATORS.sub("", text)


@dataclass
class Unit:
    pk: int
    name: str
    path: str
    level: str
    # The township and village above it, for messages ("甲镇甲一村第一网格").
    full_name: str


class UnitFinder:
    """The villages and grids of a scope (all of them for ``scope_path`` ""), by name or code."""

    def __init__(self, scope_path: str, scope_name: str = "") -> None:
        from jindu.orgs.models import OrgUnit

        self.scope_path, self.scope_name = scope_path, scope_name
        units = OrgUnit.objects.filter(active=True, level__in=("township", "village", "grid"))
        if scope_path:
            units = units.within(scope_path)
        rows = list(units.values_list("pk", "name", "path", "level", "division_code"))
        names = {pk: name for pk, name, *_rest in rows}
        self.by_key: dict[str, list[Unit]] = {}
        self.by_code: dict[str, Unit] = {}
        self.townships: set[str] = set()
        for pk, name, path, level, code in rows:
            if level == "township":
                self.townships.update(k for k in (unit_key(name), code) if k)
                continue
            chain = [names.get(int(p)) for p in path.strip("/").split("/")[:-1]]
            chain = [n for n in chain if n]
            unit = Unit(pk, name, path, level, "".join(chain[-2:]) + name)
            keys = {unit_key(name)}
            if chain:
                keys.add(unit_key(chain[-1] + name))
            if len(chain) > 1:
                keys.add(unit_key(chain[-2] + chain[-1] + name))
            for key in keys:
                self.by_key.setdefault(key, []).append(unit)
            if code:
                self.by_code[code] = unit

    def find(self, text: str) -> Unit | str | None:
        """The unit a cell names in the scope, the Chinese reason why none, or None if unknown."""
        code = code_text(text)
        if code.isdigit():
            return self.by_code.get(expand_code(code))
        key = unit_key(text)
        matches = self.by_key.get(key, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = {"v": text, "units": "、".join(u.full_name for u in matches[:3])}
            return _("“%(v)s”对应多个单位（%(units)s），请写明所属乡镇、村，或填写区划代码") % shown
        if key in self.townships or code in self.townships:
            return _("责任单位须为村（社区）或网格，“%(v)s”是乡镇（街道）") % {"v": text}
        return None

    def resolve(self, cells: Iterable[str | None]) -> dict[str, Unit | str]:
        """Every distinct cell resolved once: to its unit, or to why it has none."""
        from jindu.orgs.models import OrgUnit

        resolved: dict[str, Unit | str] = {}
        unknown: list[str] = []
        for text in cells:
            if text and text not in resolved:
                found = self.find(text)
                if found is None:
                    unknown.append(text)
                    found = _("找不到责任单位“%(v)s”") % {"v": text}
                resolved[text] = found
        if not self.scope_path or not unknown:
            return resolved
        keys = {t: expand_code(code_text(t)) if code_text(t).isdigit() else t for t in unknown}
        outside: set[str] = set()
        values = sorted(set(keys.values()))
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            found_units = OrgUnit.objects.filter(Q(name__in=chunk) | Q(division_code__in=chunk))
            for name, code in found_units.exclude(path__startswith=self.scope_path).values_list(
                "name", "division_code"
            ):
                outside.update((name, code))
        for text, key in keys.items():
            if key in outside:
                shown = {"v": text, "scope": self.scope_name}
                resolved[text] = _("责任单位“%(v)s”不在您的管辖范围（%(scope)s）内") % shown
        return resolved
