"""Benchmarks, each with its RESULTS.md."""
