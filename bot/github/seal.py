"""Installation tokens sealed before they reach Redis.

Redis persists everything to its append-only file, so a token cached there in clear
sits in a file on the Redis host's disk (and in its backups) for as long as the AOF is
not rewritten. The cache keeps only AES-256-GCM ciphertext, under a key derived (HKDF-
SHA256) from the App's private key: every worker has that key anyway, and whoever holds
it can mint tokens without reading any — so the sealed value gives away nothing new.
A value that does not open (another key after a rotation, a corrupt entry) is a cache
miss, never an error.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
_INFO = b"ruvopt installation-token cache v1"


class Sealer:
    def __init__(self, private_key_pem: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(private_key_pem.encode())
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """``context`` (the Redis key) is authenticated: a value moved to another key does not open."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes | None:
        if len(sealed) <= NONCE_BYTES:
            return None
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
        except InvalidTag:
            return None
