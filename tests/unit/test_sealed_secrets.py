"""Sealing inbox secrets: what is sealed, what stays readable, what does not open."""

from __future__ import annotations

import pytest

from threadline.storage.secrets import SecretError, open_config, redact_config, seal_config

CONFIG = {
    "account_sid": "AC" + "1" * 32,
    "auth_token": "twilio-auth-token",
    "sandbox": True,
    "hours": {"timezone": "UTC"},
    "smtp": {"host": "smtp.acme.test", "username": "u", "password": "smtp-pass"},
    "imap": {"host": "imap.acme.test", "username": "u", "password": "imap-pass"},
}
SECRETS = ("twilio-auth-token", "smtp-pass", "imap-pass")


def test_secrets_are_sealed_and_the_rest_stays_readable() -> None:
    sealed = seal_config(CONFIG, inbox_id=7, secret="instance")
    text = repr(sealed)
    for value in SECRETS:
        assert value not in text
    assert sealed["auth_token"].startswith("enc:v1:")
    assert sealed["smtp"]["password"].startswith("enc:v1:")
    assert (sealed["account_sid"], sealed["sandbox"], sealed["hours"]) == (
        CONFIG["account_sid"],
        True,
        {"timezone": "UTC"},
    )
    assert open_config(sealed, inbox_id=7, secret="instance") == CONFIG
    assert seal_config(sealed, inbox_id=7, secret="instance") == sealed  # idempotent


def test_plaintext_from_before_sealing_opens_as_is() -> None:
    assert open_config(CONFIG, inbox_id=7, secret="instance") == CONFIG


@pytest.mark.parametrize(("inbox_id", "secret"), [(8, "instance"), (7, "another instance")])
def test_a_sealed_secret_opens_only_for_its_inbox_and_instance(inbox_id: int, secret: str) -> None:
    sealed = seal_config(CONFIG, inbox_id=7, secret="instance")
    with pytest.raises(SecretError):
        open_config(sealed, inbox_id=inbox_id, secret=secret)


def test_redacted_config_shows_no_secret() -> None:
    text = repr(redact_config(CONFIG))
    for value in SECRETS:
        assert value not in text
    assert CONFIG["account_sid"] in text
