"""Approving a bid on the campaign page sends it to the sandbox at once; the keyword's row then shows Amazon's
answer: applied with the new current bid, or failed with the reason and a way to try again."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from marketing.bids.apply import live_bids
from marketing.formatting import money
from marketing.models import Suggestion


def _row(html: str, target_id: int) -> str:
    return re.search(rf'/targets/{target_id}\?.*?</tr>', html, re.S).group(0)


def _page(client, suggestion: Suggestion) -> tuple[str, str]:
    url = (f"/sellers/{suggestion.seller_id}/campaigns/{suggestion.campaign_id}?profile={suggestion.profile_id}"
           f"&q={quote(suggestion.label)}")  # the keyword may be beyond the table's first page
    return url, client.get(url).get_data(as_text=True)


def _approve_inline(client, suggestion: Suggestion, url: str) -> str:
    form = {"ids": suggestion.id, "action": "approve", "send": "1", "back": url}
    response = client.post(f"/sellers/{suggestion.seller_id}/suggestions/decide", data=form, follow_redirects=True)
    return response.get_data(as_text=True)


@pytest.mark.sqlite
def test_an_inline_approval_is_applied_and_the_row_shows_the_new_bid(client, db, queue, seller, ads, marketer,
                                                                      make_suggestions):
    suggestion = make_suggestions(1)[0]
    target_id, current, proposed = suggestion.entity_id, suggestion.current_value, suggestion.proposed_value
    url, html = _page(client, suggestion)
    assert f"→ {money(proposed, 'USD')}" in _row(html, target_id)
    html = _approve_inline(client, suggestion, url)
    assert "1 suggestion approved. Sending to Amazon" in html
    assert "sending to Amazon" in _row(html, target_id)
    queue.work("default")  # the worker's clean-up detaches `suggestion`
    row = _row(client.get(url).get_data(as_text=True), target_id)
    assert 'data-state="applied"' in row
    assert f"applied {money(current, 'USD')} → {money(proposed, 'USD')} on " in row
    bid_cell = re.search(r'<td class="num">([^<]*)', row).group(1).strip()
    assert bid_cell == money(proposed, "USD")
    assert live_bids(ads, seller.profile_id, "keyword", [target_id])[target_id][1] == proposed


def test_a_refused_inline_approval_shows_why_and_can_be_tried_again(client, db, sbx, queue, seller, ads, marketer,
                                                                    make_suggestions):
    suggestion = make_suggestions(1)[0]
    suggestion_id, target_id = suggestion.id, suggestion.entity_id
    url, _ = _page(client, suggestion)
    sbx.admin.fault(path_prefix="/sp/keywords", kind="error", status=500)
    _approve_inline(client, suggestion, url)
    queue.work("default")
    sbx.admin.clear_faults()
    db.session.expire_all()
    suggestion = db.session.get(Suggestion, suggestion_id)
    row = _row(client.get(url).get_data(as_text=True), target_id)
    assert 'data-state="failed"' in row and "Try again later." in row and ">Try again</button>" in row
    assert "Sending to Amazon" in _approve_inline(client, suggestion, url)
    queue.work("default")
    db.session.expire_all()
    assert db.session.get(Suggestion, suggestion_id).status == "applied"
