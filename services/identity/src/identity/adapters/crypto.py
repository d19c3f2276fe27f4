"""Personal identification numbers at rest: AES-256-GCM encryption and a keyed hash for look-ups.

The raw number exists only inside identity, only in memory while a request needs it. Stored rows hold
``encrypt(number)`` (to show it back to the holder or re-verify it) and ``lookup_hash(number)`` (to find
the person for a number without decrypting every row). The hash is keyed (HMAC), so a stolen table
cannot be reversed by hashing the one billion possible numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"school-identity:" + purpose).derive(
        secret.encode()
    )


class PersonalIdCipher:
    def __init__(self, keys: str, lookup_key: str) -> None:
        parsed: list[tuple[bytes, bytes]] = []
        for entry in keys.split(","):
            key_id, sep, secret = entry.strip().partition(":")
            if not sep or not key_id or len(secret) < 32 or len(key_id.encode()) > 16:
                raise ValueError("crypto.personal_id_keys must be '<id>:<secret of >= 32 chars>' pairs")
            parsed.append((key_id.encode(), _derive(secret, b"personal-id-encryption")))
        if len(lookup_key) < 32:
            raise ValueError("crypto.lookup_key must be at least 32 characters")
        self._current = parsed[0]
        self._keys = dict(parsed)
        self._lookup = _derive(lookup_key, b"personal-id-lookup")

    def lookup_hash(self, personal_id: str) -> bytes:
        return hmac.new(self._lookup, personal_id.encode(), hashlib.sha256).digest()

    def encrypt(self, personal_id: str) -> bytes:
        key_id, key = self._current
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, personal_id.encode(), key_id)
        return _VERSION + bytes([len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, blob: bytes) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        n = blob[1]
        key_id, rest = blob[2 : 2 + n], blob[2 + n :]
        key = self._keys.get(key_id)
        if key is None:
            raise ValueError("personal id encrypted with a key that is no longer configured")
        return AESGCM(key).decrypt(rest[:12], rest[12:], key_id).decode()
