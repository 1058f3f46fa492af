"""Loads the code lists shipped with the package: ``codes/data/defaults.json`` and
every installed app's own ``data/codes.json``, so that an area ships its lists
beside its code.

Adds what is missing and never overwrites what an administrator changed, so it
is safe to run after every upgrade (it runs after ``migrate``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction

from jindu.codes.models import CodeItem, CodeList

DEFAULTS = Path(__file__).resolve().parent / "data" / "defaults.json"
APP_FILE = Path("data") / "codes.json"


def shipped_files() -> list[Path]:
    """The defaults, then each installed app's ``data/codes.json`` in app order."""
    from django.apps import apps

    files = [DEFAULTS]
    for config in apps.get_app_configs():
        candidate = Path(config.path) / APP_FILE
        if candidate.is_file() and candidate != DEFAULTS:
            files.append(candidate)
    return files


def read_defaults(path: Path = DEFAULTS) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["lists"]


@transaction.atomic
def load_defaults(path: Path | None = None) -> dict[str, int]:
    """Load one file, or (``path`` None) every shipped file."""
    paths = [path] if path is not None else shipped_files()
    added_lists = added_items = 0
    for spec in (spec for p in paths for spec in read_defaults(p)):
        code_list, created = CodeList.objects.get_or_create(
            key=spec["key"],
            defaults={
                "name": spec["name"],
                "description": spec.get("description", ""),
                "builtin": True,
            },
        )
        added_lists += int(created)
        existing = set(code_list.items.values_list("code", flat=True))
        rows = []
        for order, item in enumerate(spec["items"], start=1):
            code, label = item[0], item[1]
            extra = item[2] if len(item) > 2 else {}
            if code not in existing:
                rows.append(
                    CodeItem(
                        code_list=code_list,
                        code=code,
                        label=label,
                        sort_order=order * 10,
                        extra=extra,
                    )
                )
        CodeItem.objects.bulk_create(rows)
        added_items += len(rows)
    return {"lists": added_lists, "items": added_items}


def after_migrate(sender: Any, **kwargs: Any) -> None:
    load_defaults()
