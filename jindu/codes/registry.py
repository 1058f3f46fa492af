"""Reading code lists: labels (retired entries included) and choices (active only)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jindu.codes.models import CodeItem


def items(list_key: str, *, include_retired: bool = False) -> list[CodeItem]:
    qs = CodeItem.objects.filter(code_list__key=list_key)
    if not include_retired:
        qs = qs.filter(active=True)
    return list(qs.order_by("sort_order", "code"))


def choices(list_key: str, *, current: str | None = None) -> list[tuple[str, str]]:
    """Active entries, plus the record's current value even if it has been retired."""
    result = [(item.code, item.label) for item in items(list_key)]
    if current and current not in {code for code, _label in result}:
        retired = CodeItem.objects.filter(code_list__key=list_key, code=current).first()
        if retired:
            result.append((retired.code, _("%(label)s（已停用）") % {"label": retired.label}))
    return result


def label(list_key: str, code: str | None) -> str:
    if not code:
        return ""
    item = CodeItem.objects.filter(code_list__key=list_key, code=code).first()
    if item is None:
        return code
    return item.label if item.active else _("%(label)s（已停用）") % {"label": item.label}


def labels(list_key: str) -> dict[str, str]:
    """Every code's label at once, for lists and exports (no query per row)."""
    return {
        item.code: item.label
        for item in CodeItem.objects.filter(code_list__key=list_key).only("code", "label")
    }


def is_valid(list_key: str, code: str) -> bool:
    return CodeItem.objects.filter(code_list__key=list_key, code=code, active=True).exists()
