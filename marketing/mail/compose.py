"""Building messages: sender, headers, the plain and HTML parts, and the one-click unsubscribe headers."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from itsdangerous import BadSignature, URLSafeSerializer

from marketing.clock import now
from marketing.mail.transport import sender

LISTS = {"weekly": "the weekly summary", "alerts": "alerts by email"}
_SALT = "email-unsubscribe"


def message(to: str, subject: str, text: str, html: str | None = None, unsubscribe: str | None = None) -> EmailMessage:
    """A message with a plain part (and an HTML alternative); `unsubscribe` is the unsubscribe URL (RFC 8058)."""
    msg = EmailMessage()
    msg["From"] = sender()
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = make_msgid(domain=sender().rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def link(endpoint: str, **values) -> str:
    """An absolute link for an email, on PUBLIC_URL (in development without it: this request's host, or the
    demo's address). Built with one URL adapter per base, not a request context per link."""
    anchor = values.pop("_anchor", None)
    url = _adapter().build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def _adapter():
    base = current_app.config.get("PUBLIC_URL") or (request.host_url if has_request_context()
                                                     else "http://127.0.0.1:5000")
    adapters = current_app.extensions.setdefault("marketing.mail.adapters", {})
    if base not in adapters:
        parts = urlsplit(base)
        adapters[base] = current_app.url_map.bind(parts.netloc, script_name=parts.path.rstrip("/") or "/",
                                                  url_scheme=parts.scheme)
    return adapters[base]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(user_id: int, list_name: str) -> str:
    """Signed per user and list: it unsubscribes that user from that list only, without logging in."""
    if list_name not in LISTS:
        raise ValueError(f"unknown list {list_name!r}")
    return _serializer().dumps([user_id, list_name])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, list) of a genuine token; None for a tampered or malformed one."""
    try:
        user_id, list_name = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or list_name not in LISTS:
        return None
    return user_id, list_name


def unsubscribe_url(user_id: int, list_name: str) -> str:
    return link("mail.unsubscribe", token=unsubscribe_token(user_id, list_name))
