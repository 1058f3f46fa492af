"""Checks shared by the inspection services: Chinese errors keyed by form field, dates,
texts, code-list values, units in scope, phones; and the photo files a write
stores, removed again if the write fails."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.codes import registry
from jindu.inspections.images import CheckedFile
from jindu.inspections.models import Photo
from jindu.inspections.storage import private_storage
from jindu.orgs.division import Level

Errors = dict[str, list[str]]

# Venues, outlets and patrols belong to a township or a unit below it.
RECORD_LEVELS = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID)


def add_error(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def raise_errors(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def today() -> date:
    return timezone.localdate()


def check_date(
    errors: Errors, field: str, value: date | None, label: str, *, required: bool = True
) -> None:
    if value is None:
        if required:
            add_error(errors, field, _("请填写%(label)s") % {"label": label})
        return
    if value > today():
        add_error(errors, field, _("%(label)s不能晚于今天") % {"label": label})


def check_text(
    errors: Errors, field: str, value: str, label: str, *, limit: int, required: bool = True
) -> str:
    value = (value or "").strip()
    if required and not value:
        add_error(errors, field, _("请填写%(label)s") % {"label": label})
    elif len(value) > limit:
        add_error(errors, field, _("%(label)s不能超过%(n)d个字") % {"label": label, "n": limit})
    return value


def check_code(
    errors: Errors, field: str, list_key: str, code: str, label: str, *, current: str = ""
) -> None:
    if not code:
        add_error(errors, field, _("请选择%(label)s") % {"label": label})
    elif code != current and not registry.is_valid(list_key, code):
        add_error(
            errors, field, _("“%(code)s”不是有效的%(label)s") % {"code": code, "label": label}
        )


def check_unit(errors: Errors, actor: Any, unit: Any) -> None:
    if unit is None:
        add_error(errors, "org_unit", _("请选择所在村（社区）或乡镇"))
        return
    if unit.level not in RECORD_LEVELS:
        add_error(errors, "org_unit", _("请选择乡镇、村（社区）或网格，不能直接选县"))
    elif actor is not None and not unit.path.startswith(actor.scope_path):
        add_error(errors, "org_unit", _("所选单位不在您的管辖范围内"))


def check_phone(errors: Errors, field: str, phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 13):
        add_error(errors, field, _("请填写有效的电话号码（7至13位数字）"))
    return phone


@contextmanager
def files_removed_on_error() -> Iterator[list[str]]:
    """Files written inside the block are deleted again if the block fails, so that a
    refused write leaves no photo behind."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        storage = private_storage()
        for name in written:
            storage.delete(name)
        raise


def attach_photos(
    photos: Sequence[CheckedFile], *, actor: Any, written: list[str], **parent: Any
) -> int:
    owner = next(iter(parent.values()))
    for checked in photos:
        photo = Photo(
            content_type=checked.content_type,
            width=checked.width,
            height=checked.height,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            **parent,
        )
        photo.set_org_unit(owner.org_unit)
        photo.file.save(f"photo.{checked.extension}", ContentFile(checked.data), save=False)
        written.append(photo.file.name)
        photo.save()
    return len(photos)


def actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def move_children(record: Any, related: Iterable[Any]) -> None:
    """Records copied from a venue or outlet follow it when it moves to another unit."""
    for qs in related:
        qs.update(org_unit=record.org_unit, org_path=record.org_path)
