"""Read-side reports over the attributed ledger: spend, coverage, unowned spend."""
