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


def test_the_promotions_section_lists_suggestions_plans_to_enter_and_outcomes(db, mail, marketer, seeded, client,
                                                                              login):
    import datetime as dt
    from decimal import Decimal

    from marketing.models import PlanState, PromotionPlan, Suggestion, SuggestionRun

    hint = {"marketplace_id": "ATVPDKIKX0DER", "country": "US", "lead_days": 25.0, "reorder_units": 195.0,
            "daily_units": 10.0, "reorder_at": 280.0}
    older = SuggestionRun(seller_id=seeded.id, kind="promotion", status="succeeded",
                          restock_hints=[{"asin": a, **hint} for a in ("B0OLD00001", "B0OLD00002", "B0OLD00003")])
    run = SuggestionRun(seller_id=seeded.id, kind="promotion", status="succeeded",
                        restock_hints=[{"asin": a, **hint} for a in ("B0STOVE001", "B0LAMP0001")])
    db.session.add_all([older, run])
    db.session.flush()
    db.session.add(Suggestion(
        seller_id=seeded.id, run_id=run.id, kind="promotion", entity_kind="asin", entity_ref="B0TENT0001",
        marketplace="ATVPDKIKX0DER", label="B0TENT0001",
        payload={"asin": "B0TENT0001", "type": "COUPON", "discount_type": "PERCENT_OFF_LIST_PRICE", "discount": 0.15,
                 "start": (WEEK.sunday + dt.timedelta(3)).isoformat(), "budget": 300.0, "price": 40.0,
                 "end": (WEEK.sunday + dt.timedelta(16)).isoformat(), "was_price": 41.0, "net_price": 34.0,
                 "margin_before": 12.0, "margin_after": 6.0, "baseline_units": 5.0, "expected_lift": 0.4,
                 "break_even_lift": 0.2, "expected_units": 28.0, "units_lo": 10.0, "units_hi": 40.0,
                 "expected_profit": 182.5, "profit_lo": 50.0, "profit_hi": 250.0, "fee": 12.0, "cover_days": 60.0,
                 "elasticity": -3.6, "currency": "USD"},
        current_value=Decimal("40"), proposed_value=Decimal("34"), direction="down", status="pending",
        reason="coupon", explanation="A 15% coupon …", inputs={}))
    plan = dict(seller_id=seeded.id, marketplace_id="ATVPDKIKX0DER", discount_type="PERCENT_OFF_LIST_PRICE",
                discount_amount=Decimal("15"), currency_code="USD")
    waiting = PromotionPlan(**plan, type="COUPON", asins=["B0TENT0001"], start_date=WEEK.sunday + dt.timedelta(3),
                            end_date=WEEK.sunday + dt.timedelta(16), state=PlanState.PLANNED,
                            predicted={"expected_profit": 182.5})
    done = PromotionPlan(**plan, type="BEST_DEAL", asins=["B0STOVE001"], start_date=WEEK.monday - dt.timedelta(40),
                         end_date=WEEK.monday - dt.timedelta(34), state=PlanState.MEASURED,
                         predicted={"expected_profit": 120.0}, actual={"incremental_profit": 96.25})
    db.session.add_all([waiting, done])
    db.session.commit()
    done.updated_at = dt.datetime.combine(WEEK.monday + dt.timedelta(2), dt.time(9), dt.UTC)  # measured that week
    db.session.commit()

    assert weekly.send_to(marketer.id, WEEK) == "sent"
    message = mail.parsed()
    html = message.get_body(("html",)).get_content()
    text = " ".join(message.get_body(("plain",)).get_content().split())
    for part in (" ".join(re.sub(r"<[^>]+>", " ", html).split()), text):
        assert "Acme Outdoor: 1 promotion suggestion to review · expected 182.50 USD incremental profit" in part
        assert "Plan to enter in Seller Central: coupon on B0TENT0001".lower() in part.lower()
        assert "best deal on B0STOVE001" in part
        assert "120.00 USD" in part and "96.25 USD" in part
        assert "2 ASINs nearly or wholly out of stock before each shipment lands: reorder earlier" in part  # latest run
    assert "1 bid suggestion" in html  # the promotion suggestion is not counted as a bid one
    assert message["Subject"].endswith("2 need you")  # the bid suggestions line and the promotions line
    login(marketer.email)
    for link in set(re.findall(r'href="([^"]+/promotions[^"]*)"', html)):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_asins_to_reorder_earlier_need_the_reader_even_with_nothing_else_on_promotions(db, mail, marketer, seeded):
    from marketing.models import SuggestionRun

    db.session.add(SuggestionRun(seller_id=seeded.id, kind="promotion", status="succeeded", restock_hints=[
        {"asin": "B0STOVE001", "marketplace_id": "ATVPDKIKX0DER", "country": "US", "lead_days": 25.0,
         "reorder_units": 195.0, "daily_units": 10.0, "reorder_at": 280.0}]))
    db.session.commit()
    assert weekly.send_to(marketer.id, WEEK) == "sent"
    message = mail.parsed()
    text = " ".join(message.get_body(("plain",)).get_content().split())
    assert "Acme Outdoor: 1 ASIN nearly or wholly out of stock before each shipment lands: reorder earlier" in text
    assert "promotion suggestion" not in text
    assert message["Subject"].endswith("2 need you")  # the bid suggestions line and the reorder line
