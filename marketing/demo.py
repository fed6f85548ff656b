"""What `marketing demo` puts in the database: demo users (and, as features land, sandbox sellers)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from marketing import accounts
from marketing.extensions import db

DEMO_USERS = (
    ("admin@example.com", "admin", "Demo Admin"),
    ("marketer@example.com", "marketer", "Demo Marketer"),
    ("viewer@example.com", "viewer", "Demo Viewer"),
)


def demo_password(instance_path: str) -> str:
    """One password for the demo users, made once and kept in the instance folder (mode 0600)."""
    path = Path(instance_path) / "demo_password"
    if not path.exists():
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("demo-" + secrets.token_urlsafe(9))
    return path.read_text().strip()


def seed(app: Flask) -> list[tuple[str, str]]:
    """Create the demo users if missing; return (email, password) pairs to print."""
    password = demo_password(app.instance_path)
    with app.app_context():
        for email, role, name in DEMO_USERS:
            if accounts.find_user(email) is None:
                accounts.create_user(email, role, name=name, password=password)
        db.session.commit()
    return [(email, password) for email, _, _ in DEMO_USERS]
