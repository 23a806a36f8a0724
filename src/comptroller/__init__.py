"""Comptroller: one FOCUS ledger for every AI dollar, attributed, governed and acted on."""

__version__ = "0.1.0"
