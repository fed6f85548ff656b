"""Decision engines as pure functions on arrays: no ORM, no I/O, no Flask.

`bids.suggest_bids` turns per-target aggregates and `settings.BidSettings` into bid suggestions with
reasons (`reasons.Reason`) and sentences (`explain`); `bayes` holds the empirical-Bayes conversion
rates, `special` the numpy-only beta functions, `margin` the unit-economics helpers and `naive` the
±20% rule the engine is benchmarked against. `promotions` measures past coupons and deals and suggests the next
one per ASIN (issue 13).
"""
