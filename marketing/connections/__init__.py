"""Seller connections to Amazon: stored tokens, their status, the connect flows and the daily check.

`amazon/` knows Amazon; this package ties it to our tables: it encrypts tokens, records every outcome on the
connection (last success, last error, revoked), and raises app-level alerts for our own credentials.
"""
