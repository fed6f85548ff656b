"""The one object behind a sandbox app: its accounts, tokens, market, faults, reports and clocks.

Blueprints reach it through :func:`current` so that the modules stay independent of each other and of
how the app was built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from flask import current_app

from .accounts import DEFAULT_REDIRECT_URIS, Accounts, derive
from .faults import Faults
from .market import Market
from .retail import DEFAULT_PROMO_SHAPE
from .shapes import DEFAULT
from .storage import Blobs
from .tokens import Tokens


class Sandbox:
    def __init__(
        self,
        *,
        seed: int,
        size: str,
        sellers: int | None,
        report_delay: float,
        admin_key: str | None,
        today: date | None,
        redirect_uris: Mapping[str, Sequence[str]],
        wall_clock: Callable[[], float],
        time_scale: float = 1.0,
        market: str = DEFAULT,
        promo_shape: str = DEFAULT_PROMO_SHAPE,
    ):
        if report_delay < 0:
            raise ValueError("report_delay must be >= 0")
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.seed = seed
        self.size = size
        self.wall_clock = wall_clock
        self.time_scale = float(time_scale)
        self._started = wall_clock()
        self.report_delay = float(report_delay)
        self.accounts = Accounts(seed, size, sellers)
        self.admin_key = admin_key or "sbx-" + derive(seed, "admin").hex()[:32]
        unknown = set(redirect_uris) - set(DEFAULT_REDIRECT_URIS)
        if unknown:
            raise ValueError(f"redirect_uris: unknown apps {sorted(unknown)}; use 'ads' or 'sp'")
        for kind, uris in {**DEFAULT_REDIRECT_URIS, **redirect_uris}.items():
            self.accounts.set_redirect_uris(kind, uris)
        self.tokens = Tokens(seed, self.accounts, wall_clock)
        self.market = Market(seed, self.accounts, today, market, promo_shape)
        self.faults = Faults(seed, self.now)
        self.blobs = Blobs(seed, wall_clock)
        self.lock = threading.RLock()
        self.ads_reports: dict[str, dict] = {}
        self.sp_reports: dict[str, dict] = {}
        self.sp_documents: dict[str, dict] = {}
        self.workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-report")

    def now(self) -> float:
        """Amazon's clock: wall time since start-up runs `time_scale` times faster (60: an hour is a minute).
        Report delays and holds, throttling streaks and rate-limit refills run on it; token and URL lifetimes
        stay on the wall clock, which is the product's."""
        return self._started + (self.wall_clock() - self._started) * self.time_scale


def current() -> Sandbox:
    return current_app.extensions["sandbox"]
