"""ruvopt's analysis engine: pure, offline, never runs repository code.

Public entry points live in :mod:`ruvopt.checks.engine`; everything the App, the CLI and the
Action need meets the rules only through :class:`ruvopt.checks.model.Finding`.
"""

__version__ = "0.1.0"
