"""Ids in query strings are checked against the seller like ids in paths: another seller's is 404."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.sqlite


@pytest.fixture
def two_sellers(make_seller, make_user, login, db):
    from tests.dashboard.conftest import Seeder

    seed = Seeder(db)
    mine, theirs = make_seller("Mine Co"), make_seller("Theirs Co")
    seed.connect(mine, (111, "US", "USD", "UTC"))
    seed.connect(theirs, (222, "US", "USD", "UTC"))
    seed.campaign(mine, 111, 1001, "Mine")
    seed.campaign(theirs, 222, 2001, "Theirs")
    seed.suggestion(theirs, 222, 2001, 9, "1.00", "1.20")
    make_user("m@example.com", "marketer", sellers=[mine])
    login("m@example.com")
    return mine


def test_search_terms_of_another_sellers_campaign_are_404(client, two_sellers):
    base = f"/sellers/{two_sellers.id}/search-terms"
    assert client.get(f"{base}?campaign=1001").status_code == 200
    assert client.get(f"{base}?campaign=2001").status_code == 404
    assert client.get(f"{base}?campaign=2001&format=csv").status_code == 404
    assert client.get(f"{base}?campaign=999").status_code == 404
    assert client.get(f"{base}?campaign=abc").status_code == 404


def test_suggestions_filtered_by_another_sellers_campaign_are_404(client, two_sellers):
    base = f"/sellers/{two_sellers.id}/suggestions"
    assert client.get(f"{base}?campaign=1001").status_code == 200
    assert client.get(f"{base}?campaign=").status_code == 200  # "all"
    assert client.get(f"{base}?campaign=2001").status_code == 404
    assert client.get(f"{base}?campaign=abc").status_code == 404
