"""The weekly summary sent through a real SMTP server: both parts, the same figures, absolute working links."""

from __future__ import annotations

import re

from marketing.digest import weekly
from tests.email.conftest import PUBLIC_URL, WEEK


def test_summary_has_both_parts_with_the_same_figures(mail, marketer):
    assert weekly.send_to(marketer.id, WEEK) == "sent"
    assert len(mail.messages) == 1
    envelope = mail.messages[0]
    assert envelope.rcpt_tos == ["marketer@example.com"]
    assert envelope.mail_from == "reports@marketing.example"
    message = mail.parsed()
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    # this week: 7 × 30 + 7 × 5 + 1 = 246 spend; 840 sales; the week before: 140 spend, 700 sales
    for figure in ("246.00 USD", "840.00 USD", "140.00 USD", "700.00 USD", "+75.7%", "Tents - Exact",
                   "Stoves - Broad", "1 bid suggestion"):
        assert figure in html, figure
        assert figure in text, figure
    assert "<style" not in html and 'style="' in html  # CSS inlined
    assert "<script" not in html and "<img" not in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(html.encode()) <= 100 * 1024


def test_links_are_absolute_and_work(mail, marketer, client, login):
    weekly.send_to(marketer.id, WEEK)
    message = mail.parsed()
    html = message.get_body(("html",)).get_content()
    links = set(re.findall(r'href="([^"]+)"', html))
    assert links and all(link.startswith(PUBLIC_URL + "/") for link in links)
    login(marketer.email)
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
