"""Venues, outlets, patrols and image files for the inspection tests."""

from __future__ import annotations

import struct
import zlib
from datetime import date, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jindu.inspections import courier_services, patrol_services, services
from jindu.inspections.images import CheckedFile, check_photo


def _chunk(tag: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + tag
        + data
        + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    )


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A real, viewable PNG: red pixels."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def jpeg_bytes(width: int = 640, height: int = 480) -> bytes:
    """The structure of a baseline JPEG up to its frame header (enough to be recognised)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00" * 3
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp_bytes(width: int = 800, height: int = 600) -> bytes:
    """An extended (VP8X) WebP header declaring its canvas size."""
    body = b"WEBP" + b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo(name: str = "现场.png") -> CheckedFile:
    return check_photo(upload(name, png_bytes()))


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def make_venue(actor: Any, unit: Any, name: str = "悦来宾馆", **extra: Any) -> Any:
    values = {
        "kind": "hotel",
        "address": f"{unit.name}街道1号",
        "operator_name": "王老板",
        "operator_phone": "13812345678",
        "registered_on": date(2020, 1, 1),
        **extra,
    }
    return services.register_venue(actor=actor, org_unit=unit, name=name, **values)


ALL_PASS = {"publicity": (True, ""), "registration": (True, "")}


def inspect(
    actor: Any,
    venue: Any,
    on: date,
    *,
    failed: tuple[str, ...] = (),
    deadline: date | None = None,
    photos: tuple[CheckedFile, ...] = (),
    items: tuple[str, ...] = ("publicity", "registration"),
) -> Any:
    results = {code: (True, "") for code in items}
    results.update({code: (False, "未见禁毒宣传海报") for code in failed})
    return services.record_venue_inspection(
        actor=actor,
        venue=venue,
        inspected_on=on,
        mode="open",
        inspectors="张三、李四",
        results=results,
        fix_deadline=deadline or (on + timedelta(days=15) if failed else None),
        photos=photos,
    )


def make_outlet(actor: Any, unit: Any, name: str = "中通快递网点", **extra: Any) -> Any:
    values = {
        "kind": "outlet",
        "company": "中通",
        "address": f"{unit.name}主街2号",
        "contact_name": "赵站长",
        "contact_phone": "13900002222",
        **extra,
    }
    return courier_services.register_outlet(actor=actor, org_unit=unit, name=name, **values)


def courier_check(actor: Any, outlet: Any, on: date, **counts: tuple[int, int]) -> Any:
    return courier_services.record_courier_inspection(
        actor=actor, outlet=outlet, inspected_on=on, inspectors="周检查", counts=counts
    )


def make_patrol(actor: Any, unit: Any, on: date, **extra: Any) -> Any:
    values = {
        "land_kind": "field",
        "team": "甲镇踏查组",
        "distance_km": "3.5",
        **extra,
    }
    return patrol_services.record_patrol(actor=actor, org_unit=unit, patrolled_on=on, **values)
