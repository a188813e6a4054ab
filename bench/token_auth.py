"""What the token rules cost per request and per open websocket.

- ``api_token_authenticate`` of a root token, and of tokens 1 and 5 generations below one (the ancestor check
  is one recursive query, run only for tokens that have a parent);
- ``credential_refusal``, the re-check an open websocket runs every AURUM_WS_RECHECK_SECONDS (15 s);
- revoking a token with 50 descendants (one transaction, one save per token for the audit log).

Run: make bench BENCH=bench/token_auth.py   (throwaway Postgres and Redis)
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

from asgiref.sync import async_to_sync  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.accounts.models import ApiToken  # noqa: E402
from apps.accounts.services import (  # noqa: E402
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    membership_create,
    user_create,
)
from aurum.events.auth import SocketCredential, credential_refusal  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2000"))


def timed(label: str, call: object) -> None:
    assert callable(call)
    call()  # warm
    with CaptureQueriesContext(connection) as queries:
        call()
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    print(f"{label:<44} median {statistics.median(samples) * 1e6:7.0f} µs  queries {len(queries):>2}")


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    plan = plan_ensure(code="bench", name="Bench")
    stamp = time.time_ns()
    tenant = tenant_create(name=f"Bench {stamp}", schema_name=f"b{stamp % 10**9}", plan=plan)
    user = user_create(email=f"bench{stamp}@bench.example", password=None)
    membership = membership_create(user=user, tenant=tenant, role="analyst")

    root, raw = api_token_create(membership=membership, name="root")
    line = [(root, raw)]
    for generation in range(5):
        line.append(api_token_create(membership=membership, name=f"g{generation + 1}", parent=line[-1][0]))

    timed("authenticate: root token", lambda: api_token_authenticate(raw=raw))
    timed("authenticate: child (1 generation)", lambda: api_token_authenticate(raw=line[1][1]))
    timed("authenticate: 5 generations down", lambda: api_token_authenticate(raw=line[5][1]))
    credential = SocketCredential(membership=membership, token=root)
    timed("websocket re-check, its queries (token)", lambda: credential_refusal.func(credential))
    # As the consumer runs it: a hop to the sync thread and, with CONN_MAX_AGE=0 (asgi.py), a new connection.
    recheck = async_to_sync(credential_refusal)
    timed("websocket re-check, as the consumer runs it", lambda: recheck(credential))

    wide, _ = api_token_create(membership=membership, name="wide")
    for i in range(50):
        api_token_create(membership=membership, name=f"child {i}", parent=wide)
    started = time.perf_counter()
    api_token_revoke(token=wide)
    elapsed = time.perf_counter() - started
    revoked = ApiToken.objects.filter(parent=wide, revoked_at=wide.revoked_at).count()
    print(f"revoke a token with 50 children: {elapsed * 1000:.1f} ms ({revoked} children revoked)")


if __name__ == "__main__":
    main()
