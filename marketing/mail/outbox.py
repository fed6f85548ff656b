"""The development outbox: each message as an .eml file in `instance/outbox/`, read by admins in the app."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.policy import default as default_policy
from pathlib import Path

from flask import current_app

from marketing.clock import now

NAME = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}\.eml$")


def folder() -> Path:
    return Path(current_app.instance_path) / "outbox"


def write(message: EmailMessage) -> str:
    """Store the message (written to a temporary name, then renamed: readers never see half a file)."""
    path = folder()
    path.mkdir(parents=True, exist_ok=True)
    name = f"{now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}.eml"
    temporary = path / f".{name}.tmp"
    temporary.write_bytes(message.as_bytes(policy=SMTPUTF8))
    os.replace(temporary, path / name)
    return name


@dataclass(frozen=True)
class Entry:
    name: str
    subject: str
    to: str
    date: str
    size: int


def entries(limit: int = 200) -> list[Entry]:
    """The newest messages first."""
    path = folder()
    if not path.is_dir():
        return []
    names = sorted((p.name for p in path.iterdir() if NAME.match(p.name)), reverse=True)[:limit]
    result = []
    for name in names:
        message = read(name)
        if message is not None:
            result.append(Entry(name, str(message["Subject"] or ""), str(message["To"] or ""),
                                str(message["Date"] or ""), (path / name).stat().st_size))
    return result


def read(name: str) -> EmailMessage | None:
    """The stored message called `name`, or None (unknown or malformed names included)."""
    if not NAME.match(name or ""):
        return None
    file = folder() / name
    if not file.is_file():
        return None
    return message_from_bytes(file.read_bytes(), policy=default_policy)
