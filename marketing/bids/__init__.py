"""Bid suggestions around the engine: evidence in (`inputs`), runs (`suggest`), limits and the write switch
(`rules`), sending to Amazon with stale checks and undo (`apply`).

Importing the package registers the suggestion run to follow every successful sync.
"""

from marketing.sync import runs

runs.after_sync("bid-suggestions", "marketing.bids.suggest.after_sync")
