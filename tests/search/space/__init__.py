"""Tests of search.space."""
