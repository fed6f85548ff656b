"""Seller accounts, Ads profiles, marketplaces and the two LWA client apps, all derived from the seed.

Everything here is a pure function of the seed, so a restarted sandbox prints the same client ids,
secrets and refresh tokens and a product configured against it keeps working. Only metadata lives
here; campaigns and products are generated lazily by :mod:`catalog` the first time a profile is used,
which keeps ``--sellers 100`` startup instant.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# country -> (marketplaceId, currency, timezone, region, SP min bid, SP max bid, currency per USD)
MARKETPLACES: dict[str, tuple[str, str, str, str, float, float, float]] = {
    "US": ("ATVPDKIKX0DER", "USD", "America/Los_Angeles", "NA", 0.02, 1000.0, 1.0),
    "CA": ("A2EUQ1WTGCTBG2", "CAD", "America/Los_Angeles", "NA", 0.02, 1000.0, 1.35),
    "UK": ("A1F83G8C2ARO7P", "GBP", "Europe/London", "EU", 0.02, 1000.0, 0.8),
    "DE": ("A1PA6795UKMFR9", "EUR", "Europe/Paris", "EU", 0.02, 1000.0, 0.92),
    "FR": ("A13V1IB3VIYZZH", "EUR", "Europe/Paris", "EU", 0.02, 1000.0, 0.92),
    "JP": ("A1VC38T7YXB528", "JPY", "Asia/Tokyo", "FE", 2.0, 100000.0, 150.0),
    "AU": ("A39IBJ37TRP1C6", "AUD", "Australia/Sydney", "FE", 0.02, 1410.0, 1.5),
}

# Per region: (country, accountInfo.type) of each profile. The first one is the "home" marketplace
# that gets the full-size catalog. MX is left out: Amazon's Profiles model has no MX/MXN enum value.
REGION_PROFILES = {
    "NA": [("US", "seller"), ("CA", "seller")],
    "EU": [("UK", "seller"), ("DE", "seller"), ("FR", "vendor")],
    "FE": [("JP", "seller"), ("AU", "seller")],
}
REGIONS = ("NA", "EU", "FE")

# Each app's Allowed Return URLs unless configured: the product's callbacks at its default local
# address, as a developer lists them in the Ads and the SP-API security profile.
DEFAULT_REDIRECT_URIS = {
    kind: (f"http://127.0.0.1:5000/connections/{kind}/callback", f"http://localhost:5000/connections/{kind}/callback")
    for kind in ("ads", "sp")
}

_NAMES_A = ("Northwind", "Bluefin", "Cedar", "Harbor", "Maple", "Summit", "Lumen", "Copper", "Atlas", "Juniper")
_NAMES_B = ("Outdoor", "Home", "Kitchen", "Pets", "Fitness", "Goods", "Supply", "Living", "Gear", "Craft")


def derive(seed: int, *parts: object) -> bytes:
    """Stable pseudo-random bytes for (seed, parts): the root of every credential and id."""
    msg = "\x1f".join(str(p) for p in parts).encode()
    return hmac.new(f"marketing-sandbox-{seed}".encode(), msg, hashlib.sha256).digest()


def derive_int(seed: int, *parts: object) -> int:
    return int.from_bytes(derive(seed, *parts)[:8], "big")


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _alnum(raw: bytes, n: int) -> str:
    v = int.from_bytes(raw, "big")
    out = []
    for _ in range(n):
        v, r = divmod(v, 36)
        out.append(_ALNUM[r])
    return "".join(out)


@dataclass
class App:
    """One LWA security profile (client id + secret) — the Ads app or the SP-API app."""

    kind: str  # "ads" | "sp"
    client_id: str
    client_secret: str
    app_id: str | None = None  # SP-API application id (amzn1.sp.solution.…)
    redirect_uris: tuple[str, ...] = ()  # Allowed Return URLs, matched exactly; SP-API defaults to the first


def return_urls(uris: Iterable[str]) -> tuple[str, ...]:
    """Validated Allowed Return URLs: absolute http(s) URLs without a fragment, as LWA takes them."""
    out = []
    for uri in uris:
        parts = urlsplit(uri) if isinstance(uri, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError(f"not an absolute http(s) return URL: {uri!r}")
        out.append(uri)
    return tuple(out)


@dataclass
class Profile:
    profile_id: int
    country: str
    account_type: str  # seller | vendor | agency
    account_id: str
    seller_index: int
    home: bool  # the marketplace that gets the full-size catalog
    daily_budget: float | None = None

    @property
    def marketplace_id(self) -> str:
        return MARKETPLACES[self.country][0]

    @property
    def currency(self) -> str:
        return MARKETPLACES[self.country][1]

    @property
    def timezone(self) -> str:
        return MARKETPLACES[self.country][2]

    @property
    def region(self) -> str:
        return MARKETPLACES[self.country][3]

    @property
    def bid_range(self) -> tuple[float, float]:
        m = MARKETPLACES[self.country]
        return m[4], m[5]

    @property
    def fx(self) -> float:
        return MARKETPLACES[self.country][6]

    @property
    def serves_sponsored_products(self) -> bool:
        return self.account_type in ("seller", "vendor")

    def to_api(self) -> dict:
        """The `GET /v2/profiles` item (Amazon's Profile model)."""
        info: dict = {
            "marketplaceStringId": self.marketplace_id,
            "id": self.account_id,
            "type": self.account_type,
            "name": "" if self.account_type == "seller" else f"Account {self.account_id[-6:]}",
        }
        if self.account_type == "vendor":
            info["validPaymentMethod"] = True
        item: dict = {
            "profileId": self.profile_id,
            "countryCode": self.country,
            "currencyCode": self.currency,
            "timezone": self.timezone,
            "accountInfo": info,
        }
        if self.daily_budget is not None:
            item["dailyBudget"] = self.daily_budget
        return item


@dataclass
class Seller:
    index: int
    name: str
    region: str
    selling_partner_id: str
    size: str  # catalog size class of the home profile: demo | large
    profiles: list[Profile] = field(default_factory=list)

    @property
    def seller_marketplaces(self) -> list[Profile]:
        """Profiles that are marketplaces of the SP-API seller account (not vendor/agency)."""
        return [p for p in self.profiles if p.account_type == "seller"]


class Accounts:
    """The sandbox's static world: apps, sellers, profiles. Cheap to build for hundreds of sellers."""

    def __init__(self, seed: int, size: str, sellers: int | None):
        if size not in ("demo", "large"):
            raise ValueError(f"unknown size {size!r}")
        self.seed = seed
        count = sellers if sellers is not None else (3 if size == "demo" else 1)
        if count < 1:
            raise ValueError("sellers must be >= 1")
        self._generations = {"ads": 0, "sp": 0}
        self.ads = App("ads", self._client_id("ads"), self._secret("ads", 0))
        self.sp = App("sp", self._client_id("sp"), self._secret("sp", 0), app_id=self._sp_app_id())
        self.sellers = [self._seller(i, size if i == 0 else "demo") for i in range(count)]
        self.profiles = {p.profile_id: p for s in self.sellers for p in s.profiles}

    def _client_id(self, kind: str) -> str:
        return "amzn1.application-oa2-client." + derive(self.seed, "client", kind).hex()[:32]

    def _secret(self, kind: str, generation: int) -> str:
        return "amzn1.oa2-cs.v1." + derive(self.seed, "secret", kind, generation).hex()

    def _sp_app_id(self) -> str:
        h = derive(self.seed, "spapp").hex()
        return f"amzn1.sp.solution.{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def rotate_secret(self, kind: str) -> App:
        """Issue a new secret; the old one stops working at once (Amazon allows 7 days of overlap)."""
        app = self.app(kind)
        self._generations[kind] += 1
        app.client_secret = self._secret(kind, self._generations[kind])
        return app

    def set_redirect_uris(self, kind: str, uris: Iterable[str]) -> App:
        """Replace an app's Allowed Return URLs (its consent page refuses every other redirect_uri)."""
        app = self.app(kind)
        app.redirect_uris = return_urls(uris)
        return app

    def app(self, kind: str) -> App:
        if kind not in ("ads", "sp"):
            raise KeyError(kind)
        return self.ads if kind == "ads" else self.sp

    def app_by_client_id(self, client_id: str) -> App | None:
        return next((a for a in (self.ads, self.sp) if hmac.compare_digest(a.client_id, client_id)), None)

    def _seller(self, i: int, size: str) -> Seller:
        region = REGIONS[i % 3]
        raw = derive(self.seed, "seller", i)
        name = f"{_NAMES_A[raw[0] % len(_NAMES_A)]} {_NAMES_B[raw[1] % len(_NAMES_B)]}"
        if i >= 3:
            name += f" {i + 1}"
        spid = "A" + _alnum(raw[2:14], 13)
        seller = Seller(i, name, region, spid, size)
        for j, (country, kind) in enumerate(REGION_PROFILES[region]):
            seller.profiles.append(self._profile(seller, j, country, kind))
        if i == 0:  # one DSP/agency profile that Sponsored Products refuses, as Amazon does
            seller.profiles.append(self._profile(seller, 9, REGION_PROFILES[region][0][0], "agency"))
        return seller

    def _profile(self, seller: Seller, j: int, country: str, kind: str) -> Profile:
        pid = 10**15 + derive_int(self.seed, "profile", seller.index, j) % (9 * 10**15)
        if kind == "seller":
            account_id = seller.selling_partner_id
        else:
            account_id = "ENTITY" + _alnum(derive(self.seed, "entity", seller.index, j), 13)
        budget = round(999999999.0, 2) if kind == "seller" else None
        return Profile(pid, country, kind, account_id, seller.index, home=(j == 0), daily_budget=budget)
