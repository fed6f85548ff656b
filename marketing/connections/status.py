"""A connection's authorization status, derived from what we know (never stored).

`active` · `expiring` (inside the warning window) · `expired` · `revoked` (Amazon said invalid_grant) ·
`not_connected`. A transient failure (5xx, timeout, throttling) does not change the status; it shows as
`degraded` with the last error until the next success.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_CONNECTED = "not_connected"


LABELS = {
    State.ACTIVE: "Active",
    State.EXPIRING: "Expiring",
    State.EXPIRED: "Expired",
    State.REVOKED: "Revoked",
    State.NOT_CONNECTED: "Not connected",
}
USABLE = (State.ACTIVE, State.EXPIRING)


@dataclass(frozen=True)
class TokenStatus:
    state: State
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
        return self.state in USABLE

    @property
    def connected(self) -> bool:
        return self.state != State.NOT_CONNECTED

    @property
    def expired(self) -> bool:
        return self.state == State.EXPIRED

    @property
    def revoked(self) -> bool:
        return self.state == State.REVOKED

    @property
    def refused(self) -> bool:
        """Amazon no longer accepts the token (revoked or expired): the data shown stopped being updated."""
        return self.state in (State.REVOKED, State.EXPIRED)

    @property
    def needs_attention(self) -> bool:
        return self.state in (State.EXPIRING, State.EXPIRED, State.REVOKED) or self.degraded


def revoked(connection) -> bool:
    """Amazon refused the token (invalid_grant) before its expiry; it refuses an expired authorization the
    same way, and that is expiry, not revocation."""
    return connection.revoked_at is not None and (
        connection.expires_at is None or connection.revoked_at < connection.expires_at)


def derive(connection, at: dt.datetime, warning_days: int) -> TokenStatus:
    """The status of `connection` (a Connection or None) at time `at`."""
    if connection is None or not connection.connected:
        return TokenStatus(State.NOT_CONNECTED)
    days_left = None
    if connection.expires_at is not None:
        days_left = math.ceil((connection.expires_at - at).total_seconds() / 86400)
    expired = connection.expires_at is not None and connection.expires_at <= at
    if revoked(connection):
        state = State.REVOKED
    elif expired:
        state = State.EXPIRED
    elif days_left is not None and days_left <= warning_days:
        state = State.EXPIRING
    else:
        state = State.ACTIVE
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
