"""Requests/s and latency of /health/live and of an authenticated trivial endpoint (/api/v2/me), served by the
production server setup (gunicorn, WSGI, gthread workers, production settings) under wrk.

``BENCH_SERVER=uvicorn`` measures the ASGI server instead (the one that serves websockets).

Run: make bench BENCH=bench/http_load.py     (needs wrk: apt-get install wrk)
The load generator shares this machine's cores with the server; figures are for the whole machine.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

import _stack as stack  # noqa: E402
from django.core.management import call_command  # noqa: E402

from apps.accounts.services import api_token_create, membership_create, user_create  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

DURATION = os.environ.get("BENCH_DURATION", "15s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")
WORKERS = os.environ.get("BENCH_WORKERS", "2")
THREADS = os.environ.get("BENCH_THREADS", "4")
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")


def seed_token() -> str:
    call_command("platform_migrate", verbosity=0)
    tenant = Tenant.objects.filter(schema_name="loadco").first() or tenant_create(
        name="Load Co",
        schema_name="loadco",
        plan=plan_ensure(code="bench", name="Bench", requests_per_second=10**6, burst=10**6),
    )
    user = user_create(email=f"load{time.time_ns()}@loadco.example", password=None)
    membership = membership_create(user=user, tenant=tenant, role="analyst")
    return api_token_create(membership=membership, name="load")[1]


def wrk(url: str, headers: list[str]) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(REPO / "bench" / "wrk_report.lua")]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def server_command(port: int) -> list[str]:
    if SERVER == "uvicorn":
        return stack.uvicorn_command(port, "--workers", WORKERS, "--log-level", "warning")
    return stack.gunicorn_command(port, workers=WORKERS, threads=THREADS)


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    token = seed_token()
    port = stack.free_port()
    log_path = stack.VAR / "bench-server.log"
    log_path.write_bytes(b"")
    # Plain HTTP on loopback: with the SSL redirect on, /api/v2/me measured a 301 (seen 2026-12-03).
    env = stack.production_env(AURUM_SSL_REDIRECT="false")
    server = stack.start(server_command(port), env=env, log=log_path)
    try:
        stack.wait_port(port, processes={SERVER: server})
        # Measure warm processes only: gunicorn's workers and uvicorn's lifespan warm up (decision 0046).
        stack.wait_ready(f"http://127.0.0.1:{port}", processes={SERVER: server}, skip_worker=True)
        base = f"http://127.0.0.1:{port}"
        wrk(f"{base}/health/live", [])  # warm-up: connections, code paths
        results = {
            "/health/live": wrk(f"{base}/health/live", []),
            "/api/v2/me (token)": wrk(f"{base}/api/v2/me", [f"Authorization: Bearer {token}"]),
        }
    finally:
        stack.stop(server, timeout=20)
    errors = [line for line in log_path.read_text(errors="replace").splitlines() if "error" in line.lower()]
    print(f"{SERVER} workers={WORKERS} threads={THREADS}; wrk -t2 -c{CONNECTIONS} -d{DURATION}")
    for name, r in results.items():
        print(
            f"{name:<22} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p95 {r['p95_ms']:6.2f} ms  "
            f"p99 {r['p99_ms']:6.2f} ms  socket errors {r['errors']:.0f}  statuses {r['statuses']}"
        )
    if errors:
        print(f"{len(errors)} error lines in the server log; first: {errors[0][:2000]}")


if __name__ == "__main__":
    main()
