"""`marketing sellers …` and `marketing tokens …`: output, exit codes (0 ok, 1 Amazon/runtime, 2 bad input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from marketing.models import AdsProfile, AuditEvent, Connection, ConnectionEvent, Seller
from marketing.sync import runs
from tests.connections.conftest import amazon_config


@pytest.fixture
def token_file(tmp_path):
    def write(token: str):
        path = tmp_path / "token"
        path.write_text(token + "\n")
        return str(path)

    return write


def test_add_prints_the_id_and_refuses_duplicates(runner, db):
    result = runner.invoke(["sellers", "add", "Cedar Craft", "--region", "na"])
    assert result.exit_code == 0
    seller = db.session.scalar(select(Seller))
    assert result.output.strip() == str(seller.id) and seller.region == "NA"
    again = runner.invoke(["sellers", "add", "cedar craft", "--region", "NA"])
    assert again.exit_code == 2 and "already exists" in again.output


def test_connect_ads_manages_every_seller_profile_by_default(runner, seller_like, sbx, token_file, db):
    seller = seller_like(0)
    result = runner.invoke(["sellers", "connect", seller.name, "--api", "ads",
                            "--refresh-token-file", token_file(sbx.sellers[0].ads_refresh_token)])
    assert result.exit_code == 0, result.output
    own = sorted(str(p["profileId"]) for p in sbx.sellers[0].profiles if p["accountInfo"]["type"] != "agency")
    head, _, managed = result.stdout.strip().partition(" managing profiles ")
    assert head == f"connected {seller.name} ads;" and sorted(managed.split(", ")) == own
    event = db.session.scalar(select(ConnectionEvent))
    assert (event.kind, event.method, event.actor_email) == ("connected", "cli", None)
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "connection.connected"))
    # as after connecting on the page, the history is back-filled without anyone waiting
    run = runs.latest_run(seller.id)
    assert run is not None and run.kind == "backfill" and f"sync run {run.id} queued" in result.stderr


def test_connect_with_chosen_profiles(runner, seller_like, sbx, token_file, db):
    seller = seller_like(0)
    own = next(p["profileId"] for p in sbx.sellers[0].profiles if p["accountInfo"]["type"] == "seller")
    result = runner.invoke(["sellers", "connect", str(seller.id), "--api", "ads", "--profile", str(own),
                            "--refresh-token-file", token_file(sbx.sellers[0].ads_refresh_token)])
    assert result.exit_code == 0, result.output
    assert [p.profile_id for p in seller.connection("ads").profiles if p.managed] == [own]


def test_a_refused_profile_on_renewal_leaves_the_old_connection(runner, seller_like, sbx, fresh_token, db):
    seller = seller_like(0)
    own = next(p["profileId"] for p in sbx.sellers[0].profiles if p["accountInfo"]["type"] == "seller")
    agency = next(p["profileId"] for p in sbx.sellers[0].profiles if p["accountInfo"]["type"] == "agency")
    first = runner.invoke(["sellers", "connect", seller.name, "--api", "ads", "--profile", str(own),
                           "--refresh-token-file", "-"], input=sbx.sellers[0].ads_refresh_token)
    assert first.exit_code == 0, first.output
    result = runner.invoke(["sellers", "connect", seller.name, "--api", "ads", "--profile", str(agency),
                            "--refresh-token-file", "-"], input=fresh_token("ads", 0))
    assert result.exit_code == 2 and "not a seller/vendor profile" in result.output
    db.session.expire_all()
    connection = seller.connection("ads")
    assert connection.token_last4 == sbx.sellers[0].ads_refresh_token[-4:]
    assert [p.profile_id for p in connection.profiles if p.managed] == [own]
    assert db.session.scalars(select(ConnectionEvent.kind)).all() == ["connected"]


def test_connect_sp_reads_stdin_and_prints_the_expiry(runner, seller_like, sbx):
    import datetime as dt

    from marketing.clock import today

    seller = seller_like(1)
    day = today() - dt.timedelta(days=10)
    result = runner.invoke(["sellers", "connect", seller.name, "--api", "sp", "--refresh-token-file", "-",
                            "--authorized-on", day.isoformat()], input=f"  {sbx.sellers[1].sp_refresh_token}\n")
    assert result.exit_code == 0, result.output
    expires = (day + dt.timedelta(days=365)).isoformat()
    assert result.output.strip() == f"connected {seller.name} sp; expires {expires}"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--api", "sp", "--refresh-token-file", "-"], "not a token", "not a Login with Amazon refresh token"),
    (["--api", "sp", "--refresh-token-file", "-", "--authorized-on", "2999-01-01"], "Atzr|x", "--authorized-on"),
    (["--api", "sp", "--refresh-token-file", "-", "--profile", "1"], "Atzr|x", "--profile applies to --api ads"),
])
def test_bad_input_is_exit_2_and_stores_nothing(runner, seller_like, db, args, stdin, message):
    seller = seller_like(1)
    result = runner.invoke(["sellers", "connect", seller.name, *args], input=stdin)
    assert result.exit_code == 2 and message in result.output
    assert db.session.scalar(select(func.count(Connection.id))) == 0


def test_amazon_refusal_is_exit_1_and_stores_nothing(runner, seller_like, sbx, fresh_token, db):
    token = fresh_token("sp", 1)
    sbx.admin.revoke(token)
    result = runner.invoke(["sellers", "connect", seller_like(1).name, "--api", "sp", "--refresh-token-file", "-"],
                           input=token)
    assert result.exit_code == 1 and "Amazon rejected the authorization" in result.output
    assert token not in result.output
    assert db.session.scalar(select(func.count(Connection.id))) == 0


def test_list_json_and_disconnect(runner, seller_like, sbx, db):
    seller = seller_like(1)
    runner.invoke(["sellers", "connect", seller.name, "--api", "sp", "--refresh-token-file", "-"],
                  input=sbx.sellers[1].sp_refresh_token)
    [row] = json.loads(runner.invoke(["sellers", "list", "--json"]).output)
    assert row["name"] == seller.name and row["ads"]["status"] == "not_connected"
    assert row["sp"]["status"] == "active" and row["sp"]["days_left"] == 365
    assert row["sp"]["token_last4"] == sbx.sellers[1].sp_refresh_token[-4:]
    assert sbx.sellers[1].sp_refresh_token not in json.dumps(row)

    assert runner.invoke(["sellers", "disconnect", seller.name, "--api", "sp"]).exit_code == 0
    assert json.loads(runner.invoke(["sellers", "list", "--json"]).output)[0]["sp"]["status"] == "not_connected"
    again = runner.invoke(["sellers", "disconnect", seller.name, "--api", "sp"])
    assert again.exit_code == 2 and "has no sp connection" in again.output
    assert runner.invoke(["sellers", "disconnect", "Nobody", "--api", "sp"]).exit_code == 2


def test_tokens_check_reports_states_and_notices(runner, seller_like, sbx, fresh_token, make_user, db):
    seller = seller_like(1)
    make_user("admin@example.com", "admin")
    token = fresh_token("ads", 1)
    runner.invoke(["sellers", "connect", seller.name, "--api", "ads", "--refresh-token-file", "-"], input=token)
    assert runner.invoke(["tokens", "check"]).output.strip() == "checked 1: 1 active; 0 notices"
    sbx.admin.revoke(token)
    result = runner.invoke(["tokens", "check"])
    assert result.exit_code == 0 and result.output.strip() == "checked 1: 1 revoked; 1 notices"


def test_new_key_prints_a_fernet_key(runner):
    from cryptography.fernet import Fernet

    key = runner.invoke(["tokens", "new-key"]).output.strip()
    Fernet(key.encode())


# -- the real command, for its real exit codes and stderr -----------------------------------------


@pytest.fixture
def cli(app, database_url, redis_url, sbx, instance_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMAZON_", "MARKETING_", "DATABASE_", "REDIS_"))}
    env.update({k: v for k, v in amazon_config(sbx).items()})
    env.update(MARKETING_ENV="test", DATABASE_URL=database_url, MARKETING_INSTANCE_PATH=instance_path,
               TOKEN_ENCRYPTION_KEYS=",".join(app.config["TOKEN_ENCRYPTION_KEYS"]), SECRET_KEY="x" * 32)
    if redis_url:
        env["REDIS_URL"] = redis_url

    def run(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "marketing", *args], input=stdin, capture_output=True,
                              text=True, env=env, timeout=60)

    return run


def test_real_exit_codes(cli, runner, seller_like, sbx, fresh_token, db):
    seller = seller_like(1)
    ok = runner.invoke(["sellers", "connect", seller.name, "--api", "sp", "--refresh-token-file", "-"],
                       input=sbx.sellers[1].sp_refresh_token)
    assert ok.exit_code == 0, ok.output

    bad = cli("sellers", "connect", seller.name, "--api", "sp", "--refresh-token-file", "-", stdin="garbage")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("marketing: That is not a Login with Amazon")

    revoked = fresh_token("sp", 1)
    sbx.admin.revoke(revoked)
    refused = cli("sellers", "connect", seller.name, "--api", "sp", "--refresh-token-file", "-", stdin=revoked)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("marketing: Amazon rejected the authorization")
    assert revoked not in refused.stderr + refused.stdout

    [row] = json.loads(runner.invoke(["sellers", "list", "--json"]).output)  # untouched by the two refusals
    assert row["sp"]["status"] == "active" and row["sp"]["token_last4"] == sbx.sellers[1].sp_refresh_token[-4:]


def test_a_refused_profile_is_exit_2_and_stores_nothing(cli, seller_like, sbx, db):
    seller = seller_like(0)
    agency = next(p["profileId"] for p in sbx.sellers[0].profiles if p["accountInfo"]["type"] == "agency")
    result = cli("sellers", "connect", seller.name, "--api", "ads", "--profile", str(agency),
                 "--refresh-token-file", "-", stdin=sbx.sellers[0].ads_refresh_token)
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"marketing: {agency} is not a seller/vendor profile")
    assert "nothing was stored" in result.stderr
    db.session.expire_all()
    for model in (Connection, AdsProfile, ConnectionEvent):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("connection.%"))) == 0
