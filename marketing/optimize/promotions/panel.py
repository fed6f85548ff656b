"""The daily history as dense ASIN × day matrices, and the weekday-adjusted baseline read from it.

Everything here works on whole arrays: one row per ASIN, one column per day, so the baselines of thousands of
promotions (or of every ASIN for suggestions) are a few gathers and sums, not a loop.

A day counts toward a baseline when it is *clean*: its units are known, the ASIN was in stock that day and the
next (a day that ends in a stock-out sold what was left, not what buyers wanted) and no promotion ran. Sales &
Traffic omits days without sales, so a missing row after the ASIN's first row is a day with 0 units; days before
the first row are unknown (the ASIN was not listed yet, or the history does not reach back).

A day is *watched* when it is clean, its row is the day's own (not a share of a weekly total: `exact` False, the
product's history spreads an older week's report evenly over its days) and its stock is known (`in_stock` not
missing; a day without a row, no sales, has none). Other clean days serve a baseline's level, but a dip or a
sibling's loss is only read from watched days: a week spread over its days moves a promotion's extra units into
the days around it, and a stock-out nobody recorded (the product knows stock only from its first sync on) looks
just like a dip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NO_DAY = -(10 ** 9)  # a missing date: far before any history, and safe to add day counts to
WEEKDAY_PSEUDO_DAYS = 20.0  # days per weekday an ASIN's own weekday factor borrows from the seller's


def to_days(values) -> np.ndarray:
    """Dates (datetime.date, datetime64, Timestamp, ISO strings) → whole days since 1970 as int64; a missing or
    unreadable date → `NO_DAY`."""
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.datetime64):
        array = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce").to_numpy()
    array = array.astype("datetime64[D]")
    return np.where(np.isnat(array), NO_DAY, array.astype(np.int64))


def weekday_of(days) -> np.ndarray:
    """Epoch days → weekday, 0 = Monday (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


@dataclass
class Panel:
    asins: pd.Index  # row labels
    parent: np.ndarray  # parent code per row (−1: none)
    day0: int  # epoch day of column 0
    units: np.ndarray  # float (A, D); NaN where unknown
    sales: np.ndarray  # float (A, D); 0 where unknown
    ad: np.ndarray  # float (A, D); 0 where unknown or not given
    clean: np.ndarray  # bool (A, D): known, in stock that day and the next, no promotion
    watched: np.ndarray  # bool (A, D): clean, the day's own figures (not a weekly share) and its stock known
    stocked: np.ndarray  # bool (A, D): known and in stock (promotion or not)
    supplied: np.ndarray  # bool (A, D): stocked, and in stock the next day too: the units are what buyers wanted
    factors: np.ndarray  # (A, 7) weekday factors, mean 1 per ASIN
    weekday: np.ndarray  # (D,) 0 = Monday

    @property
    def days(self) -> int:
        return self.units.shape[1]

    def rows(self, asins) -> np.ndarray:
        """Row index of each ASIN; −1 where the history does not have it."""
        return self.asins.get_indexer(pd.Index(asins))


def build_panel(daily: pd.DataFrame, promo_asins, promo_start: np.ndarray, promo_end: np.ndarray) -> Panel:
    """daily: asin, parent_asin, date, units, sales, in_stock (missing where unknown), ad_spend (optional), exact
    (optional; False where the row is a share of a weekly total). promo_*: the promotion windows
    (inclusive epoch days) whose days are not clean."""
    named = daily["asin"].notna() & daily["date"].notna()
    frame = daily if named.all() else daily[named]
    day = to_days(frame["date"])
    codes, asins = pd.factorize(frame["asin"].to_numpy(dtype=object), sort=True)
    asins = pd.Index(asins).astype(str)
    n_asins = len(asins)
    n_rows = max(n_asins, 1)  # an empty history keeps one unknown row, so lookups need no special case
    day0 = int(day.min()) if len(day) else 0
    n_days = int(day.max()) - day0 + 1 if len(day) else 1
    col = day - day0

    def matrix(values, fill):
        out = np.full((n_rows, n_days), fill, dtype=float)
        out[codes, col] = values
        return out

    units = pd.to_numeric(frame["units"], errors="coerce").to_numpy(dtype=float)
    units = np.where(units < 0, np.nan, units)
    units_m = matrix(units, 0.0)
    sales_m = np.nan_to_num(matrix(pd.to_numeric(frame["sales"], errors="coerce").to_numpy(dtype=float), 0.0))
    ad_m = (np.nan_to_num(matrix(pd.to_numeric(frame["ad_spend"], errors="coerce").to_numpy(dtype=float), 0.0))
            if "ad_spend" in frame else np.zeros_like(units_m))
    in_stock = frame["in_stock"].fillna(True).astype(bool).to_numpy() if "in_stock" in frame else True
    stock_m = np.ones((n_rows, n_days), dtype=bool)
    stock_m[codes, col] = in_stock
    known = frame["in_stock"].notna().to_numpy() if "in_stock" in frame else np.ones(len(frame), dtype=bool)
    if "exact" in frame:
        known = known & frame["exact"].fillna(True).astype(bool).to_numpy()
    watched_m = np.zeros((n_rows, n_days), dtype=bool)  # a day without a row (no sales) has no stock recorded
    watched_m[codes, col] = known
    first = np.full(n_rows, n_days, dtype=np.int64)
    np.minimum.at(first, codes, col)
    last_data = (int(day.max()) - day0) if len(day) else -1
    columns = np.arange(n_days)
    listed = (columns[None, :] >= first[:, None]) & (columns[None, :] <= last_data)
    units_m[~listed] = np.nan

    promo = np.zeros((n_rows, n_days + 1), dtype=np.int32)
    rows = asins.get_indexer(pd.Index(promo_asins).astype(str)) if len(promo_asins) else np.array([], dtype=int)
    start, end = np.asarray(promo_start, dtype=np.int64) - day0, np.asarray(promo_end, dtype=np.int64) - day0
    keep = (rows >= 0) & (end >= 0) & (start < n_days) & (end >= start)
    np.add.at(promo, (rows[keep], np.clip(start[keep], 0, n_days)), 1)
    np.add.at(promo, (rows[keep], np.clip(end[keep] + 1, 0, n_days)), -1)
    promo_m = np.cumsum(promo, axis=1)[:, :n_days] > 0

    stocked = ~np.isnan(units_m) & stock_m
    sold_out = np.zeros_like(stock_m)
    sold_out[:, :-1] = ~stock_m[:, 1:]
    supplied = stocked & ~sold_out
    clean = supplied & ~promo_m
    weekday = weekday_of(np.arange(day0, day0 + n_days))
    parents = frame["parent_asin"].to_numpy(dtype=object) if "parent_asin" in frame else np.full(len(frame), None)
    _, first_row = np.unique(codes, return_index=True)
    parent_of = pd.Series(parents[first_row]).reindex(range(n_rows))
    parent_codes, _ = pd.factorize(parent_of.where(parent_of.notna() & (parent_of.astype(str).str.len() > 0)))
    return Panel(asins=pd.Index(asins, dtype=object), parent=parent_codes, day0=day0, units=units_m, sales=sales_m,
                 ad=ad_m, clean=clean, watched=clean & watched_m, stocked=stocked, supplied=supplied,
                 factors=_weekday_factors(units_m, clean, weekday), weekday=weekday)


def _weekday_factors(units: np.ndarray, clean: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Each ASIN's units on a weekday ÷ its mean, from clean days, shrunk toward the seller's pooled factors
    (`WEEKDAY_PSEUDO_DAYS`), so an ASIN with a few sales a week borrows the seller's weekly shape."""
    y = np.where(clean, units, 0.0)
    total = np.stack([y[:, weekday == k].sum(axis=1) for k in range(7)], axis=1)
    count = np.stack([clean[:, weekday == k].sum(axis=1) for k in range(7)], axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_rate = total.sum(axis=0) / count.sum(axis=0)
        pooled = pooled_rate / (total.sum() / count.sum())
        pooled = np.where(np.isfinite(pooled) & (pooled > 0), pooled, 1.0)  # rate on the weekday ÷ overall rate
        rate = total.sum(axis=1) / count.sum(axis=1)
        own = (total + WEEKDAY_PSEUDO_DAYS * pooled[None, :] * rate[:, None]) \
            / ((count + WEEKDAY_PSEUDO_DAYS) * rate[:, None])
    factors = np.where(np.isfinite(own) & (rate[:, None] > 0), own, pooled[None, :])  # normalised below
    return factors / factors.mean(axis=1, keepdims=True)


@dataclass
class Baseline:
    """Per requested (row, start): the deseasonalised level (units per day at weekday factor 1), the residual
    spread of that level, the clean days it rests on, the price and ad spend per day over them."""

    level: np.ndarray
    spread: np.ndarray
    days: np.ndarray
    price: np.ndarray  # sales ÷ units over the baseline days (NaN without units)
    median_price: np.ndarray  # median daily price paid over the baseline days
    ad_per_day: np.ndarray


def baseline(panel: Panel, rows: np.ndarray, start_day: np.ndarray, *, days: int, search: int) -> Baseline:
    """The `days` clean days nearest before each start (looking back at most `search` days)."""
    first = np.asarray(start_day, dtype=np.int64) - panel.day0 - search
    r, c, inside = gather(panel, rows, first, np.full(len(rows), search))
    clean = panel.clean[r, c] & inside
    use = clean & (np.cumsum(clean[:, ::-1], axis=1)[:, ::-1] <= days)
    n = use.sum(axis=1)
    units = np.where(use, panel.units[r, c], 0.0)
    sales = np.where(use, panel.sales[r, c], 0.0)
    factor = panel.factors[r, panel.weekday[c]]
    z = units / factor
    with np.errstate(divide="ignore", invalid="ignore"):
        # Σ units ÷ Σ factors, not the mean of units ÷ factor: over whole weeks the factors sum to the day count
        # whatever their noise, so factors estimated from these same days do not bias the level
        level = units.sum(axis=1) / np.where(use, factor, 0.0).sum(axis=1)
        spread = np.sqrt((np.where(use, z - level[:, None], 0.0) ** 2).sum(axis=1) / (n - 1))
        price = sales.sum(axis=1) / units.sum(axis=1)
        daily_price = np.where(use & (units > 0), sales / np.where(units > 0, units, 1.0), np.nan)
        ad = np.where(use, panel.ad[r, c], 0.0).sum(axis=1) / n
    median_price = row_medians(daily_price)
    return Baseline(level=level, spread=spread, days=n, price=price, median_price=median_price, ad_per_day=ad)


def level_drift(panel: Panel, days: int) -> float:
    """How far an ASIN's level moves from one `days`-long stretch to the next beyond what daily noise explains:
    the squared relative change, pooled over the seller's ASINs and the history's consecutive clean stretches
    (Σ [(L₁ − L₀)² − s₁²/n₁ − s₀²/n₀] ÷ Σ ((L₀ + L₁)/2)², at least 0). A baseline carried `days` ahead is off by
    about level × √drift for reasons no daily residual shows (ranking, ads, competitors)."""
    rows = np.flatnonzero(~np.isnan(panel.units).all(axis=1)) if len(panel.asins) else np.array([], dtype=int)
    excess, scale = 0.0, 0.0
    for anchor in range(panel.day0 + panel.days, panel.day0 + 2 * days - 1, -days):
        later = baseline(panel, rows, np.full(len(rows), anchor), days=days, search=days)
        earlier = baseline(panel, rows, np.full(len(rows), anchor - days), days=days, search=days)
        use = (later.days >= days // 2) & (earlier.days >= days // 2) & (later.level + earlier.level > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            change = (later.level - earlier.level) ** 2 - later.spread ** 2 / later.days \
                - earlier.spread ** 2 / earlier.days
        use &= np.isfinite(change)
        excess += float(change[use].sum())
        scale += float((((later.level + earlier.level) / 2) ** 2)[use].sum())
    return max(excess / scale, 0.0) if scale > 0 else 0.0


def row_medians(values: np.ndarray) -> np.ndarray:
    """Row medians ignoring NaN (NaN for an all-NaN row) without numpy's all-NaN warning."""
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    ordered = np.sort(values, axis=1)  # NaN sort last
    count = (~np.isnan(values)).sum(axis=1)
    lo = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(ordered, np.maximum(count // 2, 0)[:, None], axis=1)[:, 0]
    return np.where(count > 0, (lo + hi) / 2, np.nan)


def gather(panel: Panel, rows: np.ndarray, first: np.ndarray, length: np.ndarray):
    """Row and column indices (W, L) of each request's days first … first + length − 1 (columns of the panel),
    and whether each is a real day of a known ASIN: the windows' days as one array, read without a loop."""
    first = np.asarray(first, dtype=np.int64)
    lo = np.clip(first, 0, panel.days)  # only the days the panel has (a window reaching far out costs nothing)
    length = np.maximum(np.minimum(first + np.asarray(length, dtype=np.int64), panel.days) - lo, 0)
    width = int(length.max()) if len(length) else 0
    offset = np.arange(width)[None, :]
    cols = lo[:, None] + offset
    inside = (offset < length[:, None]) & (np.asarray(rows)[:, None] >= 0)
    r = np.broadcast_to(np.maximum(rows, 0)[:, None], cols.shape)
    return r, np.clip(cols, 0, panel.days - 1), inside
