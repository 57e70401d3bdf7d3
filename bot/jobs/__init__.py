"""The work behind the queue's jobs. :mod:`ruvopt.bot.queue.worker` imports these lazily, inside the
job functions, so a worker starts (and serves the other jobs) while one is being built.

Contract between :mod:`ruvopt.bot.queue.worker` (the thin saq job functions) and the modules here.
Every function is a coroutine; it must not block the event loop for long (run CPU work
in a process pool or thread, children through :func:`ruvopt.bot.queue.procs.run`), because the job's
heartbeat runs on the same loop and a job silent for ``job_heartbeat_seconds`` is swept
and retried. Return values are stored by saq and must be JSON-serialisable (or None).
Jobs are at-least-once: a retried job must not post twice (reporters are idempotent).

Each job's arguments are one frozen dataclass of :mod:`ruvopt.bot.queue.jobs` (the job
contract), rebuilt by the worker from saq's kwargs (``from_kwargs``) and enqueued by
:func:`ruvopt.bot.queue.intake.accept` (``to_kwargs``).

``ruvopt.bot.jobs.review.run_review(settings, redis, job: ReviewJob)``
    The static review of one head. The worker has already skipped superseded or
    already-reviewed heads (unless ``job.force``) and marks the head reviewed after it
    returns; after the last failed attempt it calls ``give_up_review``.

``ruvopt.bot.jobs.bench.run_bench(settings, redis, job: BenchJob)``
    ``/ruvopt bench`` for the pinned head SHA (queue ``ruvopt:bench``). Build failures,
    timeouts and sandbox limits are results (a ``neutral`` check run), not exceptions;
    after the last failed attempt the worker calls ``give_up_bench``.

``ruvopt.bot.jobs.command.run_command(settings, queues, github, job: CommandJob, *, last_attempt)``
    One ``/ruvopt`` comment, or (``comment_id`` 0 and ``head_sha``) one press of a "Run
    bench" button on that commit. ``github`` is the one
    :class:`ruvopt.bot.github.client.GitHubClient` for the installation (the
    :class:`ruvopt.bot.jobs.command.CommandGitHub` protocol names what it uses).

``ruvopt.bot.jobs.redeliver.run_redeliver(settings, redis)``
    The cron reconciler: redeliver webhook deliveries that never succeeded.

``ruvopt.bot.jobs.sweeper.sweep_forever(settings, redis, queues, stop)``
    Not a job: a loop in every worker that completes the check runs of jobs that died
    (see :mod:`ruvopt.bot.jobs.sweeper`).
"""
