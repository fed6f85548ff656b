"""Run the sandbox in-process on an ephemeral loopback port, for tests and benchmarks.

with running_sandbox(seed=3) as sbx:
    os.environ.update(sbx.env())
    sbx.admin.advance(7)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import httpx
from werkzeug.serving import WSGIRequestHandler, make_server

from .admin import seller_view
from .app import create_app
from .state import Sandbox

# The return URL both apps list unless a test registers its own: client tests walk the consent pages
# to it without running the product.
TEST_REDIRECT_URI = "http://127.0.0.1:5000/connections/amazon/callback"


@dataclass
class SellerInfo:
    name: str
    region: str
    ads_refresh_token: str
    sp_refresh_token: str
    selling_partner_id: str
    marketplace_ids: list[str]
    profiles: list[dict] = field(default_factory=list)


class Admin:
    """Thin httpx client for `/_sandbox/` (see `admin.py` for what each call does)."""

    def __init__(self, url: str, key: str):
        self._http = httpx.Client(base_url=url, headers={"X-Sandbox-Key": key}, timeout=120)

    def _call(self, method: str, path: str, **kw):
        resp = self._http.request(method, "/_sandbox" + path, **kw)
        resp.raise_for_status()
        return resp.json()

    def today(self) -> date:
        return date.fromisoformat(self._call("GET", "/clock")["today"])

    def advance(self, days: int = 1) -> date:
        return date.fromisoformat(self._call("POST", "/clock", json={"days": days})["today"])

    def set_today(self, day: date) -> date:
        return date.fromisoformat(self._call("POST", "/clock", json={"date": day.isoformat()})["today"])

    def fault(self, kind: str, rate: float = 1.0, path_prefix: str = "/", **options) -> dict:
        """Add a fault; options: status, retry_after, seconds, count, field (see `faults.py`)."""
        return self._call("POST", "/faults", json={"kind": kind, "rate": rate, "path_prefix": path_prefix, **options})

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def rate_limits(self, **spec) -> dict:
        """Amazon's rate limits and the 429s so far; ``enabled=True`` (ads_rate, ads_burst) switches them on."""
        return self._call("PUT", "/rate-limits", json=spec) if spec else self._call("GET", "/rate-limits")

    def revoke(self, refresh_token: str) -> None:
        self._call("POST", "/tokens/revoke", json={"refresh_token": refresh_token})

    def unrevoke(self, refresh_token: str) -> None:
        self._call("POST", "/tokens/unrevoke", json={"refresh_token": refresh_token})

    def rotate_secret(self, app: str) -> str:
        return self._call("POST", f"/apps/{app}/rotate-secret")["client_secret"]

    def set_redirect_uris(self, app: str, uris: Sequence[str]) -> list[str]:
        return self._call("PUT", f"/apps/{app}/redirect-uris", json={"redirect_uris": list(uris)})["redirect_uris"]

    def accounts(self) -> dict:
        return self._call("GET", "/accounts")

    def oracle(self, profile_id: int, target_acos: float, objective: str = "profit") -> dict:
        params = {"profileId": profile_id, "targetAcos": target_acos, "objective": objective}
        return self._call("GET", "/oracle", params=params)

    def market(self) -> dict:
        return self._call("GET", "/market")

    def evaluate(self, profile_id: int, bids: dict[str, float]) -> dict:
        return self._call("POST", "/oracle/evaluate", json={"profileId": profile_id, "bids": bids})["expected"]

    def catalog(self, seller: int | str, marketplace_id: str | None = None) -> dict:
        """The seller's products in a marketplace with their price and unit cost (`GET /catalog`)."""
        params = {"seller": seller, **({"marketplace_id": marketplace_id} if marketplace_id else {})}
        return self._call("GET", "/catalog", params=params)

    def inventory_history(self, seller: int | str, marketplace_id: str, days: int) -> list[dict]:
        """The FBA inventory summaries of each of the `days` days before today (`GET /inventory`), oldest first."""
        params = {"seller": seller, "marketplace_id": marketplace_id, "days": days}
        return self._call("GET", "/inventory", params=params)["days"]

    def enter_promotion(self, **body) -> dict:
        """Enter a coupon or deal as a person would (`POST /promotions`); the answer holds its Amazon id, `id`."""
        return self._call("POST", "/promotions", json=body)

    def promotions(self, seller: int | str) -> list[dict]:
        return self._call("GET", "/promotions", params={"seller": seller})["promotions"]

    def promotion_truth(self, seller: int | str, promotion_id: str, **params) -> dict:
        """True incremental units, revenue and profit; params: post_days, fees and unit_costs (dicts)."""
        return self._call("GET", f"/promotions/{promotion_id}/truth", params=_query({"seller": seller, **params}))

    def promotion_oracle(self, seller: int | str, asin: str, start: date, end: date, **params) -> dict:
        """The most profitable promotion for the ASIN in [start, end]; params: marketplace_id, unit_cost,
        types and depths (lists), fees (dict), post_days."""
        base = {"seller": seller, "asin": asin, "start": start.isoformat(), "end": end.isoformat()}
        return self._call("GET", "/promotions/oracle", params=_query({**base, **params}))

    def close(self) -> None:
        self._http.close()


def _query(params: dict) -> dict[str, str]:
    """Query parameters for the promotion truth routes: dicts as JSON, lists comma-separated."""
    out = {}
    for key, value in params.items():
        if isinstance(value, dict):
            out[key] = json.dumps(value)
        elif isinstance(value, list | tuple):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


@dataclass
class SandboxHandle:
    url: str
    admin: Admin
    sandbox: Sandbox
    sellers: list[SellerInfo]

    @property
    def admin_key(self) -> str:
        return self.sandbox.admin_key

    @property
    def ads_client_id(self) -> str:
        return self.sandbox.accounts.ads.client_id

    @property
    def ads_client_secret(self) -> str:
        return self.sandbox.accounts.ads.client_secret

    @property
    def sp_client_id(self) -> str:
        return self.sandbox.accounts.sp.client_id

    @property
    def sp_client_secret(self) -> str:
        return self.sandbox.accounts.sp.client_secret

    @property
    def sp_app_id(self) -> str:
        return self.sandbox.accounts.sp.app_id or ""

    def env(self) -> dict[str, str]:
        return environment(self.sandbox, self.url)


def environment(sb: Sandbox, url: str) -> dict[str, str]:
    """The `AMAZON_*` variables a product needs to talk to this sandbox."""
    a = sb.accounts
    return {
        "AMAZON_BASE_URL": url,
        "AMAZON_ADS_CLIENT_ID": a.ads.client_id,
        "AMAZON_ADS_CLIENT_SECRET": a.ads.client_secret,
        "AMAZON_SP_CLIENT_ID": a.sp.client_id,
        "AMAZON_SP_CLIENT_SECRET": a.sp.client_secret,
        "AMAZON_SP_APP_ID": a.sp.app_id or "",
        "AMAZON_SANDBOX_ADMIN_KEY": sb.admin_key,
    }


def seller_infos(sb: Sandbox) -> list[SellerInfo]:
    return [SellerInfo(**seller_view(sb, s)) for s in sb.accounts.sellers]


class _QuietHandler(WSGIRequestHandler):
    """No access log: test output stays readable."""

    def log_request(self, code="-", size="-") -> None:
        pass


@contextmanager
def running_sandbox(
    seed: int = 1,
    size: str = "demo",
    sellers: int | None = None,
    report_delay: float = 0.0,
    redirect_uris: Mapping[str, Sequence[str]] | None = None,
    **kw,
) -> Iterator[SandboxHandle]:
    """Serve a sandbox on 127.0.0.1:<free port> in a background thread for the `with` block.

    `redirect_uris` ("ads"/"sp" -> Allowed Return URLs) defaults to TEST_REDIRECT_URI on both apps; other
    keywords go to `create_app` (`today`, `market=` a shape name from `shapes.SHAPES`, `admin_key`, …).
    """
    if redirect_uris is None:
        redirect_uris = {"ads": [TEST_REDIRECT_URI], "sp": [TEST_REDIRECT_URI]}
    app = create_app(
        seed=seed, size=size, sellers=sellers, report_delay=report_delay, redirect_uris=redirect_uris, **kw
    )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="sandbox-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    sb: Sandbox = app.extensions["sandbox"]
    handle = SandboxHandle(url=url, admin=Admin(url, sb.admin_key), sandbox=sb, sellers=seller_infos(sb))
    try:
        yield handle
    finally:
        handle.admin.close()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        sb.workers.shutdown(wait=False, cancel_futures=True)
