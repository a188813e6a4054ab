"""One slow receiver never delays another endpoint: a fast endpoint's delivery latency (event fanned out →
the receiver has the request) in a sweep alone, and in a sweep with a receiver that hangs (never answers
within the timeout) beside it. Production timeouts (connect 3 s, total 10 s).

Run: make bench BENCH=bench/webhooks_slow_receiver.py   (throwaway Postgres and Redis; ~2 min)
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from apps.webhooks.models import WebhookEndpoint, WebhookMessage  # noqa: E402
from apps.webhooks.services.delivery import webhook_deliver_due  # noqa: E402
from apps.webhooks.services.messages import webhook_event_fanout  # noqa: E402
from apps.webhooks.signing import secret_generate  # noqa: E402
from aurum.events.outbox import outbox_append  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402
from tests.support.webhooks import Answer, Receiver  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
EVENT = "scenario.run.succeeded"


def endpoint(url: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, events=[EVENT], secret=secret_generate())


def rounds(schema: str, fast: Receiver, *, with_slow: bool) -> tuple[list[float], list[float]]:
    """(fast endpoint latencies, sweep durations) in ms over ROUNDS events."""
    latencies, sweeps = [], []
    for _ in range(ROUNDS):
        event = outbox_append(schema_name=schema, event_type=EVENT, payload={"run_id": "bench"})
        before = len(fast.received)
        # Every held message (the slow endpoint's retries) is due again: each sweep meets the hang.
        WebhookMessage.objects.filter(state="pending").update(next_attempt_at=timezone.now())
        started = time.monotonic()
        webhook_event_fanout(event_id=str(event.event_id))
        webhook_deliver_due()
        sweeps.append((time.monotonic() - started) * 1000)
        assert len(fast.received) == before + 1, "the fast endpoint missed a message"
        latencies.append((fast.received[-1].at - started) * 1000)
    return latencies, sweeps


def report(label: str, values: list[float]) -> None:
    ordered = sorted(values)
    print(
        f"{label:<44} n={len(values):>3}  median {statistics.median(values):8.1f} ms  "
        f"max {ordered[-1]:8.1f} ms"
    )


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    plan = plan_ensure(code="bench", name="Bench")
    tenant = Tenant.objects.filter(schema_name="bench_hooks").first() or tenant_create(
        name="Bench hooks", schema_name="bench_hooks", plan=plan
    )
    with (
        override_settings(
            AURUM_WEBHOOK_ALLOW_PRIVATE=True,
            AURUM_WEBHOOK_CONNECT_TIMEOUT_SECONDS=3.0,
            AURUM_WEBHOOK_TIMEOUT_SECONDS=10.0,
        ),
        schema_context(tenant.schema_name),
        Receiver() as fast,
        Receiver(default=Answer(hang_seconds=60)) as slow,
    ):
        WebhookEndpoint.objects.all().delete()
        endpoint(fast.url)
        alone = rounds(tenant.schema_name, fast, with_slow=False)
        endpoint(slow.url)
        beside = rounds(tenant.schema_name, fast, with_slow=True)
        hung = WebhookMessage.objects.filter(endpoint__url=slow.url).count()
    report("fast endpoint alone: latency", alone[0])
    report("fast endpoint beside a hanging one: latency", beside[0])
    report("sweep alone: duration", alone[1])
    report("sweep with the hanging endpoint: duration", beside[1])
    print(f"hanging receiver got {len(slow.received)} requests for {hung} messages (one per sweep)")


if __name__ == "__main__":
    main()
