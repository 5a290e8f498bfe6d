"""Tests of search.runtime."""
