"""Tests of data_utils."""
