"""Response headers: private pages and downloads are not cached, forms post only to this site, and neither the
app's server (gunicorn, with gunicorn.conf.py) nor the demo's names itself."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import httpx
import pytest

from marketing.web.headers import AnonymousRequestHandler
from tests.foundation.helpers import ROOT, clean_env

pytestmark = pytest.mark.sqlite


def test_logged_in_pages_and_downloads_are_not_stored(client, make_user, make_seller, login):
    seller = make_seller()
    make_user("m@example.com", "marketer", sellers=[seller])
    login("m@example.com")
    for path in ("/", "/account", f"/sellers/{seller.id}", f"/sellers/{seller.id}/daily.csv", "/?format=csv",
                 f"/sellers/{seller.id}/sync/status", "/no-such-page"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_shared_files_stay_cacheable(client):
    from marketing.web.vendor import PLOTLY_VERSION

    vendor = client.get(f"/vendor/plotly-{PLOTLY_VERSION}.min.js")
    assert "immutable" in vendor.headers["Cache-Control"] and "no-store" not in vendor.headers["Cache-Control"]
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_forms_may_post_only_to_this_site(client):
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert re.search(r"form-action 'self'(;|$)", policy), policy


def test_the_demo_server_does_not_name_itself(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=AnonymousRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/login", timeout=10)
    finally:
        server.shutdown()
        thread.join(5)
    assert response.status_code == 200 and "server" not in response.headers


def test_gunicorn_with_the_projects_config_does_not_name_itself():
    """The header is gunicorn's own, whatever the app: the standard library's demo app keeps this quick."""
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "1",
                                "--bind", "127.0.0.1:0", "wsgiref.simple_server:demo_app"], cwd=ROOT,
                               env=clean_env(), stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if match := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
                port = match.group(1)
        assert port, "gunicorn did not start"
        for _ in range(50):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response.status_code == 200
        assert "server" not in response.headers
    finally:
        process.terminate()
        process.wait(10)
