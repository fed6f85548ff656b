"""`marketing demo`: everything a newcomer needs on one machine, with embedded defaults.

SQLite in the instance folder, the embedded Redis, a worker child process and the built-in Amazon sandbox
(its own process), then the web app. `--check` starts it all, probes /healthz and one login, and exits 0/1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import httpx
from flask_migrate import upgrade
from werkzeug.serving import make_server

from marketing import create_app, default_instance_path
from marketing import demo as demo_seed
from marketing.cli.params import Whole
from marketing.jobs import embedded
from marketing.web.headers import AnonymousRequestHandler


def _child(args: list[str], env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "marketing", *args], env=env, **kwargs)


# The demo's Amazon runs its clock this much faster than ours, and the product knows it (AMAZON_TIME_SCALE): the
# sales history's back-fill (131 Sales & Traffic reports per marketplace, one createReport a minute after a burst
# of 15) takes a couple of minutes, not hours, under Amazon's own limits, which the demo's sandbox enforces.
DEMO_TIME_SCALE = 300
DEMO_REPORT_SECONDS = 3  # how long a report takes to make, in our seconds


def _start_sandbox(env: dict) -> tuple[subprocess.Popen, dict]:
    """Start the sandbox on a free port; returns the process and the AMAZON_* variables it printed."""
    log = open(Path(env["MARKETING_INSTANCE_PATH"]) / "sandbox.log", "ab")  # noqa: SIM115 - the child owns it
    proc = _child(["sandbox", "--host", "127.0.0.1", "--port", "0", "--json", "--time-scale", str(DEMO_TIME_SCALE),
                   "--report-delay", str(DEMO_REPORT_SECONDS * DEMO_TIME_SCALE)], env,
                  stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        raise click.ClickException("the Amazon sandbox did not start")
    info = json.loads(line)
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
    return proc, info


def _sandbox_env(info: dict) -> dict:
    """The AMAZON_* variables that wire the product to the sandbox (its admin key stays out of the app)."""
    return {k: str(v) for k, v in info.items() if k.startswith("AMAZON_") and k != "AMAZON_SANDBOX_ADMIN_KEY"}


def _wait_healthy(base: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        try:
            response = httpx.get(base + "/healthz", timeout=5)
            last = response.json()
            if response.status_code == 200:
                return last
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise click.ClickException(f"/healthz did not report healthy: {last or 'no answer'}")


def _check_login(base: str, email: str, password: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if not token:
            raise click.ClickException("the login page has no CSRF token")
        response = client.post("/login", data={"csrf_token": token.group(1), "email": email, "password": password})
        if response.status_code != 302:
            raise click.ClickException(f"demo login failed with HTTP {response.status_code}")
        if client.get("/").status_code != 200:
            raise click.ClickException("the overview did not load after logging in")


def _exit_on_signal(signum, frame):
    """SIGTERM ends the demo like Ctrl-C: unwinding runs the clean-up of the children and the embedded Redis.
    (Calling server.shutdown() here would deadlock: it waits for the loop this very thread is running.)"""
    raise SystemExit(0)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=Whole(0, 65535))
@click.option("--reset", is_flag=True, help="Start over with an empty demo database.")
@click.option("--check", is_flag=True, help="Start, probe /healthz and one login, then exit 0 or 1.")
def demo(host: str, port: int, reset: bool, check: bool) -> None:
    """Run the demo: embedded database, Redis, worker, Amazon sandbox and the web app."""
    env = dict(os.environ)
    env.setdefault("MARKETING_ENV", "development")
    if env["MARKETING_ENV"] == "production":
        raise click.BadParameter("the demo does not run with MARKETING_ENV=production")
    instance = Path(env.get("MARKETING_INSTANCE_PATH") or default_instance_path())
    env["MARKETING_INSTANCE_PATH"] = str(instance)
    if reset and instance.exists():
        embedded.stop(instance)
        shutil.rmtree(instance)
    instance.mkdir(parents=True, exist_ok=True)
    # bind first: a busy port fails fast
    server = make_server(host, port, None, threaded=True, request_handler=AnonymousRequestHandler)
    base = f"http://{host}:{server.server_port}"
    env.setdefault("PUBLIC_URL", base)

    children: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, _exit_on_signal)  # before anything starts: a SIGTERM at any point cleans up
    try:
        if env.get("AMAZON_BASE_URL"):  # a real Amazon app (or an external sandbox) is configured
            info = {}
        else:
            sandbox, info = _start_sandbox(env)
            children.append(sandbox)
            env.update(_sandbox_env(info), AMAZON_TIME_SCALE=str(DEMO_TIME_SCALE))
        os.environ.update(env)
        app = create_app()
        with app.app_context():
            upgrade()
        logins = demo_seed.seed(app)
        if info:
            demo_seed.register_sandbox_callbacks(app, info)
            demo_seed.limit_like_amazon(info)
            demo_seed.seed_sandbox_sellers(app, info)
            demo_seed.seed_fees(app, info)
            demo_seed.seed_inventory(app, info)
            demo_seed.seed_costs(app, info)
            demo_seed.seed_outbox(app)
        children.append(_child(["worker"], env))
        server.app = app
        click.echo(f"URL={base}/")
        for email, password in logins:
            click.echo(f"LOGIN={email} {password}")
        if info:
            click.echo(f"SANDBOX={info['AMAZON_BASE_URL']} admin-key={info['AMAZON_SANDBOX_ADMIN_KEY']}")
        sys.stdout.flush()
        if not check:
            server.serve_forever()
            return
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        health = _wait_healthy(base)
        _check_login(base, *logins[0])
        click.echo(f"CHECK=ok healthz={json.dumps(health)}")
        server.shutdown()
    finally:
        for proc in children:
            proc.terminate()
        for proc in children:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        embedded.stop(instance)
        server.server_close()
