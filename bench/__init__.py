"""Benchmarks that print their figures; results are recorded in docs/benchmarks.md."""
