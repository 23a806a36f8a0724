"""Type aliases shared across packages, so signatures say what a value means."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeAlias

Money: TypeAlias = Decimal
"""An amount in a currency; always Decimal, never float, so sums are exact to the cent."""

Dimension: TypeAlias = str
"""A business dimension (team, product, ...), a FOCUS column, or a tag reference ``tag:KEY``."""

DeliveryId: TypeAlias = str
"""Identifies one ingest delivery: the set of rows one ingest wrote."""
