"""Navigation by the areas of the work, in the speech's order.

Each app adds its pages with ``register``; an entry shows only to roles that may
open it. An area with no pages yet is listed as not yet open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from jindu.core.roles import Perm


@dataclass
class Entry:
    label: Any
    url_name: str
    perm: Perm | None
    icon: str = "circle"


@dataclass
class Area:
    key: str
    label: Any
    icon: str
    entries: list[Entry] = field(default_factory=list)


AREAS: dict[str, Area] = {
    area.key: area
    for area in [
        Area("targets", _("目标任务"), "bullseye"),
        Area("prevention", _("预防教育"), "mortarboard"),
        Area("rehab", _("戒毒管控"), "people"),
        Area("enforcement", _("缉毒打击"), "shield-check"),
        Area("regulation", _("禁毒监管"), "clipboard-check"),
        Area("monitoring", _("毒情监测"), "graph-up"),
        Area("assessment", _("督导考核"), "award"),
        Area("system", _("系统管理"), "gear"),
    ]
}


def register(area: str, label: Any, url_name: str, perm: Perm | None, icon: str = "circle") -> None:
    AREAS[area].entries.append(Entry(label, url_name, perm, icon))


def navigation_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    result = []
    for area in AREAS.values():
        entries = []
        for entry in area.entries:
            if entry.perm is not None and not user.has_jindu_perm(entry.perm):
                continue
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                continue
            entries.append(
                {"label": entry.label, "url": url, "icon": entry.icon,
                 "active": current_path.startswith(url) and url != "/"}
            )
        if entries or not area.entries:
            result.append(
                {"key": area.key, "label": area.label, "icon": area.icon, "entries": entries,
                 "open": bool(area.entries)}
            )
    return result
