"""Broker tokens encrypted at rest with MultiFernet, each bound to its connection.

The payload carries the connection id and is checked on decrypt, so a
ciphertext copied onto another row does not decrypt. Keys come from
FIELD_ENCRYPTION_KEYS, newest first; rotation = prepend a key, then
`manage.py rotate_keys` re-encrypts every token with it.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class TokenDecryptionError(Exception):
    """A stored token cannot be read: wrong key, tampered, or not this row's."""


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt_token(*, connection_id: int, token: str) -> str:
    """Return ciphertext of `token`, bound to `connection_id`."""
    if not connection_id:
        raise ValueError("a token is bound to a saved connection; save it first")
    payload = json.dumps({"cid": connection_id, "tok": token}).encode()
    return _fernet().encrypt(payload).decode()


def decrypt_token(*, connection_id: int, ciphertext: str) -> str:
    """Return the token, refusing ciphertext that belongs to another connection."""
    if not ciphertext:
        raise TokenDecryptionError("no token stored")
    try:
        payload = json.loads(_fernet().decrypt(ciphertext.encode()))
    except (InvalidToken, ValueError) as error:
        raise TokenDecryptionError("token cannot be decrypted with the configured keys") from error
    if payload.get("cid") != connection_id:
        raise TokenDecryptionError("token belongs to another connection")
    return payload["tok"]


def rotate_ciphertext(ciphertext: str) -> str:
    """Re-encrypt with the newest key (MultiFernet.rotate keeps the payload)."""
    if not ciphertext:
        return ciphertext
    return _fernet().rotate(ciphertext.encode()).decode()
