"""The buttons ruvopt puts on its check runs (``requested_action`` identifiers).

Reporters add them; the receiver's check_run handler routes a click by identifier. Both
import this module, which imports nothing, so the receiver stays free of the reporters.
"""

from __future__ import annotations

RECHECK_ACTION = "recheck"
RECHECK = {"label": "Re-check", "description": "Run ruvopt again on this commit", "identifier": RECHECK_ACTION}
BENCH_ACTION = "bench"
RUN_BENCH = {"label": "Run bench", "description": "Benchmark base vs this commit", "identifier": BENCH_ACTION}
BENCH_CHECK_NAME = "ruvopt/bench"  # "Re-run" on this check run runs the bench again
