"""A faithful fake Amazon on loopback, with a simulated ad market behind it.

The product reaches it only through `AMAZON_BASE_URL` plus credentials, on Amazon's own paths:
Login with Amazon (`/auth/o2/token`, consent pages `/ap/oa` and `/apps/authorize/consent`), the Ads
API (`/v2/profiles`, Sponsored Products v3 `/sp/...`), reporting v3 (`/reporting/reports`, files on an
S3-looking pre-signed URL), the SP-API (`/reports/2021-06-30/...`, `/fba/inventory/v1/summaries`) and
Seller Central's pages for creating coupons and deals (`sellercentral.py`, `/coupons/create`,
`/merchandising/deals/create`). Benchmarks and tests drive it through `/_sandbox/` (see `admin.py`): clock,
faults, revocation, secret rotation, the market's and the promotions' shapes (chosen per run, `shapes.py`,
`retail.py`), promotions entered as a person would (`promotions.py`) and the oracles (`oracle.py` for bids,
`promo_oracle.py` for promotions). It imports nothing from the rest of `marketing`.

Entry points: `create_app(...)` (a WSGI app), `testing.running_sandbox(...)` and `cli.sandbox_command`.
"""

from .app import create_app

__all__ = ["create_app"]
