"""Connectors: each turns one source format into validated ledger rows, atomically."""
