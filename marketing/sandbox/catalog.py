"""Generates one profile's products, campaigns, ad groups, product ads and targets, plus hidden truth.

Everything is column arrays (numpy) so that a 100k-target profile builds in well under a second and
the simulator can work on whole columns. Keywords and targeting clauses share one "target" table
(`t_kind` 0 = keyword, 1 = targeting clause) because Amazon's reports put both in one id space.
Hidden per-target parameters (demand, competition, CTR, CVR) come in four archetypes so that a demo
account has profitable, wasteful, average and sparse targets for the product to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .accounts import Profile, derive_int
from .auction import cost_per_click, ctr_at, win_rate
from .shapes import Shape

ENABLED, PAUSED, ARCHIVED = 0, 1, 2
REFERRAL = 0.15  # Amazon's referral fee, a share of the price paid (the rest of `Catalog.fees` is FBA)
STATES = ("ENABLED", "PAUSED", "ARCHIVED")
MATCH_TYPES = ("BROAD", "PHRASE", "EXACT")
AUTO_PREDICATES = (
    ("QUERY_HIGH_REL_MATCHES", "close-match"),
    ("QUERY_BROAD_REL_MATCHES", "loose-match"),
    ("ASIN_SUBSTITUTE_RELATED", "substitutes"),
    ("ASIN_ACCESSORY_RELATED", "complements"),
)
STRATEGIES = ("LEGACY_FOR_SALES", "AUTO_FOR_SALES", "MANUAL")
AVERAGE, PROFITABLE, WASTEFUL, SPARSE, DORMANT = range(5)

_CATEGORIES = {
    "yoga mat": ("yoga mat", "exercise mat", "gym mat", "pilates mat", "workout mat"),
    "water bottle": ("water bottle", "insulated bottle", "sports bottle", "flask", "drink bottle"),
    "phone case": ("phone case", "iphone case", "protective case", "wallet case", "clear case"),
    "coffee grinder": ("coffee grinder", "burr grinder", "espresso grinder", "spice grinder", "bean grinder"),
    "dog leash": ("dog leash", "retractable leash", "dog lead", "puppy leash", "rope leash"),
    "led lamp": ("desk lamp", "led lamp", "reading light", "clip lamp", "night light"),
    "backpack": ("backpack", "hiking daypack", "laptop backpack", "travel backpack", "school bag"),
    "knife set": ("knife set", "chef knife", "kitchen knives", "paring knife", "knife block"),
    "resistance band": ("resistance bands", "exercise bands", "pull up band", "loop bands", "fitness band"),
    "cat toy": ("cat toy", "interactive cat toy", "feather wand", "cat ball", "kitten toys"),
    "bath towel": ("bath towel", "cotton towels", "towel set", "beach towel", "hand towel"),
    "garden hose": ("garden hose", "expandable hose", "hose nozzle", "hose reel", "water hose"),
}
_MODIFIERS = (
    "best",
    "large",
    "small",
    "cheap",
    "premium",
    "for women",
    "for men",
    "for kids",
    "eco",
    "portable",
    "heavy duty",
    "non slip",
    "waterproof",
    "black",
    "blue",
    "pink",
    "set",
    "2 pack",
    "gift",
    "travel",
    "professional",
    "organic",
    "extra thick",
    "lightweight",
    "xl",
    "mini",
    "stainless",
    "bamboo",
    "2025",
)
_ALPHA = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


@dataclass(frozen=True)
class Size:
    products: int
    campaigns: int
    groups: tuple[int, int]  # ad groups per campaign (min, max)
    targets: tuple[int, int]  # targets per manual ad group (min, max)
    total_targets: int | None  # force an exact total (large)
    dormant: float  # share of targets with almost no traffic (long tail of big accounts)


SIZES = {
    ("demo", True): Size(10, 20, (2, 4), (5, 20), None, 0.0),
    ("demo", False): Size(6, 6, (1, 3), (5, 12), None, 0.0),
    ("large", True): Size(400, 1000, (5, 5), (8, 40), 100_000, 0.7),
    ("large", False): Size(6, 6, (1, 3), (5, 12), None, 0.0),
}


def _asins(rng: np.random.Generator, n: int) -> list[str]:
    chars = _ALPHA[rng.integers(0, 36, size=(n, 8))]
    out = ["B0" + "".join(row) for row in chars]
    # de-duplicate deterministically (collisions are astronomically rare but cheap to rule out)
    seen: set[str] = set()
    for i, a in enumerate(out):
        while a in seen:
            a = "B0" + "".join(_ALPHA[rng.integers(0, 36, 8)])
        seen.add(a)
        out[i] = a
    return out


def _ids(rng: np.random.Generator, n: int, digits: int) -> np.ndarray:
    """Increasing ids with `digits` digits: sorted, so lookups are a searchsorted."""
    base = 10 ** (digits - 1) + int(rng.integers(10 ** (digits - 2), 4 * 10 ** (digits - 2)))
    return base + np.cumsum(rng.integers(1, 10**6, size=n, dtype=np.int64))


@dataclass
class Catalog:
    profile: Profile
    origin: date  # first simulated day
    # products (index p)
    asin: list[str]
    sku: list[str]
    parent_asin: list[str]
    product_name: list[str]
    price: np.ndarray
    unit_cost: np.ndarray
    fees: np.ndarray  # referral + FBA per unit
    organic: np.ndarray  # baseline organic units per day
    category: list[str]
    # campaigns (index c)
    c_id: np.ndarray
    c_name: list[str]
    c_auto: np.ndarray
    c_budget: np.ndarray
    c_strategy: np.ndarray
    c_top: np.ndarray
    c_page: np.ndarray
    c_start: np.ndarray  # day ordinal
    c_state: np.ndarray
    c_stop: np.ndarray  # day ordinal from which c_state applies (ENABLED before)
    # ad groups (index g); one product ad per ad group, same index
    g_id: np.ndarray
    g_campaign: np.ndarray
    g_name: list[str]
    g_bid: np.ndarray
    g_state: np.ndarray
    g_stop: np.ndarray
    g_product: np.ndarray
    ad_id: np.ndarray
    ad_state: np.ndarray
    ad_stop: np.ndarray
    # targets (index t)
    t_id: np.ndarray
    t_group: np.ndarray
    t_kind: np.ndarray  # 0 keyword, 1 targeting clause
    t_text: list[str]  # keyword text, or the report's `targeting` string for clauses
    t_match: np.ndarray  # keywords: index in MATCH_TYPES; clauses: -1 auto, -2 manual
    t_expr: list[tuple[str, str | None]]  # clauses: (predicate type, value)
    t_bid: np.ndarray  # NaN = inherits the ad group's defaultBid
    t_state: np.ndarray
    t_stop: np.ndarray
    # hidden truth (index t)
    t_archetype: np.ndarray
    t_demand: np.ndarray  # daily auctions at a 100 % win rate
    t_mu: np.ndarray
    t_sigma: np.ndarray
    t_ctr: np.ndarray
    t_cvr: np.ndarray
    # hidden truth of market shapes other than second-price (`shapes.Shape.hide`)
    t_share: np.ndarray | None = None  # bid-share: CPC / bid
    t_steep: np.ndarray | None = None  # logistic: slope of the win curve around the going rate
    t_top: np.ndarray | None = None  # logistic: the most impression share a target can win

    @property
    def t_campaign(self) -> np.ndarray:
        return self.g_campaign[self.t_group]

    @property
    def t_product(self) -> np.ndarray:
        return self.g_product[self.t_group]

    @property
    def margin(self) -> np.ndarray:
        """Pre-ad profit per unit of sales, per product: (price - cost - fees) / price."""
        return (self.price - self.unit_cost - self.fees) / self.price

    def day(self, ordinal: int) -> date:
        return date.fromordinal(ordinal)


def build(seed: int, profile: Profile, size_class: str, origin: date, today: date, shape: Shape) -> Catalog:
    """The profile's catalog; a market shape other than second-price redraws its hidden truth on top."""
    rng = np.random.default_rng(derive_int(seed, "catalog", profile.profile_id))
    size = SIZES[(size_class, profile.home)]
    min_bid, max_bid = profile.bid_range
    fx = profile.fx
    o, t0 = origin.toordinal(), today.toordinal()
    never = date.max.toordinal()

    # ---- products: the seller's own product line, priced in the local currency
    prng = np.random.default_rng(derive_int(seed, "products", profile.seller_index))
    n_p = size.products
    cats = list(_CATEGORIES)
    category = [cats[i] for i in prng.integers(0, len(cats), n_p)]
    asin = _asins(prng, n_p)
    parent_of = np.where(prng.random(n_p) < 0.35, np.maximum(np.arange(n_p) - 1, 0), np.arange(n_p))
    parent_asin = [asin[j] for j in parent_of]
    usd = np.clip(prng.lognormal(np.log(26), 0.5, n_p), 8, 150)
    price = _round_price(usd * fx, fx)
    unit_cost = np.round(price * prng.uniform(0.22, 0.38, n_p), 2)
    fees = np.round(price * REFERRAL + prng.uniform(3.2, 6.0, n_p) * fx, 2)
    organic = prng.lognormal(np.log(6.0 if size_class == "demo" else 2.0), 0.7, n_p) * (1.0 if profile.home else 0.4)
    tiers = ("Pro", "Plus", "Classic", "Lite", "Max")
    names = [f"{cat.title()} {tiers[i % 5]} {i + 1}" for i, cat in enumerate(category)]
    sku = [f"{profile.country}-{cat[:3].upper()}-{i + 1:04d}" for i, cat in enumerate(category)]

    # ---- campaigns
    n_c = size.campaigns
    kind = rng.choice(3, size=n_c, p=[0.25, 0.55, 0.20])  # 0 auto, 1 keyword, 2 product targeting
    c_product = rng.integers(0, n_p, n_c)
    c_start = np.where(rng.random(n_c) < 0.85, o - rng.integers(1, 400, n_c), o + rng.integers(0, 100, n_c))
    c_state, c_stop = _lifecycle(rng, n_c, o, t0, paused=0.10, archived=0.05)
    c_strategy = rng.choice(3, size=n_c, p=[0.5, 0.3, 0.2])
    c_top = np.where(rng.random(n_c) < 0.5, rng.integers(0, 11, n_c) * 10, 0)
    c_page = np.where(rng.random(n_c) < 0.3, rng.integers(0, 6, n_c) * 10, 0)
    label = {0: "Auto", 1: "Keywords", 2: "Product Targeting"}
    c_name = [f"SP - {names[c_product[c]]} - {label[int(kind[c])]} {c + 1}" for c in range(n_c)]

    # ---- ad groups (one product ad each)
    per_c = rng.integers(size.groups[0], size.groups[1] + 1, n_c)
    g_campaign = np.repeat(np.arange(n_c), per_c)
    n_g = len(g_campaign)
    g_kind = kind[g_campaign]
    g_product = np.where(rng.random(n_g) < 0.7, c_product[g_campaign], rng.integers(0, n_p, n_g))
    g_state, g_stop = _lifecycle(rng, n_g, o, t0, paused=0.04, archived=0.03)
    ad_state, ad_stop = _lifecycle(rng, n_g, o, t0, paused=0.0, archived=0.03)
    g_name = [f"AG {g + 1} - {category[g_product[g]]}" for g in range(n_g)]

    # ---- targets per ad group
    counts = rng.integers(size.targets[0], size.targets[1] + 1, n_g)
    counts[g_kind == 0] = 4
    if size.total_targets is not None:
        counts = _force_total(counts, g_kind != 0, size.total_targets, size.targets)
    t_group = np.repeat(np.arange(n_g), counts)
    n_t = len(t_group)
    t_gkind = g_kind[t_group]
    t_kind = (t_gkind != 1).astype(np.int8)
    pos = np.arange(n_t) - np.repeat(np.cumsum(counts) - counts, counts)  # position within ad group
    t_match = np.full(n_t, -2, dtype=np.int8)
    t_match[t_gkind == 0] = -1
    kw = t_gkind == 1
    t_match[kw] = rng.choice(3, size=int(kw.sum()), p=[0.4, 0.25, 0.35])
    t_text, t_expr = _texts(rng, t_gkind, t_group, g_product, category, pos, t_match)

    # ---- hidden truth
    arch = rng.choice(4, size=n_t, p=[0.45, 0.20, 0.20, 0.15])
    if size.dormant:
        arch[rng.random(n_t) < size.dormant] = DORMANT
    demand_median = np.array([140.0, 160.0, 180.0, 8.0, 0.25])[arch]
    t_demand = demand_median * rng.lognormal(0.0, 0.6, n_t) * (1.0 if profile.home else 0.5)
    t_demand[t_match == 2] *= 0.5  # exact match sees fewer, better auctions
    t_price = price[g_product[t_group]]
    comp_median = np.clip(rng.lognormal(np.log(0.85), 0.45, n_t), 0.15, 6.0) * fx
    comp_median *= (t_price / fx / 26.0) ** 0.35
    t_mu = np.log(comp_median)
    t_sigma = rng.uniform(0.3, 0.7, n_t)
    t_ctr = np.array([0.0045, 0.005, 0.007, 0.004, 0.004])[arch] * rng.lognormal(0.0, 0.35, n_t)
    t_cvr = np.clip(np.array([0.09, 0.17, 0.012, 0.10, 0.08])[arch] * rng.lognormal(0.0, 0.3, n_t), 0.002, 0.5)

    # ---- bids: ad group default near the going rate; 20 % of targets inherit it
    g_comp = np.exp(np.bincount(t_group, weights=t_mu, minlength=n_g) / np.maximum(counts, 1))
    g_bid = _round_bid(g_comp * rng.uniform(0.7, 1.5, n_g), min_bid, max_bid, fx)
    own = _round_bid(comp_median * rng.lognormal(0.15, 0.45, n_t), min_bid, max_bid, fx)
    own[arch == WASTEFUL] = _round_bid(own[arch == WASTEFUL] * 1.4, min_bid, max_bid, fx)
    t_bid = np.where(rng.random(n_t) < 0.2, np.nan, own)
    t_state, t_stop = _lifecycle(rng, n_t, o, t0, paused=0.08, archived=0.05)

    # ---- budgets: mostly comfortable, some campaigns capped by budget
    eff = np.where(np.isnan(t_bid), g_bid[t_group], t_bid)
    w = win_rate(eff, t_mu, t_sigma)
    spend = t_demand * w * ctr_at(t_ctr, w) * cost_per_click(eff, t_mu, t_sigma, min_bid, 0.01 * fx)
    c_spend = np.bincount(g_campaign[t_group], weights=spend, minlength=n_c)
    factor = np.where(rng.random(n_c) < 0.15, rng.uniform(0.5, 0.9, n_c), rng.uniform(1.6, 4.0, n_c))
    floor = 1.0 * fx
    c_budget = np.maximum(floor, np.round(c_spend * factor, 0 if fx >= 100 else 2))

    cat = Catalog(
        profile=profile,
        origin=origin,
        asin=asin,
        sku=sku,
        parent_asin=parent_asin,
        product_name=names,
        price=price,
        unit_cost=unit_cost,
        fees=fees,
        organic=organic,
        category=category,
        c_id=_ids(rng, n_c, 15),
        c_name=c_name,
        c_auto=kind == 0,
        c_budget=c_budget,
        c_strategy=c_strategy,
        c_top=c_top,
        c_page=c_page,
        c_start=np.minimum(c_start, np.where(c_stop < never, c_stop - 1, never)),
        c_state=c_state,
        c_stop=c_stop,
        g_id=_ids(rng, n_g, 16),
        g_campaign=g_campaign,
        g_name=g_name,
        g_bid=g_bid,
        g_state=g_state,
        g_stop=g_stop,
        g_product=g_product,
        ad_id=_ids(rng, n_g, 18),
        ad_state=ad_state,
        ad_stop=ad_stop,
        t_id=_ids(rng, n_t, 17),
        t_group=t_group,
        t_kind=t_kind,
        t_text=t_text,
        t_match=t_match,
        t_expr=t_expr,
        t_bid=t_bid,
        t_state=t_state,
        t_stop=t_stop,
        t_archetype=arch,
        t_demand=t_demand,
        t_mu=t_mu,
        t_sigma=t_sigma,
        t_ctr=t_ctr,
        t_cvr=t_cvr,
    )
    shape.hide(cat, np.random.default_rng(derive_int(seed, "shape", shape.name, profile.profile_id)), min_bid, fx)
    return cat


def _round_price(x: np.ndarray, fx: float) -> np.ndarray:
    if fx >= 100:
        return np.maximum(np.round(x, -1), 100.0)
    return np.floor(x) + 0.99


def _round_bid(x: np.ndarray, lo: float, hi: float, fx: float) -> np.ndarray:
    return np.clip(np.round(x, 0 if fx >= 100 else 2), lo, hi)


def _lifecycle(rng, n: int, origin: int, today: int, paused: float, archived: float):
    """Final state per entity and the day it took effect; entities served normally before that day."""
    r = rng.random(n)
    state = np.where(r < archived, ARCHIVED, np.where(r < archived + paused, PAUSED, ENABLED)).astype(np.int8)
    stop = np.where(state == ENABLED, date.max.toordinal(), origin + rng.integers(10, max(11, today - origin), n))
    return state, stop.astype(np.int64)


def _force_total(counts: np.ndarray, adjustable: np.ndarray, total: int, bounds: tuple[int, int]) -> np.ndarray:
    counts = counts.copy()
    idx = np.flatnonzero(adjustable)
    diff = total - int(counts.sum())
    step = 1 if diff > 0 else -1
    i = 0
    while diff:
        g = idx[i % len(idx)]
        if bounds[0] <= counts[g] + step <= bounds[1] * 2:
            counts[g] += step
            diff -= step
        i += 1
    return counts


def _texts(rng, t_gkind, t_group, g_product, category, pos, t_match):
    """Keyword texts and targeting expressions, unique within each ad group."""
    n = len(t_group)
    nouns = [_CATEGORIES[category[g_product[g]]] for g in t_group]
    mod_idx = rng.integers(0, len(_MODIFIERS), n)
    noun_idx = rng.integers(0, 5, n)
    asins = _asins(rng, n)
    cat_ids = rng.integers(10**7, 10**9, n)
    texts: list[str] = []
    exprs: list[tuple[str, str | None]] = []
    for i in range(n):
        k = t_gkind[i]
        if k == 0:
            ptype, label = AUTO_PREDICATES[pos[i] % 4]
            texts.append(label)
            exprs.append((ptype, None))
        elif k == 1:
            noun = nouns[i][(noun_idx[i] + pos[i]) % 5]
            mod = _MODIFIERS[(mod_idx[i] + pos[i] * 7) % len(_MODIFIERS)]
            text = f"{mod} {noun}" if pos[i] % 3 else f"{noun} {mod}"
            if pos[i] >= len(_MODIFIERS):
                text += f" {pos[i]}"
            texts.append(text)
            exprs.append(("", None))
        elif pos[i] % 5 == 4:
            texts.append(f'category="{cat_ids[i]}"')
            exprs.append(("ASIN_CATEGORY_SAME_AS", str(cat_ids[i])))
        else:
            texts.append(f'asin="{asins[i]}"')
            exprs.append(("ASIN_SAME_AS", asins[i]))
    return texts, exprs


def history_start(today: date, days: int = 120) -> date:
    return today - timedelta(days=days)
