from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from marketing.amazon import Hosts, Region, marketplace, marketplace_for_country
from marketing.amazon.hosts import MARKETPLACES


def test_amazon_hosts_per_region():
    hosts = Hosts(None)
    assert hosts.token_url(Region.NA) == "https://api.amazon.com/auth/o2/token"
    assert hosts.token_url(Region.EU) == "https://api.amazon.co.uk/auth/o2/token"
    assert hosts.token_url(Region.FE) == "https://api.amazon.co.jp/auth/o2/token"
    assert hosts.ads_consent_url(Region.NA) == "https://www.amazon.com/ap/oa"
    assert hosts.ads_consent_url(Region.EU) == "https://eu.account.amazon.com/ap/oa"
    assert hosts.ads_consent_url(Region.FE) == "https://apac.account.amazon.com/ap/oa"
    assert hosts.ads_api(Region.EU, "/v2/profiles") == "https://advertising-api-eu.amazon.com/v2/profiles"
    assert hosts.ads_api(Region.FE, "/sp/keywords") == "https://advertising-api-fe.amazon.com/sp/keywords"
    assert hosts.sp_api(Region.NA, "/fba/inventory/v1/summaries") == (
        "https://sellingpartnerapi-na.amazon.com/fba/inventory/v1/summaries"
    )
    assert hosts.sp_api(Region.FE, "/x") == "https://sellingpartnerapi-fe.amazon.com/x"


def test_seller_central_consent_follows_marketplace():
    hosts = Hosts(None)
    assert hosts.sp_consent_url(Region.NA) == "https://sellercentral.amazon.com/apps/authorize/consent"
    assert hosts.sp_consent_url(Region.EU, "A1PA6795UKMFR9") == (
        "https://sellercentral-europe.amazon.com/apps/authorize/consent"
    )
    assert hosts.sp_consent_url(Region.EU, "A1805IZSGTT6HS") == "https://sellercentral.amazon.nl/apps/authorize/consent"
    assert hosts.sp_consent_url(Region.FE, "A39IBJ37TRP1C6") == (
        "https://sellercentral.amazon.com.au/apps/authorize/consent"
    )


def test_base_url_sends_everything_to_one_origin_with_amazons_paths():
    hosts = Hosts("http://127.0.0.1:8765/")
    urls = [
        hosts.token_url(Region.EU),
        hosts.ads_consent_url(Region.FE),
        hosts.sp_consent_url(Region.EU, "A1805IZSGTT6HS"),
        hosts.ads_api(Region.NA, "/v2/profiles"),
        hosts.ads_api(Region.EU, "/reporting/reports"),
        hosts.sp_api(Region.FE, "/reports/2021-06-30/reports"),
        hosts.sp_api(Region.NA, "/fba/inventory/v1/summaries"),
    ]
    assert {urlsplit(u).netloc for u in urls} == {"127.0.0.1:8765"}
    assert [urlsplit(u).path for u in urls] == [
        "/auth/o2/token",
        "/ap/oa",
        "/apps/authorize/consent",
        "/v2/profiles",
        "/reporting/reports",
        "/reports/2021-06-30/reports",
        "/fba/inventory/v1/summaries",
    ]


@pytest.mark.parametrize("bad", ["127.0.0.1:8765", "ftp://x", "http://"])
def test_base_url_must_be_an_http_origin(bad):
    with pytest.raises(ValueError):
        Hosts(bad)


def test_marketplace_metadata():
    us = marketplace("ATVPDKIKX0DER")
    assert (us.country_code, us.region, us.currency, us.min_bid, us.max_bid) == (
        "US", Region.NA, "USD", Decimal("0.02"), Decimal("1000")
    )  # fmt: skip
    jp = marketplace_for_country("JP")
    assert (jp.marketplace_id, jp.region, jp.currency, jp.min_bid, jp.max_bid) == (
        "A1VC38T7YXB528", Region.FE, "JPY", Decimal("2"), Decimal("100000")
    )  # fmt: skip
    assert marketplace_for_country("GB") is marketplace_for_country("UK")
    assert marketplace_for_country("uk").currency == "GBP"
    assert all(m.min_bid < m.max_bid for m in MARKETPLACES)
    assert len({m.marketplace_id for m in MARKETPLACES}) == len(MARKETPLACES)
    with pytest.raises(KeyError):
        marketplace("NOPE")
