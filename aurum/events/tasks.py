"""Thin tasks: the outbox relay and its pruning, on beat."""

from celery import shared_task

from aurum.events.outbox import outbox_prune, outbox_relay


@shared_task(name="events.outbox_relay", ignore_result=True)
def outbox_relay_task() -> dict[str, int]:
    """Relay every due event, in batches, until none is due or Redis refuses."""
    relayed = failed = 0
    while True:
        result = outbox_relay()
        relayed, failed = relayed + result.relayed, failed + result.failed
        if result.failed or result.relayed == 0:
            break
    return {"relayed": relayed, "failed": failed}


@shared_task(name="events.outbox_prune", ignore_result=True)
def outbox_prune_task() -> int:
    return outbox_prune()
