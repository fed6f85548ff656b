"""The tokens Login with Amazon hands out: refresh tokens, access tokens and authorization codes.

Refresh and access tokens are stateless (an HMAC over app, seller, issue number and expiry), so tokens
survive a sandbox restart like real ones survive an Amazon deploy. Only revocations, auth codes and
the per-seller issue counter live in memory. Access tokens last 3600 s of *wall-clock* time; codes
last 300 s and work once, bound to the redirect_uri used on the consent page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .accounts import Accounts, derive

ACCESS_TTL = 3600
CODE_TTL = 300


@dataclass(frozen=True)
class Grant:
    """Who a token speaks for: which app, which seller, which consent (issue number n)."""

    app: str
    seller: int
    n: int


@dataclass
class Code:
    grant: Grant
    redirect_uri: str
    expires: float


class Tokens:
    def __init__(self, seed: int, accounts: Accounts, clock: Callable[[], float]):
        self._key = derive(seed, "token-mac")
        self._accounts = accounts
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, Code] = {}
        self._revoked: set[Grant] = set()
        self._issued: dict[tuple[str, int], int] = {}

    # -- encoding -------------------------------------------------------------------------------
    def _seal(self, prefix: str, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:24]
        body = base64.urlsafe_b64encode(f"{payload}.{mac}".encode()).decode().rstrip("=")
        return f"{prefix}IwEBI{body}"

    def _open(self, prefix: str, token: str) -> list[str] | None:
        if not token.startswith(prefix + "IwEBI"):
            return None
        body = token[len(prefix) + 5 :]
        try:
            text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        payload, _, mac = text.rpartition(".")
        good = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:24]
        if not payload or not hmac.compare_digest(mac, good):
            return None
        return payload.split(".")

    # -- refresh tokens -----------------------------------------------------------------------------
    def refresh_token(self, grant: Grant) -> str:
        return self._seal("Atzr|", f"r1.{grant.app}.{grant.seller}.{grant.n}")

    def parse_refresh(self, token: str) -> Grant | None:
        parts = self._open("Atzr|", token)
        if not parts or len(parts) != 4 or parts[0] != "r1":
            return None
        grant = Grant(parts[1], int(parts[2]), int(parts[3]))
        if grant.seller >= len(self._accounts.sellers) or grant in self._revoked:
            return None
        return grant

    def seed_grant(self, app: str, seller: int) -> Grant:
        """The refresh token printed at start-up for each seller (issue number 0)."""
        return Grant(app, seller, 0)

    def new_grant(self, app: str, seller: int) -> Grant:
        """A fresh consent: every Allow yields a new refresh token, as on Amazon."""
        with self._lock:
            n = self._issued.get((app, seller), 0) + 1
            self._issued[(app, seller)] = n
        return Grant(app, seller, n)

    def revoke(self, token: str) -> bool:
        grant = self.parse_refresh(token)
        if grant is None:
            return False
        with self._lock:
            self._revoked.add(grant)
        return True

    # -- access tokens ------------------------------------------------------------------------------
    def access_token(self, grant: Grant) -> str:
        exp = int(self._clock()) + ACCESS_TTL
        nonce = secrets.token_hex(4)
        return self._seal("Atza|", f"a1.{grant.app}.{grant.seller}.{grant.n}.{exp}.{nonce}")

    def check_access(self, token: str, app: str) -> tuple[Grant | None, str]:
        """Return (grant, "") for a live token of `app`, else (None, "missing|invalid|expired")."""
        if not token:
            return None, "missing"
        parts = self._open("Atza|", token)
        if not parts or len(parts) != 6 or parts[0] != "a1" or parts[1] != app:
            return None, "invalid"
        grant = Grant(parts[1], int(parts[2]), int(parts[3]))
        if grant in self._revoked:
            return None, "invalid"
        if int(parts[4]) <= self._clock():
            return None, "expired"
        return grant, ""

    # -- authorization codes ------------------------------------------------------------------------
    def new_code(self, grant: Grant, redirect_uri: str) -> str:
        code = ("ANd" if grant.app == "ads" else "SPc") + secrets.token_urlsafe(18)
        with self._lock:
            self._codes[code] = Code(grant, redirect_uri, self._clock() + CODE_TTL)
        return code

    def redeem_code(self, code: str, app: str, redirect_uri: str | None) -> Grant | None:
        """Single use: the code is gone after the first attempt, right or wrong, like LWA."""
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None or entry.grant.app != app or entry.expires <= self._clock():
            return None
        if redirect_uri is None:
            # SP-API's own samples omit redirect_uri; Ads requires it.
            if app == "ads":
                return None
        elif redirect_uri != entry.redirect_uri:
            return None
        return entry.grant
