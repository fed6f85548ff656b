"""The naive benchmark rule and the margin helpers."""

import numpy as np
import pytest

from marketing.optimize.margin import break_even_acos, target_acos_from_margin
from marketing.optimize.naive import naive_bids


def test_naive_rule_steps_twenty_percent_by_acos():
    new = naive_bids([1.0, 1.0, 1.0, 1.0, 1.0], [10, 10, 10, 0, 3], [20, 50, 0, 0, 10], 0.30)
    assert np.allclose(new, [0.8, 1.2, 0.8, 1.0, 1.0])


def test_break_even_and_target_acos_from_margin():
    assert break_even_acos(30.0, 12.0, 6.0) == pytest.approx(0.40)  # $30 price, $18 cost + fees → 40%
    assert np.isnan(break_even_acos(np.nan, 12.0))
    targets = target_acos_from_margin([30.0, 30.0, 10.0], [12.0, 12.0, 12.0], 6.0, profit_margin=0.10)
    assert targets[0] == pytest.approx(0.30) and targets[1] == pytest.approx(0.30) and np.isnan(targets[2])
