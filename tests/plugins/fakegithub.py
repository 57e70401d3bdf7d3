"""pytest plugin: fakegithub fixtures (owned by one author; see tests/conftest.py)."""
