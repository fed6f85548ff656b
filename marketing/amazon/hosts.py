"""Where Amazon lives: regions, endpoints and marketplace facts, in one place.

Every URL this package calls is built here, so that pointing the product at the
sandbox (``AMAZON_BASE_URL``) is a single switch: with a base URL set, every
endpoint keeps Amazon's own path but goes to that origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlsplit


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"


@dataclass(frozen=True)
class _RegionOrigins:
    lwa: str  # Login with Amazon token host (ADS_API.md §1.2)
    ads_consent: str  # browser consent page host for Ads (ADS_API.md §1.1)
    ads_api: str  # ADS_API.md §1.4
    sp_api: str  # SP_API.md §3.1
    seller_central: str  # default Seller Central host of the region (SP_API.md §2.1)


_ORIGINS = {
    Region.NA: _RegionOrigins(
        lwa="https://api.amazon.com",
        ads_consent="https://www.amazon.com",
        ads_api="https://advertising-api.amazon.com",
        sp_api="https://sellingpartnerapi-na.amazon.com",
        seller_central="https://sellercentral.amazon.com",
    ),
    Region.EU: _RegionOrigins(
        lwa="https://api.amazon.co.uk",
        ads_consent="https://eu.account.amazon.com",
        ads_api="https://advertising-api-eu.amazon.com",
        sp_api="https://sellingpartnerapi-eu.amazon.com",
        seller_central="https://sellercentral-europe.amazon.com",
    ),
    Region.FE: _RegionOrigins(
        lwa="https://api.amazon.co.jp",
        ads_consent="https://apac.account.amazon.com",
        ads_api="https://advertising-api-fe.amazon.com",
        sp_api="https://sellingpartnerapi-fe.amazon.com",
        seller_central="https://sellercentral.amazon.co.jp",
    ),
}


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country_code: str  # as the Ads API spells it (UK, not GB)
    region: Region
    currency: str
    # Sponsored Products keyword/target bid range in local currency (Amazon Ads "limits" page).
    min_bid: Decimal
    max_bid: Decimal
    seller_central: str | None = None  # only where it differs from the region's default host


def _mp(mid, country, region, currency, bid_range, seller_central=None):
    low, high = bid_range.split("/")
    return Marketplace(mid, country, region, currency, Decimal(low), Decimal(high), seller_central)


_NA, _EU, _FE = Region.NA, Region.EU, Region.FE
MARKETPLACES: tuple[Marketplace, ...] = (
    _mp("ATVPDKIKX0DER", "US", _NA, "USD", "0.02/1000"),
    _mp("A2EUQ1WTGCTBG2", "CA", _NA, "CAD", "0.02/1000", "https://sellercentral.amazon.ca"),
    _mp("A1AM78C64UM0Y8", "MX", _NA, "MXN", "0.1/20000", "https://sellercentral.amazon.com.mx"),
    _mp("A2Q3Y263D00KWC", "BR", _NA, "BRL", "0.07/3700", "https://sellercentral.amazon.com.br"),
    _mp("A1F83G8C2ARO7P", "UK", _EU, "GBP", "0.02/1000"),
    _mp("A1PA6795UKMFR9", "DE", _EU, "EUR", "0.02/1000"),
    _mp("A13V1IB3VIYZZH", "FR", _EU, "EUR", "0.02/1000"),
    _mp("APJ6JRA9NG5V4", "IT", _EU, "EUR", "0.02/1000"),
    _mp("A1RKKUPIHCS9HS", "ES", _EU, "EUR", "0.02/1000"),
    _mp("A1805IZSGTT6HS", "NL", _EU, "EUR", "0.02/1000", "https://sellercentral.amazon.nl"),
    _mp("AMEN7PMS3EDWL", "BE", _EU, "EUR", "0.02/1000"),
    _mp("A28R8C7NBKEWEA", "IE", _EU, "EUR", "0.02/1000"),
    _mp("A2NODRKZP88ZB9", "SE", _EU, "SEK", "0.18/9300", "https://sellercentral.amazon.se"),
    _mp("A1C3SOZRARQ6R3", "PL", _EU, "PLN", "0.04/2000", "https://sellercentral.amazon.pl"),
    _mp("A33AVAJ2PDY3EV", "TR", _EU, "TRY", "0.05/2500", "https://sellercentral.amazon.com.tr"),
    _mp("A2VIGQ35RCS4UG", "AE", _EU, "AED", "0.24/184", "https://sellercentral.amazon.ae"),
    _mp("A17E79C6D8DWNP", "SA", _EU, "SAR", "0.10/3670"),
    # Amazon's table says 5.50 as the EGP maximum; kept as published although it looks like a typo.
    _mp("ARBP9OOSHTCHU", "EG", _EU, "EGP", "0.15/5.50"),
    _mp("A21TJRUUN4KGV", "IN", _EU, "INR", "1/5000", "https://sellercentral.amazon.in"),
    _mp("AE08WJ6YKNBMC", "ZA", _EU, "ZAR", "1/7000"),
    _mp("A1VC38T7YXB528", "JP", _FE, "JPY", "2/100000"),
    _mp("A39IBJ37TRP1C6", "AU", _FE, "AUD", "0.02/1410", "https://sellercentral.amazon.com.au"),
    _mp("A19VAU5U5O7RUS", "SG", _FE, "SGD", "0.02/1100", "https://sellercentral.amazon.sg"),
)
_BY_ID = {m.marketplace_id: m for m in MARKETPLACES}
_BY_COUNTRY = {m.country_code: m for m in MARKETPLACES}


def marketplace(marketplace_id: str) -> Marketplace:
    """Look up a marketplace by its id (``ATVPDKIKX0DER``); KeyError if Amazon added one we don't know."""
    return _BY_ID[marketplace_id]


def marketplace_for_country(country_code: str) -> Marketplace:
    """Look up by the Ads API ``countryCode``; ``GB`` is accepted as an alias of ``UK``."""
    code = country_code.upper()
    return _BY_COUNTRY["UK" if code == "GB" else code]


def _seller_central(region: Region, marketplace_id: str | None) -> str:
    """The marketplace's own Seller Central host when it has one, else the region's."""
    known = _BY_ID.get(marketplace_id) if marketplace_id else None
    return known.seller_central if known is not None and known.seller_central else \
        _ORIGINS[Region(region)].seller_central


class Hosts:
    """Resolves every Amazon URL, optionally redirected to one origin (the sandbox)."""

    def __init__(self, base_url: str | None = None):
        if base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"AMAZON_BASE_URL must be an http(s) origin, got {base_url!r}")
            base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.base_url = base_url or None

    def _url(self, amazon_origin: str, path: str) -> str:
        return f"{self.base_url or amazon_origin}{path}"

    def token_url(self, region: Region) -> str:
        return self._url(_ORIGINS[Region(region)].lwa, "/auth/o2/token")

    def ads_consent_url(self, region: Region) -> str:
        return self._url(_ORIGINS[Region(region)].ads_consent, "/ap/oa")

    def sp_consent_url(self, region: Region, marketplace_id: str | None = None) -> str:
        """Seller Central consent page; the marketplace's own Seller Central host when it has one."""
        return self._url(_seller_central(region, marketplace_id), "/apps/authorize/consent")

    def seller_central(self, marketplace_id: str, path: str) -> str:
        """A Seller Central page (`path`) on the marketplace's Seller Central host (promotion create pages)."""
        return self._url(_seller_central(marketplace(marketplace_id).region, marketplace_id), path)

    def ads_api(self, region: Region, path: str) -> str:
        return self._url(_ORIGINS[Region(region)].ads_api, path)

    def sp_api(self, region: Region, path: str) -> str:
        return self._url(_ORIGINS[Region(region)].sp_api, path)
