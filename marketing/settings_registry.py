"""Business settings: their definitions, validation, reads with defaults, and audited writes.

App-wide settings apply to every seller; seller-scoped ones may be overridden per seller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from marketing import audit
from marketing.extensions import db
from marketing.models import SettingValue, User


class SettingError(ValueError):
    """A submitted value is not acceptable; the message is for the user."""


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    kind: str  # "int" | "percent" | "date" | "money"
    default: object
    help: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    seller_scoped: bool = False

    def parse(self, raw: str) -> object:
        raw = (raw or "").strip()
        if not raw and self.default is None:  # optional settings may be cleared
            return None
        if self.kind == "date":
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                raise SettingError(f"{self.label}: enter a date as YYYY-MM-DD.") from None
        try:
            number = Decimal(raw.rstrip("%").strip())
        except InvalidOperation:
            raise SettingError(f"{self.label}: enter a number.") from None
        if not number.is_finite():
            raise SettingError(f"{self.label}: enter a number.")
        if self.kind == "int" and number != number.to_integral_value():
            raise SettingError(f"{self.label}: enter a whole number.")
        # Range before int(): int(Decimal("1e999999999")) would build a billion-digit number.
        if self.minimum is not None and number < self.minimum:
            raise SettingError(f"{self.label}: must be at least {self.minimum}.")
        if self.maximum is not None and number > self.maximum:
            raise SettingError(f"{self.label}: must be at most {self.maximum}.")
        return int(number) if self.kind == "int" else number

    def dump(self, value: object) -> str:
        return "" if value is None else (value.isoformat() if isinstance(value, dt.date) else str(value))


DEFINITIONS: dict[str, Definition] = {}


def define(definition: Definition) -> Definition:
    DEFINITIONS[definition.key] = definition
    return definition


define(Definition(
    "token_expiry_warning_days", "Expiry warning (days)", "int", 30,
    "A connection shows as expiring this many days before Amazon ends its authorization.",
    Decimal(1), Decimal(180),
))
define(Definition(
    "target_acos", "Target ACoS (%)", "percent", Decimal("30"),
    "Advertising cost of sales the bid engine aims for, unless a seller or campaign overrides it.",
    Decimal("0.1"), Decimal("100"), seller_scoped=True,
))
define(Definition(
    "ads_authorization_days", "Amazon Ads authorization lifetime (days)", "int", None,
    "Leave empty while Amazon Ads refresh tokens do not expire; set 365 if Amazon announces they do.",
    Decimal(1), Decimal(3650),
))
define(Definition(
    "ads_client_secret_rotated_on", "Amazon Ads client secret last rotated", "date", None,
    "Amazon asks for LWA client secrets to be rotated every 180 days; admins are warned ahead of that.",
))
define(Definition(
    "sp_client_secret_rotated_on", "SP-API client secret last rotated", "date", None,
    "Amazon asks for LWA client secrets to be rotated every 180 days; admins are warned ahead of that.",
))


def _row(key: str, seller_id: int | None) -> SettingValue | None:
    scope = SettingValue.seller_id.is_(None) if seller_id is None else SettingValue.seller_id == seller_id
    return db.session.scalar(select(SettingValue).where(SettingValue.key == key, scope))


def get(key: str, seller_id: int | None = None) -> object:
    """The effective value: the seller's override, else the app-wide value, else the default."""
    definition = DEFINITIONS[key]
    scopes = [seller_id, None] if seller_id is not None and definition.seller_scoped else [None]
    for scope in scopes:
        row = _row(key, scope)
        if row is not None:
            return definition.parse(row.value) if row.value != "" else None
    return definition.default


def set_value(key: str, raw: str, *, actor: User | None, seller_id: int | None = None) -> object:
    """Validate and store a setting; audited with old and new values. Raises SettingError."""
    definition = DEFINITIONS[key]
    if seller_id is not None and not definition.seller_scoped:
        raise SettingError(f"{definition.label} is an app-wide setting.")
    value = definition.parse(raw)
    old = get(key, seller_id)
    row = _row(key, seller_id)
    if row is None:
        row = SettingValue(key=key, seller_id=seller_id, value="")
        db.session.add(row)
    row.value = definition.dump(value)
    row.updated_by_id = actor.id if actor else None
    if old != value:
        audit.record("setting.changed", actor=actor, target_type="setting", target_id=key, seller_id=seller_id,
                     old=definition.dump(old), new=definition.dump(value))
    return value
