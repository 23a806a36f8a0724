"""The channel extension point: a channel type is a class with a config schema and ``send``.

A registry is a plain name -> class map filled by a decorator, so an outside package adds a
channel type the same way the built-ins do (``@register("teams")``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from comptroller.notify.message import Notification


class ChannelConfig(BaseModel):
    """Base of every channel's settings; unknown fields are refused so typos surface."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ConfigT = TypeVar("ConfigT", bound=ChannelConfig)


class DeliveryFailed(Exception):
    """One attempt failed. ``retryable`` is False when trying again cannot help (a 4xx reply,
    a refused recipient), so delivery stops at once instead of hammering the receiver."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(ABC, Generic[ConfigT]):
    """One configured destination. ``secret_fields`` are masked whenever config is shown."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[ChannelConfig]]
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: ConfigT) -> None:
        self.config = config

    @abstractmethod
    async def send(self, notification: Notification) -> None:
        """Deliver once or raise :class:`DeliveryFailed`; retries belong to the caller."""


CHANNEL_TYPES: dict[str, type[Channel]] = {}


def register(name: str) -> Callable[[type[Channel]], type[Channel]]:
    """Class decorator adding a channel type to :data:`CHANNEL_TYPES` under ``name``."""

    def add(cls: type[Channel]) -> type[Channel]:
        if name in CHANNEL_TYPES and CHANNEL_TYPES[name] is not cls:
            raise ValueError(f"channel type {name!r} is registered already by {CHANNEL_TYPES[name]!r}")
        cls.type_name = name
        CHANNEL_TYPES[name] = cls
        return cls

    return add
