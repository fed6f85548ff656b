"""Business settings: their definitions, validation, reads with defaults, and audited writes.

App-wide settings apply to every seller; seller-scoped ones may be overridden per seller. A setting is declared
once, here: its group (which form shows it), its type and bounds (validation), and the engine field it feeds
(`marketing.optimize.settings.BidSettings`); forms, checks and the engine's settings are derived from that.

This module imports no feature: what must follow a changed value elsewhere is named by its import path
(`on_change`) and resolved when it runs, so the features that read settings may import this module freely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pkgutil import resolve_name

from sqlalchemy import select

from marketing import audit
from marketing.extensions import db
from marketing.models import SettingValue, User
from marketing.models.base import MONEY_PLACES
from marketing.numbers import BadNumber, parse_decimal


class Group(StrEnum):
    """The form that shows a setting."""

    APP = "app"  # the admins' settings page
    BIDS = "bids"  # each seller's bid settings (on the suggestions page)


class SettingError(ValueError):
    """A submitted value is not acceptable; the message is for the user."""


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    kind: str  # "int" | "percent" | "date" | "money" | "bool" | "choice" (one of `choices`)
    default: object
    help: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    seller_scoped: bool = False
    group: Group = Group.APP
    engine_field: str | None = None  # the BidSettings field it sets (a percent becomes a fraction)
    # Checks against other settings (e.g. min bid ≤ max bid): called with (value, seller_id) before storing.
    check: Callable[[object, int | None], None] | None = None
    # What else follows a changed value, in the same transaction: "module:function", called with
    # (value, seller_id).
    on_change: str | None = None
    choices: tuple[str, ...] = ()

    def parse(self, raw: str) -> object:
        raw = (raw or "").strip()
        if not raw and self.default is None:  # optional settings may be cleared
            return None
        if self.kind == "bool":
            if raw.lower() in _TRUE | _FALSE:
                return raw.lower() in _TRUE
            raise SettingError(f"{self.label}: enter yes or no.")
        if self.kind == "choice":
            if raw.lower() in self.choices:
                return raw.lower()
            raise SettingError(f"{self.label}: enter {' or '.join(self.choices)}.")
        if self.kind == "date":
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                raise SettingError(f"{self.label}: enter a date as YYYY-MM-DD.") from None
        try:
            number = parse_decimal(raw, places=0 if self.kind == "int" else MONEY_PLACES,
                                   example="14" if self.kind == "int" else "12.5", affixes="%")
        except BadNumber as exc:
            reason = {"syntax": "enter a number.", "places": "enter a whole number." if self.kind == "int" else exc}
            raise SettingError(f"{self.label}: {reason.get(exc.problem, exc)}") from None
        if number is None:
            raise SettingError(f"{self.label}: enter a number.")
        if self.minimum is not None and number < self.minimum:
            raise SettingError(f"{self.label}: must be at least {self.minimum}.")
        if self.maximum is not None and number > self.maximum:
            raise SettingError(f"{self.label}: must be at most {self.maximum}.")
        return int(number) if self.kind == "int" else number

    def checked(self, raw: str | None) -> bool:
        """Whether a form shows this yes/no setting ticked for the text `raw`."""
        return (raw or "").strip().lower() in _TRUE

    def engine_value(self, value: object) -> object:
        """`value` in the engine's terms: fractions for percents."""
        return value / 100 if self.kind == "percent" and value is not None else value

    def dump(self, value: object) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "" if value is None else (value.isoformat() if isinstance(value, dt.date) else str(value))


_TRUE = {"yes", "y", "true", "on", "1"}
_FALSE = {"no", "n", "false", "off", "0"}


DEFINITIONS: dict[str, Definition] = {}


def define(definition: Definition) -> Definition:
    DEFINITIONS[definition.key] = definition
    return definition


def group(name: Group) -> dict[str, Definition]:
    """The settings one form shows, in declaration order."""
    return {key: d for key, d in DEFINITIONS.items() if d.group == name}


define(Definition(
    "token_expiry_warning_days", "Expiry warning (days)", "int", 30,
    "A connection shows as expiring this many days before Amazon ends its authorization.",
    Decimal(1), Decimal(180),
))
define(Definition(
    "target_acos", "Target ACoS (%)", "percent", Decimal("30"),
    "Advertising cost of sales the bid engine aims for, unless a seller or campaign overrides it.",
    Decimal("0.1"), Decimal("100"), seller_scoped=True, group=Group.BIDS, engine_field="target_acos",
))
define(Definition(
    "ads_authorization_days", "Amazon Ads authorization lifetime (days)", "int", None,
    "Leave empty while Amazon Ads refresh tokens do not expire; set 365 if Amazon announces they do.",
    # Existing Ads authorizations follow a changed lifetime too, not only those stored from now on.
    Decimal(1), Decimal(3650), on_change="marketing.connections.service:apply_ads_lifetime",
))
define(Definition(
    "ads_client_secret_rotated_on", "Amazon Ads client secret last rotated", "date", None,
    "Amazon asks for LWA client secrets to be rotated every 180 days; admins are warned ahead of that.",
))
define(Definition(
    "sp_client_secret_rotated_on", "SP-API client secret last rotated", "date", None,
    "Amazon asks for LWA client secrets to be rotated every 180 days; admins are warned ahead of that.",
))


def _bid_below_max(value: object, seller_id: int | None) -> None:
    high = get("bid_max", seller_id)
    if high is not None and value > high:
        raise SettingError(f"Minimum bid: {value} is above the maximum bid ({high}); lower it or raise the maximum.")


def _bid_above_min(value: object, seller_id: int | None) -> None:
    low = get("bid_min", seller_id)
    if low is not None and value < low:
        raise SettingError(f"Maximum bid: {value} is below the minimum bid ({low}); raise it or lower the minimum.")


def _band_below_step(value: object, seller_id: int | None) -> None:
    step = get("bid_step_cap", seller_id)
    if value >= step:
        raise SettingError(f"Smallest bid change: {value}% must be below the largest change per run ({step}%).")


def _step_above_band(value: object, seller_id: int | None) -> None:
    band = get("bid_dead_band", seller_id)
    if value <= band:
        raise SettingError(f"Largest bid change per run: {value}% must be above the smallest change ({band}%).")


# The bid engine's guardrails (`marketing.bids.rules.guardrails` reads them together), seller-scoped so one
# seller can be run more cautiously than the rest.
define(Definition(
    "bid_objective", "Objective", "choice", "profit",
    "profit: the most profit with ACoS at or below the target (needs unit costs on the products page; a product "
    "without one is bid for growth, and the suggestion says so). growth: the most sales with ACoS at or below "
    "the target.", seller_scoped=True, group=Group.BIDS, engine_field="objective", choices=("profit", "growth"),
))
define(Definition(
    "bid_min", "Minimum bid", "money", None,
    "No suggestion goes below this (each profile's currency; a marketplace whose legal range excludes it "
    "uses its own minimum). Empty: the marketplace's minimum.",
    Decimal("0.02"), Decimal("100000"), seller_scoped=True, check=_bid_below_max, group=Group.BIDS,
    engine_field="min_bid",
))
define(Definition(
    "bid_max", "Maximum bid", "money", None,
    "No suggestion goes above this (each profile's currency; a marketplace whose legal range excludes it "
    "uses its own maximum). Empty: the marketplace's maximum.",
    Decimal("0.02"), Decimal("100000"), seller_scoped=True, check=_bid_above_min, group=Group.BIDS,
    engine_field="max_bid",
))
define(Definition(
    "bid_dead_band", "Smallest bid change (%)", "percent", Decimal("5"),
    "The engine does not suggest moving a bid by less than this share of it (no churn for pennies).",
    Decimal("0"), Decimal("90"), seller_scoped=True, check=_band_below_step, group=Group.BIDS, engine_field="dead_band",
))
define(Definition(
    "bid_step_cap", "Largest bid change per run (%)", "percent", Decimal("25"),
    "A suggestion moves a bid by at most this share of it, so the engine approaches its aim over several runs.",
    Decimal("1"), Decimal("99"), seller_scoped=True, check=_step_above_band, group=Group.BIDS, engine_field="max_step",
))
define(Definition(
    "bid_cooldown_days", "Days between changes of one bid", "int", 3,
    "A bid changed less than this many days ago is left alone until its effect shows in the data.",
    Decimal(0), Decimal(90), seller_scoped=True, group=Group.BIDS, engine_field="cooldown_days",
))
define(Definition(
    "bid_lookback_days", "Bid look-back (days)", "int", 30,
    "Days of performance before today the engine reads; the most recent 3 are always left out (Amazon is "
    "still attributing sales to them).", Decimal(7), Decimal(90), seller_scoped=True, group=Group.BIDS,
    engine_field="lookback_days",
))
define(Definition(
    "bid_no_order_clicks", "Clicks before lowering a bid without orders", "int", 10,
    "A target with no orders is lowered for lack of them only after at least this many clicks (and only when "
    "the confidence below says its conversion rate is under break-even).",
    Decimal(1), Decimal(1000), seller_scoped=True, group=Group.BIDS, engine_field="min_clicks_for_no_order_cut",
))
define(Definition(
    "bid_confidence", "Confidence to lower without orders (%)", "percent", Decimal("95"),
    "How sure the engine must be that a target converts below break-even before it lowers a bid for lack of "
    "orders; also sets the width of the conversion-rate range shown with each suggestion.",
    Decimal("60"), Decimal("99.9"), seller_scoped=True, group=Group.BIDS, engine_field="confidence",
))
define(Definition(
    "bid_visibility_impressions", "Too few impressions to learn from", "int", 100,
    "A target with fewer impressions than this in the look-back is raised a little to be seen, if it could "
    "pay for it. 0: never raise for visibility.",
    Decimal(0), Decimal(1000000), seller_scoped=True, group=Group.BIDS, engine_field="visibility_impressions",
))
define(Definition(
    "bid_auto_apply_below", "Auto-apply bid changes smaller than (%)", "percent", None,
    "Opt-in: suggestions changing a bid by less than this are approved by the system and sent. Empty: off.",
    Decimal("0.1"), Decimal("100"), seller_scoped=True, group=Group.BIDS,
))
define(Definition(
    "writes_paused", "Pause all writes to Amazon", "bool", False,
    "While yes, approved changes wait and nothing is sent to Amazon (app-wide, or for one seller).",
    seller_scoped=True, group=Group.BIDS,
))


def _row(key: str, seller_id: int | None) -> SettingValue | None:
    scope = SettingValue.seller_id.is_(None) if seller_id is None else SettingValue.seller_id == seller_id
    return db.session.scalar(select(SettingValue).where(SettingValue.key == key, scope))


def get(key: str, seller_id: int | None = None) -> object:
    """The effective value: the seller's override, else the app-wide value, else the default."""
    return get_many([key], seller_id)[key]


def get_many(keys, seller_id: int | None = None) -> dict[str, object]:
    """`get` for several keys in one query (a page showing a group of settings reads them all at once)."""
    keys = list(keys)
    scope = SettingValue.seller_id.is_(None)
    if seller_id is not None:
        scope = scope | (SettingValue.seller_id == seller_id)
    stored = {(row.key, row.seller_id): row.value
              for row in db.session.scalars(select(SettingValue).where(SettingValue.key.in_(keys), scope))}
    values = {}
    for key in keys:
        definition = DEFINITIONS[key]
        scopes = [seller_id, None] if seller_id is not None and definition.seller_scoped else [None]
        raw = next((stored[(key, s)] for s in scopes if (key, s) in stored), None)
        values[key] = definition.default if raw is None else definition.parse(raw) if raw != "" else None
    return values


def save_form(form, keys, *, actor: User | None, seller_id: int | None = None) -> list[str]:
    """Store the settings a form changed (an unchanged one is not stored, so a seller keeps following the
    app-wide value); returns the error messages, and the caller commits or rolls back.

    A yes/no field is a hidden "no" followed by a checkbox "yes": the last value sent wins."""
    errors = []
    for key in keys:
        definition = DEFINITIONS[key]
        values = form.getlist(key)
        if not values or values[-1].strip() == definition.dump(get(key, seller_id)):
            continue
        try:
            set_value(key, values[-1], actor=actor, seller_id=seller_id)
        except SettingError as exc:
            errors.append(str(exc))
    return errors


def set_value(key: str, raw: str, *, actor: User | None, seller_id: int | None = None) -> object:
    """Validate and store a setting; audited with old and new values. Raises SettingError."""
    definition = DEFINITIONS[key]
    if seller_id is not None and not definition.seller_scoped:
        raise SettingError(f"{definition.label} is an app-wide setting.")
    value = definition.parse(raw)
    if definition.check is not None and value is not None:
        definition.check(value, seller_id)
    old = get(key, seller_id)
    row = _row(key, seller_id)
    if row is None:
        row = SettingValue(key=key, seller_id=seller_id, value="")
        db.session.add(row)
    row.value = definition.dump(value)
    row.updated_by_id = actor.id if actor else None
    if old != value and definition.on_change is not None:
        resolve_name(definition.on_change)(value, seller_id)
    if old != value:
        audit.record("setting.changed", actor=actor, target_type="setting", target_id=key, seller_id=seller_id,
                     old=definition.dump(old), new=definition.dump(value))
    return value
