"""The semantic cache: a new request answered with the stored answer of a similar earlier one.

Similarity is the cosine of normalised embeddings of the request's prompt text (messages,
system prompt, instructions). Everything else in the request (model, temperature, tools, output
limits) must match exactly: it goes into the scope, together with the tenant (a key or team),
so an answer is only ever reused for the same model and settings within the same tenant.
A hit needs a similarity of at least ``threshold``; the same cacheability rules as the exact
cache apply (see ``cache.cacheable``), and the exact cache is consulted first.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from comptroller.gateway.cache import CachedResponse, cache_key
from comptroller.gateway.embedders import Embedder, EmbedderUnavailableError

log = logging.getLogger(__name__)

PROMPT_FIELDS = frozenset({"messages", "system", "input", "instructions", "prompt"})
"""Request fields compared by similarity; every other field is part of the exact scope."""
_RECENT_VECTORS = 1024


def request_text(body: Mapping[str, Any]) -> str:
    """The prompt as plain text: OpenAI chat and Responses, Anthropic messages, completions."""
    lines: list[str] = []
    for name in ("system", "instructions"):
        if body.get(name):
            lines.append(f"{name}: {_content_text(body[name])}")
    for name in ("messages", "input"):
        value = body.get(name)
        if isinstance(value, str):
            lines.append(f"user: {value}")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    lines.append(f"{item.get('role', 'user')}: {_content_text(item.get('content'))}")
                else:
                    lines.append(f"user: {_content_text(item)}")
    if body.get("prompt"):
        lines.append(f"user: {_content_text(body['prompt'])}")
    return "\n".join(lines)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_content_text(part) for part in content)
    if isinstance(content, Mapping):
        return str(content.get("text") or content.get("input_text") or "")
    return "" if content is None else str(content)


def semantic_scope(provider_kind: str, path: str, body: Mapping[str, Any], tenant: str) -> str:
    """Requests share answers only within one scope: same tenant and every non-prompt field."""
    settings = {k: v for k, v in body.items() if k not in PROMPT_FIELDS}
    return cache_key(provider_kind, path, settings, scope=tenant)


@dataclass(frozen=True, slots=True)
class SemanticHit:
    value: CachedResponse
    similarity: float


class _Scope:
    """The vectors of one scope in one matrix, so a lookup is a single matrix-vector product."""

    def __init__(self, dimensions: int) -> None:
        self.matrix = np.zeros((8, dimensions), dtype=np.float32)
        self.ids: list[int] = []

    def add(self, entry_id: int, vector: np.ndarray) -> None:
        if len(self.ids) == self.matrix.shape[0]:
            grown = np.zeros((self.matrix.shape[0] * 2, self.matrix.shape[1]), dtype=np.float32)
            grown[: len(self.ids)] = self.matrix
            self.matrix = grown
        self.matrix[len(self.ids)] = vector
        self.ids.append(entry_id)

    def remove(self, entry_id: int) -> None:
        index, last = self.ids.index(entry_id), len(self.ids) - 1
        self.matrix[index] = self.matrix[last]
        self.ids[index] = self.ids[last]
        self.ids.pop()

    def best(self, vector: np.ndarray) -> tuple[int, float] | None:
        if not self.ids:
            return None
        scores = self.matrix[: len(self.ids)] @ vector
        index = int(np.argmax(scores))
        return self.ids[index], float(scores[index])


class SemanticCache:
    """In-memory semantic cache of one replica, least recently used first out past ``max_entries``."""

    def __init__(self, embedder: Embedder, threshold: float = 0.95, max_entries: int = 10_000) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold {threshold} must be in (0, 1]")
        self.embedder = embedder
        self.threshold = threshold
        self.max_entries = max_entries
        self._scopes: dict[str, _Scope] = {}
        self._entries: OrderedDict[int, tuple[str, float, CachedResponse]] = OrderedDict()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._ids = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    async def lookup(self, scope: str, text: str) -> SemanticHit | None:
        vector = await self._vector(text)
        space = self._scopes.get(scope)
        if vector is None or space is None or space.matrix.shape[1] != vector.shape[0]:
            return None
        while (best := space.best(vector)) is not None:
            entry_id, similarity = best
            _, expires, value = self._entries[entry_id]
            if expires > time.monotonic():
                if similarity < self.threshold:
                    return None
                self._entries.move_to_end(entry_id)
                return SemanticHit(value, similarity)
            self._remove(entry_id)
        return None

    async def store(self, scope: str, text: str, value: CachedResponse, ttl_s: float) -> None:
        vector = await self._vector(text)
        if vector is None or ttl_s <= 0:
            return
        space = self._scopes.setdefault(scope, _Scope(vector.shape[0]))
        if space.matrix.shape[1] != vector.shape[0]:
            log.warning("semantic cache: embedding size changed in scope %s; entry not stored", scope[:12])
            return
        entry_id = next(self._ids)
        space.add(entry_id, vector)
        self._entries[entry_id] = (scope, time.monotonic() + ttl_s, value)
        while len(self._entries) > self.max_entries:
            self._remove(next(iter(self._entries)))

    async def _vector(self, text: str) -> np.ndarray | None:
        """The text's vector; a lookup's vector is kept briefly so the store after a miss does not
        pay for a second embedding call."""
        cached = self._recent.get(text)
        if cached is not None:
            self._recent.move_to_end(text)
            return cached
        try:
            [embedding] = await self.embedder.embed([text])
        except EmbedderUnavailableError as exc:
            log.warning("semantic cache: embedder unavailable, treated as a miss: %s", exc)
            return None
        vector = np.asarray(embedding, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if norm:
            vector /= norm
        self._recent[text] = vector
        if len(self._recent) > _RECENT_VECTORS:
            self._recent.popitem(last=False)
        return vector

    def _remove(self, entry_id: int) -> None:
        scope, _, _ = self._entries.pop(entry_id)
        space = self._scopes[scope]
        space.remove(entry_id)
        if not space.ids:
            del self._scopes[scope]
