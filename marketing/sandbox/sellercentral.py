"""Seller Central's create pages for coupons and deals, where a plan's link lands (on the sandbox's own host,
like its consent pages): `/coupons/create` and `/merchandising/deals/create`.

GET renders a small form prefilled from the query (coupons: asin, discount_type, discount, start, end, budget;
deals: type, asin, discount, start, end; both: seller, marketplace_id — by default the seller whose catalog
holds the ASIN and its first marketplace). POST enters the promotion exactly as the admin API does
(`promotions.enter`) and shows its id in `#promotion-id`; bad input re-renders the form with the values typed
and the reason in `#error` (status 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from flask import Blueprint, Response, request

from . import promotions
from .state import Sandbox, current

blueprint = Blueprint("sellercentral", __name__)
DEAL_TYPES = ("LIGHTNING_DEAL", "BEST_DEAL")


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)} - Seller Central</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status=status, mimetype="text/html")


def _select(name: str, options: list[tuple[str, str]], chosen: str) -> str:
    items = "".join(
        f"<option value='{escape(v)}'{' selected' if v == chosen else ''}>{escape(label)}</option>"
        for v, label in options
    )
    return f"<select name='{escape(name)}' id='{escape(name)}'>{items}</select>"


def _input(name: str, value: str, kind: str = "text") -> str:
    return f"<input type='{kind}' name='{escape(name)}' id='{escape(name)}' value='{escape(value)}'>"


def _defaults(sb: Sandbox, values: Mapping[str, str]) -> tuple[str, str]:
    """(seller index, marketplace id) to preselect: given, else the seller whose catalog holds the ASIN."""
    seller = values.get("seller", "")
    if not seller:
        asins = values.get("asin", "").replace(",", " ").split()
        owner = promotions.seller_with_asin(sb, asins[0].upper()) if asins else None
        seller = str(owner.index if owner else 0)
    return seller, values.get("marketplace_id", "")


def _form(sb: Sandbox, values: Mapping[str, str], deal: bool) -> str:
    seller, marketplace = _defaults(sb, values)
    sellers = [(str(s.index), f"{s.name} ({s.selling_partner_id})") for s in sb.accounts.sellers]
    markets = sorted({(p.marketplace_id, p.country) for s in sb.accounts.sellers for p in s.seller_marketplaces})
    market_options = [("", "the seller's first marketplace")] + [(m, f"{c} ({m})") for m, c in markets]
    rows = [
        f"<label>Signed in as {_select('seller', sellers, seller)}</label>",
        f"<label>Marketplace {_select('marketplace_id', market_options, marketplace)}</label>",
    ]
    if deal:
        types = [(t, t.replace("_", " ").title()) for t in DEAL_TYPES]
        rows.append(f"<label>Deal type {_select('type', types, values.get('type', 'BEST_DEAL'))}</label>")
    rows.append(f"<label>ASINs (comma-separated) {_input('asin', values.get('asin', ''))}</label>")
    if deal:
        rows.append(f"<label>Discount (% off the list price) {_input('discount', values.get('discount', ''))}</label>")
    else:
        kinds = [("PERCENT_OFF_LIST_PRICE", "Percent off"), ("AMOUNT_OFF_LIST_PRICE", "Money off")]
        chosen = values.get("discount_type", "PERCENT_OFF_LIST_PRICE")
        rows.append(f"<label>Discount {_select('discount_type', kinds, chosen)}</label>")
        rows.append(f"<label>Amount {_input('discount', values.get('discount', ''))}</label>")
    rows.append(f"<label>Start {_input('start', values.get('start', ''), 'date')}</label>")
    rows.append(f"<label>End {_input('end', values.get('end', ''), 'date')}</label>")
    if not deal:
        rows.append(f"<label>Budget {_input('budget', values.get('budget', ''))}</label>")
    fields = "".join(f"<p>{row}</p>" for row in rows)
    return f"<form method='post'>{fields}<button type='submit'>Submit</button></form>"


def _create(deal: bool) -> Response:
    sb = current()
    title = "Create a deal" if deal else "Create a coupon"
    values = {k: v.strip() for k, v in (request.form if request.method == "POST" else request.args).items()}
    if request.method == "GET":
        return _page(title, _form(sb, values, deal))
    seller, marketplace = _defaults(sb, values)
    body = {
        "seller": seller,
        "marketplace_id": marketplace,
        "type": values.get("type", "") if deal else "COUPON",
        "asins": values.get("asin", ""),
        "discount_type": "PERCENT_OFF_LIST_PRICE" if deal else values.get("discount_type", ""),
        "discount_amount": values.get("discount", ""),
        "start": values.get("start", ""),
        "end": values.get("end", ""),
        "budget": None if deal else values.get("budget") or None,
    }
    try:
        book, promo = promotions.enter(sb, body, "seller-central")
    except promotions.PromotionError as exc:
        return _page(title, f"<p id='error'>{escape(str(exc))}</p>{_form(sb, values, deal)}", 400)
    shown = promotions.view(book, promo)
    done = (
        f"<p>Your {escape(promo.kind.replace('_', ' ').lower())} is scheduled.</p>"
        f"<p>ID: <span id='promotion-id'>{escape(promo.ident)}</span></p>"
        f"<p>{escape(', '.join(shown['asins']))} in {escape(shown['marketplace_id'])}, "
        f"{escape(shown['start'])} to {escape(shown['end'])}</p>"
    )
    return _page("Deal submitted" if deal else "Coupon created", done, 201)


@blueprint.route("/coupons/create", methods=["GET", "POST"])
def create_coupon():
    return _create(deal=False)


@blueprint.route("/merchandising/deals/create", methods=["GET", "POST"])
def create_deal():
    return _create(deal=True)
