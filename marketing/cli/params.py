"""Command-line option types over `marketing.numbers`: `click`'s own INT is Python's int(), which reads "1_0" as
10 and "١" as 1; an option typed by a person is read as strictly as a form field (exit 2 with the reason)."""

from __future__ import annotations

import click

from marketing.numbers import BadNumber, parse_whole


class Whole(click.ParamType):
    """A whole number within [minimum, maximum] (an id, a count of days, a port)."""

    name = "integer"

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):  # a default
            return value
        try:
            number = parse_whole(value, minimum=self.minimum, maximum=self.maximum, label=f"“{value}”")
        except BadNumber as exc:
            self.fail(str(exc), param, ctx)
        if number is None:
            self.fail("give a whole number.", param, ctx)
        return number


AMAZON_ID = Whole(1, 2**63 - 1)
DATABASE_ID = Whole(1, 2**31 - 1)
