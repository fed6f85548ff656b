"""The products domain without a database: the cost-file parser, typed amounts and the margin rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketing.numbers import BadNumber
from marketing.optimize.margin import break_even_acos as engine_break_even
from marketing.optimize.margin import fees_per_unit
from marketing.products.forms import money_text, parse_margin, parse_money
from marketing.products.importing import ImportLine, parse_import
from marketing.products.margin import Economics, break_even_acos, derive_target_acos

SHOE, SOCK = "B00SHOE001", "B00SOCK001"
KNOWN = {SHOE, SOCK}


def test_lines_without_a_header_are_asin_cost_and_optional_price():
    lines, errors = parse_import(f"{SHOE},6\n\n{SOCK.lower()},2.5,4\n", KNOWN)
    assert errors == []
    assert lines == [ImportLine(SHOE, Decimal(6), None, False), ImportLine(SOCK, Decimal("2.5"), Decimal(4), True)]


def test_a_header_names_the_columns_and_others_are_ignored():
    text = f"ASIN,note,price,unit_cost\n{SHOE},x,,\n"
    assert parse_import(text, KNOWN) == ([ImportLine(SHOE, None, None, True)], [])  # blanks clear both
    assert parse_import("asin,price\n", KNOWN) == ([], ["Line 1: the header has no unit_cost column."])


def test_every_bad_line_is_reported_and_none_is_kept():
    text = f"{SHOE},6\n{SOCK},1_0\nB00UNKNOWN,2\n{SHOE},7\n{SOCK},1,0\n{SOCK},1\n"
    lines, errors = parse_import(text, KNOWN)
    assert lines == []
    assert errors == [
        "Line 2: unit cost “1_0” is not a number; write it like 12.50.",
        "Line 3: B00UNKNOWN is not one of this seller's advertised products.",
        f"Line 4: {SHOE} is already on line 1.",
        "Line 5: price 0 must be more than 0.",
    ]


def test_a_too_long_file_is_refused():
    assert parse_import(f"{SHOE},1\n" * 50_001, KNOWN)[1] == ["The file has more than 50,000 lines; split it."]


@pytest.mark.parametrize(("typed", "message"), [
    ("1_0", "not a number"), ("1,25", "use a dot"), ("1E+2", "not a number"), ("١", "not a number"),
    ("３０", "not a number"), ("0.1234567890", "more than 4 decimals"), ("-1", "at least 0"),
    ("1000000000", "at most"),
])
def test_amounts_are_read_strictly(typed, message):
    with pytest.raises(BadNumber, match=message):
        parse_money(typed)


def test_amounts_round_trip_through_the_field():
    assert parse_money(" 12.5 ") == Decimal("12.5") and parse_money("") is None
    assert [money_text(v) for v in (Decimal("12.5000"), Decimal("0.1234"), Decimal("120"), None)] == [
        "12.50", "0.1234", "120.00", ""]


@pytest.mark.parametrize(("typed", "message"), [("abc", "enter a percentage"), ("", "enter a percentage"),
                                                ("100", "below 100"), ("10,5", "use a dot")])
def test_a_margin_is_a_percentage_below_100(typed, message):
    assert parse_margin("12.5 %") == Decimal("12.5")
    with pytest.raises(BadNumber, match=message):
        parse_margin(typed)


def test_break_even_is_the_engines_rule():
    assert break_even_acos(Decimal(20), Decimal(6), Decimal(0)) == Decimal("0.7000")
    assert break_even_acos(Decimal(20), Decimal(6)) == Decimal("0.5500")  # a referral fee not entered: 15 %
    assert break_even_acos(Decimal(3), Decimal(4), Decimal(0)) == Decimal("-0.3333")  # loses money before any ad
    assert break_even_acos(Decimal(3), None) is None and break_even_acos(None, Decimal(1)) is None
    assert float(break_even_acos(Decimal("19.99"), Decimal("7.25"))) == pytest.approx(
        float(engine_break_even(19.99, 7.25, fees_per_unit(19.99, None, None))), abs=5e-5)


def test_a_target_acos_is_sales_weighted_and_unreachable_asins_count_as_zero():
    shoe, sock = Economics(SHOE, Decimal(20), Decimal(6), Decimal(200)), Economics(SOCK, Decimal(5), Decimal("4.5"),
                                                                                 Decimal(100))
    derived = derive_target_acos([shoe, sock], Decimal(20))
    assert (derived.target_acos, derived.asins, derived.unreachable) == (Decimal("33.3"), 2, [SOCK])
    unsold = [Economics(SHOE, Decimal(20), Decimal(6), Decimal(0)), Economics(SOCK, Decimal(10), Decimal(5),
                                                                               Decimal(0))]
    assert derive_target_acos(unsold, Decimal(10)).target_acos == Decimal("50.0")  # (60 + 40) / 2
    assert derive_target_acos([], Decimal(10)) is None
