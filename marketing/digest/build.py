"""One user's weekly summary: the stored seller figures plus what needs the reader now.

Sellers are those the user may see at build time (narrowed to the ones chosen in the preferences), so a
seller unassigned since scheduling never appears. The user's top `FULL_SECTIONS` sellers by spend get full
sections; the rest one line each, which keeps the HTML under Gmail's clipping size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from marketing import settings_registry
from marketing.clock import now
from marketing.connections.status import derive
from marketing.dashboard import queries
from marketing.dashboard.metrics import Comparison, Metrics
from marketing.digest import figures as seller_figures
from marketing.digest.weeks import Week
from marketing.extensions import db
from marketing.mail.compose import link, unsubscribe_url
from marketing.models import PlanState, PromotionPlan, Seller, Suggestion, SuggestionRun, SyncRun, User
from marketing.models.suggestions import Kind
from marketing.models.sync import RunStatus
from marketing.suggestions.lifecycle import PENDING

FULL_SECTIONS = 10
STALE_SYNC = dt.timedelta(hours=48)
BAR_HEIGHT = 60  # pixels of the tallest bar in the chart


@dataclass(frozen=True)
class Bar:
    day: dt.date
    cost: Decimal
    sales: Decimal
    cost_px: int
    sales_px: int


@dataclass(frozen=True)
class Campaign:
    name: str
    now: Metrics
    before: Metrics


@dataclass(frozen=True)
class ProfileWeek:
    country: str
    currency: str
    data_through: dt.date | None
    complete: bool
    week: Comparison
    bars: list[Bar]
    movers: list[Campaign]
    worst: list[Campaign]


@dataclass
class SellerWeek:
    id: int
    name: str
    url: str
    profiles: list[ProfileWeek]
    version: str = ""  # names the stored figures this was built from (rendered sections are cached by it)

    @property
    def spend(self) -> dict[str, Decimal]:
        """Spend per currency (never converted, never mixed)."""
        totals: dict[str, Decimal] = {}
        for p in self.profiles:
            totals[p.currency] = totals.get(p.currency, Decimal(0)) + p.week.current.cost
        return totals

    @property
    def rank(self) -> tuple:
        """Ordering by spend: the largest of its per-currency totals (no conversion), then the name."""
        return (-max(self.spend.values(), default=Decimal(0)), self.name.lower())


@dataclass(frozen=True)
class SuggestionLine:
    seller: str
    currency: str
    count: int
    spend_per_day: Decimal | None
    sales_per_day: Decimal | None
    url: str


@dataclass(frozen=True)
class PlanLine:
    """An approved promotion plan: waiting to be entered in Seller Central, or measured during the week."""

    type: str
    asins: str
    start: dt.date
    end: dt.date
    currency: str
    predicted_profit: Decimal | None
    actual_profit: Decimal | None
    url: str


@dataclass
class PromotionLine:
    """One seller's promotions in the week: suggestions to review, plans to enter, outcomes measured, and the ASINs
    its latest run told to reorder earlier (the Promotions page gives the levels)."""

    seller: str
    url: str
    suggested: int = 0
    reorder: int = 0
    expected_profit: dict[str, Decimal] = field(default_factory=dict)  # of the suggestions, per currency
    waiting: list[PlanLine] = field(default_factory=list)
    outcomes: list[PlanLine] = field(default_factory=list)


@dataclass(frozen=True)
class TokenLine:
    seller: str
    api: str
    state: str
    days_left: int | None
    expires_on: dt.date | None
    url: str


@dataclass(frozen=True)
class SyncLine:
    seller: str
    problem: str  # failed | partial | stale
    detail: str
    url: str


@dataclass
class Digest:
    user_id: int
    email: str
    week: Week
    full: list[SellerWeek]
    brief: list[SellerWeek]
    suggestions: list[SuggestionLine] = field(default_factory=list)
    promotions: list[PromotionLine] = field(default_factory=list)
    tokens: list[TokenLine] = field(default_factory=list)
    syncs: list[SyncLine] = field(default_factory=list)
    preferences_url: str = ""
    unsubscribe_url: str = ""

    @property
    def complete(self) -> bool:
        return all(p.complete for s in self.full + self.brief for p in s.profiles)

    @property
    def data_through(self) -> list[tuple[str, str, dt.date | None]]:
        """(seller, country, last stored day) of every profile whose week is not fully stored."""
        return [(s.name, p.country, p.data_through) for s in self.full + self.brief for p in s.profiles
                if not p.complete]

    @property
    def needs_reader(self) -> int:
        return (len(self.suggestions) + sum(p.suggested > 0 or bool(p.waiting) or p.reorder > 0
                                            for p in self.promotions)
                + len(self.tokens) + len(self.syncs))

    @property
    def subject(self) -> str:
        period = self.week.period
        text = f"Weekly summary {period.start:%d %b} – {period.end:%d %b %Y}"
        return text + (f" · {self.needs_reader} need{'s' if self.needs_reader == 1 else ''} you"
                       if self.needs_reader else "")


def weekly(user: User, sellers: list[Seller], week: Week) -> Digest:
    stored = seller_figures.for_sellers(sellers, week)
    sections = sorted((_seller_week(s, stored[s.id]) for s in sellers), key=lambda s: s.rank)
    ids = [s.id for s in sellers]
    currencies = {(s.id, p["profile_id"]): p["currency"] for s in sellers for p in stored[s.id].figures["profiles"]}
    digest = Digest(user.id, user.email, week, sections[:FULL_SECTIONS], sections[FULL_SECTIONS:],
                    preferences_url=link("mail.preferences"), unsubscribe_url=unsubscribe_url(user.id, "weekly"))
    names = {s.id: s.name for s in sellers}
    digest.suggestions = _suggestions(ids, names, currencies)
    digest.promotions = _promotions(ids, names, week)
    digest.tokens = _tokens(sellers)
    digest.syncs = _syncs(sellers)
    return digest


def _seller_week(seller: Seller, row) -> SellerWeek:
    data, profiles = row.figures, []
    for p in data["profiles"]:
        days = [(dt.date.fromisoformat(d), Decimal(c), Decimal(s)) for d, c, s in p["days"]]
        top = max([c for _, c, _ in days] + [s for _, _, s in days] + [Decimal(0)])
        profiles.append(ProfileWeek(
            p["country"], p["currency"],
            dt.date.fromisoformat(p["data_through"]) if p["data_through"] else None, p["complete"],
            Comparison(seller_figures.load_metrics(p["current"]), seller_figures.load_metrics(p["previous"])),
            [Bar(d, c, s, _px(c, top), _px(s, top)) for d, c, s in days],
            [_campaign(c) for c in p["movers"]], [_campaign(c) for c in p["worst"]]))
    version = f"{row.week}@{row.computed_at.isoformat() if row.computed_at else 'unsaved'}"
    return SellerWeek(seller.id, seller.name, link("sellers.show", seller_id=seller.id), profiles, version)


def _px(value: Decimal, top: Decimal) -> int:
    return int(value / top * BAR_HEIGHT) if top else 0


def _campaign(data: dict) -> Campaign:
    return Campaign(data["name"], seller_figures.load_metrics(data["now"]), seller_figures.load_metrics(data["before"]))


def _suggestions(ids: list[int], names: dict[int, str], currencies: dict) -> list[SuggestionLine]:
    """Pending bid suggestions per seller and profile, with their expected effect per day."""
    rows = db.session.execute(
        select(Suggestion.seller_id, Suggestion.profile_id, func.count(),
               func.sum(Suggestion.expected_spend_delta), func.sum(Suggestion.expected_sales_delta))
        .where(Suggestion.seller_id.in_(ids), Suggestion.kind == Kind.BID, Suggestion.status == PENDING)
        .group_by(Suggestion.seller_id, Suggestion.profile_id)).all()
    lines = [SuggestionLine(names[seller_id], currencies.get((seller_id, profile_id), ""), count, spend, sales,
                            link("suggestions.index", seller_id=seller_id))
             for seller_id, profile_id, count, spend, sales in rows]
    return sorted(lines, key=lambda line: (line.seller.lower(), line.currency))


def _promotions(ids: list[int], names: dict[int, str], week: Week) -> list[PromotionLine]:
    """Pending promotion suggestions (with their expected incremental profit), plans approved but not yet entered
    in Seller Central, plans whose outcome was measured during the week, and the ASINs each seller's latest run (the
    one its Promotions page shows) told to reorder earlier: three queries for every seller."""
    lines: dict[int, PromotionLine] = {}

    def line(seller_id: int) -> PromotionLine:
        return lines.setdefault(seller_id, PromotionLine(names[seller_id], link("promotions.index",
                                                                                 seller_id=seller_id)))

    for seller_id, payload in db.session.execute(
            select(Suggestion.seller_id, Suggestion.payload).where(
                Suggestion.seller_id.in_(ids), Suggestion.kind == Kind.PROMOTION, Suggestion.status == PENDING)):
        found = line(seller_id)
        found.suggested += 1
        profit, currency = (payload or {}).get("expected_profit"), (payload or {}).get("currency") or ""
        if profit is not None:
            found.expected_profit[currency] = found.expected_profit.get(currency, Decimal(0)) + Decimal(str(profit))
    latest = (select(func.max(SuggestionRun.id)).where(SuggestionRun.seller_id.in_(ids),
                                                        SuggestionRun.kind == Kind.PROMOTION)
              .group_by(SuggestionRun.seller_id))
    for seller_id, hints in db.session.execute(select(SuggestionRun.seller_id, SuggestionRun.restock_hints).where(
            SuggestionRun.id.in_(latest))):
        if hints:
            line(seller_id).reorder = len(hints)
    start = dt.datetime.combine(week.monday, dt.time(), dt.UTC)
    for plan in db.session.scalars(select(PromotionPlan).where(
            PromotionPlan.seller_id.in_(ids),
            (PromotionPlan.state == PlanState.PLANNED)
            | ((PromotionPlan.state == PlanState.MEASURED) & (PromotionPlan.updated_at >= start)
               & (PromotionPlan.updated_at < start + dt.timedelta(days=7))))
            .order_by(PromotionPlan.start_date, PromotionPlan.id)):
        entry = PlanLine(plan.type, ", ".join(plan.asins or []), plan.start_date, plan.end_date, plan.currency_code,
                         _decimal((plan.predicted or {}).get("expected_profit")),
                         _decimal((plan.actual or {}).get("incremental_profit")),
                         link("promotions.plan", seller_id=plan.seller_id, plan_id=plan.id))
        found = line(plan.seller_id)
        (found.waiting if plan.state == PlanState.PLANNED else found.outcomes).append(entry)
    return sorted(lines.values(), key=lambda p: p.seller.lower())


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _tokens(sellers: list[Seller]) -> list[TokenLine]:
    """Authorizations expiring within the warning window, expired or revoked."""
    warning_days = int(settings_registry.get("token_expiry_warning_days"))
    at = now()
    lines = []
    for seller in sellers:
        for connection in seller.connections:
            status = derive(connection, at, warning_days)
            if status.state in ("expiring", "expired", "revoked"):
                lines.append(TokenLine(seller.name, connection.label, status.state, status.days_left,
                                       status.expires_at.date() if status.expires_at else None,
                                       link("sellers.show", seller_id=seller.id, _anchor="connections")))
    return lines


def _syncs(sellers: list[Seller]) -> list[SyncLine]:
    """The latest run failed or was partial (some reports failed), or no sync succeeded for 48 h."""
    ids = [s.id for s in sellers]
    latest = queries.latest_sync_runs(ids)
    succeeded = dict(db.session.execute(
        select(SyncRun.seller_id, func.max(SyncRun.finished_at))
        .where(SyncRun.seller_id.in_(ids), SyncRun.status == RunStatus.SUCCEEDED).group_by(SyncRun.seller_id)).all())
    lines = []
    for seller in sellers:
        run, url = latest.get(seller.id), link("sellers.show", seller_id=seller.id)
        if run is None:
            continue
        if run.status in (RunStatus.FAILED, RunStatus.PARTIAL):
            lines.append(SyncLine(seller.name, run.status, run.error or "no reason recorded", url))
            continue
        last = succeeded.get(seller.id)
        if last is not None and now() - last > STALE_SYNC:
            lines.append(SyncLine(seller.name, "stale", f"last successful sync {last:%Y-%m-%d %H:%M} UTC", url))
    return lines
