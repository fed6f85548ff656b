"""A real SMTP server (aiosmtpd on loopback) and a seeded seller with two weeks of data for the email tests."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from marketing.clock import now
from marketing.digest import weeks
from tests.conftest import _clean

PUBLIC_URL = "http://localhost"
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Handler:
    """Records messages; `replies` scripts the answers to DATA (then 250); `hold` accepts a message, then
    blocks before answering (as if the client died waiting for the reply)."""

    messages: list = field(default_factory=list)
    replies: list = field(default_factory=list)
    refuse_rcpt: str | None = None
    hold: threading.Event | None = None
    in_data: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None:  # the whole message is here: it went out, but the client hears nothing yet
            import asyncio

            self.messages.append(envelope)
            self.in_data.set()
            while not self.hold.is_set():
                await asyncio.sleep(0.05)
            return "250 OK"
        self.in_data.set()
        if self.replies:
            return self.replies.pop(0)
        self.messages.append(envelope)
        return "250 OK"

    def parsed(self, index: int = -1):
        return message_from_bytes(self.messages[index].content, policy=default_policy)


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER \
        and auth_data.password.decode() == SMTP_PASSWORD
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    """Start servers on demand: smtp_server(security="none"|"starttls"|"ssl", auth=False, tls=(cert, key))."""
    started = []

    def start(security="none", auth=False, tls=None, **handler_options):
        handler = Handler(**handler_options)
        port = free_port()
        kwargs = {"enable_SMTPUTF8": True}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            if security == "ssl":
                kwargs["ssl_context"] = context
            else:
                kwargs["tls_context"] = context
                kwargs["require_starttls"] = True
        if auth:
            # with `ssl` the TLS is below SMTP, where aiosmtpd cannot see it
            kwargs.update(authenticator=_authenticate, auth_required=True, auth_require_tls=security == "starttls")
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        config = {"SMTP_HOST": "localhost" if tls else "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": security,
                  "SMTP_USERNAME": SMTP_USER if auth else None, "SMTP_PASSWORD": SMTP_PASSWORD if auth else None}
        return handler, config

    yield start
    for controller in started:
        controller.stop()


BASE_CONFIG = {"PUBLIC_URL": PUBLIC_URL, "MAIL_FROM": "reports@marketing.example"}


@pytest.fixture
def mail_app(make_app, smtp_server):
    """An app on a plain (security none) aiosmtpd server; yields (app, handler)."""
    handler, config = smtp_server()
    app = make_app(**BASE_CONFIG, **config)
    with app.app_context():
        yield app, handler
        _clean(app)


@pytest.fixture
def mail(mail_app):
    return mail_app[1]


@pytest.fixture
def app(mail_app):
    """The default `app` (and so `client`, `db`, `make_user`...) is the one wired to the SMTP server."""
    return mail_app[0]


WEEK = weeks.last_complete(now().date())
PREVIOUS = WEEK.previous()


def week_day(week: weeks.Week, n: int) -> dt.date:
    return week.monday + dt.timedelta(days=n)


@pytest.fixture
def seeded(db, make_seller):
    """A seller with a managed US profile (UTC): three campaigns over this week and the week before."""
    from marketing.dashboard.rollups import refresh_rollups
    from tests.dashboard.conftest import Seeder

    seed = Seeder(db)
    seller = make_seller("Acme Outdoor")
    seed.connect(seller, (111, "US", "USD", "UTC"))
    now_days = {week_day(WEEK, n): (1000, 50, "30.00", 4, "120.00") for n in range(7)}
    before_days = {week_day(PREVIOUS, n): (900, 40, "20.00", 3, "100.00") for n in range(7)}
    seed.campaign(seller, 111, 1001, "Tents - Exact", days={**now_days, **before_days})
    seed.campaign(seller, 111, 1002, "Stoves - Broad",
                  days={week_day(WEEK, n): (400, 20, "5.00", 0, "0") for n in range(7)})
    seed.campaign(seller, 111, 1003, "Tiny", days={week_day(WEEK, 0): (10, 1, "1.00", 0, "0")})
    seed.suggestion(seller, 111, 1001, 9001, "0.80", "1.00")
    refresh_rollups(seller.id, PREVIOUS.monday, WEEK.sunday)
    return seller


@pytest.fixture
def marketer(make_user, seeded):
    return make_user("marketer@example.com", "marketer", sellers=[seeded])


def total(value) -> Decimal:
    return Decimal(value)


def _seed_minimal(db, user):
    """One seller with one profile and a day of data this week, assigned to `user`."""
    from marketing import sellers
    from marketing.dashboard.rollups import refresh_rollups
    from tests.dashboard.conftest import Seeder

    seed = Seeder(db)
    seller = sellers.create_seller(f"Seller of {user.email}", "NA")
    db.session.commit()
    seed.connect(seller, (222, "US", "USD", "UTC"))
    seed.campaign(seller, 222, 2001, "Only", days={week_day(WEEK, n): (10, 1, "12.00", 1, "40.00") for n in range(7)})
    user.sellers = [seller]
    db.session.commit()
    refresh_rollups(seller.id, PREVIOUS.monday, WEEK.sunday)
    return seller
