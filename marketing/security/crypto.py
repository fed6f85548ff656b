"""Encryption of stored secrets with Fernet (`TOKEN_ENCRYPTION_KEYS`: the first key encrypts, all decrypt).

Outside production a missing key is generated once into the instance folder (mode 0600), so the demo's
tokens stay readable across restarts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretUnreadable(Exception):
    """The configured keys cannot decrypt a stored secret (wrong or missing key)."""


class InvalidKey(ValueError):
    """A configured key is not a Fernet key; the message says which one (never its value)."""


def validate_keys(keys: tuple[str, ...]) -> None:
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise InvalidKey(
                f"TOKEN_ENCRYPTION_KEYS key #{index} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with `marketing tokens new-key`)"
            ) from None


def instance_secret(instance_path: Path, name: str, make: Callable[[], str]) -> str:
    """A secret kept in the instance folder (mode 0600), made by `make` on first use (development and demo)."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def instance_key(instance_path: Path) -> str:
    """The development/demo key kept in the instance folder, created on first use."""
    return instance_secret(instance_path, "token_encryption_key", lambda: Fernet.generate_key().decode())


class Vault:
    """Encrypts and decrypts secrets; never puts a secret into an exception message."""

    def __init__(self, keys: tuple[str, ...]):
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "a stored secret cannot be decrypted with TOKEN_ENCRYPTION_KEYS: "
                "the key that encrypted it is missing from the list"
            ) from None

    def rotate(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.rotate(bytes(ciphertext))
        except InvalidToken:
            raise SecretUnreadable(
                "a stored secret cannot be decrypted with TOKEN_ENCRYPTION_KEYS: "
                "add the old key after the new one, then rotate"
            ) from None
