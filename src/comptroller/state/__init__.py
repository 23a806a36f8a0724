"""Transactional state: rules, owners, allocations, price overrides, ingest records."""
