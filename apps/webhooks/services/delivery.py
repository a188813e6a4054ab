"""Delivery: claim due messages per endpoint, send the endpoints' batches in parallel, record every attempt,
schedule retries, disable an endpoint after a long run of failures.

One slow or dead receiver never delays another endpoint: each endpoint is claimed on its own (a lease on
its row, taken with ``SKIP LOCKED``), each claimed endpoint gets its own thread for the sweep (the threads
only do HTTP; the database work stays on the sweep's thread and is recorded as each endpoint finishes),
every POST has a connect and a total timeout, and an endpoint that fails stops its batch at once and backs
off as a whole. Retries: 429, 5xx, timeouts and connection errors, with exponential backoff and jitter (or
the receiver's ``Retry-After``) until the message's window (about three days) ends; any other answer is
final.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Membership
from apps.accounts.roles import Role
from apps.webhooks.event_types import ENDPOINT_DISABLED
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from apps.webhooks.outbound import SendResult, webhook_post
from apps.webhooks.services.messages import DELIVER_TASK
from apps.webhooks.signing import signed_headers
from aurum.celery import app as celery_app
from aurum.events.publish import event_publish_on_commit
from aurum.tenancy.db import tenant_connection
from aurum.transient import TRANSIENT_ERRORS
from tenants.models import Tenant

log = structlog.get_logger(__name__)

State = WebhookMessage.State
Outcome = WebhookDelivery.Outcome
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 6 * 3600.0
RETRY_AFTER_CAP_SECONDS = 24 * 3600.0
MAX_ENDPOINTS_PER_SWEEP = 64
MAX_MESSAGES_PER_ENDPOINT = 20


@dataclass(frozen=True)
class Outgoing:
    """A message as the sending thread needs it (no database access there)."""

    message_id: uuid.UUID
    webhook_id: str
    body: bytes


@dataclass
class Claim:
    endpoint_id: uuid.UUID
    url: str
    secrets: list[str]
    messages: list[Outgoing]


@dataclass
class Sent:
    outgoing: Outgoing
    result: SendResult
    at: datetime


@dataclass
class SweepResult:
    endpoints: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: list[str] = field(default_factory=list)

    def add(self, other: SweepResult) -> None:
        self.endpoints += other.endpoints
        self.succeeded += other.succeeded
        self.retrying += other.retrying
        self.failed += other.failed
        self.disabled += other.disabled


def backoff_seconds(attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt: 5 s doubling up to 6 h, with ±25 % jitter (about
    22 attempts over three days)."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 30))
    return base * random.uniform(0.75, 1.25)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date), capped at a day; None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), RETRY_AFTER_CAP_SECONDS)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, (when - now).total_seconds()), RETRY_AFTER_CAP_SECONDS)


def _classify(result: SendResult) -> str:
    if result.status_code is not None and 200 <= result.status_code < 300:
        return Outcome.SUCCEEDED
    if result.refused:
        return Outcome.FAILED
    if result.status_code is None or result.status_code == 429 or result.status_code >= 500:
        return Outcome.RETRY
    return Outcome.FAILED  # 3xx (redirects are not followed) and every other 4xx


def _next_attempt(item: Sent, *, attempts: int) -> datetime:
    wait = retry_after_seconds(item.result.headers.get("retry-after"), now=item.at)
    return item.at + timedelta(seconds=wait if wait is not None else backoff_seconds(attempts))


def _claim(*, now: datetime, endpoint_ids: list[uuid.UUID] | None) -> list[Claim]:
    """Take the leases of up to MAX_ENDPOINTS_PER_SWEEP enabled endpoints with due messages (skipping those
    another sweep holds) and mark their due messages delivering."""
    due = WebhookMessage.objects.filter(
        endpoint=OuterRef("pk"), state__in=[State.PENDING, State.DELIVERING], next_attempt_at__lte=now
    )
    lease = timedelta(
        seconds=settings.AURUM_WEBHOOK_TIMEOUT_SECONDS * MAX_MESSAGES_PER_ENDPOINT
        + settings.AURUM_WEBHOOK_CONNECT_TIMEOUT_SECONDS
        + settings.AURUM_WEBHOOK_LEASE_SLACK_SECONDS
    )
    claims: list[Claim] = []
    with transaction.atomic():
        endpoints = (
            WebhookEndpoint.objects.select_for_update(skip_locked=True)
            .filter(Exists(due), is_enabled=True)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        )
        if endpoint_ids is not None:
            endpoints = endpoints.filter(pk__in=endpoint_ids)
        for endpoint in endpoints.order_by("lease_until", "id")[:MAX_ENDPOINTS_PER_SWEEP]:
            messages = list(
                WebhookMessage.objects.filter(
                    endpoint=endpoint,
                    state__in=[State.PENDING, State.DELIVERING],
                    next_attempt_at__lte=now,
                ).order_by("sequence")[:MAX_MESSAGES_PER_ENDPOINT]
            )
            endpoint.lease_until = now + lease
            endpoint.save(update_fields=["lease_until"])
            WebhookMessage.objects.filter(pk__in=[m.pk for m in messages]).update(state=State.DELIVERING)
            claims.append(
                Claim(
                    endpoint_id=endpoint.pk,
                    url=endpoint.url,
                    secrets=endpoint.active_secrets(at=now),
                    messages=[
                        Outgoing(
                            message_id=m.pk,
                            webhook_id=m.webhook_id,
                            body=json.dumps(m.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode(),
                        )
                        for m in messages
                    ],
                )
            )
    return claims


def _send_batch(claim: Claim) -> list[Sent]:
    """POST the claim's messages in sequence order, stopping at the first that does not succeed (a dead
    receiver costs one timeout per sweep, not one per message). Runs on a pool thread: no database."""
    sent: list[Sent] = []
    for outgoing in claim.messages:
        timestamp = int(time.time())
        headers = signed_headers(
            secrets_active=claim.secrets, msg_id=outgoing.webhook_id, timestamp=timestamp, body=outgoing.body
        )
        at = timezone.now()
        result = webhook_post(url=claim.url, body=outgoing.body, headers=headers)
        sent.append(Sent(outgoing=outgoing, result=result, at=at))
        if _classify(result) != Outcome.SUCCEEDED:
            break
    return sent


def _record(claim: Claim, sent: list[Sent]) -> SweepResult:
    """Store each attempt, move each message on, count the endpoint's failures and release its lease; the
    messages not tried (the batch stopped) wait as long as the failed one."""
    tally = SweepResult(endpoints=1)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=claim.endpoint_id)
        held_until: datetime | None = None
        for item in sent:
            message = WebhookMessage.objects.select_for_update().get(pk=item.outgoing.message_id)
            outcome = _classify(item.result)
            message.attempts += 1
            message.last_attempt_at = item.at
            message.last_status_code = item.result.status_code
            message.last_error = item.result.error
            if outcome == Outcome.SUCCEEDED:
                message.state, message.delivered_at = State.SUCCEEDED, item.at
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
                tally.succeeded += 1
            else:
                endpoint.consecutive_failures += 1
                endpoint.failing_since = endpoint.failing_since or item.at
                next_at = _next_attempt(item, attempts=message.attempts)
                if outcome == Outcome.RETRY and next_at <= message.retry_until:
                    message.state, message.next_attempt_at = State.PENDING, next_at
                    held_until = next_at
                    tally.retrying += 1
                elif outcome == Outcome.RETRY:  # the retry window is over
                    outcome, message.state = Outcome.FAILED, State.DEAD
                    message.last_error = f"gave up after {message.attempts} attempts; {message.last_error}"[
                        :500
                    ]
                    tally.failed += 1
                else:
                    message.state = State.FAILED
                    tally.failed += 1
            message.save()
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                message=message,
                attempt=message.attempts,
                attempted_at=item.at,
                outcome=outcome,
                status_code=item.result.status_code,
                duration_ms=item.result.duration_ms,
                response_headers=item.result.headers,
                response_body=item.result.body,
                error=item.result.error,
            )
        tried = {item.outgoing.message_id for item in sent}
        untried = [m.message_id for m in claim.messages if m.message_id not in tried]
        WebhookMessage.objects.filter(pk__in=untried, state=State.DELIVERING).update(
            state=State.PENDING, **({"next_attempt_at": held_until} if held_until else {})
        )
        endpoint.lease_until = None
        if _disable_due(endpoint):
            _disable(endpoint)
            tally.disabled.append(str(endpoint.pk))
        endpoint.save()
    return tally


def _disable_due(endpoint: WebhookEndpoint) -> bool:
    failing_for = timezone.now() - endpoint.failing_since if endpoint.failing_since else timedelta(0)
    return (
        endpoint.is_enabled
        and endpoint.consecutive_failures >= settings.AURUM_WEBHOOK_DISABLE_AFTER_FAILURES
        and failing_for >= timedelta(hours=settings.AURUM_WEBHOOK_DISABLE_AFTER_HOURS)
    )


def _disable(endpoint: WebhookEndpoint) -> None:
    """Disable the endpoint (the caller saves it), announce it on the tenant's stream and to its webhooks
    (``webhook.endpoint.disabled``) and mail the tenant's admins after commit."""
    since = endpoint.failing_since.isoformat() if endpoint.failing_since else "?"
    endpoint.is_enabled, endpoint.disabled_at = False, timezone.now()
    endpoint.disabled_reason = f"{endpoint.consecutive_failures} consecutive failed deliveries since {since}."
    schema = tenant_connection().schema_name
    payload = {
        "endpoint_id": str(endpoint.pk),
        "url": endpoint.url,
        "reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "failing_since": since,
    }
    event_publish_on_commit(schema_name=schema, event_type=ENDPOINT_DISABLED, payload=payload)
    url, reason = endpoint.url, endpoint.disabled_reason
    transaction.on_commit(
        lambda: endpoint_disabled_mail(schema_name=schema, url=url, reason=reason), robust=True
    )
    log.warning(
        "webhook endpoint disabled", endpoint_id=str(endpoint.pk), failures=endpoint.consecutive_failures
    )


def endpoint_disabled_mail(*, schema_name: str, url: str, reason: str) -> int:
    """Tell the tenant's admins that an endpoint was disabled; the number of admins mailed."""
    tenant = Tenant.objects.get(schema_name=schema_name)
    emails = sorted(
        Membership.objects.filter(tenant=tenant, role=Role.ADMIN).values_list("user__email", flat=True)
    )
    if not emails:
        return 0
    body = (
        f"Aurum stopped delivering webhooks to {url} for {tenant.name}.\n\n{reason}\n\n"
        "Messages since then are kept. Fix the receiver, then enable the endpoint again in Settings → "
        "Webhooks (or POST /api/v2/webhooks/<id>/enable): the held messages are delivered then.\n"
    )
    send_mail(f"Webhook endpoint disabled: {url}", body, None, emails)
    return len(emails)


def webhook_deliver_due(*, endpoint_ids: list[uuid.UUID] | None = None) -> SweepResult:
    """Deliver the current tenant's due messages (or only those of ``endpoint_ids``): every claimed endpoint
    on its own thread, each finished endpoint recorded at once."""
    claims = _claim(now=timezone.now(), endpoint_ids=endpoint_ids)
    tally = SweepResult()
    if not claims:
        return tally
    with ThreadPoolExecutor(max_workers=len(claims), thread_name_prefix="webhook-send") as pool:
        futures = {pool.submit(_send_batch, claim): claim for claim in claims}
        for future in as_completed(futures):
            tally.add(_record(futures[future], future.result()))
    return tally


def webhook_due_exists(*, now: datetime | None = None) -> bool:
    """Whether the current tenant has a message due on an enabled endpoint (one indexed query)."""
    return WebhookMessage.objects.filter(
        state__in=[State.PENDING, State.DELIVERING],
        next_attempt_at__lte=now or timezone.now(),
        endpoint__is_enabled=True,
    ).exists()


def webhook_sweep_dispatch() -> list[str]:
    """The beat's sweep: one delivery task (``webhooks`` queue) per active tenant with messages due; the
    schemas it was sent for. The sweep itself sends nothing, so a tenant whose receiver hangs never delays
    another tenant: each tenant's delivery runs on its own worker slot (and each endpoint on its own thread
    within it). Two deliveries of one tenant never send one message twice: endpoints are leased."""
    dispatched: list[str] = []
    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("schema_name"):
        try:
            with tenant_context(tenant):
                if webhook_due_exists():
                    celery_app.send_task(
                        DELIVER_TASK, queue=settings.AURUM_WEBHOOK_QUEUE
                    )  # carries the tenant's schema (tenant-schemas-celery)
                    dispatched.append(tenant.schema_name)
        except TRANSIENT_ERRORS:  # the broker or this schema is unreachable now: the next sweep tries again
            log.warning("webhook sweep: tenant not dispatched", tenant=tenant.schema_name, exc_info=True)
    return dispatched
