"""Keeping the code lists: the system administrator adds lists and entries, relabels,
reorders, retires and restores entries. Entries are never deleted, because old
records keep pointing at them."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes.models import CodeItem, CodeList

CODE_RE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
LIST_FIELDS = ("key", "name", "description")
ITEM_FIELDS = ("code", "label", "sort_order", "active")


def _check_label(code_list: CodeList, label: str, exclude_pk: int | None = None) -> list[str]:
    if not label:
        return [_("请填写名称")]
    if len(label) > 100:
        return [_("名称不能超过100个字")]
    # Two active entries with one label could not be told apart in a form or a sheet.
    clash = code_list.items.filter(active=True, label=label).exclude(pk=exclude_pk).first()
    if clash:
        return [
            _("“%(label)s”已是本字典的启用项（代码 %(code)s）")
            % {"label": label, "code": clash.code}
        ]
    return []


@transaction.atomic
def create_code_list(*, actor: Any, key: str, name: str, description: str = "") -> CodeList:
    key, name = (key or "").strip(), (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not KEY_RE.match(key):
        errors["key"] = [_("标识须以小写字母开头，只含小写字母、数字和下划线，2至50个字符")]
    elif key == "new" or CodeList.objects.filter(key=key).exists():
        errors["key"] = [_("标识“%(key)s”已被使用") % {"key": key}]
    if not name:
        errors["name"] = [_("请填写字典名称")]
    elif len(name) > 100:
        errors["name"] = [_("名称不能超过100个字")]
    if errors:
        raise ValidationError(errors)
    code_list = CodeList.objects.create(key=key, name=name, description=(description or "").strip())
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=code_list,
        after=snapshot(code_list, LIST_FIELDS),
    )
    return code_list


@transaction.atomic
def update_code_list(
    *, actor: Any, code_list: CodeList, name: str, description: str = ""
) -> CodeList:
    code_list = CodeList.objects.select_for_update().get(pk=code_list.pk)
    before = snapshot(code_list, LIST_FIELDS)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("请填写字典名称")]})
    code_list.name, code_list.description = name[:100], (description or "").strip()
    code_list.save()
    after = snapshot(code_list, LIST_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=code_list, before=before, after=after
        )
    return code_list


@transaction.atomic
def add_code_item(
    *, actor: Any, code_list: CodeList, code: str, label: str, sort_order: int | None = None
) -> CodeItem:
    code, label = (code or "").strip(), (label or "").strip()
    code_list = CodeList.objects.select_for_update().get(pk=code_list.pk)
    errors: dict[str, list[str]] = {}
    if not CODE_RE.match(code):
        errors["code"] = [_("代码只能由字母、数字和下划线组成，不超过50个字符")]
    else:
        # Compared in Python: the list is short, and Python folds case the same everywhere.
        existing = next((i for i in code_list.items.all() if i.code.lower() == code.lower()), None)
        if existing:
            errors["code"] = [
                _("代码“%(code)s”已在本字典中（%(label)s），字典项不能删除或重复")
                % {"code": existing.code, "label": str(existing)}
            ]
    label_errors = _check_label(code_list, label)
    if label_errors:
        errors["label"] = label_errors
    if errors:
        raise ValidationError(errors)
    if sort_order is None:
        highest = code_list.items.aggregate(m=Max("sort_order"))["m"] or 0
        sort_order = highest + 10
    item = CodeItem.objects.create(
        code_list=code_list, code=code, label=label, sort_order=sort_order
    )
    record_change(
        actor=actor, action=Action.RECORD_CREATED, obj=item, after=snapshot(item, ITEM_FIELDS)
    )
    return item


@transaction.atomic
def update_code_item(
    *,
    actor: Any,
    item: CodeItem,
    label: str | None = None,
    sort_order: int | None = None,
    active: bool | None = None,
) -> CodeItem:
    """Relabel, reorder, retire (``active=False``) or restore an entry; its code never changes."""
    item = CodeItem.objects.select_for_update().select_related("code_list").get(pk=item.pk)
    before = snapshot(item, ITEM_FIELDS)
    new_label = item.label if label is None else label.strip()
    becomes_active = item.active if active is None else active
    if new_label != item.label or (becomes_active and not item.active):
        errors = (
            _check_label(item.code_list, new_label, exclude_pk=item.pk) if becomes_active else []
        )
        if not new_label:
            errors = [_("请填写名称")]
        if errors:
            raise ValidationError({"label": errors})
    item.label = new_label
    if sort_order is not None:
        item.sort_order = sort_order
    item.active = becomes_active
    item.save()
    after = snapshot(item, ITEM_FIELDS)
    if after != before:
        record_change(
            actor=actor, action=Action.RECORD_UPDATED, obj=item, before=before, after=after
        )
    return item
