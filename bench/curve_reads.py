"""Curve reads with every fixture day loaded, served by the production setup (gunicorn gthread, production
settings) under wrk: one curve's latest (~121 tenors) warm (Redis read cache) and uncached, the same query
straight on DuckDB, throughput against trivial endpoints, a diff, and a ~100k-row export.

Run: make bench BENCH=bench/curve_reads.py    (needs ../shared/fixtures and wrk: apt-get install wrk)
The load generator shares the machine's 2 cores with the server; figures are for the whole machine.

``BENCH_PART=latency`` runs only issue 14's figures: an uncached one-curve read over HTTP (1 connection) and
the same query straight on DuckDB, in interleaved rounds (the figure is their ratio, so both are measured
under the same machine load), then 16 connections uncached. ``BENCH_LOADED=1`` reuses data already loaded in
the database and warehouse the environment names (to run two versions of the code back to back on one data
set: start ``python -m aurum.devstack run -- sleep …`` and point ``DATABASE_URL``/``REDIS_URL``/
``AURUM_WAREHOUSE`` at it).
``BENCH_HOST=tenant``: the latency part's requests name the tenant's host instead of the platform's.
"""

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

import duckdb  # noqa: E402
from _stack import VAR, free_port, gunicorn_command, production_env, start, stop, wait_port, wait_ready  # noqa: E402
from django.core.management import call_command  # noqa: E402

from apps.accounts.services import api_token_create, membership_create, user_create  # noqa: E402
from apps.curves import selectors  # noqa: E402
from apps.curves.api.params import V2_POINT_COLUMNS  # noqa: E402
from apps.curves.models import Curve  # noqa: E402
from aurum.lakehouse.engines import arrow_of  # noqa: E402
from aurum.lakehouse.queries import CurveFilters  # noqa: E402
from aurum.lakehouse.tables import curve_latest_table  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

EOD = REPO.parent / "shared" / "fixtures" / "eod"
DURATION = os.environ.get("BENCH_DURATION", "15s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "16")
WORKERS = os.environ.get("BENCH_WORKERS", "2")  # deploy/gunicorn.conf.py's default on 2 cores
THREADS = os.environ.get("BENCH_THREADS", "4")
DATASETS = ["vendor:EUGP", "vendor:RP"]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
ROUND_DURATION = os.environ.get("BENCH_ROUND_DURATION", "5s")
# BENCH_HOST=tenant: the latency part's requests name the tenant's own host (readco.localhost), as a client of
# the tenant's URL does (one more lookup a request: its domain); by default they go to the platform host,
# where the token alone names the tenant.
TENANT_HOST = os.environ.get("BENCH_HOST") == "tenant"


def load() -> None:
    if os.environ.get("BENCH_LOADED"):
        return
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    files = sorted(EOD.glob("EOD_*.xlsx"))
    started = time.perf_counter()
    call_command("ingest_eod", *[str(f) for f in files], stdout=io.StringIO())
    print(f"loaded {len(files)} workbooks in {time.perf_counter() - started:.0f} s")


def seed_token() -> str:
    # Rows served far beyond a default plan's 10 M a month: a few sittings of this bench reach it (then every
    # read is a 429 quota-exceeded problem, as it should be), so the bench's plan has room for them.
    plan = plan_ensure(
        code="bench-reads",
        name="Bench reads",
        requests_per_second=10**6,
        burst=10**6,
        rows_per_month=10**15,
        datasets=DATASETS,
    )
    tenant = Tenant.objects.filter(schema_name="readco").first() or tenant_create(
        name="Read Co", schema_name="readco", plan=plan
    )
    user = user_create(email=f"reader{time.time_ns()}@readco.example", password=None)
    membership = membership_create(user=user, tenant=tenant, role="analyst")
    return api_token_create(membership=membership, name="reads")[1]


def full_curve() -> Curve:
    """An EUGP curve with about 121 monthly tenors in its latest vintage."""
    curves = Curve.objects.filter(dataset="vendor:EUGP").order_by("curve_key")
    return min(curves, key=lambda c: (abs(c.tenor_count - 121), c.curve_key))


def wrk(
    url: str, headers: list[str], connections: str = CONNECTIONS, duration: str = DURATION
) -> dict[str, float]:
    """``connections=1``: one request at a time, i.e. latency without queueing; else throughput."""
    threads = "1" if connections == "1" else "2"
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}",
        "-s",
        str(REPO / "bench" / "wrk_report.lua"),
    ]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def start_server(extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """A fresh gunicorn, returned once ``/health/ready`` answers (its workers warm up before they accept,
    decision 0046): the port opens at once, while the workers still warm up."""
    port = free_port()
    # Plain HTTP on loopback, as the demo serves.
    env = production_env(AURUM_SSL_REDIRECT="false", **extra_env)
    command = gunicorn_command(port, workers=WORKERS, threads=THREADS)
    server = start(command, env=env, log=VAR / "bench-server.log")
    opened = wait_port(port, processes={"gunicorn": server})
    ready_s = opened + wait_ready(
        f"http://127.0.0.1:{port}", processes={"gunicorn": server}, skip_worker=True
    )
    print(
        f"{'server ready (/health/ready)':<34} {ready_s:7.1f} s after start (port open after {opened:.1f} s)"
    )
    return server, port


def host_headers() -> dict[str, str]:
    """The Host header of the bench tenant's own domain under BENCH_HOST=tenant, else none."""
    if not TENANT_HOST:
        return {}
    return {"Host": Tenant.objects.get(schema_name="readco").domains.get().domain}


def get(url: str, token: str, timeout: float = 120) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", **host_headers()})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return (time.perf_counter() - started) * 1000, body


def line(name: str, r: dict[str, float]) -> str:
    return (
        f"{name:<34} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  "
        f"p99 {r['p99_ms']:7.2f} ms  errors {r['errors']:.0f}  statuses {r['statuses']}"
    )


def server_cpu_ms(server: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system) used so far by the server's worker processes, in ms: with requests counted,
    the CPU cost of a request, which a machine shared with other work does not inflate as it does latency."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    ticks = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


# The API's curve read decodes the 15 columns it serves (CurveFilters.columns): "the same query" straight on
# DuckDB selects those. STAR is the baseline of the figures before 2026-12-03 (every column).
SERVED = ", ".join(V2_POINT_COLUMNS)
STAR = "*"


def straight_sql(select: str) -> str:
    return (
        f"SELECT {select} FROM read_parquet($paths) WHERE dataset = $dataset AND curve_key = $key "
        "ORDER BY curve_key, tenor_label, contract_month, asof_date, price_type"
    )


def straight_duckdb_cpu(curve: Curve, runs: int = 300, select: str = SERVED) -> float:
    """CPU ms per run of the straight DuckDB query (all of its threads: the process's CPU time)."""
    table = curve_latest_table()
    paths = [t.file.file_path for t in table.scan(row_filter=f"dataset = '{curve.dataset}'").plan_files()]
    con = duckdb.connect(config={"enable_object_cache": True})
    sql = straight_sql(select)
    args = {"paths": paths, "dataset": curve.dataset, "key": curve.curve_key}
    for _ in range(20):
        arrow_of(con, sql, args)
    started = time.process_time()
    for _ in range(runs):
        arrow_of(con, sql, args)
    return (time.process_time() - started) * 1000 / runs


def execute_arrow(con: duckdb.DuckDBPyConnection, sql: str, args: dict[str, Any]) -> Any:
    """The straight query's call until 2026-12-05: DB-API ``execute`` then Arrow, which copies the rows
    once more (DuckDB warns of it): slower than the engine's call, so the ratios measured with it were low."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return con.execute(sql, args).to_arrow_table()


def straight_duckdb(
    curve: Curve, runs: int = 200, select: str = SERVED, run: Callable[..., Any] = arrow_of
) -> tuple[float, float]:
    """The same read on DuckDB directly: the dataset's latest Parquet file(s), one curve, kept connection, run
    by ``run`` (the engine's own terminal step by default: once, no extra copy of the rows)."""
    table = curve_latest_table()
    paths = [t.file.file_path for t in table.scan(row_filter=f"dataset = '{curve.dataset}'").plan_files()]
    con = duckdb.connect(config={"enable_object_cache": True})
    sql = straight_sql(select)
    args = {"paths": paths, "dataset": curve.dataset, "key": curve.curve_key}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run(con, sql, args)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def engine_in_process(curve: Curve) -> float:
    filters = CurveFilters(datasets=(curve.dataset,), curve_keys=(curve.curve_key,))
    times = []
    for _ in range(100):
        started = time.perf_counter()
        selectors.curve_points(filters=filters)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def latency(curve: Curve, token: str) -> None:
    """Issue 14: uncached one-curve read over HTTP vs the same query straight on DuckDB, interleaved rounds;
    then the uncached read at ``CONNECTIONS`` connections."""
    auth = [f"Authorization: Bearer {token}", *(f"{k}: {v}" for k, v in host_headers().items())]
    print(f"host: {auth[1] if TENANT_HOST else 'the platform host (127.0.0.1)'}")
    path = f"/api/v2/curves/{curve.curve_key}"
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    server, port = start_server({"AURUM_READ_CACHE": "false"})
    base = f"http://127.0.0.1:{port}"
    try:
        first_ms, _ = get(base + path, token, timeout=600)
        print(f"{'first request after ready':<34} {first_ms:7.1f} ms")
        wrk(base + path, auth, duration="10s")
        api50, api95, raw50, raw95, star50, execute50 = [], [], [], [], [], []
        api_cpu, raw_cpu = [], []
        for number in range(1, ROUNDS + 1):
            raw_p50, raw_p95 = straight_duckdb(curve, runs=300)
            star50.append(straight_duckdb(curve, runs=300, select=STAR)[0])
            execute50.append(straight_duckdb(curve, runs=300, run=execute_arrow)[0])
            raw_cpu.append(straight_duckdb_cpu(curve))
            cpu_before = server_cpu_ms(server)
            api = wrk(base + path, auth, connections="1", duration=ROUND_DURATION)
            api_cpu.append((server_cpu_ms(server) - cpu_before) / max(api["requests"], 1))
            print(
                f"round {number}: server CPU {api_cpu[-1]:.2f} ms a request, "
                f"DuckDB CPU {raw_cpu[-1]:.2f} ms a query"
            )
            raw50.append(raw_p50)
            raw95.append(raw_p95)
            api50.append(api["p50_ms"])
            api95.append(api["p95_ms"])
            print(
                f"round {number}: API uncached p50 {api['p50_ms']:6.2f} p95 {api['p95_ms']:6.2f} ms "
                f"({api['statuses']}); DuckDB p50 {raw_p50:5.2f} p95 {raw_p95:5.2f} ms; "
                f"ratio p50 {api['p50_ms'] / raw_p50:.2f}x p95 {api['p95_ms'] / raw_p95:.2f}x; "
                f"DuckDB by execute() p50 {execute50[-1]:5.2f} ms"
            )
        api_p50, raw_p50 = statistics.median(api50), statistics.median(raw50)
        api_p95, raw_p95 = statistics.median(api95), statistics.median(raw95)
        print(
            f"median of rounds: API p50 {api_p50:.2f} / p95 {api_p95:.2f} ms, DuckDB p50 {raw_p50:.2f} / "
            f"p95 {raw_p95:.2f} ms -> ratio p50 {api_p50 / raw_p50:.2f}x, "
            f"p95 {api_p95 / raw_p95:.2f}x (goal <= 2x)"
        )
        execute_p50 = statistics.median(execute50)
        print(
            f"against the query run by execute() (the bench's call before 2026-12-05): DuckDB p50 "
            f"{execute_p50:.2f} ms -> ratio p50 {api_p50 / execute_p50:.2f}x"
        )
        star_p50 = statistics.median(star50)
        print(
            f"against SELECT * (every column, the baseline before 2026-12-03): DuckDB p50 {star_p50:.2f} ms "
            f"-> ratio p50 {api_p50 / star_p50:.2f}x"
        )
        cpu_a, cpu_r = statistics.median(api_cpu), statistics.median(raw_cpu)
        print(
            f"CPU, median of rounds: server {cpu_a:.2f} ms a request, DuckDB {cpu_r:.2f} ms a query -> "
            f"{cpu_a / cpu_r:.2f}x"
        )
        print(f"load average before {CONNECTIONS} connections: {os.getloadavg()[0]:.2f}")
        loaded = wrk(base + path, auth)
        print(line(f"curve latest, uncached, {CONNECTIONS} conn.", loaded) + "  (goal p99 <= 100 ms)")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        stop(server, timeout=60)


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    load()
    token = seed_token()
    curve = full_curve()
    auth = [f"Authorization: Bearer {token}"]
    path = f"/api/v2/curves/{curve.curve_key}"
    print(f"curve {curve.curve_key[:12]}… {curve.location} / {curve.product}: {curve.tenor_count} tenors")
    print(f"gunicorn workers={WORKERS} threads={THREADS}; wrk -t2 -c{CONNECTIONS} -d{DURATION}")
    if os.environ.get("BENCH_PART") == "latency":
        latency(curve, token)
        return

    raw_p50, raw_p95 = straight_duckdb(curve)
    print(f"{'straight DuckDB (same query)':<34} p50 {raw_p50:7.2f} ms  p95 {raw_p95:7.2f} ms (200 runs)")
    print(f"{'engine in-process (uncached)':<34} p50 {engine_in_process(curve):7.2f} ms (100 runs)")

    server, port = start_server({})
    base = f"http://127.0.0.1:{port}"
    try:
        first_ms, body = get(base + path, token)  # first request of a fresh process: no plan, no cache
        print(
            f"{'first request after ready':<34} {first_ms:7.1f} ms "
            f"({len(json.loads(body)['data']['points'])} points)"
        )
        wrk(f"{base}/health/live", [])  # warm-up
        trivial = wrk(f"{base}/health/live", [])
        me = wrk(f"{base}/api/v2/me", auth)
        warm = wrk(base + path, auth)
        v1_warm = wrk(f"{base}/api/v1/curves?curve_key={curve.curve_key}", auth)
        warm_one = wrk(base + path, auth, connections="1")
        print(line("curve latest, warm, 1 connection", warm_one))
        print(line("/health/live", trivial))
        print(line("/api/v2/me (token)", me))
        print(line("curve latest, warm (v2 detail)", warm))
        print(line("curve latest, warm (v1 /curves)", v1_warm))
        print(
            f"warm throughput: {warm['rps'] / me['rps']:.0%} of /api/v2/me, "
            f"{warm['rps'] / trivial['rps']:.0%} of /health/live (goal >= 50%)"
        )
    finally:
        stop(server, timeout=20)

    server, port = start_server({"AURUM_READ_CACHE": "false"})
    base = f"http://127.0.0.1:{port}"
    try:
        get(base + path, token)
        cold_load = wrk(base + path, auth)
        cold = wrk(base + path, auth, connections="1")
        print(line("curve latest, uncached, 1 connection", cold))
        print(line(f"curve latest, uncached, {CONNECTIONS} conn.", cold_load))
        print(
            f"uncached / straight DuckDB: p50 {cold['p50_ms'] / raw_p50:.1f}x, "
            f"p95 {cold['p95_ms'] / raw_p95:.1f}x (goal <= 3x)"
        )
        day_a, day_b = date(2025, 9, 11), date(2025, 9, 12)
        diffs = []
        for _ in range(10):
            ms, body = get(
                f"{base}/api/v2/curves/diff?curve_key={curve.curve_key}&asof_a={day_a}&asof_b={day_b}&limit=1000",
                token,
            )
            diffs.append(ms)
        rows = len(json.loads(body)["data"])
        print(f"{'diff, one curve, uncached':<34} median {statistics.median(diffs):7.1f} ms ({rows} rows)")
        broad = []
        for _ in range(5):
            ms, body = get(
                f"{base}/api/v2/curves/diff?iso={curve.iso}&asof_a={day_a}&asof_b={day_b}&limit=1000", token
            )
            broad.append(ms)
        rows = len(json.loads(body)["data"])
        print(f"{'diff, one ISO page, uncached':<34} median {statistics.median(broad):7.1f} ms ({rows} rows)")
        for fmt in ("csv", "parquet"):
            ms, body = get(f"{base}/api/v2/curves/export?format={fmt}&start={day_a}&end={day_b}", token)
            lines = str(body.count(b"\n") - 1) if fmt == "csv" else "n/a"
            print(
                f"{'export ' + fmt + f' (every curve, {day_a}..{day_b})':<34} {ms:7.0f} ms, "
                f"{len(body) / 1e6:.1f} MB, rows {lines}"
            )
    finally:
        stop(server, timeout=20)


if __name__ == "__main__":
    main()
