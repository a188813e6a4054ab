"""Per-dataset data versions in Redis. Caches put the version in their keys, so a bump makes every cached
answer about that dataset stale at once, and nothing about other datasets."""

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
