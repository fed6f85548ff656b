"""Fixtures for bid suggestions: a sandbox for the run, a seller connected to it with its structure synced,
and suggestions made by hand (the engine has its own tests) on keywords whose live bids are read first.

Each test connects with a fresh refresh token, so revoking it never breaks the shared sandbox seller.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketing.sandbox.testing import running_sandbox
from tests.conftest import sandbox_app


@pytest.fixture(scope="session")
def sbx():
    with running_sandbox(seed=11, report_delay=0.0) as handle:
        yield handle


@pytest.fixture
def app(make_app, sbx):
    with sandbox_app(make_app, sbx) as app:
        yield app


@pytest.fixture
def token(sbx):
    """A newly issued Ads refresh token for sandbox seller 0 (safe to revoke)."""
    tokens = sbx.sandbox.tokens
    return tokens.refresh_token(tokens.new_grant("ads", 0))


@pytest.fixture
def seller(app, db, sbx, make_seller, token):
    """Our seller, connected to sandbox seller 0's Ads account, one profile managed and its structure synced."""
    from marketing.clock import now
    from marketing.connections import clients, service
    from marketing.sync import structure

    seller = make_seller(sbx.sellers[0].name, sbx.sellers[0].region)
    connection = service.store_token(seller, "ads", token, authorized_at=now(), actor=None, method="cli")
    db.session.commit()
    profiles = service.refresh_profiles(connection, manage_new=True)
    db.session.commit()
    profile = next(p for p in profiles if p.manageable)
    with clients.http_client() as http:
        structure.sync_profile(db.session, clients.ads_client(connection, http), profile_id=profile.profile_id,
                               seller_id=seller.id)
    db.session.commit()
    seller.profile_id = profile.profile_id  # for the tests' convenience
    return seller


def live_keywords(seller):
    """A select of the seller's enabled keywords in enabled ad groups and campaigns (callers order it)."""
    from marketing.models import SpAdGroup, SpCampaign, SpTarget

    return (
        select(SpTarget).join(SpAdGroup, (SpAdGroup.ad_group_id == SpTarget.ad_group_id)
                              & (SpAdGroup.profile_id == SpTarget.profile_id))
        .join(SpCampaign, (SpCampaign.campaign_id == SpTarget.campaign_id)
              & (SpCampaign.profile_id == SpTarget.profile_id))
        .where(SpTarget.seller_id == seller.id, SpTarget.profile_id == seller.profile_id,
               SpTarget.kind == "keyword", SpTarget.state == "ENABLED", SpAdGroup.state == "ENABLED",
               SpCampaign.state == "ENABLED")
    )


@pytest.fixture
def ads(app, sbx, seller):
    """An Ads client on the seller's connection (to read or change bids behind the product's back)."""
    import httpx

    from marketing.connections import clients

    with httpx.Client(timeout=30) as http:
        yield clients.ads_client(seller.connection("ads"), http)


@pytest.fixture
def make_suggestions(db, seller, ads):
    """Pending bid suggestions on `n` enabled keywords (or targets), based on their live bids."""
    from marketing.bids.apply import live_bids
    from marketing.models import SpTarget, Suggestion, SuggestionRun

    def make(n=3, kind="keyword", factor=Decimal("1.1"), status="pending", run=None):
        targets = db.session.scalars(
            select(SpTarget).where(SpTarget.seller_id == seller.id, SpTarget.kind == kind,
                                   SpTarget.state == "ENABLED", SpTarget.profile_id == seller.profile_id)
            .order_by(SpTarget.target_id)
        ).all()
        taken = set(db.session.scalars(select(Suggestion.entity_id)))
        chosen = [t for t in targets if t.target_id not in taken][:n]
        live = live_bids(ads, seller.profile_id, kind, [t.target_id for t in chosen])
        if run is None:
            run = SuggestionRun(seller_id=seller.id, kind="bid", status="succeeded", trigger="manual")
            db.session.add(run)
            db.session.flush()
        rows = []
        for target in chosen:
            current = live[target.target_id][1]
            proposed = (current * factor).quantize(Decimal("0.01"))
            rows.append(Suggestion(
                seller_id=seller.id, run_id=run.id, kind="bid", profile_id=target.profile_id,
                entity_kind=kind, entity_id=target.target_id, entity_ref=str(target.target_id),
                marketplace="ATVPDKIKX0DER", campaign_id=target.campaign_id,
                ad_group_id=target.ad_group_id, label=target.text, current_value=current,
                proposed_value=proposed, direction="up" if proposed > current else "down", status=status,
                reason="below_target_acos", explanation="ACoS 12% is below the 30% target.", inputs={"clicks": 40},
            ))
        db.session.add_all(rows)
        db.session.commit()
        return rows

    return make


def sum_weeks(db) -> None:
    """What the ingest does after writing targeting days (`ingest.refresh_target_weeks`), for tests that add the
    days themselves: the bid inputs read whole weeks from `sp_target_weekly` (PostgreSQL)."""
    from marketing.models import SpTargetDaily
    from marketing.sync.ingest import refresh_target_weeks

    d = SpTargetDaily
    for profile_id, first, last in db.session.execute(
            select(d.profile_id, func.min(d.date), func.max(d.date)).group_by(d.profile_id)).all():
        refresh_target_weeks(db.session, profile_id, first, last)
    db.session.commit()
