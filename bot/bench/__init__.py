"""The bench engine: base vs head of a Rust workspace, measured inside a sandbox.

Usable without the App (no FastAPI, saq, Redis or PyGithub imports): the CLI
(``ruvopt bench``) and the App's bench job (:mod:`ruvopt.bot.jobs.bench`) both call
:func:`ruvopt.bot.bench.runner.compare`.

- :mod:`.sandbox` — every command that compiles or runs repository code runs in
  ``bwrap``: new network namespace, empty environment, read-only system, only the work
  tree and target directory writable, wall-clock and memory limits, every child killed.
- :mod:`.toolchain` — the Rust toolchain and cargo home the sandbox uses, and
  ``cargo fetch --locked`` outside the sandbox (it downloads, it runs no repository code).
- :mod:`.workdir` — a commit materialised from git objects (``git archive``), never by
  running anything of the repository's.
- :mod:`.measure` — one side's builds, artifact sizes and benches; :mod:`.results`
  reads criterion's and Bencher Metric Format files.
- :mod:`.stats` — noise floor, significance and the verdict of each metric.
- :mod:`.report` — the Before/After table, the Mermaid chart and JSON.
"""
