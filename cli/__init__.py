"""The ``ruvopt`` command line: check, review, bench (light) and serve/worker (App)."""
