"""``python -m aurum.devstack test [pytest args]`` and ``python -m aurum.devstack demo``.

test: starts throwaway Postgres and Redis (unless DATABASE_URL / REDIS_URL are set), runs pytest, stops them,
      exits with pytest's status.
demo: starts (or reuses) the private stack under var/demo, migrates, collects static files, loads and seeds
      the demo data (``python -m aurum.devstack.demo``), and serves web + worker + beat with the production
      settings (DEBUG off) until Ctrl-C or SIGTERM, then stops everything it started.
run:  ``python -m aurum.devstack run -- COMMAND...`` runs a command (a benchmark) against throwaway services.

Run as root, the Postgres cluster lives outside the checkout (see ``services.cluster_root``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from aurum.devstack.services import (
    DevstackError,
    PostgresServer,
    RedisServer,
    cluster_root,
    free_ports,
    port_open,
)
from aurum.queues import QUEUES, WORKER_PROFILES, WORKER_START_OPTIONS, worker_queues_arg

ROOT = Path(__file__).resolve().parents[2]
VAR = Path(os.environ.get("AURUM_VAR_DIR", ROOT / "var"))
BIN = Path(sys.executable).parent


def _say(message: str) -> None:
    print(f"[aurum] {message}", flush=True)


def _start_services(
    root: Path, *, throwaway: bool, pg_port: int, redis_port: int
) -> tuple[dict[str, str], list[Any]]:
    env: dict[str, str] = {}
    started: list[Any] = []
    if not os.environ.get("DATABASE_URL"):
        pg = PostgresServer(cluster_root(VAR, root.name), pg_port, fast_unsafe=throwaway)
        _say(f"starting Postgres on 127.0.0.1:{pg_port} ({pg.data_dir})")
        started.append(pg)  # first, so a half-made cluster is stopped and cleaned up too
        pg.start()
        env["DATABASE_URL"] = pg.url
    if not os.environ.get("REDIS_URL"):
        redis = RedisServer(root / "redis", redis_port)
        _say(f"starting Redis on 127.0.0.1:{redis_port}")
        started.append(redis)
        redis.start()
        env["REDIS_URL"] = redis.url
    return env, started


def _stop_all(started: list[Any]) -> None:
    for service in reversed(started):
        try:
            service.stop()
        except Exception as exc:  # noqa: BLE001 - shutting down: report and go on stopping the rest
            _say(f"could not stop {type(service).__name__}: {exc}")


def run_tests(pytest_args: list[str]) -> int:
    command = [str(BIN / "pytest"), *pytest_args]
    _say("running " + " ".join(command))
    return run_with_services(command, settings_module="aurum.settings.test")


def run_with_services(command: list[str], *, settings_module: str | None = None) -> int:
    """Run a command (the test suite, a benchmark) against throwaway Postgres and Redis, then stop them."""
    VAR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="aurum-run-", dir=VAR))
    started: list[Any] = []
    try:
        pg_port, redis_port = free_ports(2)
        env, started = _start_services(scratch, throwaway=True, pg_port=pg_port, redis_port=redis_port)
        env.setdefault("AURUM_WAREHOUSE", (scratch / "warehouse").as_uri())
        env["AURUM_VAR_DIR"] = str(scratch)
        env["DJANGO_SETTINGS_MODULE"] = settings_module or os.environ.get(
            "DJANGO_SETTINGS_MODULE", "aurum.settings.local"
        )
        return subprocess.call(command, env={**os.environ, **env}, cwd=ROOT)
    finally:
        _stop_all(started)
        shutil.rmtree(scratch, ignore_errors=True)
        for service in started:
            if isinstance(service, PostgresServer):  # its cluster may live outside the checkout
                shutil.rmtree(service.root.parent, ignore_errors=True)


def _demo_secret_key(demo_root: Path) -> str:
    """The demo's own secret key: made once and kept (sessions survive a restart), owner-readable only."""
    path = demo_root / "secret-key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


def demo_environment(*, demo_root: Path, port: int) -> dict[str, str]:
    """The demo runs the production settings (DEBUG off, errors as problems or error pages) on this machine:
    plain HTTP on localhost, so no TLS redirect, no HSTS and no Secure-only cookies. The caller's environment
    wins over these defaults."""
    defaults = {
        "DJANGO_SETTINGS_MODULE": "aurum.settings.production",
        "DJANGO_SECRET_KEY": _demo_secret_key(demo_root),
        "DJANGO_ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1",
        "AURUM_SSL_REDIRECT": "false",
        "AURUM_HSTS_SECONDS": "0",
        "AURUM_SECURE_COOKIES": "false",
        "AURUM_LOG_FORMAT": "console",
        # Invitations and other mail land as files in var/mail/ (one per message), not on an SMTP server.
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "AURUM_MAIL_DIR": str(demo_root.parent / "mail"),
        # Webhook receivers of a demo run on this machine (http://localhost:…): allowed here only.
        "AURUM_WEBHOOK_ALLOW_PRIVATE": "true",
        "AURUM_WEBHOOK_ALLOW_HTTP": "true",
        # collectstatic runs on every fresh clone, beside the migrations: Brotli at quality 5 compresses the
        # served files (170, 5.5 MB) in 0.6 s of CPU; release builds' 11 takes 14 s for 11 % smaller files.
        "AURUM_STATIC_BROTLI_QUALITY": "5",
    }
    return {**defaults, **os.environ, "AURUM_PORT": str(port)}


def run_demo() -> int:
    demo_root = VAR / "demo"
    demo_root.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("AURUM_PORT", "8000"))
    if port_open(port):
        _say(f"port {port} is taken; set AURUM_PORT to another port")
        return 2
    started: list[Any] = []
    processes: list[subprocess.Popen[bytes]] = []
    stopping = False

    def _stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        env, started = _start_services(
            demo_root,
            throwaway=False,
            pg_port=int(os.environ.get("AURUM_DEMO_PG_PORT", "54329")),
            redis_port=int(os.environ.get("AURUM_DEMO_REDIS_PORT", "63799")),
        )
        env = {**demo_environment(demo_root=demo_root, port=port), **env}
        # Commands run from the same checkout while the demo serves (e.g. ingest_eod) use the same stack.
        (VAR / "demo.env").write_text(
            "".join(f"{k}={env[k]}\n" for k in ("DATABASE_URL", "REDIS_URL") if k in env)
        )
        processes = _demo_prepare_and_serve(env=env, port=port, demo_root=demo_root, stopped=lambda: stopping)
        if not processes:
            return 1
        _say(f"serving on http://localhost:{port} — details in {VAR / 'demo.json'}; Ctrl-C stops everything")
        while not stopping:
            if any(p.poll() is not None for p in processes):
                _say("a demo process exited; stopping the rest")
                break
            time.sleep(0.5)
        return 0
    except (DevstackError, subprocess.CalledProcessError) as exc:
        _say(f"demo failed: {exc}")
        return 1
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        _stop_all(started)
        _say("stopped")


def _static_current(static_root: Path) -> bool:
    """The collected static files are newer than their sources (this checkout's, and uv.lock for the
    installed packages')."""
    manifest = static_root / "staticfiles.json"
    if not manifest.exists():
        return False
    sources = [ROOT / "uv.lock", *(p for p in (ROOT / "static").rglob("*") if p.is_file())]
    return all(manifest.stat().st_mtime > p.stat().st_mtime for p in sources if p.exists())


# Seconds an idle kept-alive connection stays open: as deploy/gunicorn.conf.py's keepalive, longer than a
# client's idle time, so the server never closes a connection a request is being sent on (decision 0052).
UVICORN_KEEPALIVE = "75"


def uvicorn_command(port: int) -> list[str]:
    """The demo's ASGI server on 127.0.0.1:``port`` (HTTP and websockets), as bench/soak.py runs it too."""
    return [
        str(BIN / "uvicorn"),
        "aurum.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--timeout-keep-alive",
        UVICORN_KEEPALIVE,
    ]


def _web_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(uvicorn_command(port), env=env, cwd=ROOT)


# The demo's workers: one per pool kind of the queues' profiles (``aurum.queues.WORKER_PROFILES``), so what
# runs on this machine's cores (prefork: ingests, scenario runs) never waits behind what waits on the network
# (threads: feeds, webhooks, backfills, maintenance). With one worker on every queue, two feed fetches waiting
# on an unreachable vendor (~9 s each, offline) held both of its slots, and a 20-run bulk took over a minute.
DEMO_CONCURRENCY = {"prefork": "2", "threads": "8"}


def demo_worker_commands() -> list[list[str]]:
    """The demo's Celery worker commands: one per pool kind, together serving every queue once."""
    by_pool: dict[str, list[str]] = {}
    for queue in QUEUES:
        by_pool.setdefault(WORKER_PROFILES[queue].pool, []).append(queue)
    celery = [str(BIN / "celery"), "-A", "aurum", "worker", *WORKER_START_OPTIONS, "-l", "INFO"]
    return [
        [*celery, "-Q", worker_queues_arg(tuple(queues)), "--pool", pool]
        + ["--concurrency", DEMO_CONCURRENCY[pool], "-n", f"demo-{pool}@%h"]
        for pool, queues in by_pool.items()
    ]


def _workers(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(command, env=env, cwd=ROOT) for command in demo_worker_commands()]


def _beat(env: dict[str, str], demo_root: Path) -> subprocess.Popen[bytes]:
    beat = [str(BIN / "celery"), "-A", "aurum", "beat", "-l", "INFO"]
    return subprocess.Popen([*beat, "-s", str(demo_root / "celerybeat-schedule")], env=env, cwd=ROOT)


def redis_now(redis_url: str) -> float:
    """The Redis server's clock (what workers stamp their heartbeats with), or 0 when it cannot be read."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        seconds, microseconds = client.time()
        return seconds + microseconds / 1_000_000
    except redis.RedisError:
        return 0.0
    finally:
        client.close()


def workers_beating(redis_url: str, pids: Collection[int], since: float) -> set[int]:
    """Which of the worker processes ``pids`` have beaten (``aurum.health.worker``: once their pool is warm)
    at or after ``since`` (Redis server time). /health/ready counts any worker; the demo waits for each of
    its own."""
    import redis

    from aurum.health.worker import HEARTBEATS_KEY, heartbeat_pid

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        members: list[bytes] = client.zrangebyscore(HEARTBEATS_KEY, since, "+inf")  # type: ignore[assignment]
    except redis.RedisError:
        return set()
    finally:
        client.close()
    return {pid for pid in map(heartbeat_pid, members) if pid is not None and pid in pids}


def _answers_ready(port: int, skip: str) -> bool:
    url = f"http://127.0.0.1:{port}/health/ready" + (f"?skip={skip}" if skip else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _demo_prepare_and_serve(
    *, env: dict[str, str], port: int, demo_root: Path, stopped: Callable[[], bool]
) -> list[subprocess.Popen[bytes]]:
    """Collect the static files while one process migrates and loads the demo data (``demo load``); start
    the web server and the worker as soon as the market data is in, so they warm up while the demo's scenario
    run and PPA are made (the loader runs the run itself, or waits for the worker that took it first); beat
    once both are ready.
    Returns the serving processes, or [] when a step failed (the caller stops whatever is in the list it
    holds)."""
    started = time.monotonic()
    collect = None
    if not _static_current(Path(env.get("AURUM_VAR_DIR", VAR)) / "staticfiles"):
        # Static files (admin, API docs UI) served by WhiteNoise from STATIC_ROOT, hashed as in production.
        collect = subprocess.Popen(
            [str(BIN / "python"), str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
            env=env,
            cwd=ROOT,
        )
    days = os.environ.get("AURUM_DEMO_DAYS", "10")
    loader = subprocess.Popen(
        [str(BIN / "python"), "-m", "aurum.devstack.demo", "load", "--days", days, "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    serving: list[subprocess.Popen[bytes]] = []
    assert loader.stdout is not None
    for line in loader.stdout:
        print(line, end="", flush=True)
        if line.strip() == "[demo] market data loaded":
            loaded = time.monotonic() - started
            _say(f"market data loaded in {loaded:.0f} s; starting the web server and the worker")
            if collect is not None and collect.wait() != 0:
                _say("collectstatic failed")
                loader.terminate()
                return serving
            since = redis_now(env["REDIS_URL"])
            workers = _workers(env)
            serving += [_web_server(env, port), *workers]
    if loader.wait() != 0 or (collect is not None and collect.wait() != 0):
        _say("loading the demo data failed (see above)")
        for process in serving:
            process.terminate()
        return []
    if not serving:
        since = redis_now(env["REDIS_URL"])
        workers = _workers(env)
        serving += [_web_server(env, port), *workers]
    # Ready when the web server answers its readiness probe (it warms up before it listens), then when every
    # worker has beaten (each beats once its pool is warm; the probe is content with one), then when the full
    # readiness check passes (what a user's first /health/ready answers).
    pids = {worker.pid for worker in workers}
    waits = (
        ("web", lambda: _answers_ready(port, "worker")),
        ("workers", lambda: workers_beating(env["REDIS_URL"], pids, since) == pids),
        ("everything", lambda: _answers_ready(port, "")),
    )
    for what, ready in waits:
        while not ready():
            if stopped() or any(p.poll() is not None for p in serving):
                return serving
            time.sleep(0.2)
        _say(f"{what} ready after {time.monotonic() - started:.0f} s")
    # Beat only sends the periodic tasks (maintenance, sweeps): started once the rest is up, it takes no CPU
    # from their warm-up.
    serving.append(_beat(env, demo_root))
    return serving


def main() -> int:
    # Everything after "test" / "run" belongs to pytest / the command, options included.
    if len(sys.argv) > 1 and sys.argv[1] == "test":
        return run_tests([a for a in sys.argv[2:] if a != "--"])
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        return run_with_services([a for a in sys.argv[2:] if a != "--"])
    parser = argparse.ArgumentParser(prog="python -m aurum.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo")
    test = sub.add_parser("test")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    run = sub.add_parser("run", help="run a command against throwaway Postgres and Redis")
    run.add_argument("run_command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "test":
        return run_tests([a for a in args.pytest_args if a != "--"])
    if args.command == "run":
        return run_with_services([a for a in args.run_command if a != "--"])
    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
