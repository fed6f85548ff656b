"""Suggestions, whatever they change: their lifecycle (`lifecycle`) and the queries pages ask (`queries`).

What a suggestion changes and how it reaches Amazon lives with its kind (`marketing.bids` for bids).
"""
