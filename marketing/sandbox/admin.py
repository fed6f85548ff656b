"""The sandbox's own admin API, under `/_sandbox/` (not an Amazon path).

Every call needs the header `X-Sandbox-Key: <admin key>` (printed at start-up); JSON in and out.

* `GET /_sandbox/clock` → `{"today", "origin"}`: the market day in progress, the first simulated day.
* `POST /_sandbox/clock` with `{"days": N}` or `{"date": "YYYY-MM-DD"}`: move the market forward
  (never back). Recent days' attributed sales grow as it moves — that is how restatement happens.
* `GET /_sandbox/faults`: the active faults.
* `POST /_sandbox/faults` with `{"kind", "rate", "path_prefix", "status", "retry_after", "seconds",
  "count", "field", "method", "hours", "hold_hours", "report_type"}`: add a fault (kinds: see `faults.py`).
  `DELETE /_sandbox/faults` clears them all.
* `GET /_sandbox/rate-limits` → `{"enabled", "ads_rate", "ads_burst", "sp", "throttled", "time_scale"}`: Amazon's
  token buckets, the 429s answered so far and how fast Amazon's clock runs. `PUT` with `{"enabled",
  "ads_rate", "ads_burst"}` switches them on or off (buckets start full).
* `POST /_sandbox/tokens/revoke` with `{"refresh_token"}`: that token now gets `invalid_grant`.
* `POST /_sandbox/tokens/unrevoke` with `{"refresh_token"}`: a revoked token works again, as after a
  spurious `invalid_grant` from Amazon.
* `POST /_sandbox/apps/<ads|sp>/rotate-secret`: a new client secret (returned); the old one gets
  `invalid_client`.
* `PUT /_sandbox/apps/<ads|sp>/redirect-uris` with `{"redirect_uris": [...]}`: replace that app's
  Allowed Return URLs — for a product whose address is known only once it runs (an ephemeral port).
* `GET /_sandbox/accounts`: apps (with their return URLs), sellers, their refresh tokens and profiles.
* `GET /_sandbox/market` → `{"name", "summary", "markets", "promo_shape", "promo_shapes"}`: this run's market
  shape (`shapes.py`) and promotion shape (`retail.PROMO_SHAPES`), which the product never sees, and the
  shapes there are.
* `GET /_sandbox/oracle?profileId=&targetAcos=&objective=profit|growth`: the best bid per target id under
  the ACoS cap for that objective (default profit), with expected daily totals for those bids and for
  today's bids (definitions in `oracle.py`).
* `POST /_sandbox/oracle/evaluate` with `{"profileId", "bids": {targetId: bid}}`: expected daily totals
  of a bid vector; target ids left out keep today's bids.
* `POST /_sandbox/promotions` with `{"seller", "marketplace_id", "type", "asins", "discount_type",
  "discount_amount", "start", "end", "budget"}`: enter a coupon or deal as a person would in Seller Central
  (rules in `promotions.py`) → 201 with the promotion (its Amazon id is `id`); 400 with a clear message.
  `GET /_sandbox/promotions?seller=&marketplace_id=` → `{"promotions": [...]}`: those entered.
* `GET /_sandbox/catalog?seller=&marketplace_id=` → `{"marketplace_id", "currency", "products": [{"asin", "price",
  "unit_cost", "referral_fee_pct", "fba_fee"}], "fees": {type: {"fixed", "per_day", "per_redemption",
  "variable_pct", "variable_cap"}}}`: what the seller knows of its own products in that marketplace (its first by
  default) — what a person types on the products page (the demo enters it so) — and what Amazon charges there for
  a coupon or deal (`promo_oracle.default_fees`, in the marketplace's currency; `variable_pct` a fraction).
* `GET /_sandbox/inventory?seller=&marketplace_id=&days=N` → `{"marketplace_id", "days": [{"date",
  "inventorySummaries": [...]}]}`: the FBA inventory summaries (with details, as `getInventorySummaries` lists them)
  of each of the N days (1–400) before today, oldest first: what a product syncing nightly would have stored (the
  demo records them so; Amazon keeps no such history).
* `GET /_sandbox/promotions/<id>/truth?seller=&post_days=&fees=&unit_costs=`: the promotion's true
  incremental units, revenue and profit (`promo_oracle.true_incremental`); `fees` and `unit_costs` are JSON
  (`{"COUPON": {"fixed": 5, "variable_pct": 0.025, …}}`, `{"<asin>": cost}`).
* `GET /_sandbox/promotions/oracle?seller=&marketplace_id=&asin=&start=&end=&unit_cost=&types=&depths=&fees=
  &post_days=`: the most profitable promotion for the ASIN in the window (`promo_oracle.best_promotion`;
  `types` comma-separated, `depths` comma-separated percents).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict
from datetime import date

import numpy as np
from flask import Blueprint, Response, jsonify, request

from . import oracle, promo_oracle, promotions
from .catalog import REFERRAL
from .retail import PROMO_SHAPES
from .shapes import SHAPES
from .spapi import inventory_summaries
from .state import current

blueprint = Blueprint("admin", __name__, url_prefix="/_sandbox")


def _fail(status: int, message: str) -> Response:
    resp = jsonify({"error": message})
    resp.status_code = status
    return resp


@blueprint.before_request
def _require_key():
    if not hmac.compare_digest(request.headers.get("X-Sandbox-Key", ""), current().admin_key):
        return _fail(401, "missing or wrong X-Sandbox-Key")
    return None


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@blueprint.get("/clock")
def clock():
    m = current().market
    return jsonify({"today": m.today.isoformat(), "origin": m.origin.isoformat()})


@blueprint.post("/clock")
def move_clock():
    sb = current()
    m = sb.market
    body = _body()
    try:
        with sb.lock:  # a promotion being entered checks its start against today under the same lock
            if "date" in body:
                m.set_today(date.fromisoformat(str(body["date"])))
            else:
                m.advance(int(body.get("days", 1)))
    except (TypeError, ValueError) as exc:
        return _fail(400, str(exc))
    return jsonify({"today": m.today.isoformat(), "origin": m.origin.isoformat()})


@blueprint.get("/faults")
def faults():
    return jsonify(current().faults.list())


@blueprint.post("/faults")
def add_fault():
    try:
        fault = current().faults.add(_body())
    except (TypeError, ValueError) as exc:
        return _fail(400, str(exc))
    return jsonify(fault.__dict__), 201


@blueprint.delete("/faults")
def clear_faults():
    current().faults.clear()
    return jsonify([])


@blueprint.get("/rate-limits")
def rate_limits():
    sb = current()
    return jsonify({**sb.faults.limits.view(), "throttled": sb.faults.throttled, "time_scale": sb.time_scale})


@blueprint.put("/rate-limits")
def set_rate_limits():
    try:
        current().faults.limits.configure(_body())
    except (TypeError, ValueError) as exc:
        return _fail(400, str(exc))
    return rate_limits()


@blueprint.post("/tokens/revoke")
def revoke():
    if not current().tokens.revoke(str(_body().get("refresh_token", ""))):
        return _fail(404, "unknown or already revoked refresh token")
    return jsonify({"revoked": True})


@blueprint.post("/tokens/unrevoke")
def unrevoke():
    tokens = current().tokens
    token = str(_body().get("refresh_token", ""))
    with tokens._lock:  # a revoked token no longer parses, so find its grant among the revoked ones
        grants = {grant for grant in tokens._revoked if tokens.refresh_token(grant) == token}
        tokens._revoked -= grants
    if not grants:
        return _fail(404, "not a revoked refresh token")
    return jsonify({"revoked": False})


@blueprint.post("/apps/<kind>/rotate-secret")
def rotate(kind: str):
    try:
        app = current().accounts.rotate_secret(kind)
    except KeyError:
        return _fail(404, "app must be 'ads' or 'sp'")
    return jsonify({"client_id": app.client_id, "client_secret": app.client_secret})


@blueprint.put("/apps/<kind>/redirect-uris")
def set_redirect_uris(kind: str):
    uris = _body().get("redirect_uris")
    if not isinstance(uris, list):
        return _fail(400, "redirect_uris must be a list of URLs")
    try:
        app = current().accounts.set_redirect_uris(kind, uris)
    except KeyError:
        return _fail(404, "app must be 'ads' or 'sp'")
    except ValueError as exc:
        return _fail(400, str(exc))
    return jsonify({"redirect_uris": list(app.redirect_uris)})


def seller_view(sb, seller) -> dict:
    return {
        "name": seller.name,
        "region": seller.region,
        "selling_partner_id": seller.selling_partner_id,
        "ads_refresh_token": sb.tokens.refresh_token(sb.tokens.seed_grant("ads", seller.index)),
        "sp_refresh_token": sb.tokens.refresh_token(sb.tokens.seed_grant("sp", seller.index)),
        "marketplace_ids": [p.marketplace_id for p in seller.seller_marketplaces],
        "profiles": [p.to_api() for p in seller.profiles],
    }


@blueprint.get("/accounts")
def accounts():
    sb = current()
    a = sb.accounts
    return jsonify(
        {
            "ads": {
                "client_id": a.ads.client_id,
                "client_secret": a.ads.client_secret,
                "redirect_uris": list(a.ads.redirect_uris),
            },
            "sp": {
                "client_id": a.sp.client_id,
                "client_secret": a.sp.client_secret,
                "app_id": a.sp.app_id,
                "redirect_uris": list(a.sp.redirect_uris),
            },
            "sellers": [seller_view(sb, s) for s in a.sellers],
        }
    )


def _book(raw: object):
    sb = current()
    pid = int(raw) if str(raw).isdigit() else None
    profile = sb.accounts.profiles.get(pid) if pid is not None else None
    if profile is None or not profile.serves_sponsored_products:
        return None
    return sb.market.book(profile.profile_id)


@blueprint.get("/market")
def market():
    m = current().market
    shapes = {s.name: s.summary for s in SHAPES.values()}
    return jsonify(
        {
            "name": m.shape.name,
            "summary": m.shape.summary,
            "markets": shapes,
            "promo_shape": m.promo_shape,
            "promo_shapes": PROMO_SHAPES,
        }
    )


@blueprint.get("/oracle")
def best_bids():
    book = _book(request.args.get("profileId"))
    if book is None:
        return _fail(404, "unknown Sponsored Products profileId")
    try:
        target = float(request.args.get("targetAcos", "0.3"))
    except ValueError:
        return _fail(400, "targetAcos must be a number")
    if not 0 < target <= 10:
        return _fail(400, "targetAcos must be in (0, 10]")
    objective = request.args.get("objective", "profit")
    if objective not in oracle.OBJECTIVES:
        return _fail(400, f"objective must be one of {', '.join(oracle.OBJECTIVES)}")
    bids = oracle.optimal_bids(book, target, objective)
    today = book.market.today_ordinal
    return jsonify(
        {
            "profileId": book.profile.profile_id,
            "market": book.shape.name,
            "targetAcos": target,
            "objective": objective,
            "definition": oracle.__doc__,
            "bids": {str(i): float(b) for i, b in zip(book.cat.t_id.tolist(), bids.tolist(), strict=True)},
            "expected": oracle.summary(book, bids),
            "current": oracle.summary(book, book.bids(today)),
        }
    )


@blueprint.post("/oracle/evaluate")
def evaluate():
    body = _body()
    book = _book(body.get("profileId"))
    if book is None:
        return _fail(404, "unknown Sponsored Products profileId")
    bids = book.bids(book.market.today_ordinal).copy()
    given = body.get("bids") or {}
    if not isinstance(given, dict):
        return _fail(400, "bids must map target ids to numbers")
    ids = np.array([int(k) for k in given if str(k).isdigit()], dtype=np.int64)
    pos = np.searchsorted(book.cat.t_id, ids)
    known = (pos < book.n) & (book.cat.t_id[np.minimum(pos, book.n - 1)] == ids)
    if not known.all():
        return _fail(400, "unknown target ids in bids")
    values = np.array([float(given[str(i)]) for i in ids.tolist()])
    bids[pos] = np.clip(values, book.min_bid, book.max_bid)
    return jsonify(
        {"profileId": book.profile.profile_id, "market": book.shape.name, "expected": oracle.summary(book, bids)}
    )


@blueprint.post("/promotions")
def enter_promotion():
    try:
        book, promo = promotions.enter(current(), _body(), "admin")
    except promotions.PromotionError as exc:
        return _fail(400, str(exc))
    return jsonify(promotions.view(book, promo)), 201


@blueprint.get("/catalog")
def catalog():
    sb = current()
    try:
        profile = promotions.marketplace_of(promotions.seller_of(sb, request.args.get("seller")),
                                            request.args.get("marketplace_id"))
    except promotions.PromotionError as exc:
        return _fail(400, str(exc))
    cat = sb.market.book(profile.profile_id).cat
    products = [{"asin": str(a), "price": float(p), "unit_cost": float(c), "referral_fee_pct": REFERRAL * 100,
                 "fba_fee": round(float(f - p * REFERRAL), 2)}
                for a, p, c, f in zip(cat.asin, cat.price, cat.unit_cost, cat.fees, strict=True)]
    fees = {kind: asdict(fee) for kind, fee in promo_oracle.default_fees(profile.fx).items()}
    return jsonify({"marketplace_id": profile.marketplace_id, "currency": profile.currency, "products": products,
                    "fees": fees})


@blueprint.get("/inventory")
def inventory_history():
    sb = current()
    raw = request.args.get("days", "")
    if not raw.isdigit() or not 1 <= int(raw) <= 400:
        return _fail(400, "days must be a whole number from 1 to 400")
    try:
        profile = promotions.marketplace_of(promotions.seller_of(sb, request.args.get("seller")),
                                            request.args.get("marketplace_id"))
    except promotions.PromotionError as exc:
        return _fail(400, str(exc))
    book = sb.market.book(profile.profile_id)
    first = max(sb.market.today_ordinal - int(raw), sb.market.origin_ordinal)
    days = [date.fromordinal(d) for d in range(first, sb.market.today_ordinal)]
    return jsonify({"marketplace_id": profile.marketplace_id,
                    "days": [{"date": day.isoformat(), "inventorySummaries": inventory_summaries(sb, book, day)}
                             for day in days]})


@blueprint.get("/promotions")
def list_promotions():
    try:
        items = promotions.entered(current(), request.args.get("seller"), request.args.get("marketplace_id"))
    except promotions.PromotionError as exc:
        return _fail(400, str(exc))
    return jsonify({"promotions": items})


def _json_arg(name: str) -> dict | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValueError(f"{name} must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    return value


def _post_days() -> int:
    raw = request.args.get("post_days", str(promo_oracle.DIP_DAYS))
    if not raw.isdigit() or int(raw) > 365:
        raise ValueError("post_days must be a whole number of days from 0 to 365")
    return int(raw)


@blueprint.get("/promotions/<ident>/truth")
def promotion_truth(ident: str):
    sb = current()
    try:
        book, promo = promotions.find(sb, request.args.get("seller"), ident)
    except promotions.PromotionError as exc:
        return _fail(404, str(exc))
    try:
        fees = promo_oracle.fees_from(_json_arg("fees"), book.profile.fx)
        costs = _json_arg("unit_costs")
        truth = promo_oracle.true_incremental(book, promo.ident, fees=fees, unit_costs=costs, post_days=_post_days())
    except (TypeError, ValueError) as exc:
        return _fail(400, str(exc))
    return jsonify(truth)


@blueprint.get("/promotions/oracle")
def promotion_oracle():
    sb = current()
    args = request.args
    try:
        book = promotions.book_of(sb, args.get("seller"), args.get("marketplace_id"))
        start = promotions.parse_day(args.get("start", ""), "start")
        end = promotions.parse_day(args.get("end", ""), "end")
        unit_cost = float(args["unit_cost"]) if args.get("unit_cost") else None
        types = [t for t in args.get("types", "").split(",") if t] or promo_oracle.TYPES
        depths = [float(x) / 100 for x in args.get("depths", "").split(",") if x] or promo_oracle.DEPTHS
        if not all(0 <= x <= 0.9 for x in depths):
            raise ValueError("depths are percents from 0 to 90")
        fees = promo_oracle.fees_from(_json_arg("fees"), book.profile.fx)
        best = promo_oracle.best_promotion(
            book, args.get("asin", ""), start, end, fees=fees, unit_cost=unit_cost, types=types, depths=depths,
            post_days=_post_days(),
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        return _fail(400, str(exc))
    return jsonify(best)
