"""Turns a validated reporting-v3 request into the JSON array Amazon would put in the report file.

Rows are built column-wise with numpy and laid side by side as fixed-width bytes, which keeps a 31-day
DAILY spTargeting report of the 100k-target profile (~800k rows) within seconds. Ids are JSON
integers, money is rounded to the currency, rates are percentages (CTR, ACoS) or ratios (ROAS),
and a row exists only where the entity had impressions (search terms: at least one click), as in
Amazon's files. Metrics reflect what is known on the market day the report was requested.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable
from datetime import date

import numpy as np

from .accounts import derive_int
from .catalog import MATCH_TYPES, STATES
from .market import Book

PLACEMENTS = ("Top of Search on-Amazon", "Detail Page on-Amazon", "Other on-Amazon")
STRATEGY_NAMES = ("legacyForSales", "autoForSales", "manual")
_ZERO_COLUMNS = {
    "addToList",
    "qualifiedBorrows",
    "royaltyQualifiedBorrows",
    "kindleEditionNormalizedPagesRead14d",
    "kindleEditionNormalizedPagesRoyalties14d",
}
_NULL_COLUMNS = {
    "portfolioId",
    "campaignRuleBasedBudgetAmount",
    "campaignApplicableBudgetRuleId",
    "campaignApplicableBudgetRuleName",
}
_ATTR = {  # column stem -> (key in Day.attributed, is money)
    "purchases": ("purchases", False),
    "purchasesSameSku": ("purchases_same", False),
    "unitsSoldClicks": ("units", False),
    "unitsSoldSameSku": ("units_same", False),
    "sales": ("sales", True),
    "attributedSalesSameSku": ("sales_same", True),
}


_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()


def _memo(book: Book, name: str, make: Callable[[], object]):
    """Per-book cache of derived, never-changing arrays (encoded names, search terms, ...)."""
    with _MEMO_LOCK:
        store = _MEMO.setdefault(book, {})
    if name not in store:
        store[name] = make()
    return store[name]


def _level(rtype: str, group_by: list[str]) -> str:
    """The row grain: spCampaigns groupBy values combine (ADS_API.md §4.3), so rows are per ad group
    when adGroup is asked for, else per campaign, and split by placement when campaignPlacement is."""
    if rtype == "spTargeting":
        return "target"
    if rtype == "spSearchTerm":
        return "term"
    if rtype == "spAdvertisedProduct":
        return "group"
    entity = "group" if "adGroup" in group_by else "campaign"
    return f"{entity}_placement" if "campaignPlacement" in group_by else entity


def _windows(columns: list[str]) -> set[int]:
    wins = set()
    for col in columns:
        for w in (1, 7, 14, 30):
            if col.endswith(f"{w}d") and not col.startswith("kindle"):
                wins.add(w)
    return wins


class _Split:
    """Splits each target's day three ways (search terms or placements) keeping every invariant:
    clicks <= impressions and orders <= clicks per part, and cost per click never above the bid."""

    def __init__(self, weights: np.ndarray, rng: np.random.Generator):
        self.weights = weights
        self.rng = rng

    def counts(self, total: np.ndarray, cap: np.ndarray | None = None) -> np.ndarray:
        w = self.weights
        out = np.zeros((len(total), 3), dtype=np.int64)
        rest = total.astype(np.int64)
        for k in range(2):
            share = np.where(w[:, k:].sum(1) > 0, w[:, k] / np.maximum(w[:, k:].sum(1), 1e-12), 0.0)
            draw = self.rng.binomial(rest, np.clip(share, 0.0, 1.0))
            if cap is not None:
                room_after = cap[:, k + 1 :].sum(1)
                draw = np.clip(draw, np.maximum(0, rest - room_after), np.minimum(cap[:, k], rest))
            out[:, k] = draw
            rest = rest - draw
        out[:, 2] = rest
        return out


def _per_target(book: Book, d: int, today: int, windows: set[int], split: str | None):
    """Metrics of day d keyed by target (or target*3 + part when split)."""
    c = book.cat
    day = book.day(d)
    n = book.n
    m: dict[str, np.ndarray] = {
        "impressions": day.impressions.astype(np.int64),
        "clicks": day.clicks.astype(np.int64),
        "cost": day.cost,
        "win_impr": day.win * day.impressions,
    }
    attributed = {w: day.attributed(d, today, w, n) for w in windows}
    if split is None:
        for w, a in attributed.items():
            for key, arr in a.items():
                m[f"{key}{w}"] = arr
        return m, n
    rng = np.random.default_rng(derive_int(book.market.seed, "split", split, book.profile.profile_id, d))
    if split == "term":
        weights = _memo(book, "term_weights", lambda: _term_weights(book))
    else:
        top = 0.25 * (1 + c.c_top[c.t_campaign] / 100.0)
        weights = np.stack([top, np.full(n, 0.45), np.full(n, 0.30)], axis=1)
    sp = _Split(weights, rng)
    impr = sp.counts(m["impressions"])
    clicks = sp.counts(m["clicks"], cap=impr)
    cpc = np.where(m["clicks"] > 0, m["cost"] / np.maximum(m["clicks"], 1), 0.0)
    q = 1.0 if book.profile.fx >= 100 else 100.0
    cost = np.floor(clicks * cpc[:, None] * q + 1e-9) / q
    # orders of a target go to parts in proportion to clicks: the first o1 events to part 0, ...
    orders = np.bincount(day.ev_target, minlength=n)
    per_part = sp.counts(orders, cap=clicks)
    starts = np.cumsum(orders) - orders
    rank = np.arange(len(day.ev_target)) - starts[day.ev_target]
    bound1 = per_part[day.ev_target, 0]
    bound2 = bound1 + per_part[day.ev_target, 1]
    part = np.where(rank < bound1, 0, np.where(rank < bound2, 1, 2))
    key_ev = day.ev_target.astype(np.int64) * 3 + part
    out = {
        "impressions": impr.ravel(),
        "clicks": clicks.ravel(),
        "cost": cost.ravel(),
        "win_impr": (impr * day.win[:, None]).ravel(),
    }
    for w in windows:
        visible = day.ev_lag < min(w, today - d)
        k, same = key_ev[visible], day.ev_same[visible]
        units, sales = day.ev_units[visible], day.ev_sales[visible]
        out[f"purchases{w}"] = np.bincount(k, minlength=3 * n)
        out[f"units{w}"] = np.bincount(k, weights=units, minlength=3 * n)
        out[f"sales{w}"] = np.bincount(k, weights=sales, minlength=3 * n)
        out[f"purchases_same{w}"] = np.bincount(k[same], minlength=3 * n)
        out[f"units_same{w}"] = np.bincount(k[same], weights=units[same], minlength=3 * n)
        out[f"sales_same{w}"] = np.bincount(k[same], weights=sales[same], minlength=3 * n)
    return out, 3 * n


def _term_weights(book: Book) -> np.ndarray:
    c = book.cat
    rng = np.random.default_rng(derive_int(book.market.seed, "term-weights", book.profile.profile_id))
    w = rng.dirichlet([6.0, 2.5, 1.5], size=book.n)
    single = (c.t_match == 2) | np.array([e[0] == "ASIN_CATEGORY_SAME_AS" for e in c.t_expr])
    w[single] = (1.0, 0.0, 0.0)
    return w


def search_terms(book: Book) -> list[str]:
    """Three candidate customer search terms per target (index t*3 + k)."""
    c = book.cat
    rng = np.random.default_rng(derive_int(book.market.seed, "terms", book.profile.profile_id))
    extra = ("for sale", "near me", "best", "cheap", "set", "reviews", "deal", "amazon", "large", "2 pack")
    asins = [f"b0{''.join(rng.choice(list('0123456789abcdefghijklmnopqrstuvwxyz'), 8))}" for _ in range(64)]
    out: list[str] = []
    for t in range(book.n):
        text = c.t_text[t]
        if c.t_kind[t] == 0:
            out += [text, f"{text} {extra[t % 10]}", f"{extra[(t + 3) % 10]} {text}"]
        elif c.t_expr[t][0] == "ASIN_SAME_AS":
            out += [c.t_expr[t][1].lower(), asins[t % 64], asins[(t + 7) % 64]]
        elif c.t_expr[t][0] in ("QUERY_HIGH_REL_MATCHES", "QUERY_BROAD_REL_MATCHES"):
            noun = c.category[c.t_product[t]]
            out += [noun, f"{noun} {extra[t % 10]}", f"{extra[(t + 5) % 10]} {noun}"]
        else:
            out += [asins[t % 64], asins[(t + 11) % 64], asins[(t + 23) % 64]]
    return out


_SMALL = np.array([str(i).encode() for i in range(100_000)], dtype="S5")
_FRAC = {d: np.array([f".{i:0{d}d}".encode() for i in range(10**d)]) for d in (2, 4)}


class _Encoder:
    """Column values as fixed-width JSON byte arrays (NUL-padded), so a row is a memcpy, not a format.

    Integers and money come from lookup tables where they can; the NUL padding is stripped from the
    finished chunk (JSON text never contains a raw NUL), leaving compact JSON.
    """

    def __init__(self, money_decimals: int):
        self.dec = money_decimals

    @staticmethod
    def ints(a: np.ndarray) -> list[np.ndarray]:
        a = np.asarray(a).astype(np.int64)
        if len(a) and a.min() >= 0 and a.max() < len(_SMALL):
            return [_SMALL[a]]
        return [a.astype("S20")]

    def _fixed(self, a: np.ndarray, decimals: int) -> list[np.ndarray]:
        if decimals == 0:
            return self.ints(np.rint(np.maximum(a, 0)))
        scaled = np.rint(np.maximum(np.asarray(a, dtype=np.float64), 0) * 10**decimals).astype(np.int64)
        whole, frac = np.divmod(scaled, 10**decimals)
        return [*self.ints(whole), _FRAC[decimals][frac]]

    def money(self, a: np.ndarray) -> list[np.ndarray]:
        return self._fixed(a, self.dec)

    def rate(self, num: np.ndarray, den: np.ndarray, scale: float, decimals: int = 4) -> list[np.ndarray]:
        ok = den > 0
        parts = self._fixed(np.where(ok, num * scale / np.where(ok, den, 1), 0.0), decimals)
        return [np.where(ok, parts[0], b"null"), *(np.where(ok, p, b"") for p in parts[1:])]

    @staticmethod
    def strings(book: Book, name: str, values: Callable[[], list[str]], idx: np.ndarray) -> list[np.ndarray]:
        table = _memo(book, "json:" + name, lambda: np.array([json.dumps(v).encode() for v in values()]))
        return [table[idx]]

    @staticmethod
    def const(value: object, n: int) -> list[np.ndarray]:
        return [np.full(n, json.dumps(value).encode())]


def _assemble(columns: list[str], values: list[list[np.ndarray]], n: int) -> bytes:
    """Rows `{...},` side by side as one uint8 matrix, then the padding NULs removed."""
    blocks: list[np.ndarray] = []
    for k, (col, parts) in enumerate(zip(columns, values, strict=True)):
        key = ("{" if k == 0 else ",").encode() + json.dumps(col).encode() + b":"
        blocks.append(np.broadcast_to(np.frombuffer(key, dtype=np.uint8), (n, len(key))))
        for part in parts:
            part = np.ascontiguousarray(part)
            width = part.dtype.itemsize
            blocks.append(part.view(np.uint8).reshape(n, width))
    blocks.append(np.broadcast_to(np.frombuffer(b"},", dtype=np.uint8), (n, 2)))
    return np.hstack(blocks).tobytes().replace(b"\x00", b"")[:-1]


def build(book: Book, req: dict, today: int, status_day: int) -> bytes:
    """The report file contents (uncompressed JSON array) for a validated request."""
    cfg = req["configuration"]
    columns: list[str] = cfg["columns"]
    level = _level(cfg["reportTypeId"], cfg["groupBy"])
    windows = _windows(columns)
    split = "placement" if level.endswith("_placement") else "term" if level == "term" else None
    start = max(date.fromisoformat(req["startDate"]).toordinal(), book.market.origin_ordinal)
    end = min(date.fromisoformat(req["endDate"]).toordinal(), today - 1)
    days = list(range(start, end + 1))
    daily = cfg["timeUnit"] == "DAILY"
    context = _Context(book, level, status_day, cfg.get("filters") or [])
    enc = _Encoder(0 if book.profile.fx >= 100 else 2)
    chunks: list[bytes] = []
    total: dict[str, np.ndarray] | None = None
    for d in days:
        metrics, size = _per_target(book, d, today, windows, split)
        agg = context.aggregate(metrics, size)
        if daily:
            chunks.append(_rows(columns, context, agg, enc, date.fromordinal(d).isoformat(), None))
        else:
            total = agg if total is None else {k: total[k] + v for k, v in agg.items()}
    if not daily and total is not None:
        period = (req["startDate"], req["endDate"])
        chunks.append(_rows(columns, context, total, enc, None, period))
    return b"[" + b",".join(c for c in chunks if c) + b"]"


class _Context:
    """Maps metric keys to report rows for one level, and knows each row's entity attributes."""

    def __init__(self, book: Book, level: str, status_day: int, filters: list[dict]):
        self.book = book
        self.level = level
        c = book.cat
        self.states = {
            "campaign": book.campaign_states(status_day),
            "group": book.group_states(status_day),
            "ad": book.ad_states(status_day),
            "target": book.target_states(status_day),
        }
        self.bids = book.bids(status_day)
        n = book.n
        if level in ("target", "term"):
            self.key_of_target = None
            self.size = n if level == "target" else 3 * n
        elif level == "group":
            self.key_of_target = c.t_group
            self.size = len(c.g_id)
        elif level == "campaign":
            self.key_of_target = c.t_campaign
            self.size = len(c.c_id)
        else:  # entity x placement; split metrics are keyed target*3 + placement
            entity = c.t_group if level == "group_placement" else c.t_campaign
            self.key_of_target = (np.repeat(entity, 3) * 3 + np.tile(np.arange(3), n)).astype(np.int64)
            self.size = 3 * (len(c.g_id) if level == "group_placement" else len(c.c_id))
        self.keep = self._filter(filters)

    def aggregate(self, metrics: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
        if self.key_of_target is None:
            return metrics
        return {k: np.bincount(self.key_of_target, weights=v, minlength=self.size) for k, v in metrics.items()}

    def indices(self, key: np.ndarray) -> dict[str, np.ndarray]:
        c = self.book.cat
        if self.level == "target":
            t = key
        elif self.level == "term":
            t = key // 3
        if self.level in ("target", "term"):
            g = c.t_group[t]
            return {"t": t, "g": g, "c": c.g_campaign[g], "part": key % 3}
        if self.level == "group":
            return {"g": key, "c": c.g_campaign[key]}
        if self.level == "campaign":
            return {"c": key}
        if self.level == "group_placement":
            g = key // 3
            return {"g": g, "c": c.g_campaign[g], "part": key % 3}
        return {"c": key // 3, "part": key % 3}

    def _filter(self, filters: list[dict]) -> np.ndarray | None:
        if not filters:
            return None
        keys = np.arange(self.size)
        ix = self.indices(keys)
        keep = np.ones(self.size, dtype=bool)
        for f in filters:
            field, values = f["field"], set(f["values"])
            if field == "campaignSite":
                keep[:] = False  # Amazon Business placements are not simulated
                continue
            if field == "keywordType":
                labels = _memo(self.book, "keyword_types", lambda: np.array(_keyword_types(self.book), dtype=object))[
                    ix["t"]
                ]
            else:
                entity = {"campaignStatus": "campaign", "adStatus": "group", "adCreativeStatus": "group"}.get(
                    field, "target"
                )
                states = self.states["ad" if field == "adCreativeStatus" else entity]
                idx = ix["t"] if entity == "target" else ix["g"] if entity == "group" else ix["c"]
                labels = np.array(STATES, dtype=object)[states[idx]]
            keep &= np.isin(labels, list(values))
        return keep


def _keyword_types(book: Book) -> list[str]:
    c = book.cat
    return [
        MATCH_TYPES[m] if m >= 0 else ("TARGETING_EXPRESSION_PREDEFINED" if m == -1 else "TARGETING_EXPRESSION")
        for m in c.t_match.tolist()
    ]


def _rows(columns, ctx: _Context, agg, enc: _Encoder, day: str | None, period) -> bytes:
    shown = agg["clicks"] > 0 if ctx.level == "term" else agg["impressions"] > 0
    if ctx.keep is not None:
        shown &= ctx.keep
    key = np.flatnonzero(shown)
    n = len(key)
    if not n:
        return b""
    ix = ctx.indices(key)
    a = {k: v[key] for k, v in agg.items()}
    return _assemble(columns, [_column(col, ctx, ix, a, enc, n, day, period) for col in columns], n)


def _column(col, ctx: _Context, ix, a, enc: _Encoder, n, day, period) -> list[np.ndarray]:
    book, c = ctx.book, ctx.book.cat
    if col in ("impressions", "clicks"):
        return enc.ints(a[col])
    if col in ("cost", "spend"):
        return enc.money(a["cost"])
    if col == "costPerClick":
        return enc.rate(a["cost"], a["clicks"], 1.0, 2 if enc.dec else 0)
    if col == "clickThroughRate":
        return enc.rate(a["clicks"], a["impressions"], 100.0)
    if col == "topOfSearchImpressionShare":
        return enc.rate(a["win_impr"], a["impressions"], 60.0, 2)
    for stem, (key, money) in _ATTR.items():
        for w in (1, 7, 14, 30):
            if col == f"{stem}{w}d":
                return enc.money(a[f"{key}{w}"]) if money else enc.ints(a[f"{key}{w}"])
    if col == "salesOtherSku7d":
        return enc.money(a["sales7"] - a["sales_same7"])
    if col == "unitsSoldOtherSku7d":
        return enc.ints(a["units7"] - a["units_same7"])
    if col.startswith("acosClicks"):
        w = col[len("acosClicks") : -1]
        return enc.rate(a["cost"], a[f"sales{w}"], 100.0, 2)
    if col.startswith("roasClicks"):
        w = col[len("roasClicks") : -1]
        return enc.rate(a[f"sales{w}"], a["cost"], 1.0, 2)
    if col in _ZERO_COLUMNS:
        return enc.const(0, n)
    if col in _NULL_COLUMNS:
        return enc.const(None, n)
    if col == "date":
        return enc.const(day, n)
    if col in ("startDate", "endDate"):
        return enc.const(period[0] if col == "startDate" else period[1], n)
    ci = ix["c"]
    if col == "campaignId":
        return enc.ints(c.c_id[ci])
    if col == "campaignName":
        return enc.strings(book, "c_name", lambda: c.c_name, ci)
    if col == "campaignStatus":
        return enc.strings(book, "states", lambda: list(STATES), ctx.states["campaign"][ci])
    if col == "campaignBudgetAmount":
        return enc.money(c.c_budget[ci])
    if col == "campaignBudgetType":
        return enc.const("DAILY", n)
    if col == "campaignBudgetCurrencyCode":
        return enc.const(book.profile.currency, n)
    if col == "campaignBiddingStrategy":
        return enc.strings(book, "strategies", lambda: list(STRATEGY_NAMES), c.c_strategy[ci])
    if col == "placementClassification":
        return enc.strings(book, "placements", lambda: list(PLACEMENTS), ix["part"])
    gi = ix["g"]
    if col == "adGroupId":
        return enc.ints(c.g_id[gi])
    if col == "adGroupName":
        return enc.strings(book, "g_name", lambda: c.g_name, gi)
    if col == "adStatus":
        return enc.strings(book, "states", lambda: list(STATES), ctx.states["group"][gi])
    if col == "adId":
        return enc.ints(c.ad_id[gi])
    if col == "advertisedAsin":
        return enc.strings(book, "asin", lambda: c.asin, c.g_product[gi])
    if col == "advertisedSku":
        return enc.strings(book, "sku", lambda: c.sku, c.g_product[gi])
    ti = ix["t"]
    if col == "keywordId":
        return enc.ints(c.t_id[ti])
    if col in ("keyword", "targeting"):
        return enc.strings(book, "t_text", lambda: c.t_text, ti)
    if col == "keywordBid":
        return enc.money(ctx.bids[ti])
    if col in ("keywordType", "matchType"):
        return enc.strings(book, "keyword_types", lambda: _keyword_types(book), ti)
    if col == "adKeywordStatus":
        return enc.strings(book, "states", lambda: list(STATES), ctx.states["target"][ti])
    if col == "searchTerm":
        return enc.strings(book, "terms", lambda: search_terms(book), ti * 3 + ix["part"])
    raise KeyError(col)
