"""Derived tables the dashboard reads instead of the raw facts; rebuilt from them after each sync.

See `marketing.dashboard.rollups.refresh_rollups`; nothing else writes here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketing.models.base import Base
from marketing.models.facts import SpCampaignDaily, SpSearchTermDaily, SpTargetDaily, _Metrics


class ProfileDaily(_Metrics, Base):
    """Sponsored Products totals per seller, advertising profile and day (the sum of its campaigns' rows)."""

    __tablename__ = "dash_profile_daily"

    seller_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    currency_code: Mapped[str] = mapped_column(String(3))


# Indexes the dashboard's per-entity pages need on the fact tables (declared here, beside their only reader).
Index("ix_sp_target_daily_profile_target_date", SpTargetDaily.profile_id, SpTargetDaily.target_id,
      SpTargetDaily.date)
Index("ix_sp_campaign_daily_profile_campaign_date", SpCampaignDaily.profile_id, SpCampaignDaily.campaign_id,
      SpCampaignDaily.date)
Index("ix_sp_search_term_daily_profile_campaign_date", SpSearchTermDaily.profile_id, SpSearchTermDaily.campaign_id,
      SpSearchTermDaily.date)
