"""The work behind the queue's jobs. :mod:`ruvopt.bot.queue.worker` imports these lazily, inside the
job functions, so a worker starts (and serves the other jobs) while one is being built.

Contract between :mod:`ruvopt.bot.queue.worker` (the thin saq job functions) and the modules here.
Every function is a coroutine; it must not block the event loop for long (run CPU work
in a process pool or thread, children through :func:`ruvopt.bot.queue.procs.run`), because the job's
heartbeat runs on the same loop and a job silent for ``job_heartbeat_seconds`` is swept
and retried. Return values are stored by saq and must be JSON-serialisable (or None).
Jobs are at-least-once: a retried job must not post twice (reporters are idempotent).

``ruvopt.bot.jobs.review.run_review(settings, redis, *, installation: int, repo: str, pr: int,
head_sha: str, base_sha: str, force: bool, delivery: str)``
    The static review of one head. The worker has already skipped superseded or
    already-reviewed heads (unless ``force``) and marks the head reviewed after it returns.

``ruvopt.bot.jobs.bench.run_bench(settings, redis, job: BenchJob)``
    ``/ruvopt bench`` for the pinned head SHA (queue ``ruvopt:bench``). ``job`` is
    :class:`ruvopt.bot.queue.contract.BenchJob`, rebuilt by the worker from the saq
    kwargs (``BenchJob.from_kwargs``) that the command job enqueued (``to_kwargs``).
    Build failures, timeouts and sandbox limits are results (a ``neutral`` check run),
    not exceptions; after the last failed attempt the worker calls ``give_up_bench``.

``ruvopt.bot.jobs.command.run_command(settings, queues, github, *, installation, repo, pr,
comment_id, author, body, delivery, last_attempt, head_sha=None)``
    One ``/ruvopt`` comment (in this package), or with ``comment_id`` 0 and ``head_sha``
    one press of a "Run bench" button on that commit. ``github`` implements
    :class:`ruvopt.bot.jobs.command.CommandGitHub`, built per installation by
    ``ruvopt.bot.github.client.command_github(settings, installation) -> CommandGitHub``.

``ruvopt.bot.jobs.redeliver.run_redeliver(settings, redis)``
    The cron reconciler: redeliver webhook deliveries that never succeeded.
"""
