"""Keeps ID numbers and phone numbers out of every log line."""

from __future__ import annotations

import logging
import re

_ID = re.compile(
    r"(?<![0-9])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9])|(?<![0-9])(\d{6})\d{6}(\d{3})(?![0-9])"
)
_PHONE = re.compile(r"(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def mask_text(text: str) -> str:
    def id_repl(m: re.Match) -> str:
        if m.group(1):
            return f"{m.group(1)}********{m.group(2)}"
        return f"{m.group(3)}******{m.group(4)}"

    text = _ID.sub(id_repl, text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not kill logging
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
