"""Fixtures for the sandbox suite: Amazon's spec files, a shared read-mostly sandbox, a fake clock."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from marketing.sandbox.testing import running_sandbox

REPO = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("AMAZON_SPECS_DIR", REPO.parent / "shared" / "amazon" / "specs"))
NOTES = Path(os.environ.get("AMAZON_NOTES_DIR", REPO.parent / "shared" / "amazon"))
TODAY = date(2025, 6, 18)  # a Wednesday; fixed so every run sees the same market


def load_spec(relative: str) -> dict:
    path = SPECS / relative
    if not path.is_file():
        pytest.skip(f"Amazon spec {relative} not found under {SPECS} (set AMAZON_SPECS_DIR)")
    return json.loads(path.read_text())


def load_notes(name: str) -> str:
    """Our reference notes on Amazon's APIs (ADS_API.md, SP_API.md), which tests check the sandbox against."""
    path = NOTES / name
    if not path.is_file():
        pytest.skip(f"Amazon notes {name} not found under {NOTES} (set AMAZON_NOTES_DIR)")
    return path.read_text()


class FakeClock:
    """Wall clock the tests move by hand (token lifetimes, code expiry, report delays, URL expiry)."""

    def __init__(self, start: float = 1_750_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def sbx():
    """A shared sandbox for tests that only read (no clock moves, faults or credential changes)."""
    with running_sandbox(seed=11, today=TODAY) as handle:
        yield handle


@pytest.fixture
def fresh_sbx():
    """A private sandbox for tests that change clocks, faults or credentials."""
    with running_sandbox(seed=5, today=TODAY) as handle:
        yield handle


@pytest.fixture
def clock():
    return FakeClock()
