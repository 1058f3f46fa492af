"""Navigation by the areas of the work, in the speech's order.

Each app adds its pages with ``register`` (in its ``AppConfig.ready``); an entry
shows only to roles that may open it. An area with no pages yet is listed as
not yet open (待开通) to everyday roles, so that they know what is coming; the
three administrators see only 系统管理, since the work areas are not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from jindu.core.roles import ADMIN_ROLES, EVERYDAY_ROLES, Perm

SYSTEM_AREA = "system"


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
        Area(SYSTEM_AREA, _("系统管理"), "gear"),
    ]
}


def register(area: str, label: Any, url_name: str, perm: Perm | None, icon: str = "circle") -> None:
    """Add a page to an area. Registering the same URL name twice keeps one entry."""
    entries = AREAS[area].entries
    if any(entry.url_name == url_name for entry in entries):
        return
    entries.append(Entry(label, url_name, perm, icon))


def _holds(url: str, current_path: str) -> bool:
    return url != "/" and current_path.startswith(url)


def navigation_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    """The areas and entries ``user`` may open, each marked active if it holds the page."""
    everyday = bool(user.role_codes & EVERYDAY_ROLES)
    administrator = bool(user.role_codes & ADMIN_ROLES)
    result = []
    for area in AREAS.values():
        if administrator and area.key != SYSTEM_AREA:
            # Separation of duties: the work itself is not the administrators'.
            continue
        entries = []
        wired = False
        for entry in area.entries:
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                # An app registered a page whose URL is not wired yet.
                continue
            wired = True
            if entry.perm is not None and not user.has_jindu_perm(entry.perm):
                continue
            entries.append(
                {
                    "label": entry.label,
                    "url": url,
                    "icon": entry.icon,
                    "active": False,
                }
            )
        if entries:
            result.append(_area(area, entries, is_open=True))
        elif everyday and not wired and area.key != SYSTEM_AREA:
            result.append(_area(area, [], is_open=False))
    _mark_active(result, current_path)
    return result


def _mark_active(areas: list[dict[str, Any]], current_path: str) -> None:
    """Only the entry with the longest URL holding the page is active, so that
    ``/accounts/sessions/`` does not light up ``/accounts/`` as well."""
    holding = [
        entry for area in areas for entry in area["entries"] if _holds(entry["url"], current_path)
    ]
    if not holding:
        return
    best = max(holding, key=lambda entry: len(entry["url"]))
    best["active"] = True
    for area in areas:
        area["active"] = any(entry is best for entry in area["entries"])


def _area(area: Area, entries: list[dict[str, Any]], *, is_open: bool) -> dict[str, Any]:
    return {
        "key": area.key,
        "label": area.label,
        "icon": area.icon,
        "entries": entries,
        "open": is_open,
        "active": False,
    }
