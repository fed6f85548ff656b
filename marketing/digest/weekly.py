"""Sending the weekly summary: due users found by the periodic tick in each user's local time, one RQ job
per batch of users and ISO week (unique id), exactly one email per user and week (the send log's key).

A user is due once the weekday and hour chosen in their time zone have passed in the current week; the
summary covers the last complete Monday–Sunday before that moment. While a profile's Sunday is not stored
yet, the job waits (the next tick tries again) for up to `WAIT_FOR_DATA`, then sends saying "data through".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from marketing import jobs
from marketing.clock import now
from marketing.digest import build, preferences, render, weeks
from marketing.extensions import db
from marketing.mail import sendlog, transport
from marketing.models import EmailPreference, EmailSend, Seller, User, user_sellers

log = logging.getLogger("marketing.email")

BATCH = 100
WAIT_FOR_DATA = dt.timedelta(hours=24)


def key(user_id: int, week: weeks.Week) -> str:
    return f"weekly-{user_id}-{week.label}"


def current_week(pref: EmailPreference) -> weeks.Week:
    """The week a summary built now covers: the last complete one in the user's time zone."""
    return weeks.last_complete(now().astimezone(weeks.zone(pref.timezone)).date())


def digest_for(user: User, week: weeks.Week | None = None) -> build.Digest:
    """The summary `user` gets for `week` (default: the current one), as built right now (preview, CLI)."""
    pref = preferences.get(user.id)
    return build.weekly(user, preferences.sellers_for(user, pref), week or current_week(pref))


@dataclass(frozen=True)
class Due:
    user_id: int
    week: str
    deadline: str  # ISO time after which the summary no longer waits for data


def due(at: dt.datetime | None = None) -> list[Due]:
    """Users whose chosen moment this week has passed and who have no summary for its week yet."""
    at = at or now()
    candidates = []
    assigned = set(db.session.scalars(select(user_sellers.c.user_id).distinct()))
    any_seller = db.session.scalar(select(Seller.id).limit(1)) is not None
    for user, pref in preferences.recipients():
        if not pref.weekly or not (user.id in assigned or (user.is_admin and any_seller)):
            continue  # (a user who sees no seller would otherwise be queued, and skipped, at every tick)
        local = at.astimezone(weeks.zone(pref.timezone))
        monday = local.date() - dt.timedelta(days=local.weekday())
        moment = dt.datetime.combine(monday + dt.timedelta(days=pref.weekday), dt.time(pref.hour), local.tzinfo)
        if moment > local:
            moment -= dt.timedelta(days=7)
        week = weeks.last_complete(moment.date())
        candidates.append(Due(user.id, week.label, (moment + WAIT_FOR_DATA).astimezone(dt.UTC).isoformat()))
    keys = [f"weekly-{c.user_id}-{c.week}" for c in candidates]
    done = set()
    for start in range(0, len(keys), 1000):
        done.update(db.session.scalars(select(EmailSend.dedupe_key).where(
            EmailSend.dedupe_key.in_(keys[start:start + 1000]), EmailSend.state != "queued")))
    return [c for c, k in zip(candidates, keys, strict=True) if k not in done]


def schedule() -> int:
    """Periodic: enqueue the due users in batches; returns how many batch jobs were enqueued."""
    if transport.off_reason():
        return 0
    by_week: dict[str, list[Due]] = defaultdict(list)
    for item in due():
        by_week[item.week].append(item)
    count = 0
    for week, items in by_week.items():
        for start in range(0, len(items), BATCH):
            batch = items[start:start + BATCH]
            ids = [i.user_id for i in batch]
            digest = hashlib.sha1(",".join(map(str, ids)).encode(), usedforsecurity=False).hexdigest()[:12]
            jobs.enqueue("email", send_batch, [[i.user_id, i.deadline] for i in batch], week,
                         job_id=f"email-weekly-{week}-{digest}", unique=True, result_ttl=600,
                         job_timeout=max(60, 3 * len(batch)))
            count += 1
    return count


def send_batch(users: list[list], week_label: str) -> dict[str, int]:
    """RQ job: one summary per (user id, deadline) pair; one user's failure never stops the others."""
    week = weeks.parse(week_label)
    counts: dict[str, int] = defaultdict(int)
    with transport.one_connection():
        for user_id, deadline in users:
            wait = now() < dt.datetime.fromisoformat(deadline)
            try:
                outcome = send_to(user_id, week, wait_for_data=wait)
            except Exception:
                db.session.rollback()
                log.exception("weekly summary for user %s, %s failed", user_id, week_label)
                outcome = "failed"
            counts[outcome] += 1
    return dict(counts)


def send_to(user_id: int, week: weeks.Week, *, wait_for_data: bool = False, dry_run: bool = False) -> str:
    """Send `user_id` the summary of `week` unless already done. Returns `sent`, `skipped` (already sent,
    switched off, no seller, user gone), `waiting` (data not stored yet), `retrying` (4xx: a retry is
    scheduled) or `failed`."""
    user = preferences.user(user_id)
    if user is None or not user.active:
        return "skipped"
    row = sendlog.find(key(user.id, week))
    if row is not None and row.state in sendlog.DONE:
        return "skipped"
    pref = preferences.get(user.id)
    sellers = preferences.sellers_for(user, pref)
    if not pref.weekly or not sellers:
        return "skipped"
    digest = build.weekly(user, sellers, week)
    if wait_for_data and not digest.complete:
        return "waiting"
    if dry_run:
        return "sent"
    row = row or sendlog.open_row(key(user.id, week), user, user.email, "weekly", week.label)
    state = sendlog.send(row, lambda: render.message(digest))
    if state == "queued":
        jobs.queue("email").enqueue_in(sendlog.backoff(row.attempts), retry, user.id, week.label,
                                       job_id=f"email-retry-{row.id}-{row.attempts}", unique=True,
                                       result_ttl=600, failure_ttl=jobs.DEFAULTS["email"].failure_ttl)
        return "retrying"
    return {"sent": "sent", "unknown": "failed", "failed": "failed"}.get(state, "skipped")  # sending: elsewhere


def retry(user_id: int, week_label: str) -> str:
    """RQ job: the next attempt after a temporary SMTP failure (no more waiting for data)."""
    return send_to(user_id, weeks.parse(week_label))
