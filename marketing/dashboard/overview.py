"""The overview: every seller a user may see, with its period KPIs per currency, ranked problems first.

Token states, the last sync and ACoS against target are checked for all visible sellers (a handful of
queries whatever their number, on the rollup); only the trend is limited to the shown page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from marketing import settings_registry
from marketing.connections.status import TokenStatus, derive
from marketing.dashboard import queries
from marketing.dashboard.metrics import Comparison, Metrics
from marketing.dashboard.periods import Period
from marketing.extensions import db
from marketing.models import AdsProfile, Seller, SettingValue, SyncRun
from marketing.models.sync import RunStatus

PER_PAGE = 25
# ACoS this many times the seller's target ACoS or more counts as a problem.
FAR_ABOVE_TARGET = Decimal("1.5")


@dataclass
class SellerSummary:
    seller: Seller
    ads: TokenStatus
    sp: TokenStatus
    profiles: list[AdsProfile]
    last_sync: SyncRun | None
    target_acos: Decimal | None
    current: dict[str, Metrics]
    pending_suggestions: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (severity, message), 0 = worst
    comparisons: dict[str, Comparison] = field(default_factory=dict)

    @property
    def empty_state(self) -> str | None:
        """What the seller needs before it has data: connect, choose profiles, or wait for the first sync."""
        if self.current:
            return None
        if self.ads.state == "not_connected":
            return "connect"
        if not self.profiles:
            return "choose_profiles"
        if self.last_sync is None or self.last_sync.status in ("queued", "running"):
            return "first_sync"
        return "no_data"


@dataclass(frozen=True)
class Overview:
    sellers: list[SellerSummary]  # every visible seller, problems first
    page: queries.Page  # the shown slice of `sellers`
    totals: dict[str, Comparison]  # per currency, over every visible seller
    trend: dict[str, list[tuple[dt.date, Metrics]]]  # per currency, summed over the page's sellers


def build(sellers: list[Seller], period: Period, at: dt.datetime, page: int = 1) -> Overview:
    ids = [s.id for s in sellers]
    warning_days = int(settings_registry.get("token_expiry_warning_days"))
    profiles = queries.managed_profiles(ids)
    syncs = queries.latest_sync_runs(ids)
    targets = _target_acos(ids)
    pending = queries.pending_suggestion_counts(ids)
    current = queries.totals(ids, period)
    by_seller: dict[int, dict[str, Metrics]] = defaultdict(dict)
    for (seller_id, currency), m in sorted(current.items()):
        by_seller[seller_id][currency] = m
    summaries = []
    for seller in sellers:
        summary = SellerSummary(
            seller, derive(seller.connection("ads"), at, warning_days),
            derive(seller.connection("sp"), at, warning_days),
            profiles.get(seller.id, []), syncs.get(seller.id), targets.get(seller.id), by_seller.get(seller.id, {}),
            pending.get(seller.id, 0),
        )
        summary.problems = _problems(summary)
        summaries.append(summary)
    summaries.sort(key=lambda s: (min((sev for sev, _ in s.problems), default=9), s.seller.name.lower()))
    pages = queries.Page(summaries, len(summaries), 1, PER_PAGE).pages
    number = min(max(page, 1), pages)
    shown = summaries[(number - 1) * PER_PAGE:number * PER_PAGE]
    previous = queries.totals(ids, period.previous())
    for summary in summaries:
        summary.comparisons = {currency: Comparison(m, previous.get((summary.seller.id, currency), Metrics()))
                               for currency, m in summary.current.items()}
    return Overview(summaries, queries.Page(shown, len(summaries), number, PER_PAGE),
                    _per_currency(current, previous), queries.daily([s.seller.id for s in shown], period))


def _target_acos(seller_ids: list[int]) -> dict[int, Decimal | None]:
    """`settings_registry.get("target_acos", id)` for many sellers in two queries instead of two per seller."""
    definition = settings_registry.DEFINITIONS["target_acos"]
    default = settings_registry.get("target_acos")
    rows = db.session.scalars(select(SettingValue).where(SettingValue.key == "target_acos",
                                                        SettingValue.seller_id.in_(seller_ids)))
    overrides = {row.seller_id: definition.parse(row.value) if row.value != "" else None for row in rows}
    return {seller_id: overrides.get(seller_id, default) for seller_id in seller_ids}


def _problems(summary: SellerSummary) -> list[tuple[int, str]]:
    problems = []
    for label, status in (("Amazon Ads", summary.ads), ("Seller Central", summary.sp)):
        if status.state in ("revoked", "expired"):
            problems.append((0, f"{label} authorization {status.state}"))
        elif status.state == "expiring":
            problems.append((2, f"{label} authorization expires in {status.days_left} d"))
        elif status.degraded:
            problems.append((2, f"{label} calls failing ({status.last_error_code})"))
    if summary.last_sync is not None and summary.last_sync.status in (RunStatus.FAILED, RunStatus.PARTIAL):
        problems.append((1, f"Last sync {summary.last_sync.status}"))
    if summary.target_acos:
        target = summary.target_acos / 100
        for currency, metrics in summary.current.items():
            if metrics.acos is not None and metrics.acos >= target * FAR_ABOVE_TARGET:
                problems.append((3, f"ACoS {metrics.acos * 100:.0f}% vs target {summary.target_acos:.0f}%"
                                    f" ({currency})"))
            elif metrics.acos is None and metrics.cost > 0:
                problems.append((3, f"Spend without sales ({currency})"))
    return sorted(problems)


def _per_currency(current: dict[queries.Key, Metrics], previous: dict[queries.Key, Metrics]) -> dict[str, Comparison]:
    def by_currency(totals):
        summed: dict[str, Metrics] = defaultdict(Metrics)
        for (_, currency), m in totals.items():
            summed[currency] += m
        return summed

    now, before = by_currency(current), by_currency(previous)
    return {c: Comparison(now[c], before.get(c, Metrics())) for c in sorted(now)}
