"""Benchmarks: print figures against the design's budgets (not tests; nothing here asserts a time)."""
