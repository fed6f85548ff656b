"""App-level alerts: problems with our own Amazon apps, shown to admins and never blamed on a seller."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from marketing import settings_registry
from marketing.clock import now, today
from marketing.extensions import db
from marketing.models import API_LABELS, AppAlert

SECRET_LIFETIME_DAYS = 180
SECRET_WARNING_DAYS = 30


@dataclass(frozen=True)
class Banner:
    key: str
    message: str


def raise_alert(key: str, message: str) -> None:
    alert = db.session.scalar(select(AppAlert).where(AppAlert.key == key))
    if alert is None:
        db.session.add(AppAlert(key=key, message=message))
    elif alert.cleared_at is not None or alert.message != message:
        alert.message, alert.raised_at, alert.cleared_at = message, now(), None


def invalid_client(api: str) -> str:
    """The one wording of "Amazon refused our own app credentials" (alerts, pages, failed suggestions)."""
    return (f"Amazon rejected this deployment's own app credentials (invalid_client) for {API_LABELS[api]}; an "
            f"admin must fix AMAZON_{api.upper()}_CLIENT_ID / _CLIENT_SECRET. Sellers' authorizations are not "
            "affected.")


def raise_invalid_client(api: str) -> None:
    raise_alert(f"invalid-client-{api}", invalid_client(api))


def clear_alert(key: str) -> None:
    alert = db.session.scalar(select(AppAlert).where(AppAlert.key == key, AppAlert.cleared_at.is_(None)))
    if alert is not None:
        alert.cleared_at = now()


def is_raised(key: str) -> bool:
    return db.session.scalar(select(AppAlert.id).where(AppAlert.key == key, AppAlert.cleared_at.is_(None))) is not None


def banners() -> list[Banner]:
    """Everything an admin should see on every page: raised alerts and secrets due for rotation."""
    result = [Banner(a.key, a.message) for a in db.session.scalars(
        select(AppAlert).where(AppAlert.cleared_at.is_(None)).order_by(AppAlert.raised_at))]
    for api, label in (("ads", "Amazon Ads"), ("sp", "SP-API")):
        rotated = settings_registry.get(f"{api}_client_secret_rotated_on")
        if rotated is None:
            continue
        due = rotated + dt.timedelta(days=SECRET_LIFETIME_DAYS)
        days = (due - today()).days
        if days <= SECRET_WARNING_DAYS:
            when = f"in {days} days ({due.isoformat()})" if days >= 0 else f"{-days} days ago ({due.isoformat()})"
            result.append(Banner(f"rotate-{api}", f"The {label} client secret is due for rotation {when}. "
                                 "Rotate it in the Amazon developer console, update the deployment's "
                                 f"AMAZON_{api.upper()}_CLIENT_SECRET, then record the date in Settings."))
    return result
