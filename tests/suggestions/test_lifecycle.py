"""The lifecycle's documented transitions are the ones it enforces, and templates ask it the same questions."""

from __future__ import annotations

import re

import pytest

from marketing.suggestions import lifecycle
from marketing.suggestions.lifecycle import Status

pytestmark = pytest.mark.sqlite


def test_the_docstring_lists_exactly_the_transitions():
    documented = {}
    for source, targets in re.findall(r"^\s+(\w+)\s+→ (.+)$", lifecycle.__doc__, re.MULTILINE):
        documented[Status(source)] = {Status(t.split()[0]) for t in targets.split("|")}
    assert documented == lifecycle.TRANSITIONS


def test_status_strings_are_the_stored_ones():
    assert [str(s) for s in Status] == ["pending", "approved", "applied", "failed", "stale", "undoing", "undone",
                                         "rejected"]


@pytest.mark.parametrize("status, approve, reject, undo, flight", [
    ("pending", True, True, False, False),
    ("failed", True, True, False, False),  # a failed change may be retried or given up
    ("approved", False, False, False, True),
    ("applied", False, False, True, False),
    ("undoing", False, False, False, True),
    ("undone", False, False, False, False),
    ("rejected", False, False, False, False),
])
def test_questions_templates_ask(status, approve, reject, undo, flight):
    assert (lifecycle.can_approve(status), lifecycle.can_reject(status), lifecycle.can_undo(status),
            lifecycle.in_flight(status)) == (approve, reject, undo, flight)
