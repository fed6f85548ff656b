"""`marketing export` and `marketing.exports`: one row per entity, day and profile; exact money; exit codes."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from marketing.models import AdsProfile, Connection, SpAdGroup, SpCampaign, SpTarget
from marketing.sync.ingest import ingest_report
from tests.sync.ingest_helpers import END, START, target_row

US, CA = 1_111_111_111_111, 2_222_222_222_222


@pytest.fixture
def seller(db, make_seller):
    seller = make_seller("Acme Outdoor")
    connection = Connection(seller_id=seller.id, api="ads")
    connection.profiles = [
        AdsProfile(profile_id=pid, country_code=cc, currency_code=cur, timezone="America/Los_Angeles",
                   marketplace_id=mp, account_type="seller", managed=True)
        for pid, cc, cur, mp in ((US, "US", "USD", "ATVPDKIKX0DER"), (CA, "CA", "CAD", "A2EUQ1WTGCTBG2"))
    ]  # fmt: skip
    db.session.add(connection)
    db.session.add_all([
        SpCampaign(profile_id=US, seller_id=seller.id, campaign_id=7, name="Shoes, exact", state="ENABLED",
                   targeting_type="MANUAL"),
        SpAdGroup(profile_id=US, seller_id=seller.id, ad_group_id=8, campaign_id=7, name="Trail",
                  state="ENABLED", default_bid=Decimal("0.50")),
        SpTarget(profile_id=US, seller_id=seller.id, target_id=100, kind="keyword", campaign_id=7, ad_group_id=8,
                 text="trail shoes", match_type="EXACT", state="ENABLED"),
    ])  # fmt: skip
    rows = {US: [target_row(START, 100, campaignId=7, adGroupId=8, cost=Decimal("12.34")),
                 target_row(END, 100, campaignId=7, adGroupId=8, cost=Decimal("0.05"))],
            CA: [target_row(START, 200, campaignId=70, adGroupId=80, cost=Decimal("3.10"),
                            campaignBudgetCurrencyCode="CAD")]}  # fmt: skip
    for profile_id, report in rows.items():
        ingest_report(db.session, "spTargeting", report, profile_id=profile_id, start=START, end=END,
                      currency="CAD" if profile_id == CA else "USD", attribution_days=7)  # fmt: skip
    db.session.commit()
    return seller


@pytest.mark.sqlite
def test_csv_has_one_row_per_target_day_and_profile_with_names_where_known(runner, seller):
    result = runner.invoke(["export", "Acme Outdoor", "--level", "target", "--from", "2025-06-01",
                            "--to", "2025-06-07", "--format", "csv"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["date"], r["profile_id"], r["target_id"]) for r in rows] == [
        ("2025-06-01", str(US), "100"), ("2025-06-01", str(CA), "200"), ("2025-06-07", str(US), "100")]  # fmt: skip
    first, canadian = rows[0], rows[1]
    assert (first["campaign_name"], first["ad_group_name"], first["target"]) == ("Shoes, exact", "Trail", "trail shoes")
    assert (first["currency"], first["cost"], canadian["currency"], canadian["cost"]) == ("USD", "12.3400", "CAD",
                                                                                          "3.1000")  # fmt: skip
    assert (canadian["campaign_name"], canadian["target"]) == ("", "")  # structure not synced yet
    assert list(rows[0]) == ["date", "profile_id", "campaign_id", "campaign_name", "ad_group_id", "ad_group_name",
                             "target_id", "target", "match_type", "currency", "impressions", "clicks", "cost",
                             "orders", "sales"]  # fmt: skip


@pytest.mark.sqlite
def test_json_is_an_array_of_objects_with_decimal_strings(runner, seller):
    result = runner.invoke(["export", str(seller.id), "--level", "target", "--from", "2025-06-07",
                            "--to", "2025-06-07", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["cost"] == "0.0500" and row["date"] == "2025-06-07" and row["profile_id"] == US
    assert isinstance(row["sales"], str) and Decimal(row["sales"]) >= 0
    empty = runner.invoke(["export", str(seller.id), "--level", "campaign", "--from", "2025-06-01",
                           "--to", "2025-06-07", "--format", "json"])  # fmt: skip
    assert (empty.exit_code, json.loads(empty.output)) == (0, [])


@pytest.mark.sqlite
def test_library_rows_and_csv_writer_for_pages(db, seller):
    from marketing.exports import iter_export_rows, write_csv

    out = io.StringIO()
    assert write_csv(iter_export_rows(seller, "target", START, START), out, "target") == 2
    assert out.getvalue().splitlines()[0].startswith("date,profile_id,campaign_id")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nobody", "--level", "target", "--from", "2025-06-01", "--to", "2025-06-07"], "no seller"),
        (["Acme Outdoor", "--level", "target", "--from", "2025-06-08", "--to", "2025-06-07"], "--from must not"),
        (["Acme Outdoor", "--level", "target", "--from", "June", "--to", "2025-06-07"], "--from must be a date"),
        (["Acme Outdoor", "--level", "keyword", "--from", "2025-06-01", "--to", "2025-06-07"], "--level"),
    ],
)
def test_bad_input_exits_2_with_one_line(runner, seller, args, message):
    result = runner.invoke(["export", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_main_prints_one_line_and_no_traceback(app, seller, capsys, monkeypatch):
    from marketing import cli

    monkeypatch.setattr(cli, "_create_app", lambda: app)
    with pytest.raises(SystemExit) as exited:
        cli.main(["export", "Nobody", "--level", "product", "--from", "2025-06-01", "--to", "2025-06-01"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "marketing: no seller with id or name 'Nobody'\n"
