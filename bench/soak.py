"""Soak (issue 14): minutes of mixed load from locust against a stack of Aurum's own, and the memory of every
process of that stack sampled all along. "No errors" = 0 locust failures and every webhook message delivered
(signature verified); "memory flat" = slope about 0 MB/min after the warm-up.

Run: make bench BENCH=bench/soak.py                  (600 s; or `make bench BENCH="bench/soak.py 60"`,
     or SOAK_DURATION=60; SOAK_WARMUP seconds, default 60 or a quarter of a shorter run;
     SOAK_PREWARM seconds, default 0: before locust, wrk sends the locustfile's reads as fast as the web and
     ASGI servers answer (as the operator tenant; the enterprise plan's rate limit and rows quota lifted
     meanwhile, then put back), so their caches (query memo, read plans, Parquet footers) are as full as
     hours of the soak's own ~2 requests a second per process would make them; needs wrk;
     SOAK_TRACEMALLOC=<process,...>: tracemalloc snapshots of those processes, from the load's start
     (SOAK_TRACE_FROM=prewarm: from the pre-warm's); SOAK_LOG_INFO=<process,...>: those processes log at
     INFO, every task; SOAK_USERS=<class,...>: only those users of the locustfile, e.g.
     SOAK_USERS=CurveReader,AsgiReader for reads alone; default all)

The stack is the production process model on this machine, on free ports (never :8000, a demo's): gunicorn
(deploy/gunicorn.conf.py, 4 workers × 2 threads), uvicorn (ASGI), one Celery worker per queue with its profile
(`python -m aurum.worker QUEUE`), beat; Postgres and Redis are the throwaway ones `make bench` starts. It is
seeded as the demo is (reference data, `python -m aurum.devstack.demo seed`: acme, globex, ops and their
tokens) with the first SOAK_PRELOAD_DAYS (5) fixture days of ../shared/fixtures/eod (else generated
workbooks); the later days are uploaded during the run, in date order. A webhook endpoint of acme's points at
a receiver in this process. Load: bench/soak_locustfile.py. Memory: bench/soak_memory.py. Results: printed,
and var/soak/soak-<UTC time>.md (+ .json with every sample); locust's CSVs and every process's log beside it.
Traffic goes to 127.0.0.1 only; locust stops after the duration.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from _stack import BIN, free_ports, gunicorn_command, start, uvicorn_command, wait_port, wait_ready  # noqa: E402
from soak_memory import (  # noqa: E402
    MemorySampler,
    group_sizes_line,
    memory_rows,
    memory_table,
    thread_changes_line,
    window_means_table,
)

from aurum.devstack.__main__ import demo_environment  # noqa: E402
from aurum.devstack.demo.workbooks import demo_workbooks_write  # noqa: E402
from aurum.queues import QUEUES  # noqa: E402

DURATION = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SOAK_DURATION", "600"))
WARMUP = float(os.environ.get("SOAK_WARMUP", min(60.0, DURATION / 4)))
READERS = int(os.environ.get("SOAK_READERS", "6"))
PREWARM = float(os.environ.get("SOAK_PREWARM", "0"))
PRELOAD_DAYS = int(os.environ.get("SOAK_PRELOAD_DAYS", "5"))
# The locustfile's user classes and their fixed counts; SOAK_USERS picks some (to tell what a process's memory
# follows: reads, scenario runs, uploads). Locust starts exactly the named classes, so --users is their sum.
USER_COUNTS = {"CurveReader": READERS, "AsgiReader": 1, "Exporter": 1, "ScenarioRunner": 2, "Uploader": 1}
USERS = [name for name in os.environ.get("SOAK_USERS", ",".join(USER_COUNTS)).split(",") if name]
if unknown := set(USERS) - set(USER_COUNTS):
    sys.exit(f"SOAK_USERS: no such user class {sorted(unknown)}; the classes are {sorted(USER_COUNTS)}")
# Processes profiled with tracemalloc (snapshots and malloc totals in logs/<stamp>/trace; slower and bigger
# than untraced, so never in a run whose memory figures are recorded): SOAK_TRACEMALLOC=asgi,worker-ingest.
TRACED = {name for name in os.environ.get("SOAK_TRACEMALLOC", "").split(",") if name}
# When tracing starts: "load" (default) when locust starts, "prewarm" before the pre-warm (what the web
# processes keep from many reads at full speed; the pre-warm's pace is the server's, not the soak's).
TRACE_FROM = os.environ.get("SOAK_TRACE_FROM", "load")
# Processes that log at INFO (every task received and finished) instead of WARNING, to see what a process
# was doing when its memory moved: SOAK_LOG_INFO=worker-feeds,worker-backfill.
LOG_INFO = {name for name in os.environ.get("SOAK_LOG_INFO", "").split(",") if name}
EOD = REPO.parent / "shared" / "fixtures" / "eod"
OUT = REPO / "var" / "soak"
WEBHOOK_EVENTS = [
    "ingestion.completed",
    "ingestion.failed",
    "curve.published",
    "scenario.run.succeeded",
    "scenario.run.failed",
]


def say(message: str) -> None:
    print(f"[soak {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


class WebhookReceiver:
    """Counts deliveries and verifies each signature on arrival (Standard Webhooks: HMAC-SHA256 of
    ``id.timestamp.body`` with the secret; checked before the 5-minute replay window could matter)."""

    def __init__(self) -> None:
        self.secret = ""
        self.sequences: dict[int, int] = {}  # sequence → deliveries received
        self.ids: set[str] = set()
        self.bad_signatures = 0
        self.types: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.record(dict(self.headers.items()), body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def verified(self, headers: dict[str, str], body: bytes) -> bool:
        headers = {k.lower(): v for k, v in headers.items()}
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        given = [entry.split(",", 1)[-1] for entry in headers.get("webhook-signature", "").split()]
        fresh = abs(time.time() - int(headers.get("webhook-timestamp") or 0)) <= 300
        return fresh and any(hmac.compare_digest(expected, signature) for signature in given)

    def record(self, headers: dict[str, str], body: bytes) -> None:
        ok = self.verified(headers, body)
        event = json.loads(body) if ok else {}
        with self._lock:
            if not ok:
                self.bad_signatures += 1
                return
            self.ids.add(headers.get("webhook-id") or headers.get("Webhook-Id") or "")
            self.sequences[event["sequence"]] = self.sequences.get(event["sequence"], 0) + 1
            self.types[event["type"]] = self.types.get(event["type"], 0) + 1


def api(base: str, token: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        method="POST" if body is not None else "GET",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.loads(response.read()))


def workbooks(scratch: Path) -> tuple[list[Path], list[Path]]:
    """(preloaded, uploaded during the run): the first PRELOAD_DAYS days, then the rest, in date order."""
    if EOD.is_dir():
        files = sorted(EOD.glob("EOD_*.xlsx"), key=lambda p: (p.name.split("_")[2], p.name))
    else:
        files = demo_workbooks_write(scratch / "generated-eod", end=date.today(), days=60)
    days = sorted({p.name.split("_")[2] for p in files})
    first = set(days[:PRELOAD_DAYS])
    return [p for p in files if p.name.split("_")[2] in first], [
        p for p in files if p.name.split("_")[2] not in first
    ]


def trace_start(logs: Path) -> None:
    """Let the traced processes start tracemalloc (bench/soak_trace waits for this file); once."""
    if TRACED:
        (logs / "trace").mkdir(exist_ok=True)
        (logs / "trace" / "START").touch(exist_ok=True)


def start_named(name: str, command: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    return start(command, env=env, log=logs / f"{name}.log")


def traced_environment(env: dict[str, str], logs: Path) -> dict[str, str]:
    """The environment of a process profiled with tracemalloc (SOAK_TRACEMALLOC; bench/soak_trace)."""
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([str(REPO / "bench" / "soak_trace"), env.get("PYTHONPATH", "")]),
        "SOAK_TRACE_DIR": str(logs / "trace"),
    }


def process_environment(name: str, env: dict[str, str], logs: Path) -> dict[str, str]:
    """A stack process's environment: traced (SOAK_TRACEMALLOC) and at INFO (SOAK_LOG_INFO) if named."""
    env = traced_environment(env, logs) if name in TRACED else env
    return {**env, "AURUM_LOG_LEVEL": "INFO"} if name in LOG_INFO else env


def stack_commands(web_port: int, asgi_port: int, scratch: Path) -> dict[str, list[str]]:
    python = str(BIN / "python")
    commands = {
        "web": gunicorn_command(web_port),
        "asgi": uvicorn_command(asgi_port),
    }
    for queue in QUEUES:
        commands[f"worker-{queue}"] = [python, "-m", "aurum.worker", queue]
    commands["beat"] = [
        str(BIN / "celery"),
        "-A",
        "aurum",
        "beat",
        "-s",
        str(scratch / "celerybeat-schedule"),
    ]
    return commands


def listener_pid(url_env: str) -> int | None:
    """The pid listening on the port of DATABASE_URL / REDIS_URL (the services `make bench` started)."""
    port = int(os.environ[url_env].rsplit(":", 1)[1].split("/")[0])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return None


def read_targets(base: str, token: str, asofs: list[str]) -> dict[str, Any]:
    """Curve keys present on every preloaded day, their ISOs, and a (key, tenor) with history."""
    per_day: list[set[str]] = []
    isos: set[str] = set()
    tenor = ""
    for asof in asofs:
        keys: set[str] = set()
        page = api(base, token, f"/api/v2/curves?asof={asof}&tenor_type=CALENDAR&limit=1000")
        keys.update(row["curve_key"] for row in page["data"])
        per_day.append(keys)
    isos.update(v for v in api(base, token, "/api/v2/metadata/dimensions")["data"]["iso"] if v)
    common = sorted(set.intersection(*per_day))
    monthly = api(base, token, f"/api/v2/curves?curve_key={common[0]}&tenor_type=MONTHLY&limit=50")
    tenor = monthly["data"][len(monthly["data"]) // 2]["tenor_label"]
    return {"curve_keys": common, "isos": sorted(isos), "tenor_label": tenor}


def _plan_limits(
    manage: list[str], env: dict[str, str], rate: tuple[int, int, int] | None
) -> tuple[int, int, int]:
    """The enterprise plan's (requests_per_second, burst, rows_per_month), set to ``rate`` first when given
    (the demo's 50/s would answer most of the pre-warm's requests with 429s, which fill no cache, and a long
    pre-warm serves more than the default 10 M rows a month)."""
    fields = ("requests_per_second", "burst", "rows_per_month")
    code = (
        "import json; from tenants.models import Plan; q = Plan.objects.filter(code='enterprise'); "
        f"print(json.dumps(list(q.values_list{fields!r}.get())))"
    )
    if rate is not None:
        code += f"; q.update(**{dict(zip(fields, rate, strict=True))!r})"
    out = subprocess.run([*manage, "shell", "-c", code], env=env, cwd=REPO, check=True, capture_output=True)
    before = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return int(before[0]), int(before[1]), int(before[2])


def prewarm(urls: dict[str, str], token: str, config: dict[str, Any], logs: Path) -> None:
    """``PREWARM`` seconds of the locustfile's reads through wrk against each server in ``urls`` (name ->
    base URL), side by side; the answers other than 2xx are counted in the log line."""

    def table(values: list[str]) -> str:
        return "{" + ",".join(json.dumps(v) for v in values) + "}"

    data = logs / "prewarm-data.lua"
    data.write_text(
        f"keys = {table(config['curve_keys'])}\nasofs = {table(config['asofs'])}\n"
        f"isos = {table(config['isos'])}\ntenor = {json.dumps(config['tenor_label'])}\n"
    )
    runs = {
        name: subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", f"-d{PREWARM:.0f}s", "-H", f"Authorization: Bearer {token}"]
            + ["-s", str(REPO / "bench" / "soak_prewarm.lua"), url],
            env={**os.environ, "SOAK_PREWARM_DATA": str(data)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, url, connections in (
            ("web", urls["web"], 16),  # 4 workers x 2 threads, twice over
            ("asgi", urls["asgi"], 4),
        )
    }
    for name, run in runs.items():
        out, _ = run.communicate()
        (logs / f"prewarm-{name}.txt").write_text(out)
        requests = next((line.split()[0] for line in out.splitlines() if "requests in" in line), "?")
        refused = [line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
        say(f"pre-warm {name}: {requests} requests in {PREWARM:.0f} s; {'; '.join(refused) or 'all 2xx'}")


def locust_csv(prefix: Path, kind: str) -> list[dict[str, str]]:
    """Rows of locust's ``<prefix>_<kind>.csv`` (stats, failures, exceptions)."""
    path = Path(f"{prefix}_{kind}.csv")
    return list(csv.DictReader(path.open())) if path.exists() else []


def locust_table(rows: list[dict[str, str]]) -> str:
    lines = [
        "| type | name | requests | failures | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['Type']} | {r['Name']} | {r['Request Count']} | {r['Failure Count']} | {r['50%']} | "
            f"{r['95%']} | {r['99%']} | {float(r['Max Response Time']):.0f} |"
        )
    return "\n".join(lines)


def webhook_wait(
    base: str, token: str, endpoint: str, receiver: WebhookReceiver, timeout: float = 180
) -> int:
    """Wait until the receiver holds every message the endpoint has (1..last_sequence); the count."""
    deadline = time.monotonic() + timeout
    while True:
        last = int(api(base, token, f"/api/v2/webhooks/{endpoint}")["data"]["last_sequence"])
        if set(range(1, last + 1)) <= set(receiver.sequences) or time.monotonic() > deadline:
            return last
        time.sleep(2)


def main() -> int:
    scratch = Path(os.environ.get("AURUM_VAR_DIR", "/tmp"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = OUT / "logs" / stamp
    logs.mkdir(parents=True, exist_ok=True)
    web_port, asgi_port = free_ports(2)
    env = {**demo_environment(demo_root=scratch, port=web_port)}
    env.update(
        DJANGO_SETTINGS_MODULE="aurum.settings.production", AURUM_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1"
    )
    manage = [str(BIN / "python"), str(REPO / "manage.py")]
    preload, uploads = workbooks(scratch)
    asofs = sorted({datetime.strptime(p.name.split("_")[2], "%Y%m%d").date().isoformat() for p in preload})
    say(f"seeding: migrate, reference data, {len(preload)} workbooks ({asofs[0]}..{asofs[-1]}), demo tenants")
    began = time.monotonic()
    seed_log = (logs / "seed.log").open("wb")
    for step in (
        [*manage, "platform_migrate", "-v", "0"],
        [*manage, "load_reference"],
        [*manage, "ingest_eod", *map(str, preload)],
        [str(BIN / "python"), "-m", "aurum.devstack.demo", "seed", "--port", str(web_port)],
    ):
        subprocess.run(step, env=env, cwd=REPO, check=True, stdout=seed_log, stderr=subprocess.STDOUT)
    demo = json.loads((scratch / "demo.json").read_text())
    token = {(u["tenant"], u["role"]): u["token"] for u in demo["users"]}
    tokens = {
        "reader": token[("acme", "analyst")],
        "trader": token[("acme", "admin")],
        "operator": token[("ops", "trader")],
    }
    seeded = time.monotonic() - began
    processes = {
        name: start_named(name, cmd, process_environment(name, env, logs), logs)
        for name, cmd in stack_commands(web_port, asgi_port, scratch).items()
    }
    base = f"http://127.0.0.1:{web_port}"
    receiver = WebhookReceiver()
    locust: subprocess.Popen[bytes] | None = None
    try:
        try:
            wait_ready(base, processes=processes, interval=1)
            wait_port(asgi_port, processes=processes)
        except RuntimeError as error:
            raise RuntimeError(f"{error} (see {OUT / 'logs'})") from error
        ready = time.monotonic() - began - seeded
        say(f"stack ready in {ready:.0f} s: web :{web_port}, asgi :{asgi_port}, {len(QUEUES)} workers, beat")
        endpoint = api(
            base, tokens["trader"], "/api/v2/webhooks", {"url": receiver.url, "events": WEBHOOK_EVENTS}
        )
        receiver.secret = endpoint["data"]["secret"]
        targets = read_targets(base, tokens["reader"], asofs)
        config = {
            **targets,
            "asofs": asofs,
            "tokens": tokens,
            "asgi_url": f"http://127.0.0.1:{asgi_port}",
            "workbooks": [str(p) for p in uploads],
        }
        say(
            f"{len(targets['curve_keys'])} curves, ISOs {targets['isos']}; {len(uploads)} workbooks to upload"
        )
        roots = {name: p.pid for name, p in processes.items()}
        for name, url_env in (("postgres", "DATABASE_URL"), ("redis", "REDIS_URL")):
            if (pid := listener_pid(url_env)) is not None:
                roots[name] = pid
        warming: MemorySampler | None = None
        if PREWARM > 0:
            limits = _plan_limits(manage, env, (10**6, 10**6, 10**15))
            if TRACE_FROM == "prewarm":
                trace_start(logs)
            # Memory through the pre-warm too: whether a process reaches its level under reads at full speed.
            # Every 30 s, or a twelfth of a short pre-warm.
            warming = MemorySampler(roots=dict(roots), interval=min(30.0, max(PREWARM / 12, 1.0)))
            warming.start()
            try:
                # As the operator tenant (same plan, same curves): the rows it is served count toward its
                # own month, so a long pre-warm leaves the reader's rows quota to the soak.
                prewarm({"web": base, "asgi": config["asgi_url"]}, tokens["operator"], config, logs)
            finally:
                warming.stop()
                _plan_limits(manage, env, limits)
        prefix = OUT / f"soak-{stamp}-locust"
        sampler = MemorySampler(roots=roots)
        sampler.start()
        say(f"locust for {DURATION} s (warm-up {WARMUP:.0f} s), sampling RSS every {sampler.interval:.0f} s")
        locust = subprocess.Popen(
            [
                str(BIN / "locust"),
                "-f",
                str(REPO / "bench" / "soak_locustfile.py"),
                "--headless",
                "--host",
                base,
                "--users",
                str(sum(USER_COUNTS[name] for name in USERS)),
                "--spawn-rate",
                str(sum(USER_COUNTS[name] for name in USERS)),
                "--run-time",
                f"{DURATION}s",
                "--stop-timeout",
                "300",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                *USERS,
            ],
            cwd=REPO,
            env={**os.environ, "SOAK_CONFIG": json.dumps(config)},
            stdout=(logs / "locust.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        sampler.roots["locust (load generator)"] = locust.pid
        trace_start(logs)
        locust.wait()
        run_seconds = sampler.elapsed()
        say("locust done; waiting for the webhook backlog")
        messages = webhook_wait(base, tokens["trader"], endpoint["data"]["id"], receiver)
        sampler.sample()
        sampler.stop()
        dead = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
        report(
            stamp=stamp,
            sampler=sampler,
            warming=warming,
            stats=locust_csv(prefix, "stats"),
            exceptions=locust_csv(prefix, "exceptions"),
            failed=locust_csv(prefix, "failures"),
            receiver=receiver,
            messages=messages,
            dead=dead,
            run_seconds=run_seconds,
            uploads=len(uploads),
            startup=(seeded, ready),
        )
        return 0
    finally:
        if locust and locust.poll() is None:
            locust.terminate()
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        receiver.server.shutdown()


def report(
    *,
    stamp: str,
    sampler: MemorySampler,
    warming: MemorySampler | None,
    stats: list[dict[str, str]],
    exceptions: list[dict[str, str]],
    failed: list[dict[str, str]],
    receiver: WebhookReceiver,
    messages: int,
    dead: dict[str, int | None],
    run_seconds: float,
    uploads: int,
    startup: tuple[float, float],
) -> None:
    rows = memory_rows(sampler, warmup=WARMUP)
    during = [l1 for at, l1, _, _ in sampler.load if WARMUP <= at <= run_seconds]
    failures = sum(int(r["Failure Count"]) for r in stats if r["Name"] != "Aggregated")
    missing = sorted(set(range(1, messages + 1)) - set(receiver.sequences))
    repeats = sum(n - 1 for n in receiver.sequences.values() if n > 1)
    cpu = [busy for at, busy in sampler.cpu_busy if WARMUP <= at <= run_seconds]
    text = "\n\n".join(
        [
            f"# Soak {stamp}: {DURATION} s of locust, warm-up {WARMUP:.0f} s, pre-warm {PREWARM:.0f} s",
            "Users: " + ", ".join(f"{name} ×{USER_COUNTS[name]}" for name in USERS) + ".",
            f"Machine: {platform.node()}, {psutil.cpu_count()} CPUs, "
            f"{psutil.virtual_memory().total / 2**30:.1f} GiB, Python {platform.python_version()}; "
            f"shared with other engineers' work. Load average (1 min) during the run after warm-up: start "
            f"{during[0] if during else 0:.2f}, mean {sum(during) / max(len(during), 1):.2f}, max "
            f"{max(during, default=0):.2f}; machine CPU busy: mean {sum(cpu) / max(len(cpu), 1):.0f} %.",
            f"Seeding {startup[0]:.0f} s; processes started to /health/ready {startup[1]:.0f} s.",
            f"Locust: {failures} failures, {len(exceptions)} exceptions in users' code.\n\n"
            + locust_table(stats)
            + "".join(
                f"\n\nfailure ×{f['Occurrences']}: {f['Method']} {f['Name']}: {f['Error']}" for f in failed
            )
            + "".join(
                f"\n\nexception ×{e['Count']}: {e['Message']} at {e['Traceback'][-300:]}" for e in exceptions
            ),
            f"Webhooks: {messages} messages for the endpoint, {len(receiver.sequences)} received "
            f"({sum(receiver.sequences.values())} deliveries, {repeats} repeats), missing {missing[:20]}, "
            f"{receiver.bad_signatures} bad signatures; by type {receiver.types}. Workbooks offered for "
            f"upload: {uploads}.",
            f"Processes that exited during the run: {dead or 'none'}.",
            *(
                [
                    f"Memory during the pre-warm (RSS, MB; mean of each sixth of its {PREWARM:.0f} s, "
                    f"sampled every {warming.interval:.0f} s; slope over its second half):\n\n"
                    + window_means_table(warming)
                ]
                if warming
                else []
            ),
            "Memory (RSS; from the first sample after the warm-up; slope by least squares):\n\n"
            + memory_table(rows),
            f"Process groups: {group_sizes_line(sampler, warmup=WARMUP) or 'none'}.",
            "Thread counts that changed after the warm-up: "
            f"{thread_changes_line(sampler, warmup=WARMUP) or 'none'}.",
        ]
    )
    print(text)
    (OUT / f"soak-{stamp}.md").write_text(text + "\n")
    raw = {
        "samples": {
            f"{name}:{pid}": [(s.at, s.rss, s.pss, s.threads) for s in points]
            for (name, pid), points in sampler.samples.items()
        },
        "groups": {name: [(s.at, s.rss, s.pss) for s in points] for name, points in sampler.groups.items()},
        "load": sampler.load,
        "cpu_busy": sampler.cpu_busy,
        "group_sizes": sampler.group_sizes,
        "prewarm_samples": {
            f"{name}:{pid}": [(s.at, s.rss) for s in points]
            for (name, pid), points in warming.samples.items()
        }
        if warming
        else {},
    }
    (OUT / f"soak-{stamp}.json").write_text(json.dumps(raw))
    say(f"written: {OUT / f'soak-{stamp}.md'}")


if __name__ == "__main__":
    sys.exit(main())
