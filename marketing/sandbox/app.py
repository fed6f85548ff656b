"""Builds the sandbox WSGI app: one Flask app serving Amazon's paths on one origin."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from flask import Flask, request

from . import admin, ads, consent, lwa, reporting, s3, sellercentral, spapi
from .retail import DEFAULT_PROMO_SHAPE
from .shapes import DEFAULT
from .state import Sandbox


def create_app(
    seed: int = 1,
    size: str = "demo",
    sellers: int | None = None,
    report_delay: float = 2.0,
    admin_key: str | None = None,
    today: date | None = None,
    redirect_uris: Mapping[str, Sequence[str]] | None = None,
    wall_clock: Callable[[], float] = time.time,
    time_scale: float = 1.0,
    market: str = DEFAULT,
    promo_shape: str = DEFAULT_PROMO_SHAPE,
) -> Flask:
    """A fake Amazon (LWA, consent pages, Ads API, reporting v3, SP-API, S3 downloads) on one origin.

    `wall_clock` (seconds since the epoch) governs token lifetimes, code expiry and report delays; tests
    inject a fake one. The market's own day is `today` (default: today's UTC date) and only moves
    through the admin API. `redirect_uris` maps "ads"/"sp" to that app's Allowed Return URLs; an app
    left out keeps `accounts.DEFAULT_REDIRECT_URIS`. `time_scale` speeds up Amazon's clock (`Sandbox.now`,
    derived from `wall_clock`): report delays (Amazon seconds), held reports, throttling streaks, rate limits.
    `market` names the market's shape (`shapes.SHAPES`), `promo_shape` how demand answers promotions
    (`retail.PROMO_SHAPES`).
    """
    sb = Sandbox(
        seed=seed,
        size=size,
        sellers=sellers,
        report_delay=report_delay,
        admin_key=admin_key,
        today=today,
        redirect_uris=redirect_uris or {},
        wall_clock=wall_clock,
        time_scale=time_scale,
        market=market,
        promo_shape=promo_shape,
    )
    app = Flask("marketing.sandbox", static_folder=None)
    app.extensions["sandbox"] = sb
    for module in (lwa, consent, sellercentral, ads, reporting, spapi, admin, s3):
        app.register_blueprint(module.blueprint)

    @app.before_request
    def _faults():
        if request.path.startswith("/_sandbox/"):
            return None
        return sb.faults.before_request(request.path)

    return app
