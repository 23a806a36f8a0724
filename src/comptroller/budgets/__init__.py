"""Budgets: the one budget model shared by the gateway (enforcement) and governance (CRUD, alerts)."""
