"""Promotions a person enters, as in Seller Central: checked like Amazon's create pages, then run by the
shop (`retail.py`: demand, price paid, stock) and reported like the seller's own (`spdocs.py`).

Two doors share `enter`: the admin API (`POST /_sandbox/promotions`, for benchmarks) and the Seller Central
pages (`sellercentral.py`, where a plan's link lands). A promotion starts on the market's today or later
(days already lived never change), an ASIN runs one promotion at a time, and a coupon with a budget stops
once its discounts have spent it (`Retail.on`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

from .accounts import Profile, Seller, derive_int
from .market import Book
from .retail import Promotion
from .state import Sandbox

TYPES = ("COUPON", "LIGHTNING_DEAL", "BEST_DEAL")
DISCOUNT_TYPES = ("PERCENT_OFF_LIST_PRICE", "AMOUNT_OFF_LIST_PRICE")
CUTS = {"COUPON": (0.05, 0.50), "LIGHTNING_DEAL": (0.05, 0.80), "BEST_DEAL": (0.05, 0.80)}  # of the list price
MAX_DAYS = {"COUPON": 90, "LIGHTNING_DEAL": 1, "BEST_DEAL": 14}


class PromotionError(ValueError):
    """Bad input for a promotion: the message says what to fix."""


def seller_of(sb: Sandbox, raw: object) -> Seller:
    """A seller by index (as the other admin routes take it) or by selling partner id."""
    text = "" if raw is None else str(raw).strip()
    if text.isdigit() and int(text) < len(sb.accounts.sellers):
        return sb.accounts.sellers[int(text)]
    found = next((s for s in sb.accounts.sellers if s.selling_partner_id == text), None)
    if found is None:
        raise PromotionError(f"unknown seller {text!r}: give a seller index or selling partner id")
    return found


def marketplace_of(seller: Seller, marketplace_id: object) -> Profile:
    """The seller's marketplace (its first when none is given)."""
    if marketplace_id in (None, ""):
        return seller.seller_marketplaces[0]
    found = next((p for p in seller.seller_marketplaces if p.marketplace_id == marketplace_id), None)
    if found is None:
        raise PromotionError(f"marketplace {marketplace_id!r} is not one of seller {seller.index}'s marketplaces")
    return found


def book_of(sb: Sandbox, seller: object, marketplace_id: object = None) -> Book:
    return sb.market.book(marketplace_of(seller_of(sb, seller), marketplace_id).profile_id)


def seller_with_asin(sb: Sandbox, asin: str) -> Seller | None:
    """The seller whose catalog holds `asin` (a Seller Central page knows who is signed in; ours guesses)."""
    for seller in sb.accounts.sellers:
        if asin in sb.market.book(seller.seller_marketplaces[0].profile_id).cat.asin:
            return seller
    return None


def parse_day(raw: object, name: str) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise PromotionError(f"{name} must be a date YYYY-MM-DD, not {raw!r}") from None


def _number(raw: object, name: str) -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PromotionError(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value):
        raise PromotionError(f"{name} must be a finite number")
    return value


def _asins(raw: object) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    if not isinstance(raw, list) or not raw or not all(isinstance(a, str) and a.strip() for a in raw):
        raise PromotionError("asins must be a non-empty list of ASINs")
    return list(dict.fromkeys(a.strip().upper() for a in raw))


def enter(sb: Sandbox, body: Mapping, via: str) -> tuple[Book, Promotion]:
    """Check a promotion as Seller Central would and put it into the market; PromotionError says what is wrong.

    body: seller, marketplace_id, type, asins, discount_type, discount_amount (percent, or money off per
    unit), start, end (inclusive, YYYY-MM-DD), budget (coupons, money or null)."""
    book = book_of(sb, body.get("seller"), body.get("marketplace_id"))
    cat = book.cat
    kind = body.get("type")
    if kind not in TYPES:
        raise PromotionError(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
    asins = _asins(body.get("asins"))
    unknown = [a for a in asins if a not in cat.asin]
    if unknown:
        raise PromotionError(f"unknown ASIN {', '.join(unknown)} in marketplace {book.profile.marketplace_id}")
    products = tuple(cat.asin.index(a) for a in asins)
    discount_type = body.get("discount_type") or "PERCENT_OFF_LIST_PRICE"
    if discount_type not in DISCOUNT_TYPES:
        raise PromotionError(f"discount_type must be one of {', '.join(DISCOUNT_TYPES)}, not {discount_type!r}")
    amount = _number(body.get("discount_amount"), "discount_amount")
    if amount <= 0:
        raise PromotionError("discount_amount must be above zero")
    money = discount_type == "AMOUNT_OFF_LIST_PRICE"
    cuts = tuple(round(amount / float(cat.price[p]), 4) if money else round(amount / 100.0, 4) for p in products)
    lo, hi = CUTS[kind]
    for asin, cut in zip(asins, cuts, strict=True):
        if not lo - 1e-9 <= cut <= hi + 1e-9:
            label = "coupon" if kind == "COUPON" else "deal"
            raise PromotionError(
                f"a {label} discount must be {lo:.0%}–{hi:.0%} of the list price; {asin} would get {cut:.1%}"
            )
    start, end = parse_day(body.get("start"), "start"), parse_day(body.get("end"), "end")
    if end < start:
        raise PromotionError("end must not be before start")
    days = (end - start).days + 1
    if days > MAX_DAYS[kind]:
        raise PromotionError(f"a {kind} runs at most {MAX_DAYS[kind]} day(s); this one has {days}")
    budget = body.get("budget")
    if kind == "COUPON":
        budget = None if budget in (None, "") else _number(budget, "budget")
        if budget is not None and budget <= 0:
            raise PromotionError("budget must be above zero (or null for no limit)")
    elif budget not in (None, ""):
        raise PromotionError("budget is for coupons only; leave it null for deals")
    with sb.lock:
        today = book.market.today
        if start < today:
            raise PromotionError(f"start {start} is before the market's today {today}: promotions start today or later")
        for promo in book.retail.promotions:
            shared = set(promo.products) & set(products)
            if shared and promo.start <= end.toordinal() and start.toordinal() <= promo.end:
                raise PromotionError(
                    f"{cat.asin[min(shared)]} already has {promo.kind} {promo.ident} from "
                    f"{date.fromordinal(promo.start)} to {date.fromordinal(promo.end)}; promotions must not overlap"
                )
        count = sum(1 for p in book.retail.promotions if p.entered)
        ident = f"{derive_int(sb.seed, 'entered', book.profile.profile_id, count):x}"[:12]
        promo = Promotion(
            kind,
            products,
            start.toordinal(),
            end.toordinal(),
            cuts,
            ident,
            amount_off=amount if money else None,
            budget=budget if kind == "COUPON" else None,
            entered=via,
            created=today.toordinal(),
        )
        book.retail.add(promo)
    return book, promo


def view(book: Book, promo: Promotion) -> dict:
    """A promotion as the admin API shows it."""
    today = book.market.today_ordinal
    status = "upcoming" if today < promo.start else "running" if today <= promo.end else "ended"
    return {
        "id": promo.ident,
        "type": promo.kind,
        "seller": book.profile.seller_index,
        "marketplace_id": book.profile.marketplace_id,
        "asins": [book.cat.asin[p] for p in promo.products],
        "discount_type": "AMOUNT_OFF_LIST_PRICE" if promo.amount_off is not None else "PERCENT_OFF_LIST_PRICE",
        "discount_amount": promo.amount_off if promo.amount_off is not None else round(promo.cut[0] * 100, 2),
        "cut": list(promo.cut),
        "start": date.fromordinal(promo.start).isoformat(),
        "end": date.fromordinal(promo.end).isoformat(),
        "budget": promo.budget,
        "entered_via": promo.entered,
        "status": status,
    }


def entered(sb: Sandbox, seller: object, marketplace_id: object = None) -> list[dict]:
    """The promotions people entered for a seller (one marketplace, or all of its marketplaces)."""
    owner = seller_of(sb, seller)
    profiles = [marketplace_of(owner, marketplace_id)] if marketplace_id else owner.seller_marketplaces
    books = [sb.market.book(p.profile_id) for p in profiles]
    return [view(b, p) for b in books for p in b.retail.promotions if p.entered]


def find(sb: Sandbox, seller: object, ident: str) -> tuple[Book, Promotion]:
    """A promotion of the seller (entered or its own history) by id, in whichever marketplace it runs."""
    owner = seller_of(sb, seller)
    for profile in owner.seller_marketplaces:
        book = sb.market.book(profile.profile_id)
        for promo in book.retail.promotions:
            if promo.ident == ident:
                return book, promo
    raise PromotionError(f"seller {owner.index} has no promotion {ident!r}")
