"""Marketing-optimization dashboard for Amazon sellers and their agencies."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from marketing.config import Settings
from marketing.security.crypto import instance_key

_PACKAGE = Path(__file__).resolve().parent
#: The folder holding templates/ and migrations/: inside the package when installed from the wheel (the build
#: copies them there, see setup.py), else the checkout's top level (development, editable install).
ROOT = _PACKAGE if (_PACKAGE / "migrations").is_dir() else _PACKAGE.parent
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
    configure_logging(app.config["MARKETING_LOG_LEVEL"])

    # `import marketing.<anything>` (the sandbox, the engines, a job) must not load the web stack or RQ:
    from marketing import jobs, web  # why: loaded only when an app is built (see above)
    from marketing.dashboard import cache  # why: as above
    from marketing.extensions import csrf, db, limiter, login_manager, migrate, talisman  # why: as above

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    jobs.init_app(app)
    cache.init_app(app)
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
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    web.init_app(app)
    return app


class OneLineFormatter(logging.Formatter):
    """A record is one line, its traceback included (newlines written as `\\n`): log collectors see one event per
    line, and a value with a newline cannot forge a second record."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


def configure_logging(level: str) -> None:
    """Send the app's loggers (`marketing.*`, the Flask app's own) to stderr, one line per event.

    The level is the root logger's, so a host or a test that lowers it (pytest's caplog) sees our records too;
    only `marketing.*` gets a handler, so other libraries print nothing new. Idempotent: the handler is added
    once per process however many apps are built (tests build hundreds); a later call only changes the level.
    """
    logging.getLogger().setLevel(level)
    logger = logging.getLogger("marketing")
    logger.setLevel(logging.NOTSET)
    if not any(getattr(handler, "marketing", False) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.marketing = True
        handler.setFormatter(OneLineFormatter(LOG_FORMAT))
        logger.addHandler(handler)
    # httpx logs every request's full URL at INFO, pre-signed download URLs' query strings included.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _instance_path() -> str:
    return os.environ.get("MARKETING_INSTANCE_PATH") or default_instance_path()


def default_instance_path() -> str:
    """The checkout's `instance/`; installed from the wheel, `./instance` in the folder the app runs from."""
    return str(Path("instance").resolve() if ROOT == _PACKAGE else ROOT / "instance")


def _ensure_encryption_keys(app: Flask, instance: Path) -> None:
    """Outside production, a missing TOKEN_ENCRYPTION_KEYS gets a key kept in the instance folder."""
    if not app.config["TOKEN_ENCRYPTION_KEYS"]:
        app.config["TOKEN_ENCRYPTION_KEYS"] = (instance_key(instance),)
