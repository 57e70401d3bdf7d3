"""pytest plugin: redis_server fixtures (owned by one author; see tests/conftest.py)."""
