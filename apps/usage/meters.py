"""Usage counters in Redis: one round trip per counted event, flushed to Postgres by beat.

Keys (``s`` the tenant schema):
- ``aurum:usage:d:<s>:<YYYY-MM-DD>``: a hash per tenant and day (UTC), field ``<metric>|<credential>``;
  listed in the set ``aurum:usage:dirty`` until a flush moves it away.
- ``aurum:usage:m:<s>:<YYYY-MM>``: the month to date per metric (flushed and not), what quotas are checked
  against. Seeded from Postgres and the unflushed hashes when missing (a new month, Redis lost its data).
- ``aurum:usage:b:<s>:<YYYY-MM-DD>:<uuid>``: a day hash a flush renamed (atomically) to apply it; listed in
  ``aurum:usage:batches`` until applied and deleted. The uuid is the batch's id in UsageFlushBatch.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import redis

from aurum.redis_clients import redis_client

DIRTY = "aurum:usage:dirty"
BATCHES = "aurum:usage:batches"
DAY_TTL_SECONDS = 40 * 86400  # unflushed counts survive a beat outage of this long
MONTH_GRACE_SECONDS = 7 * 86400  # a month's running total is kept this long after the month ends
REDIS_TIMEOUT = 0.3

# KEYS: day hash, month hash, dirty set. ARGV: field, metric, amount, limit (-1: none), mode, day ttl.
# mode 'hard': refuse if used + amount > limit; 'soft': refuse if used >= limit; 'none': never refuse.
# Returns {state, used before, used after}: state -1 month not seeded (nothing done), 0 refused, 1 done.
_TAKE = """
if redis.call('EXISTS', KEYS[2]) == 0 then return {-1, 0, 0} end
local used = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
local amount = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local mode = ARGV[5]
if limit >= 0 then
  if mode == 'hard' and used + amount > limit then return {0, used, used} end
  if mode == 'soft' and used >= limit then return {0, used, used} end
end
local after = used
if amount ~= 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], amount)
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
  redis.call('SADD', KEYS[3], KEYS[1])
  after = redis.call('HINCRBY', KEYS[2], ARGV[2], amount)
end
return {1, used, after}
"""

# KEYS: month hash. ARGV: time to live (seconds), then metric, count pairs. Sets them only if absent.
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""

# KEYS: day hash, batch key, dirty set, batches set. Moves the day's counts to the batch, atomically: a count
# taken after this goes to a new day hash, never to the batch being applied.
_MOVE = """
redis.call('SREM', KEYS[3], KEYS[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PERSIST', KEYS[2])
redis.call('SADD', KEYS[4], KEYS[2])
return 1
"""


def day_key(schema: str, day: date) -> str:
    return f"aurum:usage:d:{schema}:{day.isoformat()}"


def month_key(schema: str, month: date) -> str:
    return f"aurum:usage:m:{schema}:{month:%Y-%m}"


def field_of(metric: str, credential: str) -> str:
    return f"{metric}|{credential}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def field_split(field: bytes | str) -> tuple[str, str]:
    metric, _, credential = _text(field).partition("|")
    return metric, credential


@dataclass(frozen=True)
class Take:
    state: int  # -1 month not seeded, 0 refused, 1 counted
    before: int
    after: int


def _client() -> redis.Redis:
    return redis_client(timeout=REDIS_TIMEOUT)


def meter_take(
    *,
    schema: str,
    day: date,
    month: date,
    credential: str,
    metric: str,
    amount: int,
    limit: int | None,
    mode: str,
) -> Take:
    """Count ``amount`` unless that breaks ``limit`` (by ``mode``). Raises redis.RedisError."""
    state, before, after = _client().eval(
        _TAKE,
        3,
        day_key(schema, day),
        month_key(schema, month),
        DIRTY,
        field_of(metric, credential),
        metric,
        amount,
        -1 if limit is None else limit,
        mode,
        DAY_TTL_SECONDS,
    )
    return Take(int(state), int(before), int(after))


def meter_seed(*, schema: str, month: date, totals: dict[str, int], expire_at: datetime) -> bool:
    """Set the month's running totals unless they exist (a concurrent seeder was first). They live until
    ``expire_at``, and at least MONTH_GRACE_SECONDS (a month in the past, as tests set the clock)."""
    pairs = [str(x) for metric, count in sorted(totals.items()) for x in (metric, count)]
    ttl = max(MONTH_GRACE_SECONDS, int(expire_at.timestamp() - time.time()))
    return bool(_client().eval(_SEED, 1, month_key(schema, month), ttl, *pairs))


def meter_month(*, schema: str, month: date) -> dict[str, int] | None:
    """The month's running totals, or None when not seeded."""
    raw = _client().hgetall(month_key(schema, month))
    return {_text(k): int(v) for k, v in raw.items()} if raw else None


def meter_unflushed(*, prefix: str) -> list[tuple[str, dict[str, int]]]:
    """(key, counts) of the day hashes and batches not yet deleted whose ``<schema>:<day>`` starts with
    ``prefix``."""
    client = _client()
    keys = sorted(
        _text(key)
        for key in (*client.smembers(DIRTY), *client.smembers(BATCHES))
        if _text(key).split(":", 3)[-1].startswith(prefix)
    )
    out = []
    for key in keys:
        raw = client.hgetall(key)
        if raw:
            out.append((key, {_text(k): int(v) for k, v in raw.items()}))
    return out


def batch_id(key: str) -> str | None:
    """The batch id of a batch key, None for a day key."""
    parts = key.split(":")
    return parts[5] if parts[2] == "b" and len(parts) == 6 else None


def batch_parts(key: str) -> tuple[str, date, str]:
    """(schema, day, batch id) of ``aurum:usage:b:<schema>:<day>:<uuid>``."""
    _, _, _, schema, day, batch = key.split(":")
    return schema, date.fromisoformat(day), batch


def meter_move_dirty() -> list[str]:
    """Move every dirty day hash to a new batch; returns the batch keys waiting to be applied (all of them,
    including those of an earlier flush that died before deleting its batches)."""
    client = _client()
    for raw in client.smembers(DIRTY):
        key = _text(raw)
        _, _, _, schema, day = key.split(":")
        batch = f"aurum:usage:b:{schema}:{day}:{uuid.uuid4().hex}"
        client.eval(_MOVE, 4, key, batch, DIRTY, BATCHES)
    return sorted(_text(raw) for raw in client.smembers(BATCHES))


def meter_batch_read(key: str) -> dict[str, int]:
    return {_text(k): int(v) for k, v in _client().hgetall(key).items()}


def meter_batch_done(key: str) -> None:
    client = _client()
    client.delete(key)
    client.srem(BATCHES, key)
