"""Inventory and shadow-AI discovery: every AI vendor, product, model and agent the ledger has
seen, from any source, matched against the use cases the organisation registered."""
