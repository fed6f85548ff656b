"""The bid of each keyword/target over time: what the engine reads as the bid in force on a day.

The reports' `keywordBid` is the bid at report time and the nightly re-pull overwrites it, so it cannot say
what a past day's clicks were bought at. One row per target and day a bid took effect: our applies (`ours`),
differences the structure sync finds (`console`: someone changed it in Amazon's console; `inherited`: the
target has no bid of its own and its ad group's default changed). A target's first row is the bid seen at its
first sync; it is taken to have been in force before that too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from marketing.clock import now
from marketing.models.base import Base


class BidSource(StrEnum):
    OURS = "ours"
    CONSOLE = "console"
    INHERITED = "inherited"


class BidHistory(Base):
    __tablename__ = "bid_history"

    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(primary_key=True)  # a later change the same day replaces it
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    bid: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=now, onupdate=now)
