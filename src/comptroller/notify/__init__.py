"""Notification channels: where alerts, digests and approval requests are sent.

Channel types are plugins in one registry (``registry.CHANNEL_TYPES``); the built-in webhook,
Slack and email channels register the same way an outside channel would.
"""
