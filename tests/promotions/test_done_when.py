"""Issue 13's "Done when", end to end with real parts only: the real engine (not `fake_engine`), the sandbox over
HTTP, PostgreSQL, Redis and the RQ jobs worked in-process. A seller is connected and synced, its by-ASIN
history back-filled, unit costs entered; the Promotions page shows past promotions with measured lift; a
suggested coupon is approved, entered on the sandbox's Seller Central page the plan links to, marked entered;
the sandbox's clock moves past its end and the 28 days after; the next sync finds it and the plan is measured,
predicted vs actual."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from marketing.clock import set_today, today
from marketing.extensions import db
from marketing.models import PromotionPlan, Seller, Suggestion
from marketing.models.suggestions import Kind
from marketing.products import service as products
from marketing.sandbox.testing import running_sandbox
from tests.conftest import sandbox_app
from tests.sync.conftest import SYNC_CONFIG, connect, work

# The history back-fill in a test's time: daily reports over the promotion and the 28 days after it, weekly ones
# back over the sandbox's past promotions and their baselines; and Amazon's clock 10,000 times ours, its rate
# limits with it (createReport: a burst of 15, then one a minute, is 166 a second).
HISTORY = {"HISTORY_DAILY_DAYS": 70, "HISTORY_BACK_DAYS": 130, "HISTORY_POLL_SECONDS": 0.05,
           "HISTORY_IN_FLIGHT": 15}
TIME_SCALE = 10000.0
MARKETER = "marketer@example.com"


@pytest.fixture(autouse=True)
def engine():
    """The real engine: this module overrides the package's autouse `fake_engine`."""


@pytest.fixture(autouse=True)
def pinned_today():
    """The sandbox's business date rules here (set by `app`), not the package's pinned day."""


@pytest.fixture(scope="module")
def sbx():
    with running_sandbox(seed=5, report_delay=0.0, time_scale=TIME_SCALE) as handle:
        yield handle


@pytest.fixture
def app(make_app, sbx):
    with sandbox_app(make_app, sbx, **SYNC_CONFIG, **HISTORY, AMAZON_TIME_SCALE=TIME_SCALE) as app:
        set_today(sbx.admin.today())
        yield app
        set_today(None)


def _cli(runner, *args) -> str:
    result = runner.invoke(list(args))
    assert result.exit_code == 0, result.output
    return result.output


# Amazon's US coupon and deal fees now (the guide's §4.1): the suite's clean-up empties the migration's seeded
# rows, so an admin enters them on the fee page.
US_FEES = [("COUPON", {"fixed": "5", "variable_pct": "2.5", "variable_cap": "2000"}),
           ("LIGHTNING_DEAL", {"per_day": "70", "variable_pct": "1", "variable_cap": "2000"}),
           ("BEST_DEAL", {"per_day": "70", "variable_pct": "1", "variable_cap": "2000"})]


def enter_fees(client, make_user, login) -> None:
    make_user("admin@example.com", "admin")
    login("admin@example.com")
    for kind, amounts in US_FEES:
        response = client.post("/admin/promotion-fees", data={
            "marketplace_id": "ATVPDKIKX0DER", "type": kind, "effective_from": "2025-11-05", **amounts})
        assert response.status_code == 303, response.get_data(as_text=True)
    client.post("/logout")


def sync_all(runner, queue, seller_id: int) -> None:
    """`marketing sync SELLER --wait`, then the after-sync jobs (queue `default`) and the history chain they
    start (queue `sync`), until nothing is left."""
    _cli(runner, "sync", str(seller_id), "--wait")
    for _ in range(3):
        queue.work("default")
        work(timeout=300)
    queue.work("default")


def test_a_suggested_coupon_goes_from_the_page_to_seller_central_and_back_measured(
        app, sbx, runner, queue, client, make_user, login):
    seller = connect(sbx, 0, countries=("US",))
    seller_id = seller.id
    make_user(MARKETER, "marketer", sellers=[seller])
    enter_fees(client, make_user, login)
    login(MARKETER)

    sync_all(runner, queue, seller_id)
    seller = db.session.get(Seller, seller_id)
    rows = products.rows_for(seller_id)
    priced = [r for r in rows if r.price is not None]
    assert priced, "the sync found no ASIN with a price"
    # all-in costs (fees included: a 0 % referral fee), as a seller whose cost sheet has them
    lines = "asin,unit_cost,referral_fee_pct\n" + "".join(f"{r.asin},{(r.price * 35 / 100):.2f},0\n" for r in priced)
    path = app.instance_path + "/costs.csv"
    with open(path, "w") as handle:
        handle.write(lines)
    _cli(runner, "products", "import", str(seller_id), path)

    # The Promotions page: past promotions with their measured lift.
    past = json.loads(_cli(runner, "promotions", "list", str(seller_id), "--json"))
    measured = [p for p in past if p["incremental_units"] is not None]
    assert measured, past
    page = client.get(f"/sellers/{seller_id}/promotions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert measured[0]["id"] in text

    # Suggestions, one coupon approved as the marketer.
    out = _cli(runner, "promotions", "suggest", str(seller_id))
    count = int(re.fullmatch(r"(\d+) promotion suggestions\n", out).group(1))
    assert count > 0
    coupon = db.session.scalars(select(Suggestion).where(
        Suggestion.seller_id == seller_id, Suggestion.kind == Kind.PROMOTION, Suggestion.status == "pending")
        .order_by(Suggestion.id)).all()
    coupon = next(s for s in coupon if s.payload["type"] == "COUPON")
    _cli(runner, "promotions", "approve", str(seller_id), "--id", str(coupon.id), "--as", MARKETER)
    plan = db.session.scalar(select(PromotionPlan).where(PromotionPlan.suggestion_id == coupon.id))
    plan_id = plan.id

    # The plan's link is the sandbox's Seller Central page with the plan's values.
    page = client.get(f"/sellers/{seller_id}/promotions/plans/{plan_id}").get_data(as_text=True)
    links = [html.unescape(h) for h in re.findall(r'href="([^"]*/coupons/create[^"]*)"', page)]
    assert links, "the plan page has no Seller Central link"
    link = urlsplit(links[0])
    assert f"{link.scheme}://{link.netloc}" == sbx.url and link.path == "/coupons/create"
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert query["asin"] == ",".join(plan.asins)
    assert (query["start"], query["end"]) == (plan.start_date.isoformat(), plan.end_date.isoformat())
    assert query["discount_type"] == plan.discount_type

    # A person opens it and submits the form as it came; Seller Central shows the coupon's id.
    with httpx.Client(timeout=30) as browser:
        form = browser.get(links[0])
        assert form.status_code == 200
        fields = dict(re.findall(r"<input type='[^']*' name='([^']+)' id='[^']+' value='([^']*)'>", form.text))
        fields.update(re.findall(r"<select name='([^']+)'[^>]*>.*?<option value='([^']*)' selected>", form.text))
        fields = {k: html.unescape(v) for k, v in fields.items()}
        submitted = browser.post(links[0].split("?")[0], data=fields)
    assert submitted.status_code == 201, submitted.text
    amazon_id = re.search(r"<span id='promotion-id'>([^<]+)</span>", submitted.text).group(1)

    _cli(runner, "promotions", "mark-entered", str(seller_id), str(plan_id), "--amazon-id", amazon_id,
         "--as", MARKETER)

    # Amazon's clock moves past the coupon's end and the 28 days after it; the next sync finds it.
    plan = db.session.get(PromotionPlan, plan_id)
    set_today(sbx.admin.set_today(plan.end_date + dt.timedelta(days=30)))
    sync_all(runner, queue, seller_id)

    db.session.expire_all()
    plan = db.session.get(PromotionPlan, plan_id)
    assert plan.promotion is not None and plan.promotion.amazon_id == amazon_id
    assert plan.measured_from == "report"
    assert plan.state == "measured", (plan.state, plan.notice, today())
    [row] = [r for r in json.loads(_cli(runner, "promotions", "plans", str(seller_id), "--json"))
             if r["id"] == plan_id]
    assert row["state"] == "measured" and row["amazon_id"] == amazon_id
    assert row["predicted_units"] is not None and row["predicted_profit"] is not None
    assert row["actual_units"] is not None and row["actual_profit"] is not None, plan.actual


def test_the_demo_enters_its_marketers_unit_costs_once_the_first_sync_is_in(app, sbx):
    """Promotion suggestions need unit costs: the demo types the sandbox catalog's, as its marketer would."""
    from rq.job import Job

    from marketing import demo, jobs
    from marketing.models import Product

    demo.seed(app)
    info = {**sbx.env(), "sellers": [vars(s) for s in sbx.sellers]}
    demo.seed_sandbox_sellers(app, info, connected=1)
    demo.seed_costs(app, info, connected=1)
    seller_id = db.session.scalar(select(Seller.id).where(Seller.name == sbx.sellers[0].name))
    job = Job.fetch(f"demo-costs-{seller_id}-1", connection=jobs.connection())
    costs = job.args[1]
    assert demo.enter_demo_costs(seller_id, costs, 1) == "waiting"  # its first sync is under way
    work(timeout=300)
    entered = demo.enter_demo_costs(seller_id, costs, 2)
    stored = {p.asin: (p.unit_cost, p.referral_fee_pct, p.fba_fee) for p in db.session.scalars(
        select(Product).where(Product.seller_id == seller_id))}
    assert entered == f"{len(stored)} unit costs entered" and stored
    home = sbx.admin.catalog(0)
    for product in home["products"]:
        if product["asin"] in stored:
            assert tuple(float(v) for v in stored[product["asin"]]) == pytest.approx(
                (product["unit_cost"], product["referral_fee_pct"], product["fba_fee"]))
    assert f"promotions-suggest-{seller_id}" in jobs.queue("default").job_ids
    assert demo.enter_demo_costs(seller_id, costs, 3) == "nothing to enter"  # what is entered stays


def test_the_demo_enters_the_sandboxs_promotion_fees_and_records_its_inventory_history(app, sbx):
    """Where no fee is in force the demo admin enters what the sandbox charges, and the demo stores the FBA inventory
    of the days before today as nightly syncs would have (the engine learns restocks from whole shipments in it);
    both leave what is already there alone."""
    from marketing import demo
    from marketing.models import InventoryDaily
    from marketing.promotions import history
    from marketing.promotions.fees import all_rows

    demo.seed(app)
    info = {**sbx.env(), "sellers": [vars(s) for s in sbx.sellers]}
    demo.seed_sandbox_sellers(app, info, connected=1)
    seller_id = db.session.scalar(select(Seller.id).where(Seller.name == sbx.sellers[0].name))
    markets = sbx.sellers[0].marketplace_ids
    demo.seed_fees(app, info, connected=1)
    demo.seed_inventory(app, info, connected=1, days=30)
    for market in markets:
        charged = sbx.admin.catalog(0, market)["fees"]
        fees = history.fees(market, today())
        assert set(fees) == set(charged)
        for kind, fee in fees.items():
            assert (fee.fixed, fee.per_day, fee.variable_pct, fee.variable_cap) == pytest.approx(
                (charged[kind]["fixed"], charged[kind]["per_day"], charged[kind]["variable_pct"],
                 charged[kind]["variable_cap"]), abs=0.01)
        kept = history.inventory_history(seller_id, market, today() - dt.timedelta(days=60), today())
        assert sorted(set(kept["date"])) == [today() - dt.timedelta(days=k) for k in range(30, 0, -1)]
        summaries = sbx.admin.inventory_history(0, market, 30)
        first = {s["asin"]: s["inventoryDetails"]["fulfillableQuantity"] for s in summaries[0]["inventorySummaries"]}
        assert kept[kept["date"] == today() - dt.timedelta(days=30)].set_index("asin")["fulfillable"].to_dict() \
            == pytest.approx(first)
    rows = len(all_rows()), db.session.scalar(select(func.count()).select_from(InventoryDaily))
    demo.seed_fees(app, info, connected=1)
    demo.seed_inventory(app, info, connected=1, days=30)
    assert (len(all_rows()), db.session.scalar(select(func.count()).select_from(InventoryDaily))) == rows
