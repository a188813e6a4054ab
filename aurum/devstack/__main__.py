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
from pathlib import Path
from typing import Any

from aurum.devstack.services import (
    DevstackError,
    PostgresServer,
    RedisServer,
    cluster_root,
    free_port,
    port_open,
)
from aurum.queues import worker_queues_arg

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
        env, started = _start_services(scratch, throwaway=True, pg_port=free_port(), redis_port=free_port())
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
        manage = [str(BIN / "python"), str(ROOT / "manage.py")]
        demo = [str(BIN / "python"), "-m", "aurum.devstack.demo"]
        subprocess.run([*manage, "platform_migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
        # Static files (admin, API docs UI) served by WhiteNoise from STATIC_ROOT, hashed as in production.
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "load_reference"], env=env, check=True, cwd=ROOT)
        days = os.environ.get("AURUM_DEMO_DAYS", "10")
        subprocess.run([*demo, "ingest", "--days", days], env=env, check=True, cwd=ROOT)
        subprocess.run([*demo, "feeds"], env=env, check=True, cwd=ROOT)
        # A warehouse loaded before market.curve_latest existed gets it built once.
        subprocess.run([*manage, "curve_latest_rebuild", "--if-missing"], env=env, check=True, cwd=ROOT)
        # Last, so the credentials are what the terminal shows.
        subprocess.run([*demo, "seed", "--port", str(port)], env=env, check=True, cwd=ROOT)
        processes = [
            subprocess.Popen(
                [
                    str(BIN / "uvicorn"),
                    "aurum.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-access-log",
                ],
                env=env,
                cwd=ROOT,
            ),
            subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "aurum",
                    "worker",
                    "-Q",
                    worker_queues_arg(),
                    "-l",
                    "INFO",
                    "--concurrency",
                    "2",
                    "-n",
                    "demo@%h",
                ],
                env=env,
                cwd=ROOT,
            ),
            subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "aurum",
                    "beat",
                    "-l",
                    "INFO",
                    "-s",
                    str(demo_root / "celerybeat-schedule"),
                ],
                env=env,
                cwd=ROOT,
            ),
        ]
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
