"""What every route needs: the stores, the idempotency cache and error documentation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from shipyard.server.idempotency import IdempotencyCache
from shipyard.server.schemas import ErrorBody
from shipyard.store.base import BlobStore, Store

__all__ = [
    "ERRORS",
    "NO_CONTENT",
    "BlobStoreDep",
    "CacheDep",
    "IdempotencyKey",
    "StoreDep",
    "blob_store_of",
]

NO_CONTENT = 204


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def blob_store_of(request: Request) -> BlobStore:
    blob_store: BlobStore = request.app.state.blob_store
    return blob_store


def _cache(request: Request) -> IdempotencyCache:
    cache: IdempotencyCache = request.app.state.idempotency
    return cache


StoreDep = Annotated[Store, Depends(_store)]
BlobStoreDep = Annotated[BlobStore, Depends(blob_store_of)]
CacheDep = Annotated[IdempotencyCache, Depends(_cache)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="A unique key per logical request: a retry with the same key is applied once.",
    ),
]

# Documented error answers, all in the shape of ErrorBody.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid input"},
    404: {"model": ErrorBody, "description": "Not found"},
    409: {"model": ErrorBody, "description": "Conflict with what is stored"},
    413: {"model": ErrorBody, "description": "Request body too large"},
}
