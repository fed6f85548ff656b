"""Marketing-optimization dashboard for Amazon sellers and their agencies."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from marketing.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the web app. `config` overrides Flask keys (tests); `settings` defaults to the environment.

    Nothing here connects to the database or Redis: connections open on first use.
    """
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=(config or {}).get("INSTANCE_PATH") or _instance_path(),
        instance_relative_config=False,
    )
    settings = settings or Settings.from_env()
    instance = Path(app.instance_path)
    app.config.update(settings.flask_config(instance))
    app.config.update(config or {})
    _ensure_encryption_keys(app, instance)
    # httpx logs every request's full URL at INFO, pre-signed download URLs' query strings included.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from marketing import jobs, web
    from marketing.extensions import csrf, db, limiter, login_manager, migrate, talisman

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    jobs.init_app(app)
    limiter.init_app(app)
    production = app.config["MARKETING_ENV"] == "production"
    talisman.init_app(
        app,
        force_https=production and not app.config.get("TESTING"),
        strict_transport_security=production,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy={
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self' 'unsafe-inline'",
            "img-src": "'self' data: blob:",
            "object-src": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",  # connecting to Amazon goes through a page of ours, not a form's redirect
            "frame-ancestors": "'none'",
        },
        frame_options="DENY",
    )
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    web.init_app(app)
    return app


def _instance_path() -> str:
    import os

    return os.environ.get("MARKETING_INSTANCE_PATH") or str(ROOT / "instance")


def _ensure_encryption_keys(app: Flask, instance: Path) -> None:
    """Outside production, a missing TOKEN_ENCRYPTION_KEYS gets a key kept in the instance folder."""
    if not app.config["TOKEN_ENCRYPTION_KEYS"]:
        from marketing.security.crypto import instance_key

        app.config["TOKEN_ENCRYPTION_KEYS"] = (instance_key(instance),)
