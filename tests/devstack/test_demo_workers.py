"""The demo's workers: every queue is served exactly once, and the work that waits on the network (vendor
feeds, webhook receivers, backfills) has its own process, so a slow or unreachable vendor never holds the
slots that ingests and scenario runs need."""

import redis

from aurum.devstack.__main__ import demo_worker_commands, redis_now, workers_beating
from aurum.health.worker import HEARTBEATS_KEY, heartbeat_member, heartbeat_pid
from aurum.queues import BACKFILL, FEEDS, INGEST, QUEUES, SCENARIOS, WEBHOOKS


def _queues(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


def test_every_queue_is_served_by_exactly_one_demo_worker():
    served = [_queues(command) for command in demo_worker_commands()]

    assert sorted(queue for queues in served for queue in queues) == sorted(QUEUES)


def test_feeds_webhooks_and_backfills_never_share_a_worker_with_ingests_or_runs():
    commands = demo_worker_commands()
    (network,) = [c for c in commands if FEEDS in _queues(c)]
    (compute,) = [c for c in commands if SCENARIOS in _queues(c)]

    assert network is not compute
    assert {WEBHOOKS, BACKFILL} <= _queues(network) and INGEST in _queues(compute)
    assert network[network.index("--pool") + 1] == "threads"  # waiting, not computing: many at once
    names = [c[c.index("-n") + 1] for c in commands]
    assert len(set(names)) == len(names)  # two workers with one node name would clash


def test_the_demo_counts_each_of_its_workers_by_the_pid_in_its_heartbeat(settings):
    """`make demo` says its workers are ready when every one it started has beaten since it started them,
    not when /health/ready sees any worker: a beat from before the start, another process's, or a name of
    another form does not count."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    since = redis_now(settings.REDIS_URL)
    members = {
        heartbeat_member("demo-host", 4101, 1): since + 1,
        heartbeat_member("a:host:with:colons", 4102, 2): since + 1,
        heartbeat_member("demo-host", 4103, 3): since - 60,  # a beat from before the start
        heartbeat_member("demo-host", 4999, 4): since + 1,  # not one of the demo's workers
        "test-worker": since + 1,
    }
    client.zadd(HEARTBEATS_KEY, members)
    try:
        beating = workers_beating(settings.REDIS_URL, {4101, 4102, 4103, 4104}, since)
    finally:
        client.zrem(HEARTBEATS_KEY, *members)

    assert since > 0
    assert beating == {4101, 4102}
    assert [heartbeat_pid(m) for m in members] == [4101, 4102, 4103, 4999, None]
