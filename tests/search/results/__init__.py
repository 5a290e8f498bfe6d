"""Tests of search.results."""
