"""Deployment settings from the environment: validation, production hardening, nothing connects early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from marketing import create_app
from marketing.config import ConfigError, Settings
from marketing.jobs import embedded
from tests.foundation.helpers import FERNET_KEY, ROOT, clean_env, run_cli

PRODUCTION = {
    "MARKETING_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "TOKEN_ENCRYPTION_KEYS": FERNET_KEY,
    "REDIS_URL": "redis://redis.internal:6379/0",
}


def test_complete_production_environment_is_accepted():
    settings = Settings.from_env(PRODUCTION)
    assert settings.env == "production"
    assert settings.token_encryption_keys == (FERNET_KEY,)


def test_environment_defaults_to_production():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({})


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "REDIS_URL"])
def test_production_requires_each_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert missing in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_required_variable_counts_as_missing(blank):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({**PRODUCTION, "SECRET_KEY": blank})


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", "mysql://db/x"),
    ("DATABASE_URL", "postgres://host:notaport/db"),
    ("DATABASE_URL", "just-a-word"),
    ("REDIS_URL", "http://redis:6379"),
    ("REDIS_URL", "redis://host:99999999/0"),
    ("PUBLIC_URL", "ftp://example.com"),
    ("PUBLIC_URL", "example.com"),
    ("AMAZON_BASE_URL", "localhost:9000"),
    ("SMTP_SECURITY", "tls-please"),
    ("SMTP_PORT", "0"),
    ("SMTP_PORT", "smtp"),
    ("PROXY_COUNT", "many"),
    ("PROXY_COUNT", "-1"),
    ("PROXY_COUNT", "11"),
    ("PROXY_COUNT", "1_0"),
    ("SMTP_PORT", "５８７"),
    ("SYNC_REPORT_HORIZON_SECONDS", "12h"),
    ("SYNC_REPORT_HORIZON_SECONDS", "10"),
    ("WORKER_NICE", "20"),
    ("WORKER_NICE", "-1"),
    ("TOKEN_ENCRYPTION_KEYS", "not-a-fernet-key"),
    ("TOKEN_ENCRYPTION_KEYS", f"{FERNET_KEY},short"),
    ("MARKETING_ENV", "staging"),
    ("AMAZON_SP_APP_DRAFT", "yes"),
    ("AMAZON_TIME_SCALE", "fast"),
    ("AMAZON_TIME_SCALE", "0.5"),
    ("AMAZON_TIME_SCALE", "nan"),
])
def test_bad_value_names_the_variable_in_one_line(name, value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**PRODUCTION, name: value})
    message = str(error.value)
    assert message.startswith(name), message
    assert "\n" not in message
    if name == "TOKEN_ENCRYPTION_KEYS":
        assert value.split(",")[-1] not in message  # a key, even a broken one, is never echoed


def test_the_report_horizon_is_a_deployment_setting(tmp_path):
    """Unset, the sync keeps its own default; set, it reaches the app's config (what `sync.steps.setting` reads)."""
    assert "SYNC_REPORT_HORIZON_SECONDS" not in Settings.from_env(PRODUCTION).flask_config(tmp_path)
    settings = Settings.from_env({**PRODUCTION, "SYNC_REPORT_HORIZON_SECONDS": "3600"})
    assert settings.flask_config(tmp_path)["SYNC_REPORT_HORIZON_SECONDS"] == 3600


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_are_pointed_at_psycopg(scheme):
    settings = Settings.from_env({**PRODUCTION, "DATABASE_URL": f"{scheme}://u:p@db:5432/app"})
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/app"


def test_other_database_urls_are_kept():
    assert Settings.from_env({**PRODUCTION, "DATABASE_URL": "sqlite:////tmp/x.db"}).database_url \
        == "sqlite:////tmp/x.db"
    explicit = "postgresql+psycopg://u@db/app"
    assert Settings.from_env({**PRODUCTION, "DATABASE_URL": explicit}).database_url == explicit


def test_public_url_loses_its_trailing_slash_and_smtp_ssl_defaults_to_465():
    settings = Settings.from_env({**PRODUCTION, "PUBLIC_URL": "https://ads.example.com/", "SMTP_SECURITY": "SSL"})
    assert settings.public_url == "https://ads.example.com"
    assert (settings.smtp_security, settings.smtp_port) == ("ssl", 465)


def test_marketing_today_is_refused_in_production_but_allowed_elsewhere():
    with pytest.raises(ConfigError, match="MARKETING_TODAY"):
        Settings.from_env({**PRODUCTION, "MARKETING_TODAY": "2025-03-01"})
    assert Settings.from_env({"MARKETING_ENV": "development", "MARKETING_TODAY": "2025-03-01"}).clock_today \
        == "2025-03-01"


def test_amazon_time_scale_is_for_a_sandbox_only(tmp_path):
    """A sandbox's faster clock (the demo's): refused in production, where the Amazon is the real one."""
    with pytest.raises(ConfigError, match="AMAZON_TIME_SCALE cannot be set"):
        Settings.from_env({**PRODUCTION, "AMAZON_TIME_SCALE": "60"})
    assert Settings.from_env(PRODUCTION).flask_config(tmp_path)["AMAZON_TIME_SCALE"] == 1.0
    settings = Settings.from_env({"MARKETING_ENV": "development", "AMAZON_TIME_SCALE": "60"})
    assert settings.flask_config(tmp_path)["AMAZON_TIME_SCALE"] == 60.0


def test_development_needs_no_variables(tmp_path):
    settings = Settings.from_env({"MARKETING_ENV": "development"})
    app = create_app({"INSTANCE_PATH": str(tmp_path)}, settings=settings)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'marketing.sqlite'}"
    # generated once and kept in the instance folder, so restarts keep sessions and stored secrets readable
    again = create_app({"INSTANCE_PATH": str(tmp_path)}, settings=settings)
    assert app.config["SECRET_KEY"] == again.config["SECRET_KEY"] and len(app.config["SECRET_KEY"]) > 30
    assert app.config["TOKEN_ENCRYPTION_KEYS"] == again.config["TOKEN_ENCRYPTION_KEYS"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def _production_app(tmp_path, testing=True):
    settings = Settings(env="production", secret_key="s" * 40, token_encryption_keys=(FERNET_KEY,),
                        redis_url="redis://127.0.0.1:1/0", database_url=f"sqlite:///{tmp_path / 'p.sqlite'}")
    return create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": testing}, settings=settings)


def test_production_sets_secure_cookies_and_hsts(tmp_path):
    app = _production_app(tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/login", base_url="https://ads.example.com")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_production_redirects_plain_http_except_for_healthz(tmp_path):
    """Load balancers probe over plain HTTP inside the network: they need the real answer, not a redirect."""
    client = _production_app(tmp_path, testing=False).test_client()
    redirect = client.get("/login")
    assert redirect.status_code == 302 and redirect.location == "https://localhost/login"
    response = client.get("/healthz")
    assert response.status_code == 503  # Redis is down here: the probe sees it
    assert response.json["database"] == "ok" and response.json["redis"].startswith("error:")


def test_development_sends_no_hsts(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)}, settings=Settings(env="development"))
    try:
        response = app.test_client().get("/login", base_url="https://localhost")
    finally:
        embedded.stop(tmp_path)  # the request started the embedded Redis
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


def test_nothing_connects_until_used(tmp_path):
    import marketing  # noqa: F401 - importing must not connect either

    settings = Settings(env="test", secret_key="x", token_encryption_keys=(FERNET_KEY,),
                        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
                        redis_url="redis://127.0.0.1:1/0")
    app = create_app({"INSTANCE_PATH": str(tmp_path)}, settings=settings)  # does not raise
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("error:")
    assert response.json["redis"].startswith("error:")


def test_healthz_is_ok_on_the_test_services(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "redis": "ok"}


def test_cli_with_incomplete_production_env_exits_2_with_one_line(tmp_path):
    result = run_cli(["users", "list"], clean_env(MARKETING_ENV="production", MARKETING_INSTANCE_PATH=tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_gunicorn_stops_on_bad_config_with_one_line(tmp_path):
    """Under the Procfile's web command a bad value is one line naming the variable, and the server stops
    instead of respawning workers that fail the same way."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run([str(gunicorn), "--bind", "127.0.0.1:0", "--control-socket", str(tmp_path / "ctl"),
                             "wsgi:app"], env=clean_env(MARKETING_ENV="production", DATABASE_URL="nope://x"),
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "marketing: configuration: DATABASE_URL must be a URL" in result.stderr
    assert "Traceback" not in result.stderr
