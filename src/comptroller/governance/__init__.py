"""Governance: users and roles, the tamper-evident audit log, and the registry of AI use cases."""
