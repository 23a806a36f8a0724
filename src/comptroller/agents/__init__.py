"""Agents that are not behind the gateway: their registry and the run API that governs them.

An agent reports each step of a run (model call, tool call, cost, tokens) and asks "may I
continue?" before the next one; the answer checks spend caps, run, tool-call and context limits,
loop detection, approval gates and kill switches. Run costs land in the ledger as usage events.
"""
