"""Benchmarks (`make bench`): figures as ratios against a limit measured in the same run."""
