"""Bid suggestions around the engine: evidence in (`inputs`), runs (`suggest`), limits and the write switch
(`rules`), sending to Amazon with stale checks and undo (`apply`).

The suggestion run that follows every successful sync is listed in `marketing.sync.outcome.AFTER_SYNC`.
"""
