"""Exports of the ledger in standard formats."""
