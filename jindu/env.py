"""Strict parsers for settings that come from the environment.

Every setting is read here, once, when settings load. A secret may be given
directly (``JINDU_SECRET_KEY``) or as a file (``JINDU_SECRET_KEY_FILE``) so that
it need not sit in the process environment.
"""

from __future__ import annotations

import os
from pathlib import Path


class ConfigError(Exception):
    """A setting in the environment cannot be understood."""


def _raw(name: str) -> str | None:
    file_var = os.environ.get(f"{name}_FILE")
    if file_var:
        try:
            return Path(file_var).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {file_var}: {exc}") from exc
    return os.environ.get(name)


def string(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def boolean(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected a boolean (true/false), got {value!r}")


def integer(name: str, default: int, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        parsed = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: expected an integer, got {value!r}") from exc
    if minimum is not None and parsed < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {parsed}")
    return parsed


def strings(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def secret_or_generated(name: str, path: Path, nbytes: int = 32) -> str:
    """A secret from the environment, or one generated once into ``path``.

    The generated file is only for the embedded (single-machine) default; a
    production deployment sets the variable, and settings refuse to start on
    PostgreSQL without it.
    """
    value = _raw(name)
    if value:
        return value
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    return token
