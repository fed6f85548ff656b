"""The dashboard's read side: date ranges, aggregated queries, daily rollups and the overview's ranking.

Pages ask these modules for results that are already summed and divided; templates only format them.
The rollup refresh that follows every sync is listed in `marketing.sync.outcome.AFTER_SYNC`.
"""
