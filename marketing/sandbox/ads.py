"""Amazon Ads API: `GET /v2/profiles` and Sponsored Products v3 list/update calls.

List calls (`POST /sp/<entity>/list`) take Amazon's filters (id filters with `include`, `stateFilter`,
`matchTypeFilter`, `expressionTypeFilter`, `nameFilter`/`keywordTextFilter`) and page with
`maxResults` + an opaque `nextToken` sent back in the body. `PUT /sp/keywords` and `PUT /sp/targets`
answer 207 with per-item success/error lists; accepted bids and states are stored with today's market
date and drive the simulation from that day on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
from flask import Blueprint, Response, jsonify, request

from .adsauth import authenticate, error, media_type_ok
from .catalog import ARCHIVED, ENABLED, MATCH_TYPES, PAUSED, STATES
from .market import Book
from .state import current

blueprint = Blueprint("ads", __name__)
MAX_PAGE = 1000


@dataclass(frozen=True)
class Entity:
    name: str  # path segment and response key stem
    media: str
    key: str  # list response key
    id_field: str
    id_filter: str


ENTITIES = {
    "campaigns": Entity(
        "campaigns", "application/vnd.spCampaign.v3+json", "campaigns", "campaignId", "campaignIdFilter"
    ),
    "adGroups": Entity("adGroups", "application/vnd.spAdGroup.v3+json", "adGroups", "adGroupId", "adGroupIdFilter"),
    "keywords": Entity("keywords", "application/vnd.spKeyword.v3+json", "keywords", "keywordId", "keywordIdFilter"),
    "targets": Entity(
        "targets", "application/vnd.spTargetingClause.v3+json", "targetingClauses", "targetId", "targetIdFilter"
    ),
    "productAds": Entity("productAds", "application/vnd.spProductAd.v3+json", "productAds", "adId", "adIdFilter"),
}


class BadRequest(ValueError):
    pass


@blueprint.get("/v2/profiles")
def profiles():
    auth = authenticate("profiles", scoped=False)
    if isinstance(auth, Response):
        return auth
    grant, _ = auth
    seller = current().accounts.sellers[grant.seller]
    items = [p.to_api() for p in seller.profiles]
    type_filter = request.args.get("profileTypeFilter")
    if type_filter:
        wanted = {t.strip() for t in type_filter.split(",")}
        items = [p for p in items if p["accountInfo"]["type"] in wanted]
    return jsonify(items)


def _json_body(entity: Entity) -> dict | Response:
    if not media_type_ok(request.headers.get("Content-Type"), entity.media):
        return error("sp", 415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be {entity.media}")
    accept = request.headers.get("Accept")
    if accept and not any(
        media_type_ok(a, m) for a in accept.split(",") for m in (entity.media, "application/json", "*/*")
    ):
        return error("sp", 406, "NOT_ACCEPTABLE", f"Accept must be {entity.media}")
    raw = request.get_data()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return error("sp", 400, "INVALID_ARGUMENT", "Request body is not valid JSON")
    if not isinstance(body, dict):
        return error("sp", 400, "INVALID_ARGUMENT", "Request body must be a JSON object")
    return body


def _reply(entity: Entity, payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype=entity.media)


# ---- listing ------------------------------------------------------------------------------------


def _include(body: dict, name: str, limit: int) -> list | None:
    f = body.get(name)
    if f is None:
        return None
    if not isinstance(f, dict) or not isinstance(f.get("include"), list):
        raise BadRequest(f"{name}.include must be a list")
    if len(f["include"]) > limit:
        raise BadRequest(f"{name}.include accepts at most {limit} values")
    return f["include"]


def _id_mask(ids: np.ndarray, include: list | None) -> np.ndarray:
    if include is None:
        return np.ones(len(ids), dtype=bool)
    wanted = np.array([int(v) for v in include if isinstance(v, str) and v.isdigit()], dtype=np.int64)
    return np.isin(ids, wanted)


def _text_mask(texts: list[str], spec: dict | None, name: str) -> np.ndarray | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("include", []), list):
        raise BadRequest(f"{name} is malformed")
    terms = [str(t).lower() for t in spec.get("include", [])]
    exact = spec.get("queryTermMatchType", "BROAD_MATCH") == "EXACT_MATCH"
    lowered = [t.lower() for t in texts]
    if exact:
        return np.array([t in terms for t in lowered], dtype=bool)
    return np.array([any(q in t for q in terms) for t in lowered], dtype=bool)


def _select(book: Book, entity: Entity, body: dict) -> np.ndarray:
    """Indices of the entities matching the list filters, in id order."""
    c = book.cat
    today = book.market.today_ordinal
    if entity.name == "campaigns":
        ids, states, camp, group = c.c_id, book.campaign_states(today), np.arange(len(c.c_id)), None
    elif entity.name in ("adGroups", "productAds"):
        states = book.group_states(today) if entity.name == "adGroups" else book.ad_states(today)
        ids = c.g_id if entity.name == "adGroups" else c.ad_id
        camp, group = c.g_campaign, np.arange(len(c.g_id))
    else:
        ids, states, camp, group = c.t_id, book.target_states(today), c.t_campaign, c.t_group
    mask = _id_mask(ids, _include(body, entity.id_filter, MAX_PAGE))
    if entity.name != "campaigns":
        mask &= _id_mask(c.c_id[camp], _include(body, "campaignIdFilter", 100))
    if group is not None and entity.name != "adGroups":
        mask &= _id_mask(c.g_id[group], _include(body, "adGroupIdFilter", 100))
    elif entity.name == "adGroups":
        mask &= _id_mask(c.g_id, _include(body, "adGroupIdFilter", MAX_PAGE))
    state_include = _include(body, "stateFilter", 10)
    if state_include is not None:
        mask &= np.isin(np.array(STATES, dtype=object)[states], state_include)
    if entity.name in ("keywords", "targets"):
        mask &= c.t_kind == (0 if entity.name == "keywords" else 1)
    if entity.name == "keywords" and body.get("matchTypeFilter") is not None:
        wanted = [MATCH_TYPES.index(m) for m in body["matchTypeFilter"] if m in MATCH_TYPES]
        mask &= np.isin(c.t_match, wanted)
    if entity.name == "targets":
        expr_types = _include(body, "expressionTypeFilter", 2)
        if expr_types is not None:
            mask &= np.isin(np.where(c.t_match == -1, "AUTO", "MANUAL"), expr_types)
    if entity.name == "adGroups" and body.get("campaignTargetingTypeFilter"):
        mask &= np.where(c.c_auto[c.g_campaign], "AUTO", "MANUAL") == body["campaignTargetingTypeFilter"]
    names = {"campaigns": (c.c_name, "nameFilter"), "adGroups": (c.g_name, "nameFilter")}.get(entity.name)
    if entity.name == "keywords":
        names = (c.t_text, "keywordTextFilter")
    if names is not None:
        text = _text_mask(names[0], body.get(names[1]), names[1])
        if text is not None:
            mask &= text
    return np.flatnonzero(mask)


def _token(offset: int, body: dict) -> str:
    raw = json.dumps({"o": offset, "h": _fingerprint(body)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _fingerprint(body: dict) -> str:
    stable = {k: v for k, v in body.items() if k not in ("nextToken", "maxResults")}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:16]


def _offset(body: dict) -> int:
    token = body.get("nextToken")
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise BadRequest("Invalid nextToken") from None
    if data.get("h") != _fingerprint(body):
        raise BadRequest("nextToken does not match the request filters")
    return offset


def _list(entity_name: str):
    entity = ENTITIES[entity_name]
    auth = authenticate("sp")
    if isinstance(auth, Response):
        return auth
    _, profile = auth
    body = _json_body(entity)
    if isinstance(body, Response):
        return body
    book = current().market.book(profile.profile_id)
    try:
        size = body.get("maxResults", MAX_PAGE)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_PAGE:
            raise BadRequest(f"maxResults must be an integer between 1 and {MAX_PAGE}")
        offset = _offset(body)
        rows = _select(book, entity, body)
    except BadRequest as exc:
        return error("sp", 400, "INVALID_ARGUMENT", str(exc))
    page = rows[offset : offset + size]
    render = _RENDER[entity_name]
    payload: dict = {entity.key: render(book, page), "totalResults": len(rows)}
    if offset + size < len(rows):
        payload["nextToken"] = _token(offset + size, body)
    return _reply(entity, payload)


# ---- rendering ----------------------------------------------------------------------------------


def _day(ordinal: int) -> str:
    return date.fromordinal(int(ordinal)).isoformat()


def render_campaigns(book: Book, idx: np.ndarray) -> list[dict]:
    c = book.cat
    states = book.campaign_states(book.market.today_ordinal)
    out = []
    for i in idx.tolist():
        placements = [{"placement": "PLACEMENT_TOP", "percentage": int(c.c_top[i])}]
        if c.c_page[i]:
            placements.append({"placement": "PLACEMENT_PRODUCT_PAGE", "percentage": int(c.c_page[i])})
        budget = float(c.c_budget[i])
        out.append(
            {
                "campaignId": str(c.c_id[i]),
                "name": c.c_name[i],
                "state": STATES[states[i]],
                "targetingType": "AUTO" if c.c_auto[i] else "MANUAL",
                "startDate": _day(c.c_start[i]),
                "budget": {"budget": budget, "budgetType": "DAILY", "effectiveBudget": budget},
                "dynamicBidding": {
                    "strategy": ("LEGACY_FOR_SALES", "AUTO_FOR_SALES", "MANUAL")[c.c_strategy[i]],
                    "placementBidding": placements,
                },
            }
        )
    return out


def render_ad_groups(book: Book, idx: np.ndarray) -> list[dict]:
    c = book.cat
    states = book.group_states(book.market.today_ordinal)
    return [
        {
            "adGroupId": str(c.g_id[i]),
            "campaignId": str(c.c_id[c.g_campaign[i]]),
            "name": c.g_name[i],
            "state": STATES[states[i]],
            "defaultBid": float(c.g_bid[i]),
        }
        for i in idx.tolist()
    ]


def render_product_ads(book: Book, idx: np.ndarray) -> list[dict]:
    c = book.cat
    states = book.ad_states(book.market.today_ordinal)
    return [
        {
            "adId": str(c.ad_id[i]),
            "adGroupId": str(c.g_id[i]),
            "campaignId": str(c.c_id[c.g_campaign[i]]),
            "asin": c.asin[c.g_product[i]],
            "sku": c.sku[c.g_product[i]],
            "state": STATES[states[i]],
        }
        for i in idx.tolist()
    ]


def render_keywords(book: Book, idx: np.ndarray) -> list[dict]:
    c = book.cat
    today = book.market.today_ordinal
    states, bids = book.target_states(today), book.own_bids(today)
    out = []
    for i in idx.tolist():
        item = {
            "keywordId": str(c.t_id[i]),
            "adGroupId": str(c.g_id[c.t_group[i]]),
            "campaignId": str(c.c_id[c.t_campaign[i]]),
            "keywordText": c.t_text[i],
            "matchType": MATCH_TYPES[c.t_match[i]],
            "state": STATES[states[i]],
        }
        if not math.isnan(bids[i]):
            item["bid"] = float(bids[i])
        out.append(item)
    return out


def render_targets(book: Book, idx: np.ndarray) -> list[dict]:
    c = book.cat
    today = book.market.today_ordinal
    states, bids = book.target_states(today), book.own_bids(today)
    out = []
    for i in idx.tolist():
        ptype, value = c.t_expr[i]
        expression = [{"type": ptype} if value is None else {"type": ptype, "value": value}]
        item = {
            "targetId": str(c.t_id[i]),
            "adGroupId": str(c.g_id[c.t_group[i]]),
            "campaignId": str(c.c_id[c.t_campaign[i]]),
            "expression": expression,
            "resolvedExpression": expression,
            "expressionType": "AUTO" if c.t_match[i] == -1 else "MANUAL",
            "state": STATES[states[i]],
        }
        if not math.isnan(bids[i]):
            item["bid"] = float(bids[i])
        out.append(item)
    return out


_RENDER = {
    "campaigns": render_campaigns,
    "adGroups": render_ad_groups,
    "keywords": render_keywords,
    "targets": render_targets,
    "productAds": render_product_ads,
}

for _name in ENTITIES:
    blueprint.add_url_rule(f"/sp/{_name}/list", f"list_{_name}", lambda _name=_name: _list(_name), methods=["POST"])


# ---- updates ------------------------------------------------------------------------------------


def _update(entity_name: str, items_key: str, entity_type: str, item_key: str):
    """PUT /sp/keywords | /sp/targets: validate each item, apply the good ones, answer 207."""
    entity = ENTITIES[entity_name]
    auth = authenticate("sp")
    if isinstance(auth, Response):
        return auth
    _, profile = auth
    body = _json_body(entity)
    if isinstance(body, Response):
        return body
    items = body.get(items_key)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_PAGE:
        return error("sp", 400, "INVALID_ARGUMENT", f"{items_key} must be a list of 1 to {MAX_PAGE} items")
    for n, item in enumerate(items):
        problem = _malformed(item, entity.id_field)
        if problem:
            return error("sp", 400, "INVALID_ARGUMENT", f"$.{items_key}[{n}]: {problem}")
    book = current().market.book(profile.profile_id)
    c = book.cat
    kind = 0 if entity_name == "keywords" else 1
    today = book.market.today_ordinal
    states_now = book.target_states(today)
    lo, hi = profile.bid_range
    success, failures = [], []
    bid_idx, bid_val, state_idx, state_val = [], [], [], []
    for n, item in enumerate(items):
        ident = item[entity.id_field]
        pos = int(np.searchsorted(c.t_id, int(ident))) if ident.isdigit() else len(c.t_id)
        found = pos < len(c.t_id) and c.t_id[pos] == int(ident) and c.t_kind[pos] == kind
        errors = []
        where = f"$.{items_key}[{n}]"
        if not found:
            errors.append(
                _err(
                    "entityNotFoundError",
                    reason="ENTITY_NOT_FOUND",
                    message=f"{entity_type} {ident} not found",
                    entityType=entity_type,
                    entityId=ident,
                    cause={"location": f"{where}.{entity.id_field}", "trigger": ident},
                )
            )
        else:
            if states_now[pos] == ARCHIVED:
                errors.append(
                    _err(
                        "entityStateError",
                        reason="ARCHIVED_ENTITY_CANNOT_BE_MODIFIED",
                        message="Archived entities cannot be modified",
                        entityType=entity_type,
                        cause={"location": where},
                    )
                )
            bid = item.get("bid")
            if bid is not None and not lo <= bid <= hi:
                errors.append(
                    _err(
                        "biddingError",
                        reason="BID_OUT_OF_MARKET_PLACE_RANGE",
                        message=f"Bid must be between {lo:g} and {hi:g} for marketplace {profile.country}",
                        lowerLimit=f"{lo:g}",
                        upperLimit=f"{hi:g}",
                        marketplace=profile.country,
                        cause={"location": f"{where}.bid", "trigger": f"{bid:g}"},
                    )
                )
        if errors:
            failures.append({"index": n, "errors": errors})
            continue
        if item.get("bid") is not None:
            bid_idx.append(pos)
            bid_val.append(round(float(item["bid"]), 0 if profile.fx >= 100 else 2))
        elif "bid" in item:  # an explicit null (the spec's bid is nullable): inherit the ad group's default again
            bid_idx.append(pos)
            bid_val.append(float("nan"))
        if item.get("state") is not None:
            state_idx.append(pos)
            state_val.append(ENABLED if item["state"] == "ENABLED" else PAUSED)
        success.append((n, pos, ident))
    if bid_idx:
        book.set_bids(np.array(bid_idx), np.array(bid_val))
    if state_idx:
        book.set_states(np.array(state_idx), np.array(state_val, dtype=np.int8))
    represent = "return=representation" in request.headers.get("Prefer", "")
    render = _RENDER[entity_name]
    ok = []
    for n, pos, ident in success:
        entry = {"index": n, entity.id_field: ident}
        if represent:
            entry[item_key] = render(book, np.array([pos]))[0]
        ok.append(entry)
    resp = _reply(entity, {items_key: {"success": ok, "error": failures}}, 207)
    if represent:
        resp.headers["Preference-Applied"] = "return=representation"
    return resp


def _malformed(item: object, id_field: str) -> str:
    if not isinstance(item, dict):
        return "must be an object"
    if not isinstance(item.get(id_field), str):
        return f"{id_field} is required and must be a string"
    bid = item.get("bid")
    if bid is not None and (isinstance(bid, bool) or not isinstance(bid, int | float) or not math.isfinite(bid)):
        return "bid must be a number"
    if item.get("state") is not None and item["state"] not in ("ENABLED", "PAUSED", "PROPOSED"):
        return "state must be one of ENABLED, PAUSED, PROPOSED"
    return ""


def _err(selector: str, **value) -> dict:
    return {"errorType": selector, "errorValue": {selector: value}}


@blueprint.put("/sp/keywords")
def update_keywords():
    return _update("keywords", "keywords", "KEYWORD", "keyword")


@blueprint.put("/sp/targets")
def update_targets():
    return _update("targets", "targetingClauses", "TARGETING_CLAUSE", "targetingClause")
