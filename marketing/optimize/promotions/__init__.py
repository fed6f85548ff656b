"""Promotion engines (issue 13), pure numpy/pandas: `measure` the lift of past coupons and deals, estimate each
ASIN's promotional `elasticities`, and `suggest` the next promotion per ASIN with the money behind it (a seller's
`dip_fit` and `bend_stats` are where its agency's other sellers start from). The caller (marketing.promotions)
loads the tables into DataFrames; `panel` holds the shared ASIN × day arrays and baseline, `economics` the fees and
margins."""

from marketing.optimize.promotions.economics import (
    PRIOR_ELASTICITY,
    Fee,
    break_even_lift,
    discount_share,
    promotion_fee,
)
from marketing.optimize.promotions.elasticity import bend_stats, elasticities
from marketing.optimize.promotions.measure import measure
from marketing.optimize.promotions.suggest import LEAD_DAYS, PromotionSettings, Proposal, Skip, dip_fit, suggest

__all__ = ["LEAD_DAYS", "PRIOR_ELASTICITY", "Fee", "PromotionSettings", "Proposal", "Skip", "bend_stats",
           "break_even_lift", "dip_fit", "discount_share", "elasticities", "measure", "promotion_fee", "suggest"]
