"""A promotion plan's life: approve a suggestion (as proposed or edited) into a plan a person enters in Seller
Central, mark it entered, cancel it, and follow it by date to its measured outcome.

    planned → entered → running → finished → measured      (by date, after each sync: `after_sync`)
    planned → expired (not marked entered by its start) · planned | entered | running → cancelled

A plan is matched to what Amazon reported by its Amazon id, else by the same type, the same ASINs and a start
within a day of its own. An ended plan is measured over the matched promotion, or over its own dates from Sales &
Traffic when the reports never showed it (and says so); it is `measured` once the 28 days after it are in.
Every person's action is in the audit log; the engine's rules for a coupon are checked again on an edit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import select

from marketing import audit
from marketing.amazon.hosts import Hosts
from marketing.clock import now, today
from marketing.extensions import db
from marketing.models import PlanState, Promotion, PromotionPlan, PromotionType, SpProductAd, Suggestion, User
from marketing.models.base import MONEY_SCALE
from marketing.models.promotions import DiscountType
from marketing.models.suggestions import Kind
from marketing.promotions import history, measuring
from marketing.suggestions import lifecycle

MAX_DAYS = {PromotionType.COUPON: 90, PromotionType.BEST_DEAL: 7, PromotionType.LIGHTNING_DEAL: 1}
OPEN = (PlanState.PLANNED, PlanState.ENTERED, PlanState.RUNNING, PlanState.FINISHED)  # followed by `advance`
CANCELLABLE = (PlanState.PLANNED, PlanState.ENTERED, PlanState.RUNNING)
MATCH_DAYS = 1  # a reported promotion starting this many days from a plan's start can be that plan
# Days past the 28 after a plan the by-ASIN history may take to arrive; then the plan is measured on what there
# is (a missing Sales & Traffic role stops that history for good), saying through when.
HISTORY_GRACE_DAYS = 14
# Seller Central's create pages (spec §2), on the marketplace's Seller Central host.
CREATE_PATH = {PromotionType.COUPON: "/coupons/create"}
DEAL_CREATE_PATH = "/merchandising/deals/create"
TYPE_LABELS = {PromotionType.COUPON: "Coupon", PromotionType.BEST_DEAL: "Best Deal",
               PromotionType.LIGHTNING_DEAL: "Lightning Deal"}


class PlanError(ValueError):
    """What a person asked for breaks a rule; the message says which and what to do."""


@dataclass(frozen=True)
class Terms:
    """What a plan asks Amazon for: the suggestion's proposal, or the reviewer's edit of it."""

    discount: Decimal  # percent (PERCENT_OFF_LIST_PRICE) or money (AMOUNT_OFF_LIST_PRICE)
    start: dt.date
    end: dt.date
    budget: Decimal | None


def proposed_terms(suggestion: Suggestion) -> Terms:
    """The proposal's terms in the plan's units: a percentage as percent (the engine gives a fraction)."""
    p = suggestion.payload
    discount = Decimal(str(p["discount"]))
    if p["discount_type"] != DiscountType.AMOUNT:
        discount *= 100
    budget = None if p.get("budget") is None else Decimal(str(p["budget"])).quantize(MONEY_SCALE)
    return Terms(discount.quantize(Decimal("0.01")), dt.date.fromisoformat(p["start"]),
                 dt.date.fromisoformat(p["end"]), budget)


def net_price(price: Decimal, discount_type: str, discount: Decimal) -> Decimal:
    """What buyers would pay: below 0 for an amount off past the price, which `check` refuses."""
    return price * (1 - history.engine().discount_share(discount_type, discount, price))


def check(suggestion: Suggestion, terms: Terms, *, day: dt.date) -> None:
    """Amazon's rules for the terms, and no overlap with the ASIN's other promotions; PlanError otherwise."""
    p, kind = suggestion.payload, suggestion.payload["type"]
    settings = history.engine().PromotionSettings()
    price = Decimal(str(p["price"]))
    low, high = Decimal(str(settings.coupon_min_pct)) * 100, Decimal(str(settings.coupon_max_pct)) * 100
    share = history.engine().discount_share(p["discount_type"], terms.discount, price) * 100  # the price is > 0
    if kind == PromotionType.COUPON and not low <= share <= high:
        what = f"{amount_text(terms.discount)}%" if p["discount_type"] != DiscountType.AMOUNT else \
            f"{amount_text(terms.discount)} {p.get('currency', '')} ({share:.1f}% of the price)"
        raise PlanError(f"A coupon's discount must be from {low:.0f}% to {high:.0f}% of the price; {what} is not.")
    if terms.discount <= 0:
        raise PlanError("The discount must be more than 0.")
    if net_price(price, p["discount_type"], terms.discount) <= 0:
        raise PlanError("The discount must leave a price above 0.")
    was = p.get("was_price")
    if was is not None and net_price(price, p["discount_type"], terms.discount) >= Decimal(str(was)):
        raise PlanError(f"The net price must be below the Was Price ({Decimal(str(was)):.2f} "
                        f"{p.get('currency', '')}); increase the discount.")
    lead = int(settings.lead_days.get(kind, 0))
    if terms.start < day + dt.timedelta(days=lead):
        first = day + dt.timedelta(days=lead)
        raise PlanError(f"A {TYPE_LABELS[kind].lower()} can start on {first.isoformat()} at the earliest; "
                        f"{terms.start.isoformat()} is too early.")
    if terms.end < terms.start:
        raise PlanError("The end date must be on or after the start date.")
    if (terms.end - terms.start).days + 1 > MAX_DAYS[kind]:
        raise PlanError(f"A {TYPE_LABELS[kind].lower()} runs at most {MAX_DAYS[kind]} day"
                        f"{'s' if MAX_DAYS[kind] != 1 else ''}; shorten the dates.")
    if kind == PromotionType.COUPON and (terms.budget is None or terms.budget <= 0):
        raise PlanError("A coupon needs a budget above 0.")
    if kind != PromotionType.COUPON and terms.budget is not None:
        raise PlanError("Deals have no budget; leave it empty.")
    busy = history.busy(suggestion.seller_id, suggestion.marketplace, day)
    clash = busy[(busy["asin"] == suggestion.entity_ref) & (busy["start"] <= terms.end) & (busy["end"] >= terms.start)]
    if len(clash):
        first = clash.iloc[0]
        raise PlanError(f"{suggestion.entity_ref} already has a promotion or plan from {first['start'].isoformat()} "
                        f"to {first['end'].isoformat()}; choose dates that do not overlap it.")


def approve(suggestion: Suggestion, *, actor: User | None, terms: Terms | None = None) -> PromotionPlan:
    """Approve a promotion suggestion into a plan (the same plan again for a repeated approval); on
    `lifecycle.NotAllowed` or `PlanError` the caller rolls back."""
    if suggestion.kind != Kind.PROMOTION:
        raise PlanError(f"Suggestion #{suggestion.id} is not a promotion suggestion.")
    existing = db.session.scalar(select(PromotionPlan).where(PromotionPlan.suggestion_id == suggestion.id))
    if existing is not None:
        return existing
    proposed = proposed_terms(suggestion)
    terms = terms or proposed
    p = suggestion.payload
    price = Decimal(str(p["price"]))
    # Decided first, so a suggestion no longer pending is refused for that; a rule broken below is refused
    # after it, and the caller's rollback undoes the decision.
    lifecycle.approve(suggestion, actor=actor,
                      value=net_price(price, p["discount_type"], terms.discount).quantize(MONEY_SCALE))
    check(suggestion, terms, day=today())
    edited = terms != proposed
    plan = PromotionPlan(
        seller_id=suggestion.seller_id, suggestion_id=suggestion.id, marketplace_id=suggestion.marketplace,
        type=p["type"], asins=[suggestion.entity_ref], skus=_skus(suggestion.seller_id, suggestion.entity_ref),
        discount_type=p["discount_type"], discount_amount=terms.discount, start_date=terms.start, end_date=terms.end,
        budget=terms.budget, currency_code=p.get("currency") or "", state=PlanState.PLANNED,
        predicted=_predicted(p, edited), created_by=actor.email if actor else lifecycle.SYSTEM)
    db.session.add(plan)
    db.session.flush()
    audit.record("promotion_plan.created", actor=actor, target_type="promotion_plan", target_id=plan.id,
                 seller_id=plan.seller_id, suggestion=suggestion.id, type=plan.type, asins=plan.asins,
                 discount=str(plan.discount_amount), start=plan.start_date.isoformat(),
                 end=plan.end_date.isoformat(), budget=None if plan.budget is None else str(plan.budget),
                 edited=edited)
    return plan


_PREDICTED = ("baseline_units", "expected_lift", "break_even_lift", "expected_units", "units_lo", "units_hi",
              "expected_profit", "profit_lo", "profit_hi", "fee", "margin_before", "margin_after", "cover_days",
              "elasticity", "price", "net_price")


def _predicted(payload: dict, edited: bool) -> dict:
    """The engine's expectation for the proposal; an edited plan says the figures are for the proposal."""
    out = {k: payload.get(k) for k in _PREDICTED}
    if edited:
        out["note"] = "Predicted for the suggested terms; the plan's terms were edited before approval."
    return out


def _skus(seller_id: int, asin: str) -> list[str]:
    """The seller's advertised SKUs of the ASIN (what Seller Central's product search also finds)."""
    return sorted(set(db.session.scalars(select(SpProductAd.sku).distinct().where(
        SpProductAd.seller_id == seller_id, SpProductAd.asin == asin, SpProductAd.sku.is_not(None)))))


def reject(suggestion: Suggestion, *, actor: User | None) -> bool:
    if suggestion.kind != Kind.PROMOTION:
        raise PlanError(f"Suggestion #{suggestion.id} is not a promotion suggestion.")
    return lifecycle.reject(suggestion, actor=actor)


def for_seller(seller_id: int, plan_id: int) -> PromotionPlan | None:
    """The seller's plan `plan_id` (another seller's is None, never revealed)."""
    return db.session.scalar(select(PromotionPlan).where(PromotionPlan.seller_id == seller_id,
                                                         PromotionPlan.id == plan_id))


def mark_entered(plan: PromotionPlan, *, actor: User | None, amazon_id: str | None = None) -> None:
    """A person entered the plan in Seller Central: its suggestion becomes applied."""
    if plan.state != PlanState.PLANNED:
        if plan.entered_at is not None:
            raise PlanError(f"Plan #{plan.id} was already marked entered by {plan.entered_by or 'someone'} on "
                            f"{plan.entered_at.date().isoformat()}; nothing changed.")
        raise PlanError(f"Plan #{plan.id} is {plan.state}; only a planned promotion can be marked entered.")
    amazon_id = (amazon_id or "").strip() or None
    if amazon_id is not None:
        if len(amazon_id) > 64 or not amazon_id.replace("-", "").replace("_", "").isalnum():
            raise PlanError("Amazon's id is letters, digits, '-' and '_' only (at most 64); check what you copied.")
        other = db.session.scalar(select(PromotionPlan.id).where(
            PromotionPlan.seller_id == plan.seller_id, PromotionPlan.amazon_id == amazon_id,
            PromotionPlan.id != plan.id))
        if other is not None:
            raise PlanError(f"Amazon id {amazon_id} is already on plan #{other}.")
    plan.state, plan.amazon_id = PlanState.ENTERED, amazon_id
    plan.entered_at, plan.entered_by = now(), actor.email if actor else lifecycle.SYSTEM
    suggestion = db.session.get(Suggestion, plan.suggestion_id) if plan.suggestion_id else None
    if suggestion is not None and suggestion.status == lifecycle.APPROVED:
        lifecycle.move(suggestion, lifecycle.APPLIED)
        suggestion.applied_at, suggestion.changed_on = now(), today()
    audit.record("promotion_plan.entered", actor=actor, target_type="promotion_plan", target_id=plan.id,
                 seller_id=plan.seller_id, amazon_id=amazon_id)
    _advance(plan, today())


def cancel(plan: PromotionPlan, *, actor: User | None) -> None:
    if plan.state not in CANCELLABLE:
        raise PlanError(f"Plan #{plan.id} is {plan.state}; it can no longer be cancelled.")
    previous, plan.state = plan.state, PlanState.CANCELLED
    audit.record("promotion_plan.cancelled", actor=actor, target_type="promotion_plan", target_id=plan.id,
                 seller_id=plan.seller_id, was=previous)


def _advance(plan: PromotionPlan, day: dt.date) -> None:
    """Move one plan along by the date alone."""
    if plan.state == PlanState.PLANNED and day > plan.start_date:
        plan.state = PlanState.EXPIRED
        plan.notice = f"Not marked entered by its start ({plan.start_date.isoformat()})."
    if plan.state == PlanState.ENTERED and plan.start_date <= day <= plan.end_date:
        plan.state = PlanState.RUNNING
    if plan.state in (PlanState.ENTERED, PlanState.RUNNING) and day > plan.end_date:
        plan.state = PlanState.FINISHED


def match(plan: PromotionPlan) -> Promotion | None:
    """The reported promotion that is this plan: by Amazon id, else the same type and ASINs starting within
    `MATCH_DAYS` of the plan (a promotion another plan already claimed is not taken twice)."""
    taken = select(PromotionPlan.promotion_id).where(PromotionPlan.promotion_id.is_not(None),
                                                    PromotionPlan.id != plan.id)
    candidates = list(db.session.scalars(select(Promotion).where(
        Promotion.seller_id == plan.seller_id, Promotion.marketplace_id == plan.marketplace_id,
        Promotion.id.not_in(taken))))
    if plan.amazon_id:
        for promotion in candidates:
            if promotion.amazon_id == plan.amazon_id:
                return promotion
    for promotion in candidates:
        if (promotion.type == plan.type and sorted(a.asin for a in promotion.asins) == sorted(plan.asins)
                and abs((promotion.starts_at.date() - plan.start_date).days) <= MATCH_DAYS):
            return promotion
    return None


def follow(seller_id: int, day: dt.date | None = None) -> dict[str, int]:
    """Advance the seller's open plans by date, match them to the reports, measure those that ended; how many
    plans were matched and measured (the caller commits)."""
    day = day or today()
    counts = {"matched": 0, "measured": 0}
    for plan in db.session.scalars(select(PromotionPlan).where(
            PromotionPlan.seller_id == seller_id, PromotionPlan.state.in_(OPEN)).order_by(PromotionPlan.id)):
        _advance(plan, day)
        if plan.state in (PlanState.ENTERED, PlanState.RUNNING, PlanState.FINISHED) and plan.promotion_id is None:
            found = match(plan)
            if found is not None:
                plan.promotion, plan.amazon_id = found, plan.amazon_id or found.amazon_id
                counts["matched"] += 1
        if plan.state == PlanState.FINISHED:
            _measure(plan, day)
            counts["measured"] += 1
    return counts


def _measure(plan: PromotionPlan, day: dt.date) -> None:
    plan.actual = measuring.measure_plan(plan, day)
    plan.measured_from = "report" if plan.promotion is not None else "sales_traffic"
    plan.notice = None if plan.promotion is not None else (
        "Not found in Amazon's coupon or promotion reports: measured from Sales & Traffic over the plan's own dates.")
    end = plan.promotion.ends_at.date() + dt.timedelta(days=measuring.POST_DAYS) if plan.promotion is not None \
        else plan.end_date + dt.timedelta(days=measuring.POST_DAYS)
    # Final only once the by-ASIN history (its own job chain, after the sync) holds the 28 days after it.
    stored = history.last_day(plan.seller_id, plan.marketplace_id, list(plan.asins))
    if day > end and stored is not None and stored >= end:
        plan.state = PlanState.MEASURED
    elif day > end + dt.timedelta(days=HISTORY_GRACE_DAYS):
        plan.state = PlanState.MEASURED
        through = f"stops at {stored.isoformat()}" if stored is not None else "holds none of its days"
        plan.notice = " ".join(filter(None, (
            plan.notice, f"Amazon's sales history {through}, not {end.isoformat()}: measured on what there is "
                         "(does the Sales & Traffic role still work for this seller?).")))


def after_sync(seller_id: int, sync_run_id: int | None) -> dict[str, int]:
    """Run after each sync that stored data and after each history chain that stored days
    (`marketing.sync.outcome.AFTER_SYNC`, `AFTER_HISTORY`)."""
    counts = follow(seller_id)
    db.session.commit()
    return counts


def seller_central_url(plan: PromotionPlan) -> str:
    """Seller Central's page that creates this plan's coupon or deal, prefilled with its values (the sandbox's
    page wherever `AMAZON_BASE_URL` points the product at the sandbox)."""
    discount = f"{amount_text(plan.discount_amount)}"
    if plan.type == PromotionType.COUPON:
        query = {"asin": ",".join(plan.asins), "discount_type": plan.discount_type, "discount": discount,
                 "start": plan.start_date.isoformat(), "end": plan.end_date.isoformat()}
        if plan.budget is not None:
            query["budget"] = f"{amount_text(plan.budget)}"
        path = CREATE_PATH[PromotionType.COUPON]
    else:
        query = {"type": plan.type, "asin": ",".join(plan.asins), "discount": discount,
                 "start": plan.start_date.isoformat(), "end": plan.end_date.isoformat()}
        path = DEAL_CREATE_PATH
    hosts = Hosts(current_app.config.get("AMAZON_BASE_URL"))
    return f"{hosts.seller_central(plan.marketplace_id, path)}?{urlencode(query)}"


def amount_text(value: Decimal) -> str:
    """An amount or percentage as people type it: 20, 12.5, 0.25 (never 2E+1)."""
    return format(value.normalize(), "f")


def discount_text(plan: PromotionPlan) -> str:
    if plan.discount_type == DiscountType.AMOUNT:
        return f"{amount_text(plan.discount_amount)} {plan.currency_code} off"
    return f"{amount_text(plan.discount_amount)}% off"


def steps(plan: PromotionPlan) -> list[tuple[str, str]]:
    """What a person does in Seller Central, step by step, with the exact values to type."""
    label = TYPE_LABELS[plan.type]
    products = ", ".join(plan.asins) + (f" (SKU {', '.join(plan.skus)})" if plan.skus else "")
    if plan.type == PromotionType.COUPON:
        rows = [("Open", "Seller Central → Advertising → Coupons → Create a new coupon"),
                ("Add products", products),
                ("Discount", ("Percentage off: " if plan.discount_type != DiscountType.AMOUNT else "Money off: ")
                 + discount_text(plan).removesuffix(" off")),
                ("Budget", f"{amount_text(plan.budget)} {plan.currency_code}" if plan.budget is not None else "—")]
    else:
        rows = [("Open", "Seller Central → Advertising → Deals → Create a new deal"),
                ("Deal type", label), ("Add products", products), ("Discount per unit", discount_text(plan))]
    rows += [("Start date", plan.start_date.isoformat()), ("End date", plan.end_date.isoformat()),
             ("Submit", f"Submit the {label.lower()}, then mark this plan entered here with the id Amazon shows.")]
    return [(f"{n}. {name}", value) for n, (name, value) in enumerate(rows, 1)]
