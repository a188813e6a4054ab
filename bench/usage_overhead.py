"""What counting usage and checking quotas cost per request.

- ``usage_take`` alone (one Lua call: check the month to date, count per day and credential), with and
  without a quota;
- a whole ``GET /api/v2/me`` through Django's test client with the admission throttle (the rate limit and the
  API-request quota in one Redis script, decision 0057) and without any throttle (the difference is the
  per-request overhead of both);
- ``usage_flush`` of 10,000 counted requests spread over 50 credentials.

Run: make bench BENCH=bench/usage_overhead.py   (throwaway Postgres and Redis)
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
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from apps.accounts.services import api_token_create, membership_create, user_create  # noqa: E402
from apps.usage.services import usage_flush, usage_take  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2000"))
NO_THROTTLE: dict[str, list[str]] = {"DEFAULT_THROTTLE_CLASSES": []}


def timed(label: str, call: object, rounds: int = ROUNDS) -> float:
    assert callable(call)
    call()  # warm
    with CaptureQueriesContext(connection) as queries:
        call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    print(f"{label:<52} median {median * 1e6:7.0f} µs  queries {len(queries):>2}")
    return median


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    stamp = time.time_ns()
    free = plan_ensure(
        code=f"bench-free-{stamp}", name=f"Bench free {stamp}", requests_per_second=10**6, burst=10**6
    )
    capped = plan_ensure(
        code=f"bench-capped-{stamp}",
        name=f"Bench capped {stamp}",
        requests_per_second=10**6,
        burst=10**6,
        api_requests_per_month=10**9,
    )
    tenant = tenant_create(name=f"Bench {stamp}", schema_name=f"b{stamp % 10**9}", plan=free)
    other = tenant_create(name=f"Bench q {stamp}", schema_name=f"bq{stamp % 10**9}", plan=capped)
    user = user_create(email=f"bench{stamp}@bench.example", password=None)
    membership = membership_create(user=user, tenant=tenant, role="analyst")
    _, raw = api_token_create(membership=membership, name="bench")

    timed("usage_take, no quota", lambda: usage_take(tenant=tenant, credential="t", metric="api_requests"))
    timed("usage_take, with a quota", lambda: usage_take(tenant=other, credential="t", metric="api_requests"))

    client = APIClient(HTTP_HOST="localhost")  # a platform host: the token names the tenant
    bearer = f"Bearer {raw}"
    answered = client.get("/api/v2/me", HTTP_AUTHORIZATION=bearer).status_code
    assert answered == 200, f"GET /api/v2/me answered {answered}: the figures would time an error"
    with_quota = timed(
        "GET /api/v2/me, admission (rate limit + usage)",
        lambda: client.get("/api/v2/me", HTTP_AUTHORIZATION=bearer),
        1000,
    )
    rest = {**django.conf.settings.REST_FRAMEWORK, **NO_THROTTLE}
    with override_settings(REST_FRAMEWORK=rest):
        from rest_framework.settings import api_settings

        api_settings.reload()
        without = timed(
            "GET /api/v2/me, no throttle",
            lambda: client.get("/api/v2/me", HTTP_AUTHORIZATION=bearer),
            1000,
        )
    api_settings.reload()
    print(f"{'admission overhead per API request':<52} median {(with_quota - without) * 1e6:7.0f} µs")

    usage_flush()
    for i in range(10_000):
        usage_take(tenant=tenant, credential=f"token:{i % 50}", metric="api_requests")
    started = time.perf_counter()
    result = usage_flush()
    took = (time.perf_counter() - started) * 1e3
    label = "usage_flush of 10,000 counts (50 credentials)"
    print(f"{label:<52} {took:7.1f} ms  batches {result.batches}, rows {result.counts}")


if __name__ == "__main__":
    main()
