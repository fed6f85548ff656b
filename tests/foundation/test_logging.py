"""Logging: configured by create_app from MARKETING_LOG_LEVEL, one line per event, set up once per process."""

from __future__ import annotations

import logging
import re
import subprocess
import sys

import pytest

from marketing.config import ConfigError, Settings
from tests.foundation.helpers import FERNET_KEY, ROOT, clean_env

pytestmark = pytest.mark.sqlite

EMIT = """
import logging
from marketing import create_app
create_app()
logging.getLogger("marketing.sync").debug("not shown at INFO")
logging.getLogger("marketing.sync").info("sync run %s started", 7)
logging.getLogger("marketing").warning("two\\nlines")
"""
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) (marketing(\.sync)?): (.*)$")


def _emit(tmp_path, **env) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", EMIT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
        env=clean_env(MARKETING_ENV="development", MARKETING_INSTANCE_PATH=tmp_path, TOKEN_ENCRYPTION_KEYS=FERNET_KEY,
                      DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}", REDIS_URL="redis://127.0.0.1:1/0", **env))
    return result.stderr.splitlines()


def test_each_event_is_one_line_with_time_level_logger_and_message(tmp_path):
    lines = _emit(tmp_path)
    assert [LINE.match(line).group(1, 2, 4) for line in lines] == [
        ("INFO", "marketing.sync", "sync run 7 started"), ("WARNING", "marketing", "two\\nlines")]
    assert not any("not shown" in line for line in lines)


def test_the_level_comes_from_marketing_log_level(tmp_path):
    lines = _emit(tmp_path, MARKETING_LOG_LEVEL="warning")
    assert [LINE.match(line).group(1) for line in lines if LINE.match(line)] == ["WARNING"]
    debug = _emit(tmp_path, MARKETING_LOG_LEVEL="DEBUG")
    assert any(line.endswith("marketing.sync: not shown at INFO") for line in debug)


def test_a_bad_log_level_names_the_variable():
    with pytest.raises(ConfigError, match="MARKETING_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"):
        Settings.from_env({"MARKETING_ENV": "development", "MARKETING_LOG_LEVEL": "loud"})
    assert Settings.from_env({"MARKETING_ENV": "development"}).log_level == "INFO"


def test_building_many_apps_configures_logging_once(make_app):
    make_app()
    make_app()
    handlers = [h for h in logging.getLogger("marketing").handlers if getattr(h, "marketing", False)]
    assert len(handlers) == 1
    assert logging.getLogger("marketing").getEffectiveLevel() == logging.INFO


def test_a_lower_level_asked_by_the_host_reaches_our_loggers(make_app, caplog):
    """An app built earlier in the process does not hide DEBUG records from a test (or host) that asks for them."""
    make_app()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("marketing.amazon").debug("visible")
    assert [r.getMessage() for r in caplog.records] == ["visible"]
