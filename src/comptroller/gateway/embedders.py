"""Text to vectors for the semantic cache: an upstream embeddings model, or a local hashing one.

Both return L2-normalised vectors, so cosine similarity is a dot product.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

import aiohttp
import numpy as np


class EmbedderUnavailableError(Exception):
    """The embeddings endpoint failed or answered something unreadable; callers treat it as a miss."""


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


def normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class HashingEmbedder:
    """A local embedder that needs no model download: hashed character n-grams and words.

    It is lexical, not semantic. Requests that share most of their wording (the same question
    with different whitespace, casing, punctuation, or a changed number or name) score close to
    1; a paraphrase in other words scores low. That makes it a safe default (it errs towards a
    miss) and the upstream embedder the choice when paraphrases should hit.
    """

    _WORD = re.compile(r"\w+", re.UNICODE)

    def __init__(self, dimensions: int = 1024, ngram: int = 3) -> None:
        self.dimensions = dimensions
        self.ngram = ngram

    def vector(self, text: str) -> np.ndarray:
        words = self._WORD.findall(text.lower())
        flat = " ".join(words)
        features = [flat[i : i + self.ngram] for i in range(max(1, len(flat) - self.ngram + 1))]
        features += [f"w:{w}" for w in words]
        hashes = np.fromiter((zlib.crc32(f.encode()) for f in features), dtype=np.uint32, count=len(features))
        signs = np.where(hashes & 0x80000000, -1.0, 1.0)
        counts = np.bincount(hashes % self.dimensions, weights=signs, minlength=self.dimensions)
        return normalise(counts.astype(np.float32))

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(t).tolist() for t in texts]


class UpstreamEmbedder:
    """Calls an OpenAI-compatible ``POST {base_url}/embeddings`` (base_url as for the OpenAI SDK,
    e.g. ``https://api.openai.com/v1``). The embedding calls are themselves upstream spend; the
    caller records them like any other call."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/embeddings"
        self.model = model
        self._headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._session = session
        self._own_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.last_usage: dict[str, Any] | None = None

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        payload = {"model": self.model, "input": list(texts), "encoding_format": "float"}
        try:
            async with self._session.post(self.url, json=payload, headers=self._headers) as response:
                if response.status != 200:
                    detail = (await response.text())[:200]
                    raise EmbedderUnavailableError(f"{self.url} answered {response.status}: {detail}")
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise EmbedderUnavailableError(f"{self.url} unreachable: {exc}") from exc
        return self._vectors(document, len(texts))

    def _vectors(self, document: Any, expected: int) -> list[list[float]]:
        try:
            data = sorted(document["data"], key=lambda item: item["index"])
            vectors = [normalise(np.asarray(item["embedding"], dtype=np.float32)).tolist() for item in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbedderUnavailableError(f"{self.url} answered no readable embeddings: {exc}") from exc
        if len(vectors) != expected:
            raise EmbedderUnavailableError(
                f"{self.url} returned {len(vectors)} embeddings for {expected} texts"
            )
        self.last_usage = document.get("usage") if isinstance(document, dict) else None
        return vectors

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
