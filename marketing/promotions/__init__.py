"""Promotions: measure a seller's past coupons and deals, suggest new ones, and follow each approved plan to its
outcome. No Amazon API creates a promotion, so an approved suggestion becomes a plan a person enters in Seller
Central; the next reports show whether and how it ran.

`history` reads the tables into the engine's frames (`marketing.optimize.promotions`), `service` stores the
engine's suggestions, `plans` owns a plan's life (approve, enter, cancel, match, measure), `fees` the fee table
admins edit, `pages` what the Promotions page and the CLI list.
"""
