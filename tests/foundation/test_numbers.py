"""The one strict reading of numbers typed by people (marketing.numbers)."""

from decimal import Decimal

import click
import pytest
from click.testing import CliRunner

from marketing.cli.params import Whole
from marketing.numbers import BadNumber, parse_decimal, parse_whole


@pytest.mark.parametrize(("typed", "value"), [
    ("12.50", Decimal("12.50")), (" 7 ", Decimal(7)), ("0.1234", Decimal("0.1234")), (".5", Decimal("0.5")),
    ("12.", Decimal(12)), ("12.50000", Decimal("12.5")), ("-0", Decimal(0)), ("1000000", Decimal(1000000)),
])
def test_plain_numbers_are_read_exactly(typed, value):
    assert parse_decimal(typed, places=4) == value


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_blank_is_none(typed):
    assert parse_decimal(typed, places=2) is None


@pytest.mark.parametrize("typed", [
    "1_0", "1E+2", "1e2", "NaN", "sNaN", "Infinity", "-inf", "١", "３０", "²", "1.2.3", "12 50", "0x10", "abc",
    "+5", "1" * 41, "1\u00a0000", "1\u200b2",
])
def test_anything_else_is_refused(typed):
    with pytest.raises(BadNumber, match="not a number"):
        parse_decimal(typed, places=4)


@pytest.mark.parametrize("typed", ["1,25", "1,000", "1,000.50"])
def test_a_comma_asks_for_a_dot(typed):
    with pytest.raises(BadNumber, match="use a dot"):
        parse_decimal(typed, places=2)


def test_more_decimals_than_the_column_is_an_error_not_a_cut():
    with pytest.raises(BadNumber, match="more than 4 decimals"):
        parse_decimal("0.1234567890", places=4)
    with pytest.raises(BadNumber, match="whole number"):
        parse_whole("3.5")


def test_bounds_and_affixes():
    assert parse_decimal("30 %", places=4, affixes="%") == Decimal(30)
    assert parse_decimal("$0.75", places=2, affixes="$€£¥") == Decimal("0.75")
    with pytest.raises(BadNumber, match="Target ACoS must be at most 100"):
        parse_decimal("101", places=4, maximum=Decimal(100), label="Target ACoS")
    with pytest.raises(BadNumber, match="at least 0"):
        parse_decimal("-1", places=4, minimum=Decimal(0))
    assert parse_whole("14", minimum=1, maximum=90) == 14


@pytest.mark.parametrize(("typed", "code"), [("30", 0), ("1_0", 2), ("١", 2), ("3.5", 2), ("0", 2), ("91", 2)])
def test_command_line_whole_numbers_are_read_the_same_way(typed, code):
    @click.command()
    @click.option("--days", type=Whole(1, 90))
    def show(days):
        click.echo(days)

    result = CliRunner().invoke(show, ["--days", typed])
    assert result.exit_code == code, result.output
    assert (result.output.strip() == typed) if code == 0 else "Invalid value for '--days'" in result.output
