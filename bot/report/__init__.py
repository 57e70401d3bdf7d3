"""Reporters: a diff-mode analysis (``ruvopt.checks.diff.mode.DiffReport``) → what the App posts.

Three outputs, built together by :func:`ruvopt.bot.report.plan.build_plan` (pure: no GitHub, no
Redis, so ``ruvopt review`` prints exactly what the App would post):

- :mod:`~ruvopt.bot.report.check_run`: the ``ruvopt`` check run — conclusion, title, summary,
  text and the annotations in batches of 50;
- :mod:`~ruvopt.bot.report.review`: one ``COMMENT`` review per head SHA with at most 30 inline
  comments on RIGHT-side lines inside the diff's hunks, each carrying a hidden
  fingerprint marker, with ```suggestion blocks where the fix is mechanical;
- :mod:`~ruvopt.bot.report.summary`: the sticky summary comment, found again by its marker.

Each module also holds the few GitHub calls that post its output idempotently; they take
any object with the methods of :class:`ruvopt.bot.github.client.GitHubClient`.
"""
