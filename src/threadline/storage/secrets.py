"""Inbox secrets encrypted at rest (AES-256-GCM, key derived from the instance secret).

Only the values of secret keys are sealed, in place: the rest of an inbox's
config (hours, sandbox, callback targets) stays plain JSON that queries can
read. A sealed value is a string ``enc:v1:<base64 nonce+ciphertext>``; the
inbox id and key name are the associated data, so a sealed value copied to
another inbox or key does not open.
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Mapping, MutableMapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "SECRET_KEYS",
    "SecretError",
    "is_sealed",
    "open_config",
    "redact_config",
    "redact_log_event",
    "seal_config",
]

# Top-level secrets, by the names channels/* and `threadline inbox add` use.
SECRET_KEYS = frozenset(
    {
        "auth_token",
        "api_key_secret",
        "app_secret",
        "access_token",
        "verify_token",
        "bot_token",
        "secret_token",
        "webhook_secret",
        "identity_secret",
        "password",
    }
)
# Sections whose own secret keys are sealed too: {"smtp": {"password": …}}.
_SECTIONS = ("smtp", "imap")
_PREFIX = "enc:v1:"


class SecretError(ValueError):
    """A sealed value that does not open with this instance's secret."""


@functools.lru_cache(maxsize=8)
def _cipher(instance_secret: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"threadline inbox secrets v1"
    ).derive(instance_secret.encode())
    return AESGCM(key)


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_PREFIX)


def _seal(secret: str, value: str, aad: bytes) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(secret).encrypt(nonce, value.encode(), aad)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def _open(secret: str, value: str, aad: bytes) -> str:
    try:
        raw = base64.urlsafe_b64decode(value[len(_PREFIX) :])
        return _cipher(secret).decrypt(raw[:12], raw[12:], aad).decode()
    except (InvalidTag, ValueError) as exc:
        raise SecretError("an inbox secret does not open with this instance's secret") from exc


def _walk(config: Mapping[str, Any], inbox_id: int, fn: Any, section: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if not section and key in _SECTIONS and isinstance(value, Mapping):
            out[key] = _walk(value, inbox_id, fn, key)
        elif key in SECRET_KEYS and value is not None:
            out[key] = fn(value, f"{inbox_id}:{section}.{key}".encode())
        else:
            out[key] = value
    return out


def seal_config(config: Mapping[str, Any], *, inbox_id: int, secret: str) -> dict[str, Any]:
    """The config with every secret value sealed (already sealed ones are kept)."""

    def seal(value: Any, aad: bytes) -> Any:
        return value if is_sealed(value) else _seal(secret, str(value), aad)

    return _walk(config, inbox_id, seal)


def open_config(
    config: Mapping[str, Any], *, inbox_id: int, secret: str, strict: bool = True
) -> dict[str, Any]:
    """The config as the adapters use it; plaintext values (from before sealing) pass.
    A value that does not open raises SecretError, or with ``strict=False`` becomes
    None: the inbox then fails closed (signatures refused, nothing sent)."""

    def unseal(value: Any, aad: bytes) -> Any:
        if not is_sealed(value):
            return value
        try:
            return _open(secret, value, aad)
        except SecretError:
            if strict:
                raise
            return None

    return _walk(config, inbox_id, unseal)


def redact_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as an API answer or a log line may show it."""
    return _walk(config, 0, lambda _value, _aad: "***")


def redact_log_event(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: secret keys, and secrets inside a logged config, become ***."""
    for key, value in event.items():
        if key in SECRET_KEYS and value is not None:
            event[key] = "***"
        elif isinstance(value, Mapping):
            event[key] = redact_config(value)
    return event
