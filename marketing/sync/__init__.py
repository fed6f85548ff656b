"""Sponsored Products sync: structure and daily performance, pulled from Amazon through short RQ jobs.

`runs` starts and watches a seller's run, `plan` decides what to ask Amazon for, `jobs` are the steps
(request → check → download, never waiting on Amazon inside a job), `structure` upserts campaigns, ad groups,
targets and product ads. Report rows are written by `ingest`.
"""
