"""Numbers typed on the review page are read strictly (issue 16 item 6): a loose bid is refused, not guessed."""

from __future__ import annotations

from decimal import Decimal
from html import unescape

import pytest

from marketing import settings_registry
from marketing.amazon.hosts import marketplace
from marketing.bids import rules
from marketing.models import AuditEvent, Suggestion

pytestmark = pytest.mark.sqlite


@pytest.mark.parametrize(("typed", "message"), [
    ("1_0", "“1_0” is not a number"),
    ("1,25", "use a dot for decimals"),
    ("1E+2", "“1E+2” is not a number"),
    ("١", "“١” is not a number"),
    ("３０", "“３０” is not a number"),
    ("0.1234567890", "has more than 2 decimals"),
])
def test_a_loosely_typed_bid_is_refused_and_nothing_is_stored(client, db, marketer, seller, make_suggestions,
                                                              typed, message):
    one, two = make_suggestions(2)
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "approve", "ids": [one.id, two.id], f"bid-{one.id}": typed})
    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert message in html and "Nothing was saved" in html
    db.session.expire_all()
    assert [db.session.get(Suggestion, s.id).status for s in (one, two)] == ["pending", "pending"]
    assert db.session.query(AuditEvent).filter(AuditEvent.action == "suggestion.approved").count() == 0


def test_a_currency_symbol_around_a_bid_is_still_fine(client, db, marketer, seller, make_suggestions):
    one = make_suggestions(1)[0]
    answer = client.post(f"/sellers/{seller.id}/suggestions/decide",
                         data={"action": "approve", "ids": [one.id], f"bid-{one.id}": " $0.75 "})
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(Suggestion, one.id).approved_value == Decimal("0.75")


def test_a_bid_has_at_most_the_marketplaces_decimals():
    assert rules.parse_bid("¥12", marketplace("A1VC38T7YXB528")) == Decimal(12)  # Japan: whole yen
    with pytest.raises(rules.BadBid, match="whole number"):
        rules.parse_bid("12.5", marketplace("A1VC38T7YXB528"))
    assert rules.parse_bid("0.75 €", None) == Decimal("0.75")


@pytest.mark.parametrize("value", ["sNaN", "NaN", "1e999999", "１０", "9" * 200])  # NUL: a 400 (tests/security)
def test_an_unreadable_change_filter_is_ignored_not_a_server_error(client, marketer, seller, make_suggestions,
                                                                   value):
    one = make_suggestions(1)[0]
    page = client.get(f"/sellers/{seller.id}/suggestions", query_string={"min_change": value})
    assert page.status_code == 200
    assert f'data-id="{one.id}"' in page.get_data(as_text=True)  # the filter is ignored, the rows are shown


@pytest.mark.parametrize(("key", "typed", "message"), [
    ("bid_cooldown_days", "1_0", "enter a number."), ("bid_cooldown_days", "٣", "enter a number."),
    ("bid_cooldown_days", "2.5", "enter a whole number."), ("target_acos", "1E+1", "enter a number."),
    ("target_acos", "12,5", "use a dot"), ("target_acos", "12.123456", "more than 4 decimals"),
])
def test_settings_read_numbers_strictly(key, typed, message):
    with pytest.raises(settings_registry.SettingError, match=message):
        settings_registry.DEFINITIONS[key].parse(typed)
    assert settings_registry.DEFINITIONS["target_acos"].parse("12.5 %") == Decimal("12.5")
