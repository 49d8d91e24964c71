"""Smoke tests of the benchmark scripts; those that run one end to end are slow."""
