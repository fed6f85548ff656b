"""The suggestion run on real rows: what it stores, what it skips and says, superseding, and the measured past."""

from __future__ import annotations

import datetime as dt
import importlib

from sqlalchemy import select

from marketing.models import Suggestion
from tests.promotions.conftest import TODAY, US


def _suggestions(db, seller, status=None):
    query = select(Suggestion).where(Suggestion.seller_id == seller.id, Suggestion.kind == "promotion")
    if status:
        query = query.where(Suggestion.status == status)
    return list(db.session.scalars(query.order_by(Suggestion.id)))


def test_a_run_stores_one_suggestion_per_proposal_and_names_what_it_skipped(db, seller, suggested):
    from marketing.promotions import service

    [s] = _suggestions(db, seller)
    assert (s.entity_kind, s.entity_ref, s.marketplace, s.status) == ("asin", "B0COST", US, "pending")
    assert s.payload["type"] == "COUPON" and s.payload["discount"] == 0.2
    assert s.payload["start"] == (TODAY + dt.timedelta(days=1)).isoformat() and s.payload["currency"] == "USD"
    assert str(s.current_value) == "20.0000" and str(s.proposed_value) == "16.0000"
    assert "20% coupon on B0COST" in s.explanation and s.inputs["unit_cost"] == 8.0
    assert suggested.suggestions == 1 and suggested.status == "succeeded"
    assert service.skipped_asins(suggested.notice, service.ENTER_UNIT_COST) == ["B0NOCOST"]
    assert service.summary(suggested) == "1 promotion suggestions"


def test_a_suggestions_sentence_speaks_its_marketplaces_currency(db, seller, rows):
    """The engine writes its sentence with the symbol it is given: £ in the UK, $ in the US (not $ everywhere)."""
    from marketing.promotions import service

    rows.history("B0US")
    rows.product("B0US")
    rows.history("B0UK", marketplace_id="A1F83G8C2ARO7P", currency="GBP")
    rows.product("B0UK", currency="GBP")
    service.run_suggestions(seller.id)
    said = {s.entity_ref: s.explanation for s in _suggestions(db, seller)}
    assert "earn £12.50" in said["B0UK"] and "earn $12.50" in said["B0US"]


def test_a_new_run_replaces_the_pending_ones(db, seller, suggested):
    from marketing.promotions import service

    second = service.run_suggestions(seller.id)
    assert second.superseded == 1
    assert [(s.run_id, s.status) for s in _suggestions(db, seller)] == [(second.id, "pending")]


def test_busy_windows_from_running_promotions_move_the_dates(db, seller, rows):
    from marketing.promotions import service

    rows.history("B0COST")
    rows.product("B0COST")
    rows.promotion("C-RUNNING", ["B0COST"], TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=4))
    service.run_suggestions(seller.id)
    [s] = _suggestions(db, seller)
    assert s.payload["start"] == (TODAY + dt.timedelta(days=5)).isoformat()


def test_the_engine_gets_the_inventory_history_and_the_busy_promotions_depth(db, seller, rows, engine, monkeypatch):
    """The engine learns restocks from the stored FBA inventory days and runs the stock forward at the pace of the
    promotions already running or planned, so the run passes both (an amount off as a share of the price)."""
    from decimal import Decimal

    from marketing.models import InventoryDaily
    from marketing.promotions import service

    rows.history("B0COST")
    rows.product("B0COST")
    rows.promotion("C-RUNNING", ["B0COST"], TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=4))
    amount = rows.promotion("C-AMOUNT", ["B0COST"], TODAY + dt.timedelta(days=5), TODAY + dt.timedelta(days=9))
    amount.discount_type, amount.discount_amount = "AMOUNT_OFF_LIST_PRICE", Decimal("5")
    for n, (fulfillable, inbound) in enumerate([(120, 0), (110, 300), (100, 300)]):
        db.session.add(InventoryDaily(seller_id=seller.id, marketplace_id=US, date=TODAY - dt.timedelta(days=2 - n),
                                      asin="B0COST", fulfillable=fulfillable, inbound=inbound))
    db.session.commit()
    seen = {}
    real = engine.suggest

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "suggest", spy)
    service.run_suggestions(seller.id)
    history = seen["inventory_history"].sort_values("date")
    assert list(history["fulfillable"]) == [120.0, 110.0, 100.0] and list(history["inbound"]) == [0.0, 300.0, 300.0]
    busy = seen["busy"].sort_values("start")
    assert list(busy["type"]) == ["COUPON", "COUPON"] and list(busy["discount"]) == [0.2, 0.25]  # 5.00 of 20.00


def test_history_spreads_weeks_where_no_day_is_stored_and_reads_stock_outs(db, seller, rows):
    from decimal import Decimal

    from marketing.models import SalesTrafficAsinWeekly
    from marketing.promotions import history

    rows.history("B0COST", days=3)
    db.session.add(SalesTrafficAsinWeekly(seller_id=seller.id, marketplace_id=US, week_start=dt.date(2026, 1, 4),
                                          asin="B0COST", currency_code="USD", ordered_sales=Decimal("140"),
                                          units_ordered=70))
    db.session.commit()
    rows.stock("B0COST", 0, day=TODAY - dt.timedelta(days=1))
    frame = history.daily(seller.id, US, dt.date(2026, 1, 1), TODAY - dt.timedelta(days=1))
    week = frame[(frame["date"] >= dt.date(2026, 1, 4)) & (frame["date"] <= dt.date(2026, 1, 10))]
    assert list(week["units"]) == [10.0] * 7 and list(week["sales"]) == [20.0] * 7
    assert len(frame) == 10
    assert list(frame["exact"]) == [False] * 7 + [True] * 3  # a week's share is no day's own figure
    assert list(frame["in_stock"]) == [None] * 9 + [False]  # stock is known only where an inventory row is


def test_each_marketplace_learns_the_dips_share_from_the_sellers_other_marketplaces_too(db, seller, rows, engine,
                                                                                          monkeypatch):
    """How much of a promotion's extra units a dip takes back is learned over all of the seller's marketplaces:
    the run measures every marketplace first and hands each the others' measured promotions."""
    from marketing.promotions import service

    canada = "A2EUQ1WTGCTBG2"
    start = TODAY - dt.timedelta(days=40)
    key = {}
    for market in (US, canada):
        rows.history("B0COST", marketplace_id=market)
        promotion = rows.promotion(f"C-{market}", ["B0COST"], start, start + dt.timedelta(days=6),
                                   marketplace_id=market)
        key[market] = f"promotion-{promotion.id}"
    rows.product("B0COST")
    seen = []
    real = engine.suggest

    def spy(*args, **kwargs):
        seen.append((list(kwargs["measured"]["key"]), list(kwargs["measured_elsewhere"]["key"])))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "suggest", spy)
    service.run_suggestions(seller.id)
    assert sorted(seen) == sorted([([key[US]], [key[canada]]), ([key[canada]], [key[US]])])


def test_a_run_keeps_the_sellers_own_reads_and_other_sellers_runs_start_from_them(db, seller, rows, engine,
                                                                                  make_seller, monkeypatch):
    """A run stores the seller's own reads of its dips (`dip_fit` over all its marketplaces) and of its demand
    curve's bend (`bend_stats`); another seller's run hands the engine each other seller's latest reads as peers
    (never its own, none from a seller whose latest run had none), and only where there are two: what a seller's
    suggestions start from is shown with their inputs, and one other seller's read could be backed out of it."""
    from marketing.promotions import service
    from tests.promotions.conftest import Rows

    start = TODAY - dt.timedelta(days=40)

    def promoted(who, name, units):
        history = Rows(db, who)
        history.history(name, during={start + dt.timedelta(days=n): (units, "16.00") for n in range(7)})
        history.product(name)
        history.promotion(f"C-{name}", [name], start, start + dt.timedelta(days=6))

    promoted(seller, "B0COST", 20)
    first = service.run_suggestions(seller.id)
    assert (first.dip_share, first.dip_share_variance) == engine.dip_fit(_measured(seller.id))
    assert first.dip_share_variance == 0.01
    second_seller, quiet = make_seller("Second Co", "NA"), make_seller("Quiet Co", "NA")
    promoted(second_seller, "B0SECOND", 30)
    Rows(db, quiet).history("B0ELSE")
    Rows(db, quiet).product("B0ELSE")
    seen, bends = [], []
    real, real_elasticities = engine.suggest, engine.elasticities

    def spy(*args, **kwargs):
        seen.append(sorted(kwargs["peers"]))
        return real(*args, **kwargs)

    def spy_elasticities(*args, **kwargs):
        bends.append(list(kwargs["peers"]))
        return real_elasticities(*args, **kwargs)

    monkeypatch.setattr(engine, "suggest", spy)
    monkeypatch.setattr(engine, "elasticities", spy_elasticities)
    quiet_run = service.run_suggestions(quiet.id)
    assert quiet_run.dip_share is None and quiet_run.bend_stats is None  # no promotion of its own to read
    assert seen == [[]] and bends == [[]]  # one other seller's read (the second has not run yet) is not enough
    second = service.run_suggestions(second_seller.id)
    assert seen[-1] == [] and bends[-1] == []  # the first seller's, and the quiet one has none
    seen.clear()
    bends.clear()
    service.run_suggestions(quiet.id)
    assert seen == [sorted([(first.dip_share, 0.01), (second.dip_share, 0.01)])]
    assert first.bend_stats == engine.bend_stats([_measured(seller.id)]) == {"promotions": 1.0}
    assert bends == [[first.bend_stats, second.bend_stats]]
    seen.clear()
    service.run_suggestions(seller.id)
    assert seen == [[]]  # its own is not a peer, and the quiet seller's latest run has no read


def _measured(seller_id):
    """The US marketplace's promotions as the run measures them."""
    from marketing.promotions import history, measuring

    frame = history.daily(seller_id, US, TODAY - dt.timedelta(days=history.HISTORY_DAYS),
                          TODAY - dt.timedelta(days=1))
    return measuring.measure_reported(seller_id, US, frame, history.economics(seller_id, "USD"))


def test_past_promotions_are_measured_with_their_fee_and_discount(db, seller, rows):
    from marketing.promotions import measuring

    start, end = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=14)
    rows.history("B0COST", during={start + dt.timedelta(days=n): (20, "16.00") for n in range(7)})
    rows.product("B0COST")
    rows.promotion("C-PAST", ["B0COST"], start, end)
    rows.fee(since=dt.date(2025, 6, 2), fixed="5", variable_pct="2.5")
    rows.fee(since=end, fixed="100")  # in force only after the promotion started: not its fee
    [past] = measuring.past(seller.id)
    # 70 incremental units at (16 − 8) = 560, minus 70 baseline units × 4.00 off = 280, minus the fee in force on
    # its start: 5 + 2.5 % of its 160 revenue = 9.
    assert past.outcome["incremental_units"] == 70.0 and past.outcome["incremental_profit"] == 271.0
    assert past.row == {"id": "C-PAST", "type": "COUPON", "start": start.isoformat(), "end": end.isoformat(),
                        "asins": ["B0COST"], "incremental_units": 70.0,
                        "incremental_profit": past.outcome["incremental_profit"], "currency": "USD"}


def test_every_reason_the_engine_skips_for_reads_back_from_the_notice():
    """The notice joins "reason: ASINs" with ". ": a reason holding ": " would hide its ASINs (the page lists those of
    "enter unit cost", and any reason may be looked up the same way)."""
    from marketing.promotions import service

    engine = importlib.import_module("marketing.optimize.promotions.suggest")  # the package's `suggest` is the function

    named = (getattr(engine, name) for name in dir(engine) if name.startswith("SKIP_"))
    reasons = list(dict.fromkeys([*engine.RULES, *named]))
    notice = service.skip_notice({reason: [f"B0{k:02d}", f"B1{k:02d}"] for k, reason in enumerate(reasons)})
    assert len(reasons) > 10
    for k, reason in enumerate(reasons):
        assert service.skipped_asins(notice, reason) == [f"B0{k:02d}", f"B1{k:02d}"], reason


def test_a_run_keeps_what_to_reorder_at_for_the_asins_skipped_for_their_restocks(db, seller, rows):
    """The engine's restock skip says what reorder level would let a promotion through; the run keeps it per ASIN
    and marketplace (the page's "Reorder earlier" table), beside the notice that names the ASIN."""
    from marketing.promotions import service

    for asin, stock in (("B0DRY", 30), ("B0FULL", 500)):
        rows.history(asin)
        rows.product(asin)
        rows.stock(asin, stock)
    run = service.run_suggestions(seller.id)
    assert run.restock_hints == [{"asin": "B0DRY", "marketplace_id": US, "country": "US", "lead_days": 20.0,
                                  "reorder_units": 30.0, "daily_units": 10.0, "reorder_at": 230.0}]
    assert service.skipped_asins(run.notice, "restocks leave it nearly out already (reorder earlier)") == ["B0DRY"]
    assert [s.entity_ref for s in _suggestions(db, seller)] == ["B0FULL"]
