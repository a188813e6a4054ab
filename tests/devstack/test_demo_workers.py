"""The demo's workers: every queue is served exactly once, and the work that waits on the network (vendor
feeds, webhook receivers, backfills) has its own process, so a slow or unreachable vendor never holds the
slots that ingests and scenario runs need."""

from aurum.devstack.__main__ import demo_worker_commands
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
