"""Plain helper modules the tests share (fixtures are in conftest.py files)."""
