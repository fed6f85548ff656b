"""Exceptions raised by the Amazon clients.

The product reacts to the *type*: ``InvalidGrant`` marks a connection revoked,
``InvalidClient`` raises an app-level alert, ``Throttled``/``AmazonUnavailable``
reschedule a job after ``retry_after`` seconds. Messages are shown to humans and
written to logs, so every text that goes into one is scrubbed of anything that
looks like a Login-with-Amazon token or client secret.
"""

from __future__ import annotations

import re

# Access tokens start "Atza|", refresh tokens "Atzr|", auth codes are opaque but never reach
# messages; LwA client secrets start "amzn1.oa2-cs.v1.".
_SECRET_PATTERNS = re.compile(r"(Atz[a-z]\|[^\s\"',;&]+|amzn1\.oa2-cs\.v1\.[^\s\"',;&]+)")


def scrub(text: str | None) -> str | None:
    """Replace anything shaped like an LwA token or client secret with ``[redacted]``."""
    if text is None:
        return None
    return _SECRET_PATTERNS.sub("[redacted]", text)


class AmazonError(Exception):
    """Base class. ``code`` is Amazon's error code when it sent one, ``status`` the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        details: str | None = None,
        request_id: str | None = None,
    ):
        self.message = scrub(message) or ""
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.details = scrub(details)
        self.request_id = request_id
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"code={self.code}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.details and self.details != self.message:
            parts.append(f"details={self.details}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after:g}s")
        return " | ".join(parts)


class InvalidGrant(AmazonError):
    """The refresh token or auth code is no longer accepted: the seller must connect again."""


class InvalidClient(AmazonError):
    """Our own LwA client id/secret was rejected: an app-wide configuration problem."""


class Throttled(AmazonError):
    """Amazon said 429 for longer than we are willing to wait; retry after ``retry_after``."""


class AmazonUnavailable(AmazonError):
    """5xx or network failure that outlasted our retries; retry after ``retry_after``."""


class AmazonRequestError(AmazonError):
    """Amazon refused the request (a 4xx other than throttling); retrying as-is won't help."""


class ReportFailed(AmazonError):
    """Amazon finished a report with FAILED/FATAL/CANCELLED instead of data."""


class MalformedResponse(AmazonError):
    """Amazon answered, but not in a shape we can read (bad JSON, truncated gzip, missing field)."""
