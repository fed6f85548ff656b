"""Keeping `dash_profile_daily` in step with the facts: a job the sync runs after each successful ingest.

The overview and the seller page sum a seller's whole account over up to a year for many sellers at once;
summing a few hundred rollup rows instead of every campaign-day keeps those pages flat at agency scale.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, literal, select

from marketing.extensions import db
from marketing.models import AdsProfile, Connection, ProfileDaily, SpCampaignDaily, SyncRun, data_changed

_METRICS = ("impressions", "clicks", "cost", "orders", "units", "sales")


def refresh_rollups(seller_id: int, start: dt.date | str, end: dt.date | str) -> int:
    """Rebuild the seller's rollup rows for `start`..`end` (inclusive) from the campaign facts, and commit.

    Safe to run twice and safe to run for any window (it replaces exactly that window). Money keeps the
    profile's currency. Returns the number of rows written.
    """
    start, end = _date(start), _date(end)
    profiles = (
        select(AdsProfile.profile_id, AdsProfile.currency_code)
        .join(Connection, Connection.id == AdsProfile.connection_id)
        .where(Connection.seller_id == seller_id, Connection.api == "ads")
        .subquery()
    )
    facts = SpCampaignDaily
    rows = (
        select(literal(seller_id), facts.profile_id, facts.date, profiles.c.currency_code,
               *(func.sum(getattr(facts, m)) for m in _METRICS))
        .join(profiles, profiles.c.profile_id == facts.profile_id)
        .where(facts.date.between(start, end))
        .group_by(facts.profile_id, facts.date, profiles.c.currency_code)
    )
    db.session.execute(delete(ProfileDaily).where(ProfileDaily.seller_id == seller_id,
                                                  ProfileDaily.date.between(start, end)))
    db.session.execute(insert(ProfileDaily).from_select(
        ["seller_id", "profile_id", "date", "currency_code", *_METRICS], rows))
    written = db.session.scalar(select(func.count()).select_from(ProfileDaily).where(
        ProfileDaily.seller_id == seller_id, ProfileDaily.date.between(start, end)))
    db.session.execute(data_changed(seller_id=seller_id))
    db.session.commit()
    return written


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def after_sync(seller_id: int, sync_run_id: int) -> None:
    """The job `marketing.sync` runs after each successful sync: refresh every day the run's reports replaced."""
    run = db.session.get(SyncRun, sync_run_id)
    if run is None:
        return
    refresh_rollups(seller_id, min([run.start_date, *(r.start_date for r in run.reports)]),
                    max([run.end_date, *(r.end_date for r in run.reports)]))
