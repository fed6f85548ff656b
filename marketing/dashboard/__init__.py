"""The dashboard's read side: date ranges, aggregated queries, daily rollups and the overview's ranking.

Pages ask these modules for results that are already summed and divided; templates only format them.
Importing the package registers the rollup refresh to follow every successful sync.
"""

from marketing.sync import runs

runs.after_sync("dashboard-rollups", "marketing.dashboard.rollups.after_sync", also_after_failure=True)
