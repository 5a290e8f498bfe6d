"""The test suite; its layout mirrors the packages. Shared helpers live in tests/helpers.py."""
