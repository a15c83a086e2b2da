"""Benchmarks of the hub: ``make bench`` (``python -m bench.run``) rewrites ``BENCHMARKS.md``.

Each benchmark starts its own hub (and its baseline) as subprocesses on free loopback ports,
compares the two in the same run, and stops every process it started, whatever happens.
"""
