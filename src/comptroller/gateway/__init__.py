"""The data plane: an OpenAI- and Anthropic-compatible proxy.

Nothing here imports control-plane code (state, api, cli, ingest, reports, attribution,
governance). Configuration arrives as a ``Snapshot``; spend leaves as ``SpendEvent``s in a spool.
"""
