"""Compute tables (owned by the compute API and the scheduler)."""
