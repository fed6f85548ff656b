"""How numbers and dates read, in tables and in chart hover text alike (one place, so the two agree)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

# ISO 4217 currencies Amazon marketplaces use without minor units.
_NO_MINOR_UNITS = {"JPY", "KRW", "CLP", "VND"}
DASH = "—"


# what a currency's amounts are written with in a sentence ("$3 off"); a code without one is written before the number
_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "MXN": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def currency_symbol(currency: str) -> str:
    """`$` for USD, `£` for GBP; `SEK ` for a currency without a symbol here."""
    return _SYMBOLS.get(currency, f"{currency} ")


def money(value: Decimal | float | None, currency: str) -> str:
    """`1,234.50 USD`; always with the code, so two currencies can never be read as one."""
    if value is None:
        return DASH
    places = 0 if currency in _NO_MINOR_UNITS else 2
    return f"{value:,.{places}f} {currency}"


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def percent(value: Decimal | float | None) -> str:
    """A ratio (0.234) as `23.4%`; None (e.g. ACoS without sales) as a dash."""
    return DASH if value is None else f"{value * 100:,.1f}%"


def roas(value: Decimal | float | None) -> str:
    return DASH if value is None else f"{value:,.2f}"


def change(value: Decimal | float | None) -> str:
    """A relative change (0.12) as `+12.0%`; None when there is nothing to compare with."""
    if value is None:
        return DASH
    return f"{value * 100:+,.1f}%"


def day(value: dt.date) -> str:
    return value.isoformat()


def local_time(value: dt.datetime | None, timezone: str | None) -> str:
    """A UTC timestamp in the profile's time zone (UTC when there is none), to the minute."""
    if value is None:
        return DASH
    zone = ZoneInfo(timezone) if timezone else dt.UTC
    local = value.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")


FILTERS = {"money": money, "count": count, "percent": percent, "roas": roas, "change": change, "day": day,
           "local_time": local_time}
