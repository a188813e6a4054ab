"""Beat's schedule and the tasks domain events start (part of the settings; imported by base.py).

Plain constants: no environment is read here.
"""

from celery.schedules import crontab

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "ingestion-drop-folder": {"task": "ingestion.drop_folder_scan", "schedule": 30.0},
    # Scenario runs: time out runs whose worker died, re-send lost dispatches, fill free slots.
    "scenarios-sweep": {"task": "scenarios.sweep", "schedule": 15.0},
    # Domain events whose immediate relay after commit failed (Redis down, a process died) are sent here.
    "events-outbox-relay": {"task": "events.outbox_relay", "schedule": 5.0},
    "events-outbox-prune": {"task": "events.outbox_prune", "schedule": 3600.0},
    # Webhook messages whose time has come (retries; anything the delivery after a fan-out missed).
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 5.0},
    "idempotency-prune": {"task": "idempotency.prune", "schedule": 3600.0},
    # Usage counts from Redis to Postgres (decision 0026): what Redis loses is at most this long's counts.
    "usage-flush": {"task": "usage.flush", "schedule": 60.0},
    # Every tenant's audit chain, recomputed nightly; a broken chain logs an error and raises
    # `audit.chain.broken` (apps/audit/tasks.py).
    "audit-verify-nightly": {"task": "audit.verify_all", "schedule": crontab(hour=2, minute=17)},
    # Lakehouse maintenance (decision 0038): snapshot expiry, compaction, orphan cleanup of every table.
    "lakehouse-maintenance-nightly": {
        "task": "maintenance.lakehouse",
        "schedule": crontab(hour=3, minute=41),
    },
    # Files of expired tenant exports are deleted (apps/exports).
    "exports-prune": {"task": "exports.prune", "schedule": 3600.0},
    # Offboarded tenants whose grace period has passed are deleted (docs/offboarding.md).
    "offboarding-delete-due": {"task": "offboarding.delete_due", "schedule": crontab(hour=3, minute=11)},
    # Dataset contracts (decision 0035): `dataset.late` / `dataset.recovered` once per publication.
    # Feeds by publication calendar: the windows due and not landed are fetched (decision 0036).
    "feeds-schedule": {"task": "feeds.schedule", "schedule": 60.0},
    "datasets-freshness": {"task": "datasets.freshness_evaluate", "schedule": 60.0},
    # Backfill windows whose worker died, or whose message was lost, are queued again (decision 0036).
    "datasets-backfill-sweep": {"task": "datasets.backfill_sweep", "schedule": 60.0},
}
# Domain events that start work: when the outbox relays an event of one of these types, it also sends each
# named Celery task (in the event's tenant schema) with the event's id and payload; a send that fails keeps
# the event due, so the work is started at least once, only after the change committed.
AURUM_EVENT_TASKS: dict[str, tuple[str, ...]] = {
    "ingestion.completed": ("watchlists.vintage_published", "webhooks.event_fanout"),
    # Every event type an endpoint may subscribe to (apps/webhooks/event_types.py) fans out to webhooks.
    **{
        event_type: ("webhooks.event_fanout",)
        for event_type in (
            "ingestion.failed",
            "curve.published",
            "scenario.run.succeeded",
            "scenario.run.failed",
            "scenario.run.cancelled",
            "ppa.valuation.completed",
            "webhook.endpoint.disabled",
            "quota.threshold",
            "dataset.late",
            "dataset.recovered",
        )
    },
}
