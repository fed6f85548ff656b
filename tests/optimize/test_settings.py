"""Settings validation messages and the look-back window."""

from datetime import date
from decimal import Decimal

import pytest

from marketing.optimize.settings import BidSettings, lookback_window


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_acos": 0}, "Target ACoS must be above 0%"),
        ({"target_acos": -0.2}, "Target ACoS must be above 0% (got -20%)"),
        ({"target_acos": 30}, "Target ACoS can't be above 100% (got 30 — enter 30% as 0.3)"),
        ({"target_acos": 1.5}, "Target ACoS can't be above 100%"),
        ({"target_acos": "30%"}, "Target acos must be a number, got '30%'"),
        ({"target_acos": True}, "must be a number"),
        ({"min_bid": 2.0, "max_bid": 1.0}, "Minimum bid 2 is above the maximum bid 1"),
        ({"min_bid": 0.01}, "Minimum bid 0.01 is below the marketplace minimum of 0.02"),
        ({"max_bid": 5000}, "Maximum bid 5000 is above the marketplace maximum of 1000"),
        ({"lookback_days": 3}, "look-back must be longer"),
        ({"dead_band": 0.3}, "Dead band must be below the step cap"),
        ({"confidence": 1.2}, "Confidence must be between 50% and 100%"),
        ({"min_cpc_ratio": 0.9}, "CPC/bid ratios must be 0 < minimum ≤ prior ≤ 1"),
        ({"prior_cpc_ratio": 1.2}, "CPC/bid ratios must be 0 < minimum ≤ prior ≤ 1"),
        ({"aov_prior_orders": -1}, "Prior strengths can't be negative"),
    ],
)
def test_invalid_settings_are_refused_with_a_readable_message(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BidSettings(**kwargs)


def test_numbers_are_normalised():
    settings = BidSettings(target_acos=Decimal("0.25"), min_bid=1, lookback_days=60)
    assert settings.target_acos == 0.25 and isinstance(settings.min_bid, float)
    assert (settings.floor, settings.ceiling, settings.window_days) == (1.0, 1000.0, 57)
    assert BidSettings(target_acos=1).target_acos == 1.0


def test_lookback_window_excludes_the_attribution_days():
    assert lookback_window(date(2025, 5, 31)) == (date(2025, 5, 1), date(2025, 5, 27))
    assert lookback_window(date(2025, 3, 1), days=14, exclude_recent=2) == (date(2025, 2, 15), date(2025, 2, 26))
    with pytest.raises(ValueError):
        lookback_window(date(2025, 3, 1), days=3, exclude_recent=3)
