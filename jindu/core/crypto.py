"""Personal data encrypted at rest, found by keyed blind indexes.

Keys derive from ``JINDU_DATA_KEY`` (never the database) by HKDF with a purpose
label, so the encryption key, the blind-index key and the audit-chain key are
independent. Ciphertexts carry a version byte and a cipher id, so a database
may hold AES-256-GCM and SM4-GCM values side by side while a county moves to
国密 algorithms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import cache, lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = 1
AES_256_GCM = 1
SM4_GCM = 2
CIPHERS = {"aes-256-gcm": AES_256_GCM, "sm4-gcm": SM4_GCM}
NONCE = 12
TAG = 16


class DecryptionError(Exception):
    pass


@cache
def derive_key(purpose: str, length: int = 32, master: str | None = None) -> bytes:
    secret = (master or settings.DATA_KEY).encode("utf-8")
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=b"jindu/v1", info=purpose.encode()
    ).derive(secret)


@lru_cache(maxsize=8)
def _aes(key: bytes) -> AESGCM:
    """The AES-256-GCM cipher of a key, set up once: a list or an import decrypts
    thousands of values, and setting the cipher up cost as much as decrypting. Looked
    up by the key itself, so a changed data key gets its own."""
    return AESGCM(key)


def _cipher_id() -> int:
    name = settings.DATA_CIPHER.lower()
    if name not in CIPHERS:
        raise ValueError(f"JINDU_DATA_CIPHER must be one of {', '.join(CIPHERS)}")
    return CIPHERS[name]


def encrypt(plaintext: str, *, associated: bytes = b"") -> bytes:
    cipher_id = _cipher_id()
    nonce = os.urandom(NONCE)
    data = plaintext.encode("utf-8")
    if cipher_id == AES_256_GCM:
        body = _aes(derive_key("encrypt/aes-256-gcm")).encrypt(nonce, data, associated or None)
    else:
        enc = Cipher(
            algorithms.SM4(derive_key("encrypt/sm4-gcm", 16)), modes.GCM(nonce)
        ).encryptor()
        if associated:
            enc.authenticate_additional_data(associated)
        body = enc.update(data) + enc.finalize() + enc.tag
    return bytes([VERSION, cipher_id]) + nonce + body


def encrypt_many(plaintexts: list[str]) -> list[bytes]:
    """``encrypt`` for many values at once, as bulk writes need (100,000 rows of personal
    data): the cipher is set up once and the nonces drawn in one call. Same format."""
    if _cipher_id() != AES_256_GCM:
        return [encrypt(text) for text in plaintexts]
    seal = _aes(derive_key("encrypt/aes-256-gcm")).encrypt
    drawn = os.urandom(NONCE * len(plaintexts))
    nonces = [drawn[i : i + NONCE] for i in range(0, len(drawn), NONCE)]
    prefix = bytes([VERSION, AES_256_GCM])
    return [
        prefix + nonce + seal(nonce, text.encode("utf-8"), None)
        for nonce, text in zip(nonces, plaintexts, strict=True)
    ]


def decrypt(token: bytes, *, associated: bytes = b"") -> str:
    token = bytes(token)
    if len(token) < 2 + NONCE + TAG or token[0] != VERSION:
        raise DecryptionError("unknown ciphertext format")
    cipher_id, nonce, body = token[1], token[2 : 2 + NONCE], token[2 + NONCE :]
    try:
        if cipher_id == AES_256_GCM:
            data = _aes(derive_key("encrypt/aes-256-gcm")).decrypt(nonce, body, associated or None)
        elif cipher_id == SM4_GCM:
            dec = Cipher(
                algorithms.SM4(derive_key("encrypt/sm4-gcm", 16)), modes.GCM(nonce, body[-TAG:])
            ).decryptor()
            if associated:
                dec.authenticate_additional_data(associated)
            data = dec.update(body[:-TAG]) + dec.finalize()
        else:
            raise DecryptionError("unknown cipher")
    except DecryptionError:
        raise
    except Exception as exc:  # InvalidTag and friends: wrong key or tampered value
        raise DecryptionError("ciphertext does not authenticate") from exc
    return data.decode("utf-8")


# The length of a blind index: the first 128 bits of HMAC-SHA256 (an HMAC may be
# truncated, NIST SP 800-107; two of a hundred million ID numbers share one with a
# chance of about 10⁻²³). Stored as 16 bytes, a quarter of the hex digest: the unique
# index every new person lands in at a random place stays small enough that adding
# 100,000 people to a register of a million rewrites a quarter of the pages.
BLIND_INDEX_BYTES = 16


def blind_index(value: str, purpose: str) -> bytes:
    """A keyed hash for exact-match search and uniqueness without storing the value."""
    return blind_index_many([value], purpose)[0]


def blind_index_many(values: list[str], purpose: str) -> list[bytes]:
    """``blind_index`` of many values (a sheet of 100,000 ID numbers), the key derived once."""
    keyed = hmac.new(derive_key(f"blind/{purpose}"), digestmod=hashlib.sha256)
    size = BLIND_INDEX_BYTES
    result = []
    for value in values:
        mac = keyed.copy()
        mac.update(value.encode("utf-8"))
        result.append(mac.digest()[:size])
    return result
