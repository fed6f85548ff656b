"""The users of `bench/load.py` (a locustfile: `locust -f bench/load_locustfile.py`, started by bench/load.py).

Each simulated marketer logs in as its own user (load-NN@example.com), then opens one of the pages listed in the
JSON file `LOAD_URLS` (page type → URLs), waiting `LOAD_THINK` seconds between pages ("3-10", or "0" for the
single-user baseline). Requests are named by page type, so the statistics come per page.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re

from locust import HttpUser, between, constant, task

URLS: dict[str, list[str]] = json.loads(open(os.environ["LOAD_URLS"]).read())  # noqa: SIM115
PASSWORD = os.environ["LOAD_PASSWORD"]
USERS = int(os.environ.get("LOAD_USERS", "50"))
LOW, _, HIGH = os.environ.get("LOAD_THINK", "3-10").partition("-")
_numbers = itertools.count()
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Marketer(HttpUser):
    wait_time = constant(0) if float(LOW) == 0 else between(float(LOW), float(HIGH or LOW))

    def on_start(self) -> None:
        email = f"load-{next(_numbers) % USERS:02d}@example.com"
        page = self.client.get("/login", name="login")
        token = _CSRF.search(page.text).group(1)
        self.client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, name="login")

    @task
    def open_a_page(self) -> None:
        kind = random.choice(list(URLS))
        with self.client.get(random.choice(URLS[kind]), name=kind, catch_response=True) as response:
            if response.status_code != 200 or "/login" in response.url:
                response.failure(f"{response.status_code} at {response.url}")
