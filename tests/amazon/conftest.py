"""A scripted fake of Amazon's endpoints on ``httpx.MockTransport``, plus wiring fixtures."""

from __future__ import annotations

import gzip
from collections import defaultdict, deque
from collections.abc import Callable

import httpx
import orjson
import pytest

from marketing.amazon import AccessTokenSource, Hosts, MemoryTokenCache, Region, RetryPolicy, Transport

CLIENT_ID = "amzn1.application-oa2-client.testclient"
CLIENT_SECRET = "amzn1.oa2-cs.v1.s3cr3t-client-secret"
REFRESH_TOKEN = "Atzr|refresh-token-s3cr3t"
AUTH_CODE = "ANcodeS3cr3tValue"
TOKEN_PATH = "/auth/o2/token"

Handler = Callable[[httpx.Request], httpx.Response]


def json_response(status: int, body, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=orjson.dumps(body), headers={"Content-Type": "application/json", **(headers or {})}
    )


def gzipped(obj) -> bytes:
    return gzip.compress(orjson.dumps(obj))


class FakeAmazon:
    """Routes requests by (method, path) to queued responses or handlers and records them.

    Queued responses are served in order; the last one keeps being served. Unless told
    otherwise the token endpoint hands out ``Atza|access-1``, ``Atza|access-2``, ...
    """

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self._routes: dict[tuple[str, str], deque] = defaultdict(deque)
        self.tokens_issued = 0
        self.on("POST", TOKEN_PATH, self._issue_token)

    def _issue_token(self, request: httpx.Request) -> httpx.Response:
        self.tokens_issued += 1
        return json_response(
            200,
            {
                "access_token": f"Atza|access-{self.tokens_issued}",
                "refresh_token": REFRESH_TOKEN,
                "token_type": "bearer",
                "expires_in": 3600,
            },
        )

    def on(self, method: str, path: str, *responses: httpx.Response | Handler | Exception) -> None:
        queue = self._routes[(method, path)]
        queue.clear()
        queue.extend(responses)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        queue = self._routes.get((request.method, request.url.path))
        if not queue:
            return json_response(404, {"code": "NOT_FOUND", "message": f"no fake route {request.url.path}"})
        item = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return httpx.Response(item.status_code, headers=item.headers, stream=item.stream)
        return item(request)


@pytest.fixture
def fake() -> FakeAmazon:
    return FakeAmazon()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def http(fake) -> httpx.Client:
    with httpx.Client(transport=httpx.MockTransport(fake)) as client:
        yield client


@pytest.fixture
def transport(http, sleeps) -> Transport:
    # rand() == 1.0 makes the jittered backoff equal its nominal value: 0.5 s, 1 s, 2 s, ...
    return Transport(
        http, policy=RetryPolicy(max_attempts=4, max_total_wait=5.0), sleep=sleeps.append, rand=lambda: 1.0
    )


@pytest.fixture
def hosts() -> Hosts:
    return Hosts(None)


@pytest.fixture
def token_source(transport, hosts) -> AccessTokenSource:
    return AccessTokenSource(transport, hosts, Region.NA, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, MemoryTokenCache())
