"""A connection's authorization status, derived from what we know (never stored).

`active` · `expiring` (inside the warning window) · `expired` · `revoked` (Amazon said invalid_grant) ·
`not_connected`. A transient failure (5xx, timeout, throttling) does not change the status; it shows as
`degraded` with the last error until the next success.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

LABELS = {
    "active": "Active",
    "expiring": "Expiring",
    "expired": "Expired",
    "revoked": "Revoked",
    "not_connected": "Not connected",
}


@dataclass(frozen=True)
class TokenStatus:
    state: str
    expires_at: dt.datetime | None = None
    days_left: int | None = None
    last_success_at: dt.datetime | None = None
    last_error_code: str | None = None
    last_error_message: str | None = None
    last_error_at: dt.datetime | None = None
    degraded: bool = False
    token_last4: str | None = None

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def usable(self) -> bool:
        """Amazon should accept the token (data can be pulled)."""
        return self.state in ("active", "expiring")

    @property
    def needs_attention(self) -> bool:
        return self.state in ("expiring", "expired", "revoked") or self.degraded


def revoked(connection) -> bool:
    """Amazon refused the token (invalid_grant) before its expiry; it refuses an expired authorization the
    same way, and that is expiry, not revocation."""
    return connection.revoked_at is not None and (
        connection.expires_at is None or connection.revoked_at < connection.expires_at)


def derive(connection, at: dt.datetime, warning_days: int) -> TokenStatus:
    """The status of `connection` (a Connection or None) at time `at`."""
    if connection is None or not connection.connected:
        return TokenStatus("not_connected")
    days_left = None
    if connection.expires_at is not None:
        days_left = math.ceil((connection.expires_at - at).total_seconds() / 86400)
    expired = connection.expires_at is not None and connection.expires_at <= at
    if revoked(connection):
        state = "revoked"
    elif expired:
        state = "expired"
    elif days_left is not None and days_left <= warning_days:
        state = "expiring"
    else:
        state = "active"
    degraded = bool(
        connection.error_transient
        and connection.last_error_at is not None
        and (connection.last_success_at is None or connection.last_error_at > connection.last_success_at)
    )
    return TokenStatus(
        state=state,
        expires_at=connection.expires_at,
        days_left=days_left,
        last_success_at=connection.last_success_at,
        last_error_code=connection.last_error_code,
        last_error_message=connection.last_error_message,
        last_error_at=connection.last_error_at,
        degraded=degraded,
        token_last4=connection.token_last4,
    )
