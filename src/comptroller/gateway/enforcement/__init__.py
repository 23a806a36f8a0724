"""Enforcement engines behind the ports in ``gateway.ports``: budgets, rate limits, kill switches.

``memory`` counts in one process; ``redis_backend`` counts across replicas with Lua scripts.
Both keep money as integer micro-dollars and decide with the same rules (``budget_rules``).
"""
