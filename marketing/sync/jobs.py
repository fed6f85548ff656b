"""Old import path of the sync steps (now `marketing.sync.steps`), kept for one release.

RQ stores a job's function as its dotted path, so steps queued in Redis before the rename name
`marketing.sync.jobs.<step>`; this module lets them run. Delete it in the release after the one that renamed it,
once no queue or scheduled-job registry holds a `marketing.sync.jobs.` job (`marketing worker` has drained them).
"""

from marketing.sync.steps import check, download, finish, request, structure

__all__ = ["check", "download", "finish", "request", "structure"]
