"""Photos kept between a refused submission and the next one.

A browser cannot put chosen files back into a form, so when an inspection form
comes back with an error, the photos that passed their checks are kept here
(bound to their uploader, swept after a day) and the form carries their tokens,
so that a cadre on a phone does not have to take them again.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings

from jindu.inspections.images import CheckedFile, sniff_image

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STASH_HOURS = 24


def _folder() -> Path:
    path = Path(settings.VAR_DIR) / "photo-stash"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(user: Any, token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    return _folder() / f"{int(user.pk)}-{token}"


def _sweep() -> None:
    cutoff = time.time() - STASH_HOURS * 3600
    for path in _folder().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def keep(user: Any, photos: Iterable[CheckedFile]) -> list[str]:
    """Keep each photo not kept yet; the tokens of all of them, in order."""
    _sweep()
    tokens = []
    for photo in photos:
        token = photo.stash_token
        if not token:
            token = secrets.token_urlsafe(18)
            path = _path(user, token)
            assert path is not None
            path.write_bytes(photo.data)
        tokens.append(token)
    return tokens


def load(user: Any, tokens: Iterable[str]) -> list[CheckedFile]:
    """The user's kept photos for these tokens; unknown, foreign or stale tokens are skipped."""
    result = []
    for token in tokens:
        path = _path(user, token)
        if path is None or not path.is_file():
            continue
        data = path.read_bytes()
        info = sniff_image(data)
        if info is None:
            continue
        result.append(
            CheckedFile(data, info.content_type, info.extension, info.width, info.height, token)
        )
    return result


def discard(user: Any, tokens: Iterable[str]) -> None:
    for token in tokens:
        path = _path(user, token)
        if path is not None:
            path.unlink(missing_ok=True)


def split_tokens(value: str) -> list[str]:
    return [t for t in (value or "").split(",") if _TOKEN.match(t)][:20]
