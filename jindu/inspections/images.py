"""Telling a real photo from anything else by its content, without an imaging library.

An upload is accepted as a JPEG, PNG or WebP only if its bytes have that
format's structure and say how large the picture is; the name and the type the
browser claims are ignored. A text file renamed ``.jpg`` has no JPEG markers and
is refused. Letter scans may also be PDF files.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 10
# Larger than any phone camera; a larger header is a crafted file.
MAX_SIDE = 20000


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    extension: str
    width: int
    height: int


def _png(data: bytes) -> ImageInfo | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR" or len(data) < 33:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("image/png", "png", width, height)


# Start-of-frame markers carry the size; C4 (Huffman), C8 (reserved) and CC (arithmetic)
# share the range without being frames.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _jpeg(data: bytes) -> ImageInfo | None:
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    pos, size = 2, len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            return None
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if pos + 9 > size:
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageInfo("image/jpeg", "jpg", width, height)
        pos += 2 + length
    return None


def _webp(data: bytes) -> ImageInfo | None:
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8 ":
        # Lossy: a frame tag of 3 bytes, the start code, then 14-bit width and height.
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("image/webp", "webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            return None
        bits = int.from_bytes(data[21:25], "little")
        return ImageInfo("image/webp", "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("image/webp", "webp", width, height)
    return None


def sniff_image(data: bytes) -> ImageInfo | None:
    """The format and size a file's bytes declare, or None if they are no photo we accept."""
    for reader in (_jpeg, _png, _webp):
        info = reader(data)
        if info is not None:
            if not (0 < info.width <= MAX_SIDE and 0 < info.height <= MAX_SIDE):
                return None
            return info
    return None


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its bytes and what they are."""

    data: bytes
    content_type: str
    extension: str
    width: int = 0
    height: int = 0
    # Set when the photo was kept from an earlier, refused submission.
    stash_token: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _read(upload: Any, limit: int) -> bytes:
    """At most ``limit + 1`` bytes, so that a huge upload is never read whole into memory."""
    upload.seek(0)
    return upload.read(limit + 1)


def _too_large(name: str, limit: int) -> str:
    return _("“%(name)s”超过%(mb)sMB，请压缩后再上传") % {
        "name": name,
        "mb": limit // (1024 * 1024),
    }


def check_photo(upload: Any, *, limit: int = MAX_PHOTO_BYTES) -> CheckedFile:
    """Accept a JPEG, PNG or WebP photo of at most ``limit`` bytes, judged by its content."""
    name = str(getattr(upload, "name", "") or _("照片"))[:80]
    if getattr(upload, "size", 0) and upload.size > limit:
        raise ValidationError(_too_large(name, limit))
    data = _read(upload, limit)
    if len(data) > limit:
        raise ValidationError(_too_large(name, limit))
    info = sniff_image(data)
    if info is None:
        raise ValidationError(
            _("“%(name)s”不是有效的图片文件，只能上传JPEG、PNG或WebP格式的照片") % {"name": name}
        )
    return CheckedFile(data, info.content_type, info.extension, info.width, info.height)


def check_scan(upload: Any, *, limit: int = MAX_PHOTO_BYTES) -> CheckedFile:
    """A letter's scan: a photo as above, or a PDF file."""
    name = str(getattr(upload, "name", "") or _("扫描件"))[:80]
    data = _read(upload, limit)
    if len(data) > limit:
        raise ValidationError(_too_large(name, limit))
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return CheckedFile(data, "application/pdf", "pdf")
    info = sniff_image(data)
    if info is None:
        raise ValidationError(
            _("“%(name)s”不是有效的扫描件，只能上传PDF或JPEG、PNG、WebP格式的图片") % {"name": name}
        )
    return CheckedFile(data, info.content_type, info.extension, info.width, info.height)


def check_photos(uploads: list[Any]) -> list[CheckedFile]:
    """Every photo checked; the errors of all of them together, so that each can be fixed."""
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(_("一次最多上传%(n)d张照片") % {"n": MAX_PHOTOS})
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_photo(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return checked
