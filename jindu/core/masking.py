"""Masks for personal data, shown by default everywhere (lists, details, exports, audit)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    value = value.strip()
    if len(value) == 18:
        return value[:6] + "*" * 8 + value[-4:]
    if len(value) == 15:
        return value[:6] + "*" * 6 + value[-3:]
    return (
        value[:2] + "*" * max(len(value) - 4, 1) + value[-2:]
        if len(value) > 4
        else "*" * len(value)
    )


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    value = value.strip()
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * len(value)


def mask_address(value: str | None) -> str:
    if not value:
        return ""
    keep = min(6, max(len(value) // 3, 1))
    return value[:keep] + "*" * 4


def mask_generic(value: object) -> str:
    text = "" if value is None else str(value)
    return "***" if text else ""


MASKERS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "address": mask_address,
    "generic": mask_generic,
}


def mask(kind: str, value: object) -> str:
    return MASKERS.get(kind, mask_generic)(value)  # type: ignore[arg-type]
