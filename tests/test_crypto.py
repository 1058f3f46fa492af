"""Personal data at rest: AES-256-GCM by default, SM4-GCM when chosen, both readable
side by side; a changed byte or another key is refused; bulk sealing gives the same
format with a fresh nonce each time."""

from __future__ import annotations

import pytest

from jindu.core import crypto

NUMBER = "110105194912310029"


def test_aes_is_the_default_and_reads_back(settings):
    assert settings.DATA_CIPHER.lower() == "aes-256-gcm"
    token = crypto.encrypt(NUMBER)
    assert token[:2] == bytes([crypto.VERSION, crypto.AES_256_GCM])
    assert NUMBER.encode() not in token
    assert crypto.decrypt(token) == NUMBER


def test_sm4_gcm_when_chosen_and_older_aes_values_still_read(settings):
    older = crypto.encrypt("北京市东城区甲1号")
    settings.DATA_CIPHER = "sm4-gcm"
    token = crypto.encrypt(NUMBER)
    assert token[:2] == bytes([crypto.VERSION, crypto.SM4_GCM])
    assert crypto.decrypt(token) == NUMBER
    assert crypto.decrypt(older) == "北京市东城区甲1号"
    # In bulk too, one cipher for all.
    sealed = crypto.encrypt_many(["甲", "乙"])
    assert [t[1] for t in sealed] == [crypto.SM4_GCM] * 2
    assert [crypto.decrypt(t) for t in sealed] == ["甲", "乙"]


def test_an_unknown_cipher_is_refused(settings):
    settings.DATA_CIPHER = "des"
    with pytest.raises(ValueError):
        crypto.encrypt(NUMBER)


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-gcm"])
def test_a_changed_byte_or_context_is_refused(settings, cipher):
    settings.DATA_CIPHER = cipher
    token = bytearray(crypto.encrypt(NUMBER, associated=b"people.person"))
    assert crypto.decrypt(bytes(token), associated=b"people.person") == NUMBER
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(token), associated=b"people.visit")
    for at in (2, 2 + crypto.NONCE, len(token) - 1):  # nonce, body, tag
        changed = bytearray(token)
        changed[at] ^= 0x01
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(bytes(changed), associated=b"people.person")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(b"\x09" + bytes(token[1:]), associated=b"people.person")


def test_another_data_key_cannot_read(settings):
    token = crypto.encrypt(NUMBER)
    settings.DATA_KEY = "another-county-data-key-0123456789"
    crypto.derive_key.cache_clear()
    try:
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(token)
    finally:
        crypto.derive_key.cache_clear()


def test_bulk_sealing_reads_back_with_a_fresh_nonce_each_time():
    texts = [f"青岚县甲镇{i}号" for i in range(500)] + ["", NUMBER, NUMBER]
    sealed = crypto.encrypt_many(texts)
    assert [crypto.decrypt(t) for t in sealed] == texts
    nonces = {t[2 : 2 + crypto.NONCE] for t in sealed}
    assert len(nonces) == len(texts)
    assert sealed[-1] != sealed[-2]  # the same number never gives the same ciphertext


def test_the_blind_index_is_keyed_and_stable(settings):
    first = crypto.blind_index(NUMBER, "person-id")
    assert first == crypto.blind_index_many([NUMBER], "person-id")[0]
    assert len(first) == crypto.BLIND_INDEX_BYTES
    assert crypto.blind_index(NUMBER, "other-purpose") != first
    settings.DATA_KEY = "another-county-data-key-0123456789"
    crypto.derive_key.cache_clear()
    try:
        assert crypto.blind_index(NUMBER, "person-id") != first
    finally:
        crypto.derive_key.cache_clear()
