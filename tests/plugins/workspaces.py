"""pytest plugin: workspaces fixtures (owned by one author; see tests/conftest.py)."""
