"""Per-dataset data versions in Redis. Caches put the version in their keys, so a bump makes every cached
answer about that dataset stale at once, and nothing about other datasets."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

import redis
import structlog

from aurum.redis_clients import redis_client

log = structlog.get_logger(__name__)
_PREFIX = "aurum:dataset-version:"


def dataset_versions(datasets: list[str]) -> dict[str, int] | None:
    """Each dataset's version in one round trip; None when Redis is unreachable."""
    if not datasets:
        return {}
    try:
        values = redis_client().mget([_PREFIX + d for d in datasets])
    except redis.RedisError:
        return None
    return {d: int(v) if v else 0 for d, v in zip(datasets, values, strict=True)}


def dataset_version(dataset: str) -> int:
    try:
        value = redis_client().get(_PREFIX + dataset)
    except redis.RedisError:
        return -1  # Redis down: callers skip caching
    return int(value) if value else 0


def dataset_version_bump(dataset: str) -> int:
    try:
        return int(redis_client().incr(_PREFIX + dataset))
    except redis.RedisError as exc:
        # The data is written; caches expire by TTL. Say so loudly, do not fail the ingest.
        log.error(
            "dataset version bump failed; cached reads stay stale until their TTL",
            dataset=dataset,
            error=str(exc),
        )
        return -1


# The versions a read-through read its key with, while it computes (aurum/api/read_cache.py): a process cache
# of rows about a dataset keys its entries by them too, so an answer stored under a version never comes
# from rows read before that version's data was committed (decision 0075).
_known: ContextVar[Mapping[str, int] | None] = ContextVar("aurum_dataset_versions_known", default=None)


@contextmanager
def versions_known(versions: Mapping[str, int]) -> Iterator[None]:
    token = _known.set(versions)
    try:
        yield
    finally:
        _known.reset(token)


def version_known(dataset: str) -> int | None:
    """The dataset's version as the read under way knows it, or None (no read-through, or not asked)."""
    known = _known.get()
    return None if known is None else known.get(dataset)
