"""Benchmark decontamination (see `items` for the shared values)."""
