"""X-Twilio-Signature: base64 HMAC-SHA1, keyed with the account's auth token,
over the full URL Twilio requested followed by every form parameter.

Parameters are appended as name then value, no separators, names sorted and,
for a repeated name, its distinct values sorted, exactly as Twilio's own
RequestValidator does. Every parameter counts, including ones Twilio adds
without notice, so the check covers the whole form as received.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

__all__ = ["compute_signature", "is_valid_signature", "url_variants"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> tuple[str, str]:
    """The URL without its port and with one (the scheme's default if it had none).

    Twilio signs some requests with ``:443`` in the URL and some without, and
    its SDK accepts either ("sig generation on back end is inconsistent").
    """
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    bare_host = host.rsplit(":", 1)[0] if parts.port is not None else host
    without = urlunsplit(parts._replace(netloc=userinfo + bare_host))
    if parts.port is not None:
        return without, url
    port = _DEFAULT_PORTS.get(parts.scheme, 80)
    return without, urlunsplit(parts._replace(netloc=f"{userinfo}{bare_host}:{port}"))


def is_valid_signature(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str
) -> bool:
    if not auth_token or not signature:
        return False
    pairs = list(params)
    given = signature.strip().encode()
    # Check both variants every time, so timing says nothing about which one matched.
    results = [
        hmac.compare_digest(compute_signature(auth_token, variant, pairs).encode(), given)
        for variant in url_variants(url)
    ]
    return any(results)
