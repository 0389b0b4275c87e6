"""Benchmarks: every figure is reported beside a reference measured in the same run."""
