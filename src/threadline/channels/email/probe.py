"""Can this inbox's replies leave? Greet its SMTP relay, and sign in when it has
a username: connect, EHLO, STARTTLS when offered or asked for, AUTH, QUIT.

Nothing is sent. Inbound mail needs no credentials to check: it arrives at our
SMTP server, the forwarding webhook or an IMAP poll, each shown on the page.
"""

from __future__ import annotations

import aiosmtplib

from threadline.channels.email.adapter import OutboxSender, SmtpSender
from threadline.channels.probes import CheckContext, CheckResult
from threadline.ports import Inbox

__all__ = ["check_relay"]


async def check_relay(inbox: Inbox, context: CheckContext) -> CheckResult:
    sender = context.email
    if isinstance(sender, OutboxSender):
        return CheckResult(
            None, "Replies are written to the sandbox outbox folder, not sent: no mail server."
        )
    relay = sender._relay(inbox) if isinstance(sender, SmtpSender) else None
    if relay is None:
        return CheckResult(
            False, "No outbound SMTP relay is set for this inbox or the server: email replies fail."
        )
    where = f"{relay.host}:{relay.port}"
    smtp = aiosmtplib.SMTP(
        hostname=relay.host,
        port=relay.port,
        use_tls=relay.use_tls,
        start_tls=relay.starttls,
        timeout=context.timeout,
    )
    signed_in = bool(relay.username and relay.password)
    try:
        await smtp.connect()
        secure = smtp.get_transport_info("sslcontext") is not None
        if relay.username and relay.password:
            await smtp.login(relay.username, relay.password)
        await smtp.quit()
    except aiosmtplib.SMTPAuthenticationError as exc:
        return CheckResult(
            False, f"The mail server {where} refused the username and password: {exc.message}"
        )
    except aiosmtplib.SMTPResponseException as exc:
        return CheckResult(False, f"The mail server {where} answered {exc.code} {exc.message}")
    except (aiosmtplib.SMTPException, OSError) as exc:
        return CheckResult(False, f"Could not reach the mail server {where}: {exc}")
    finally:
        smtp.close()
    how = "accepted the username and password" if signed_in else "answered EHLO"
    tls = " over TLS" if secure else " (without TLS)"
    return CheckResult(True, f"The mail server {where} {how}{tls}.")
