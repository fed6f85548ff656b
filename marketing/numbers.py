"""Numbers typed by people: one strict reading behind every money, percent and count input.

`Decimal()` alone accepts "1_0" (10), "1E+2" (100), "NaN", "١" and "３０"; a comma is a decimal mark in one
locale and a thousands separator in another ("1,000" → 1.00). A typed number here is ASCII digits with at most
one dot and at most the column's decimals: anything else is refused with a message saying what to type, never
guessed or silently cut.
"""

from __future__ import annotations

import re
from decimal import Decimal

_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_LONGEST = 40  # characters; anything longer is not a number anyone typed


class BadNumber(ValueError):
    """A typed number that cannot be used; the message is for the person who typed it.

    `problem` says which rule failed ("syntax", "comma", "places" or "range"), for callers that word their
    own message (a settings form says "enter a whole number")."""

    def __init__(self, message: str, problem: str = "range") -> None:
        super().__init__(message)
        self.problem = problem


def parse_decimal(raw: str | None, *, places: int, example: str = "12.50", minimum: Decimal | None = None,
                  maximum: Decimal | None = None, label: str = "The value", affixes: str = "") -> Decimal | None:
    """The exact number typed, or None for a blank; raises BadNumber with a message for the user.

    `places` is the column's scale: more decimals than that are an error unless they are zeros (12.50000 is
    exactly 12.5; 0.12345 is not 0.1234). `affixes` are symbols people type around a number ("%", "$€£¥"),
    accepted and dropped at either end."""
    text = (raw or "").strip()
    if affixes:
        text = text.strip(affixes).strip()
    if not text:
        return None
    shown = text if len(text) <= 20 else text[:20] + "…"
    if "," in text and len(text) <= _LONGEST:
        raise BadNumber(f"“{shown}”: use a dot for decimals, like {example}, and no thousands separators.",
                        "comma")
    if len(text) > _LONGEST or not _NUMBER.fullmatch(text):
        raise BadNumber(f"“{shown}” is not a number; write it like {example}.", "syntax")
    value = Decimal(text)
    if -value.normalize().as_tuple().exponent > places and value != 0:
        raise BadNumber(f"“{shown}” has more than {places} decimals." if places else
                        f"“{shown}” must be a whole number.", "places")
    if minimum is not None and value < minimum:
        raise BadNumber(f"{label} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise BadNumber(f"{label} must be at most {maximum}.")
    return value + 0  # "-0" is 0


def parse_whole(raw: str | None, *, minimum: int | None = None, maximum: int | None = None,
                label: str = "The value") -> int | None:
    """A whole number typed by a person (a count, a number of days), or None for a blank."""
    value = parse_decimal(raw, places=0, example="14", label=label,
                          minimum=None if minimum is None else Decimal(minimum),
                          maximum=None if maximum is None else Decimal(maximum))
    return None if value is None else int(value)
