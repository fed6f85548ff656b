"""The `marketing` command: users, db and worker, with the exit-code conventions scripts rely on
(0 ok, 1 runtime failure, 2 usage or bad input; one line on stderr, no traceback)."""

from __future__ import annotations

import json
import sqlite3

from alembic.script import ScriptDirectory
from sqlalchemy import select

from marketing.models import User
from tests.foundation.helpers import ROOT, app_env, clean_env, run_cli


def _one_line_error(result, code, *words):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_users_create_reads_the_password_from_stdin(runner, db, login):
    result = runner.invoke(["users", "create", "New@Example.com", "--role", "marketer", "--name", "Nia",
                            "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert result.output.strip() == f"created new@example.com (marketer) id={user.id}"
    assert (user.email, user.name, user.role) == ("new@example.com", "Nia", "marketer")
    assert user.password_hash.startswith("$argon2id$")
    assert login("new@example.com", "a long enough password").status_code == 302


def test_users_create_prompts_twice_without_stdin_flag(runner, db):
    result = runner.invoke(["users", "create", "p@example.com", "--role", "viewer"],
                           input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert "prompted password" not in result.output
    assert db.session.scalar(select(User)).email == "p@example.com"


def test_users_create_mistakes_exit_2(runner, make_user, db):
    make_user("taken@example.com")
    short = runner.invoke(["users", "create", "a@example.com", "--role", "viewer", "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    duplicate = runner.invoke(["users", "create", "TAKEN@example.com", "--role", "viewer", "--password-stdin"],
                              input="a long enough password\n")
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    bad_email = runner.invoke(["users", "create", "nope", "--role", "viewer", "--password-stdin"],
                              input="a long enough password\n")
    assert bad_email.exit_code == 2 and "not valid" in bad_email.output
    bad_role = runner.invoke(["users", "create", "b@example.com", "--role", "owner", "--password-stdin"],
                             input="a long enough password\n")
    assert bad_role.exit_code == 2 and "--role" in bad_role.output
    assert [u.email for u in db.session.scalars(select(User))] == ["taken@example.com"]


def test_users_list_json(runner, make_user, make_seller):
    seller = make_seller("Acme Outdoor")
    user = make_user("m@example.com", "marketer", sellers=[seller])
    make_user("v@example.com", "viewer", active=False)
    result = runner.invoke(["users", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [row["email"] for row in data] == ["m@example.com", "v@example.com"]
    assert data[0] == {"id": user.id, "email": "m@example.com", "name": "", "role": "marketer", "active": True,
                       "sellers": ["Acme Outdoor"], "last_login_at": None}
    assert data[1]["active"] is False
    plain = runner.invoke(["users", "list"])
    assert "m@example.com\tmarketer\tactive\tAcme Outdoor" in plain.output
    assert "deactivated" in plain.output


def test_worker_with_an_unknown_queue_exits_2(runner):
    result = runner.invoke(["worker", "--queues", "default,nope", "--burst"])
    assert result.exit_code == 2 and "unknown queue nope" in result.output


def test_users_reset_link_unknown_email_exits_2(runner):
    result = runner.invoke(["users", "reset-link", "nobody@example.com"])
    assert result.exit_code == 2 and "no user with email nobody@example.com" in result.output


# -- as real processes: exit codes and stderr -------------------------------------------------------------


def test_cli_mistakes_as_a_process(app):
    """Bad input is exit 2 with one line; click's usage errors are exit 2 with usage; never a traceback."""
    env = app_env(app)
    short = run_cli(["users", "create", "a@example.com", "--role", "viewer", "--password-stdin"], env, "short\n")
    _one_line_error(short, 2, "at least 10 characters")
    bad_role = run_cli(["users", "create", "b@example.com", "--role", "owner", "--password-stdin"], env, "x\n")
    assert bad_role.returncode == 2 and "Traceback" not in bad_role.stderr
    assert "--role" in bad_role.stderr.strip().splitlines()[-1]


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path):
    database = tmp_path / "fresh.sqlite"
    env = clean_env(MARKETING_ENV="development", MARKETING_INSTANCE_PATH=tmp_path / "instance",
                    DATABASE_URL=f"sqlite:///{database}")
    result = run_cli(["db", "upgrade"], env)
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "sellers", "user_sellers", "audit_events", "setting_values", "password_reset_tokens",
            "alembic_version"} <= tables
    with sqlite3.connect(database) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == ScriptDirectory(str(ROOT / "migrations")).get_current_head()
