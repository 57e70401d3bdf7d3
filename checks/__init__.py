"""ruvopt's analysis engine: pure, offline, never runs repository code.

Public entry points live in :mod:`checks.engine`; everything the App, the CLI and the
Action need meets the rules only through :class:`checks.model.Finding`.
"""

__version__ = "0.1.0"
