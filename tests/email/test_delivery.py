"""Delivery against real SMTP servers: TLS modes and auth, 4xx retried, 5xx failed with the server's words,
a worker killed mid-send never mails twice, Unicode addresses, mail off in production."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import subprocess
import sys
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from marketing import jobs
from marketing.digest import weekly
from marketing.mail import sendlog
from marketing.models import EmailSend
from tests.conftest import _clean
from tests.email.conftest import BASE_CONFIG, PUBLIC_URL, WEEK


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1, trusted by the client through SSL_CERT_FILE."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    moment = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(moment - dt.timedelta(days=1))
            .not_valid_after(moment + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def on_server(make_app, smtp_server, monkeypatch, certificate):
    """Run `body(app, handler)` against a server of the given security (TLS ones trust the test certificate)."""
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])

    def run(security, body, auth=False, **handler_options):
        handler, config = smtp_server(security, auth=auth, tls=certificate if security != "none" else None,
                                      **handler_options)
        app = make_app(**BASE_CONFIG, **config)
        with app.app_context():
            try:
                return body(app, handler)
            finally:
                _clean(app)

    return run


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # ssl: TLS is below SMTP
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_modes_with_auth(on_server, security, make_seller):
    def body(app, handler):
        from marketing.accounts import create_user
        from marketing.extensions import db
        from tests.email.conftest import _seed_minimal

        user = create_user("tls@example.com", "marketer", password="correct horse battery")
        _seed_minimal(db, user)
        outcome = weekly.send_to(user.id, WEEK)
        assert outcome == "sent", sendlog.find(weekly.key(user.id, WEEK)).last_error
        assert len(handler.messages) == 1
        assert handler.messages[0].rcpt_tos == ["tls@example.com"]

    on_server(security, body, auth=True)


def test_wrong_smtp_password_fails_with_the_servers_words(on_server):
    def body(app, handler):
        app.config["SMTP_PASSWORD"] = "wrong"
        from marketing.cli import cli

        result = app.test_cli_runner().invoke(cli, ["email", "test", "someone@example.com"],
                                              obj=_script_info(app))
        assert result.exit_code == 1
        assert "535" in result.output and "refused the SMTP login" in result.output
        assert handler.messages == []
        from marketing.extensions import db

        row = db.session.scalar(select(EmailSend).where(EmailSend.kind == "test"))
        assert (row.state, row.to_address) == ("failed", "someone@example.com") and "535" in row.last_error

    on_server("starttls", body, auth=True)


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_email_test_command(runner, mail, db):
    result = runner.invoke(["email", "test", "someone@example.com"])
    assert result.exit_code == 0, result.output
    assert "sent to someone@example.com via smtp" in result.output
    assert mail.parsed()["Subject"] == "Test message from Marketing"
    row = db.session.scalar(select(EmailSend).where(EmailSend.kind == "test"))
    assert (row.state, row.to_address, row.attempts, row.user_id) == ("sent", "someone@example.com", 1, None)
    assert runner.invoke(["email", "test", "not an address"]).exit_code == 2


def test_4xx_is_retried_with_backoff_then_sent(mail, marketer, queue):
    mail.replies.append("451 4.3.0 Mailbox busy, try again later")
    assert weekly.send_to(marketer.id, WEEK) == "retrying"
    row = sendlog.find(weekly.key(marketer.id, WEEK))
    assert (row.state, row.attempts) == ("queued", 1)
    assert "451 4.3.0 Mailbox busy" in row.last_error
    scheduled = ScheduledJobRegistry(queue=jobs.queue("email")).get_job_ids()
    assert scheduled == [f"email-retry-{row.id}-1"]
    # the scheduler would run it in 30 s; run it now
    jobs.queue("email").fetch_job(scheduled[0]).perform()
    from marketing.extensions import db

    db.session.refresh(row)
    assert (row.state, row.attempts, len(mail.messages)) == ("sent", 2, 1)
    assert weekly.send_to(marketer.id, WEEK) == "skipped"  # exactly one per user and week
    assert len(mail.messages) == 1


def test_5xx_fails_with_the_servers_words_on_the_jobs_page(mail, marketer, client, admin):
    mail.replies.append("554 5.7.1 Message rejected as spam")
    assert weekly.send_to(marketer.id, WEEK) == "failed"
    row = sendlog.find(weekly.key(marketer.id, WEEK))
    assert row.state == "failed" and "554 5.7.1 Message rejected as spam" in row.last_error
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "554 5.7.1 Message rejected as spam" in page and "marketer@example.com" in page
    assert weekly.send_to(marketer.id, WEEK) == "skipped"  # a failed summary is not retried by itself


def test_a_mailbox_refusing_marks_only_that_email_failed(mail, marketer, make_user, seeded):
    other = make_user("other@example.com", "marketer", sellers=[seeded])
    mail.refuse_rcpt = "550 5.1.1 No such mailbox"
    assert weekly.send_to(marketer.id, WEEK) == "failed"
    mail.refuse_rcpt = None
    assert weekly.send_to(other.id, WEEK) == "sent"
    assert "550 5.1.1 No such mailbox" in sendlog.find(weekly.key(marketer.id, WEEK)).last_error


def test_unicode_addresses(mail, make_user, seeded):
    idn = make_user("anna@bücher.example", "marketer", sellers=[seeded])
    utf8 = make_user("jörg@example.com", "marketer", sellers=[seeded])
    assert weekly.send_to(idn.id, WEEK) == "sent"
    assert weekly.send_to(utf8.id, WEEK) == "sent"
    assert mail.messages[0].rcpt_tos == ["anna@xn--bcher-kva.example"]
    assert mail.messages[1].rcpt_tos == ["jörg@example.com"]
    assert "jörg@example.com" in mail.parsed(1)["To"]


def _descendants(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            for child in map(int, handle.read().split()):
                found += [child, *_descendants(child)]
    return found


def test_a_worker_killed_mid_send_and_retried_sends_no_second_email(
        app, mail, marketer, database_url, redis_url, instance_path):
    mail.hold = threading.Event()
    job = jobs.enqueue("email", weekly.send_batch, [[marketer.id, dt.datetime.now(dt.UTC).isoformat()]],
                       WEEK.label, job_id="email-weekly-kill-test")
    env = {**os.environ, "MARKETING_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "SECRET_KEY": "test-secret", "TOKEN_ENCRYPTION_KEYS": app.config["TOKEN_ENCRYPTION_KEYS"][0],
           "MARKETING_INSTANCE_PATH": instance_path, "PUBLIC_URL": PUBLIC_URL, "MAIL_FROM": "reports@marketing.example",
           "SMTP_HOST": app.config["SMTP_HOST"], "SMTP_PORT": str(app.config["SMTP_PORT"]), "SMTP_SECURITY": "none"}
    worker = subprocess.Popen([sys.executable, "-m", "marketing", "worker", "--queues", "email", "--burst"],
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert mail.in_data.wait(30), "the worker never reached DATA"
        for pid in [*_descendants(worker.pid), worker.pid]:  # the work horse runs in a session of its own
            os.kill(pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    mail.hold.set()
    assert len(mail.messages) == 1  # the server had the whole message: the email did go out
    from marketing.extensions import db

    row = db.session.scalar(select(EmailSend).where(EmailSend.dedupe_key == weekly.key(marketer.id, WEEK)))
    assert row.state == "sending"
    assert weekly.send_batch(*job.args) == {"failed": 1}  # the job retried: it finds `sending`
    db.session.refresh(row)
    assert row.state == "unknown" and "not sent again" in row.last_error
    assert len(mail.messages) == 1
    assert weekly.send_to(marketer.id, WEEK) == "skipped"
    assert len(mail.messages) == 1
