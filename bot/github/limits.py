"""GitHub's limits, named once, next to nothing else (style rule 12).

Each constant says where the limit comes from; code that obeys a limit imports it from
here, and overflow is summarised by the reporters, never dropped.
"""

from __future__ import annotations

# Checks API (docs: "Update a check run").
MAX_ANNOTATIONS_PER_REQUEST = 50  # more in one request → 422; further PATCHes append
MAX_OUTPUT_TEXT = 65_535  # output.summary and output.text, characters (schema maxLength)
MAX_OUTPUT_SUMMARY = MAX_OUTPUT_TEXT
MAX_ANNOTATION_TITLE = 255  # characters
MAX_ANNOTATION_MESSAGE_BYTES = 64 * 1024
MAX_CHECK_RUN_ACTIONS = 3  # requested-action buttons (schema maxItems)
MAX_ACTION_LABEL = 20  # characters (schema maxLength)
MAX_ACTION_DESCRIPTION = 40
MAX_ACTION_IDENTIFIER = 20

# Reviews and comments.
MAX_REVIEW_COMMENTS = 30  # ruvopt's own cap per review (docs/app.md); the rest go to the summary
MAX_COMMENT_BODY = 65_536  # issue and review comment bodies, characters

# REST pagination.
MAX_PER_PAGE = 100
MAX_PULL_FILES = 3_000  # `GET …/pulls/{n}/files` lists at most this many files

# GraphQL connections: `first`/`last` are required and at most 100.
MAX_GRAPHQL_PAGE = 100

# App authentication.
JWT_LIFETIME_S = 540  # GitHub refuses exp more than 600 s ahead; keep clear of clock drift
JWT_BACKDATE_S = 60  # iat 60 s in the past, as GitHub recommends against clock drift
TOKEN_REFRESH_MARGIN_S = 300  # installation tokens live 1 h; renew 5 min before expiry

# Rate limits (docs: "Best practices for using the REST API").
WRITE_SPACING_S = 1.0  # content-creating requests ≥ 1 s apart (per installation)
SECONDARY_RATE_LIMIT_WAIT_S = 60.0  # no retry-after and no reset: wait at least a minute
MAX_RATE_LIMIT_WAIT_S = 300.0  # longer than this: fail the job, the queue retries it later

# Webhook deliveries: GitHub can redeliver deliveries from the past 3 days.
REDELIVERY_WINDOW_S = 3 * 24 * 3600
