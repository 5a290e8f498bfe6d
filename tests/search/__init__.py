"""Tests of the search command lines and of search/ subpackages (space, runtime, results)."""
