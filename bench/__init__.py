"""Benchmark scripts (run as `python bench/NAME.py`): speed, overhead, soak and the real-data benchmark; they print figures."""
