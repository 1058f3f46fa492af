"""An uploaded sheet kept between the preview and the confirmation of an import.

Kept on disk under ``VAR_DIR/imports``, encrypted with the data key and bound to
its uploader (the user id is part of the file name and of the authenticated
data), and swept after a day: a legacy register is personal data.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STASH_HOURS = 24


class StashMissing(Exception):
    pass


def _stash_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stash_path(user: Any, token: str, suffix: str) -> Path:
    if not _TOKEN.match(token or ""):
        raise StashMissing(token)
    return _stash_dir() / f"{int(user.pk)}-{token}.{suffix}"


def _seal(user: Any, token: str, payload: dict[str, Any]) -> bytes:
    from jindu.core.crypto import encrypt

    text_ = json.dumps(payload, ensure_ascii=False)
    return encrypt(text_, associated=f"import:{user.pk}:{token}".encode())


def _unseal(user: Any, token: str, blob: bytes) -> dict[str, Any]:
    from jindu.core.crypto import DecryptionError, decrypt

    try:
        return json.loads(decrypt(blob, associated=f"import:{user.pk}:{token}".encode()))
    except DecryptionError as exc:
        raise StashMissing(token) from exc


def _sweep() -> None:
    """Uploads are kept for a day; a sheet of personal data must not linger on disk."""
    cutoff = time.time() - STASH_HOURS * 3600
    for path in _stash_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def stash_upload(
    *, user: Any, data: bytes, filename: str, options: dict[str, Any] | None = None
) -> str:
    """Keep an uploaded sheet (encrypted, for its uploader only) between preview and confirm."""
    _sweep()
    token = secrets.token_urlsafe(18)
    payload = {
        "filename": filename,
        "options": options or {},
        "data": base64.b64encode(data).decode("ascii"),
    }
    _stash_path(user, token, "upload").write_bytes(_seal(user, token, payload))
    return token


def read_upload(*, user: Any, token: str) -> tuple[bytes, str, dict[str, Any]]:
    path = _stash_path(user, token, "upload")
    if not path.exists():
        raise StashMissing(token)
    payload = _unseal(user, token, path.read_bytes())
    return base64.b64decode(payload["data"]), payload["filename"], payload["options"]


def save_outcome(*, user: Any, token: str, outcome: dict[str, Any]) -> None:
    _stash_path(user, token, "outcome").write_bytes(_seal(user, token, outcome))


def read_outcome(*, user: Any, token: str) -> dict[str, Any]:
    path = _stash_path(user, token, "outcome")
    if not path.exists():
        raise StashMissing(token)
    return _unseal(user, token, path.read_bytes())


def drop_upload(*, user: Any, token: str) -> None:
    """The upload goes once written; the outcome (counts, rejected rows) stays for the download."""
    _stash_path(user, token, "upload").unlink(missing_ok=True)
