"""Sponsored Products sync: structure and daily performance, pulled from Amazon through short RQ jobs.

`runs` starts and watches a seller's run, `plan` decides what to ask Amazon for, `steps` are the RQ jobs
(request → check → download, never waiting on Amazon inside a job), `sources` holds one adapter per Amazon
report API, `outcome` ends a run and lists the work that follows it (`AFTER_SYNC`), `structure` upserts
campaigns, ad groups, targets and product ads. Report rows are written by `ingest`.
"""
