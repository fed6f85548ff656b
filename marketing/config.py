"""Deployment settings, read once from the environment and validated (12-factor).

Business thresholds (target ACoS, expiry warnings, ...) are not here: they live in the database as audited
settings. A bad value stops start-up with one line naming the variable (`ConfigError`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from marketing.numbers import BadNumber, parse_whole
from marketing.security.crypto import InvalidKey, instance_secret, validate_keys

ENVIRONMENTS = ("production", "development", "test")
SMTP_SECURITY = ("starttls", "ssl", "none")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A deployment setting is missing or malformed; the message names the variable."""


def _url(name: str, value: str | None, schemes: tuple[str, ...]) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"{name} is not a valid URL: {exc}") from None
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value.rstrip("/") if name in ("PUBLIC_URL", "AMAZON_BASE_URL") else value


def normalise_database_url(value: str) -> str:
    """Point postgres:// and postgresql:// URLs at the installed driver (psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


def _flag(name: str, value: str | None) -> bool:
    if value in (None, "", "0"):
        return False
    if value == "1":
        return True
    raise ConfigError(f"{name} must be 1 or 0, got {value!r}")


def _int(name: str, value: str | None, default: int | None, low: int = 0, high: int = 65535) -> int | None:
    """A whole number read as strictly as a person's (`marketing.numbers`: no "1_0", no "١")."""
    try:
        number = parse_whole(value)
    except BadNumber:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number is None:
        return default
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {number}")
    return number


def _scale(value: str | None) -> float:
    """AMAZON_TIME_SCALE: how much faster than ours the clock of the Amazon we talk to runs (a sandbox started with
    `--time-scale`); its rate limits and report times are in its seconds. 1 (unset) for Amazon."""
    if value is None:
        return 1.0
    try:
        scale = float(value)
    except ValueError:
        raise ConfigError(f"AMAZON_TIME_SCALE must be a number, got {value!r}") from None
    if not 1 <= scale <= 10000:
        raise ConfigError(f"AMAZON_TIME_SCALE must be between 1 and 10000, got {value}")
    return scale


@dataclass(frozen=True)
class Settings:
    env: str = "production"
    secret_key: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    token_encryption_keys: tuple[str, ...] = ()
    public_url: str | None = None
    proxy_count: int = 0
    amazon_base_url: str | None = None
    amazon_ads_client_id: str | None = None
    amazon_ads_client_secret: str | None = None
    amazon_sp_client_id: str | None = None
    amazon_sp_client_secret: str | None = None
    amazon_sp_app_id: str | None = None
    amazon_sp_app_draft: bool = False
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"
    mail_from: str | None = None
    clock_today: str | None = None
    log_level: str = "INFO"
    sync_report_horizon_seconds: int | None = None  # unset: the sync's own default (`sync.steps`)
    worker_nice: int = 10  # `marketing worker` runs its jobs at this CPU niceness, below the web server's
    amazon_time_scale: float = 1.0  # Amazon seconds per real second: a sandbox run with --time-scale (the demo)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        get = lambda k: (env.get(k) or "").strip() or None  # noqa: E731
        mode = get("MARKETING_ENV") or "production"
        if mode not in ENVIRONMENTS:
            raise ConfigError(f"MARKETING_ENV must be one of {', '.join(ENVIRONMENTS)}, got {mode!r}")
        database_url = get("DATABASE_URL")
        if database_url:
            _url("DATABASE_URL", database_url, ("sqlite", "postgres", "postgresql", "postgresql+psycopg"))
            database_url = normalise_database_url(database_url)
        smtp_security = (get("SMTP_SECURITY") or "starttls").lower()
        if smtp_security not in SMTP_SECURITY:
            raise ConfigError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, got {smtp_security!r}")
        log_level = (get("MARKETING_LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"MARKETING_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
        keys = tuple(k.strip() for k in (get("TOKEN_ENCRYPTION_KEYS") or "").split(",") if k.strip())
        settings = cls(
            env=mode,
            amazon_time_scale=_scale(get("AMAZON_TIME_SCALE")),
            secret_key=get("SECRET_KEY"),
            database_url=database_url,
            redis_url=_url("REDIS_URL", get("REDIS_URL"), ("redis", "rediss", "unix")),
            token_encryption_keys=keys,
            public_url=_url("PUBLIC_URL", get("PUBLIC_URL"), ("http", "https")),
            proxy_count=_int("PROXY_COUNT", get("PROXY_COUNT"), 0, 0, 10),
            amazon_base_url=_url("AMAZON_BASE_URL", get("AMAZON_BASE_URL"), ("http", "https")),
            amazon_ads_client_id=get("AMAZON_ADS_CLIENT_ID"),
            amazon_ads_client_secret=get("AMAZON_ADS_CLIENT_SECRET"),
            amazon_sp_client_id=get("AMAZON_SP_CLIENT_ID"),
            amazon_sp_client_secret=get("AMAZON_SP_CLIENT_SECRET"),
            amazon_sp_app_id=get("AMAZON_SP_APP_ID"),
            amazon_sp_app_draft=_flag("AMAZON_SP_APP_DRAFT", get("AMAZON_SP_APP_DRAFT")),
            smtp_host=get("SMTP_HOST"),
            smtp_port=_int("SMTP_PORT", get("SMTP_PORT"), 465 if smtp_security == "ssl" else 587, 1),
            smtp_username=get("SMTP_USERNAME"),
            smtp_password=get("SMTP_PASSWORD"),
            smtp_security=smtp_security,
            mail_from=get("MAIL_FROM"),
            clock_today=get("MARKETING_TODAY"),
            log_level=log_level,
            worker_nice=_int("WORKER_NICE", get("WORKER_NICE"), 10, 0, 19),
            sync_report_horizon_seconds=_int("SYNC_REPORT_HORIZON_SECONDS", get("SYNC_REPORT_HORIZON_SECONDS"), None,
                                             60, 7 * 86400),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.env == "production":
            for name, value in (
                ("SECRET_KEY", self.secret_key),
                ("TOKEN_ENCRYPTION_KEYS", self.token_encryption_keys),
                ("REDIS_URL", self.redis_url),
            ):
                if not value:
                    raise ConfigError(f"{name} is required when MARKETING_ENV=production")
            if self.clock_today:
                raise ConfigError("MARKETING_TODAY cannot be set when MARKETING_ENV=production")
            if self.amazon_time_scale != 1.0:
                raise ConfigError("AMAZON_TIME_SCALE cannot be set when MARKETING_ENV=production")
            if self.smtp_host and not self.public_url:
                raise ConfigError("PUBLIC_URL is required when SMTP_HOST is set (emails carry absolute links)")
        try:
            validate_keys(self.token_encryption_keys)
        except InvalidKey as exc:
            raise ConfigError(str(exc)) from None

    def flask_config(self, instance_path: Path) -> dict:
        """Translate to the Flask/extension config keys the app factory applies."""
        production = self.env == "production"
        database_url = self.database_url or f"sqlite:///{instance_path / 'marketing.sqlite'}"
        return {
            "MARKETING_ENV": self.env,
            "SECRET_KEY": self.secret_key or _dev_secret(instance_path),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True} if not database_url.startswith("sqlite") else {},
            "REDIS_URL": self.redis_url,
            "TOKEN_ENCRYPTION_KEYS": self.token_encryption_keys,
            "PUBLIC_URL": self.public_url,
            "PROXY_COUNT": self.proxy_count,
            "AMAZON_BASE_URL": self.amazon_base_url,
            "AMAZON_ADS_CLIENT_ID": self.amazon_ads_client_id,
            "AMAZON_ADS_CLIENT_SECRET": self.amazon_ads_client_secret,
            "AMAZON_SP_CLIENT_ID": self.amazon_sp_client_id,
            "AMAZON_SP_CLIENT_SECRET": self.amazon_sp_client_secret,
            "AMAZON_SP_APP_ID": self.amazon_sp_app_id,
            "AMAZON_SP_APP_DRAFT": self.amazon_sp_app_draft,
            "SMTP_HOST": self.smtp_host,
            "SMTP_PORT": self.smtp_port,
            "SMTP_USERNAME": self.smtp_username,
            "SMTP_PASSWORD": self.smtp_password,
            "SMTP_SECURITY": self.smtp_security,
            "MAIL_FROM": self.mail_from,
            "MARKETING_TODAY": self.clock_today,
            "MARKETING_LOG_LEVEL": self.log_level,
            "AMAZON_TIME_SCALE": self.amazon_time_scale,
            "WORKER_NICE": self.worker_nice,
            **({} if self.sync_report_horizon_seconds is None else
               {"SYNC_REPORT_HORIZON_SECONDS": self.sync_report_horizon_seconds}),
            "SESSION_COOKIE_SECURE": production,
            "REMEMBER_COOKIE_SECURE": production,
            "SESSION_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "PERMANENT_SESSION_LIFETIME": 12 * 3600,
            "WTF_CSRF_TIME_LIMIT": None,
            "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
            "TESTING": self.env == "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_HEADERS_ENABLED": False,
            # Login throttling must not take logins down with Redis: counts move to this process's memory
            # until Redis answers again, and any other limiter storage error is logged instead of raised.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
        }


def _dev_secret(instance_path: Path) -> str:
    """Outside production a missing SECRET_KEY gets a random one kept in the instance folder."""
    return instance_secret(instance_path, "secret_key", lambda: secrets.token_urlsafe(48))
