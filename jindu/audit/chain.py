"""The hash chain over audit rows.

Each row's hash is a keyed SM3 (HMAC) over the previous row's hash and the row's
own canonical content. Keyed, so that someone who can write the table but does
not hold ``JINDU_DATA_KEY`` cannot forge a consistent chain. SHA-256 stands in
where the platform's OpenSSL lacks SM3; the algorithm is recorded per row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from jindu.core.crypto import derive_key

GENESIS = "0" * 64


def algorithm() -> str:
    return "sm3" if "sm3" in hashlib.algorithms_available else "sha256"


CONTENT_FIELDS = (
    "seq",
    "at",
    "user_id",
    "username",
    "roles",
    "org_path",
    "org_name",
    "client_address",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "result",
    "detail",
)


def canonical(row: dict[str, Any]) -> bytes:
    content = {}
    for name in CONTENT_FIELDS:
        value = row.get(name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        content[name] = value
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def row_hash(prev_hash: str, row: dict[str, Any], algo: str | None = None) -> str:
    algo = algo or algorithm()
    mac = hmac.new(derive_key("audit-chain"), digestmod=algo)
    mac.update(prev_hash.encode("ascii"))
    mac.update(b"\x00")
    mac.update(canonical(row))
    return mac.hexdigest()
