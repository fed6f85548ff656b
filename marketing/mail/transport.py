"""How mail leaves: SMTP (`starttls`, `ssl` or `none`; auth optional), the development outbox, or nowhere.

`deliver` calls `before_data` after the server accepted sender and recipient and just before the DATA
command, so the send log can mark the email `sending` at the last moment nothing has been handed over yet.
A 4xx answer (or a dropped connection) is `TemporaryFailure`, worth retrying; 5xx is `PermanentFailure`,
carrying the server's own words.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from marketing.mail import outbox

TIMEOUT = 20  # seconds per SMTP command


class MailOff(Exception):
    """Email is not configured here (production without SMTP_HOST, or PUBLIC_URL missing)."""


class DeliveryError(Exception):
    """The message was not delivered; `permanent` says whether trying again can help."""

    permanent = False


class TemporaryFailure(DeliveryError):
    pass


class PermanentFailure(DeliveryError):
    permanent = True


def mode() -> str:
    """`smtp` with SMTP_HOST; else `outbox` outside production; else `off`."""
    if current_app.config.get("SMTP_HOST"):
        return "smtp"
    return "off" if current_app.config["MARKETING_ENV"] == "production" else "outbox"


def off_reason() -> str | None:
    """Why email is off here, as one sentence for pages and the CLI; None when it works."""
    if mode() == "off":
        return "Email is off: this deployment has no SMTP_HOST. An admin can set SMTP_HOST and MAIL_FROM to turn it on."
    if not current_app.config.get("PUBLIC_URL") and current_app.config["MARKETING_ENV"] != "development":
        return "Email is off: PUBLIC_URL is not set, and emails need absolute links."
    return None


def sender() -> str:
    return current_app.config.get("MAIL_FROM") or "marketing@localhost"


def address(raw: str) -> tuple[str, bool]:
    """The address as SMTP needs it (IDNA domain) and whether it needs SMTPUTF8 (a non-ASCII local part)."""
    try:
        valid = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PermanentFailure(f"not a valid email address: {exc}") from None
    if valid.ascii_email:
        return valid.ascii_email, False
    return valid.normalized, True


def deliver(message: EmailMessage, before_data: Callable[[], bool]) -> None:
    """Send `message` to its To address. `before_data` returns False to abandon (someone else is sending)."""
    if off_reason():
        raise MailOff(off_reason())
    to, utf8 = address(message["To"])
    if mode() == "outbox":
        if before_data():
            outbox.write(message)
        return
    _smtp(message, to, utf8, before_data)


def _context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Held:
    client: smtplib.SMTP | None = None


_held: ContextVar[_Held | None] = ContextVar("marketing_smtp_connection", default=None)


@contextmanager
def one_connection():
    """Send every message inside the block over one SMTP connection (a batch job), opened on first use."""
    held = _Held()
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        _close(held.client)


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port, security = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_SECURITY"]
    if security == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=_context())
    else:
        client = smtplib.SMTP(host, port, timeout=TIMEOUT)
    try:
        client.ehlo()
        if security == "starttls":
            client.starttls(context=_context())
            client.ehlo()
        if config.get("SMTP_USERNAME"):
            client.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _client(held: _Held | None) -> smtplib.SMTP:
    """The held connection (reset for the next message) if it still answers, else a new one."""
    if held is not None and held.client is not None:
        try:
            _check(held.client.rset())
            return held.client
        except (smtplib.SMTPException, OSError):
            held.client.close()
            held.client = None
    client = _connect()
    if held is not None:
        held.client = client
    return client


def _smtp(message: EmailMessage, to: str, utf8: bool, before_data: Callable[[], bool]) -> None:
    config = current_app.config
    held = _held.get()
    client = None
    try:
        client = _client(held)
        options = []
        if utf8:
            if not client.has_extn("smtputf8"):
                raise PermanentFailure("the mail server cannot deliver to an address with non-ASCII characters "
                                       "(it does not offer SMTPUTF8)")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        _check(client.mail(sender(), options))
        _check(client.rcpt(to))
        if not before_data():
            return
        _check(client.data(message.as_bytes(policy=SMTPUTF8 if utf8 else SMTP)))
    except smtplib.SMTPAuthenticationError as exc:
        _drop(held)
        raise _classified(exc.smtp_code, exc.smtp_error, "the mail server refused the SMTP login") from None
    except smtplib.SMTPResponseException as exc:
        raise _classified(exc.smtp_code, exc.smtp_error) from None
    except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, dropped, TLS failed
        _drop(held)
        raise TemporaryFailure(f"could not talk to the mail server {config['SMTP_HOST']}:{config['SMTP_PORT']}: "
                               f"{type(exc).__name__}: {exc}") from None
    finally:
        if held is None:
            _close(client)


def _drop(held: _Held | None) -> None:
    if held is not None and held.client is not None:
        held.client.close()
        held.client = None


def _check(reply: tuple[int, bytes]) -> None:
    code, text = reply
    if not 200 <= code < 300:
        raise smtplib.SMTPResponseException(code, text)


def _classified(code: int, text: bytes | str, prefix: str = "the mail server answered") -> DeliveryError:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    message = f"{prefix}: {code} {words}".strip()
    return PermanentFailure(message) if 500 <= code < 600 else TemporaryFailure(message)
