"""Process caches of Postgres rows that every request reads and that rarely change, kept exact by Postgres
itself (decision 0075).

Triggers on the cached tables ``NOTIFY aurum_invalidate`` with a topic (``curves``, or ``iceberg:`` and a
table's catalog, namespace and name) when a transaction that changed them commits, whoever wrote it: the
ORM, a queryset ``update()``, raw SQL, pyiceberg, a restore. Each web process keeps one listening connection
on a thread of its own; a notification empties the caches of its topic.

A cache answers only while its process listens: from the moment the listener's first heartbeat notification
came back after its ``LISTEN`` until its connection breaks or a heartbeat fails to come back. Otherwise every
``get`` misses and nothing is stored, so a notification missed while not listening cannot leave a stale entry.
A value is stored only if no notification of its topics arrived since the caller took its ``ticket`` (before
reading the row): a row read just before a commit is dropped by that commit's notification, which always
comes after it. Entries also expire after ``MAX_AGE_SECONDS`` whatever happens, and a cache holds at most
``max_entries`` (then it starts again empty).

Started by the web processes' warm-up (``listener_start``); off where the warm-up is off (the test
settings), in Celery workers and management commands: there every read asks Postgres, as before.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

import psycopg
import structlog
from django.conf import settings
from django.db import connection, transaction

log = structlog.get_logger(__name__)

CHANNEL = "aurum_invalidate"
MAX_AGE_SECONDS = 60.0
# How often the listener sends itself a heartbeat notification, which must come back before the next.
HEARTBEAT_SECONDS = 5.0
RECONNECT_SECONDS = 1.0

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Statement-level on the curve catalog (an ingest changes thousands of rows: one notification), row-level on
# pyiceberg's table of pointers (one row a commit: the topic names the table). Postgres sends a
# transaction's notifications when it commits, once per distinct topic, and none if it rolls back.
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION public.aurum_notify_curves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('aurum_invalidate', 'curves'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION public.aurum_notify_iceberg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  PERFORM pg_notify('aurum_invalidate',
    'iceberg:' || r.catalog_name || ':' || r.table_namespace || '.' || r.table_name);
  IF TG_OP = 'UPDATE' AND (OLD.catalog_name, OLD.table_namespace, OLD.table_name)
      IS DISTINCT FROM (NEW.catalog_name, NEW.table_namespace, NEW.table_name) THEN
    PERFORM pg_notify('aurum_invalidate',
      'iceberg:' || OLD.catalog_name || ':' || OLD.table_namespace || '.' || OLD.table_name);
  END IF;
  RETURN NULL;
END $$;
"""
_CREDENTIALS_FUNCTION = """
CREATE OR REPLACE FUNCTION public.aurum_notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('aurum_invalidate', 'credentials'); RETURN NULL; END $$;
"""


def _statement_trigger(table: str, name: str, function: str, events: str) -> tuple[str, str, str]:
    return (
        table,
        name,
        f"CREATE TRIGGER {name} AFTER {events} ON public.{table} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION public.{function}()",
    )


def _credential_triggers(table: str, short: str, ignored: str | None = None) -> list[tuple[str, str, str]]:
    """Any change to a table an API request's credential is read from notifies ``credentials``; with
    ``ignored``, an update of that column alone (a token's last use, a user's last login) does not."""
    if ignored is None:
        return [
            _statement_trigger(
                table, f"aurum_invalidate_{short}", "aurum_notify_credentials",
                "INSERT OR UPDATE OR DELETE OR TRUNCATE",
            )
        ]  # fmt: skip
    changed = f"(to_jsonb(OLD) - '{ignored}') IS DISTINCT FROM (to_jsonb(NEW) - '{ignored}')"
    return [
        _statement_trigger(
            table, f"aurum_invalidate_{short}", "aurum_notify_credentials", "INSERT OR DELETE OR TRUNCATE"
        ),
        (
            table,
            f"aurum_invalidate_{short}_update",
            f"CREATE TRIGGER aurum_invalidate_{short}_update AFTER UPDATE ON public.{table} FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION public.aurum_notify_credentials()",
        ),
    ]


# (table, trigger, its CREATE statement). A table that does not exist yet gets its triggers on a later call.
_TRIGGERS: list[tuple[str, str, str]] = [
    _statement_trigger(
        "curves_curve",
        "aurum_invalidate_curves",
        "aurum_notify_curves",
        "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    ),
    (
        "iceberg_tables",
        "aurum_invalidate_iceberg",
        "CREATE TRIGGER aurum_invalidate_iceberg AFTER INSERT OR UPDATE OR DELETE ON public.iceberg_tables "
        "FOR EACH ROW EXECUTE FUNCTION public.aurum_notify_iceberg()",
    ),
    _statement_trigger(
        "iceberg_tables", "aurum_invalidate_iceberg_truncate", "aurum_notify_curves", "TRUNCATE"
    ),
    *_credential_triggers("accounts_apitoken", "apitoken", ignored="last_used_at"),
    *_credential_triggers("accounts_user", "user", ignored="last_login"),
    *_credential_triggers("accounts_membership", "membership"),
    *_credential_triggers("tenants_tenant", "tenant"),
    *_credential_triggers("tenants_plan", "plan"),
    *_credential_triggers("tenants_entitlement", "entitlement"),
]


def iceberg_topic(catalog: str, namespace: str, name: str) -> str:
    """The topic a commit to this Iceberg table notifies (its row in ``iceberg_tables`` changed)."""
    return f"iceberg:{catalog}:{namespace}.{name}"


class InvalidatedCache(Generic[K, V]):
    """A dict of values read from Postgres, emptied by its topics' notifications (see the module)."""

    def __init__(self, name: str, topics: Iterable[str], max_entries: int = 10_000) -> None:
        self.name = name
        self.topics = set(topics)
        self.max_entries = max_entries
        self._entries: dict[K, tuple[V, float]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        _caches.add(self)

    def topic_add(self, topic: str) -> None:
        """Listen to one more topic (a table this cache's values name, known once read)."""
        self.topics.add(topic)

    def ticket(self) -> int | None:
        """Take before reading the row to store: None while the process does not listen (do not store)."""
        return self._generation if _listener.live else None

    def get(self, key: K) -> V | None:
        if not _listener.live:
            return None
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[1] > MAX_AGE_SECONDS:
            return None
        return entry[0]

    def put(self, key: K, value: V, ticket: int | None) -> bool:
        """Store unless a notification of this cache's topics arrived since ``ticket`` (or none could)."""
        with self._lock:
            if ticket is None or ticket != self._generation or not _listener.live:
                return False
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (value, time.monotonic())
            return True

    def replace(self, key: K, value: V) -> None:
        """Change a kept entry (its row changed in a way no notification reports); none kept, nothing."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = (value, entry[1])

    def invalidate(self, topic: str | None = None) -> None:
        """Empty the cache if ``topic`` is one of its own (None: whatever it is)."""
        if topic is not None and topic not in self.topics:
            return
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_caches: weakref.WeakSet[InvalidatedCache] = weakref.WeakSet()  # type: ignore[type-arg]


def _invalidate_all() -> None:
    for cache in list(_caches):
        cache.invalidate()


class _Listener:
    def __init__(self) -> None:
        self.live = False
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.notifications = 0  # topics applied (barriers not counted)
        self.awaited: set[str] = set()  # barriers a caller waits for (notifications_drained)
        self.arrived: set[str] = set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(_conninfo(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listen(conn)
            except Exception as exc:  # noqa: BLE001 - any failure: stop caching, reconnect
                if not self.stopping.is_set():
                    log.warning("process caches off: invalidation listener lost", error=str(exc)[:300])
            finally:
                self.live = False
                _invalidate_all()
            self.stopping.wait(RECONNECT_SECONDS)

    def _listen(self, conn: psycopg.Connection) -> None:
        """Apply notifications; every ``HEARTBEAT_SECONDS`` send a barrier of its own, which must come back
        before the next: a connection that died, or that does not get notifications (a pooler in
        transaction mode), stops the caches within two heartbeats. Live once the first barrier is back."""
        barrier: str | None = None
        while not self.stopping.is_set():
            if barrier is not None:
                raise RuntimeError(
                    "a heartbeat notification did not come back: notifications are not delivered"
                )
            barrier = f"sync:heartbeat-{uuid.uuid4().hex}"
            conn.execute("SELECT pg_notify(%s, %s)", [CHANNEL, barrier])
            for notify in conn.notifies(timeout=HEARTBEAT_SECONDS):
                topic = notify.payload
                if topic == barrier:
                    barrier = None
                    if not self.live:
                        _invalidate_all()  # anything stored before was not covered by this connection
                        self.live = True
                        log.info("process caches listening", channel=CHANNEL)
                elif topic.startswith("sync:"):
                    if topic in self.awaited:
                        self.arrived.add(topic)
                else:
                    self.notifications += 1
                    for cache in list(_caches):
                        cache.invalidate(topic)
                if self.stopping.is_set():
                    return


_listener = _Listener()


def _conninfo() -> str:
    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": str(db["PORT"]) if db.get("PORT") else None,
        "application_name": "aurum-invalidation",
        "keepalives": "1",
        "keepalives_idle": "10",
        "keepalives_interval": "5",
        "keepalives_count": "3",
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


_PRESENT_SQL = (
    "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
    "AND t.tgname LIKE 'aurum_invalidate%%'"
)


def triggers_ensure() -> int:
    """Create the invalidation triggers that are missing (idempotent). Returns how many it created.
    pyiceberg creates ``iceberg_tables`` itself: call this once the catalog exists (else its triggers wait
    for the next call)."""
    with connection.cursor() as cursor:
        cursor.execute(_PRESENT_SQL)
        present = {(row[0], row[1]) for row in cursor.fetchall()}
    if all((table, name) in present for table, name, _ in _TRIGGERS):
        return 0
    created = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Two processes starting together: one creates, the other waits here and then finds them made.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('aurum_invalidate_triggers'))")
        cursor.execute(_PRESENT_SQL)
        present = {(row[0], row[1]) for row in cursor.fetchall()}
        cursor.execute(_FUNCTIONS + _CREDENTIALS_FUNCTION)
        for table, name, sql in _TRIGGERS:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{table}"])
            if (table, name) in present or not cursor.fetchone()[0]:
                continue
            cursor.execute(sql)
            created += 1
    return created


def listener_start() -> str:
    """Ensure the triggers, then listen on a daemon thread (once per process; after a fork, in the child)."""
    if not getattr(settings, "AURUM_PROCESS_CACHE", True) or connection.vendor != "postgresql":
        return "off"
    created = triggers_ensure()
    if _listener.thread is None or not _listener.thread.is_alive():
        _listener.stopping.clear()
        _listener.thread = threading.Thread(target=_listener.run, name="aurum-invalidation", daemon=True)
        _listener.thread.start()
    deadline = time.monotonic() + 5
    while not _listener.live and time.monotonic() < deadline:
        time.sleep(0.005)
    return f"{'listening' if _listener.live else 'not listening yet'}; {created} triggers created"


def listener_stop(timeout: float = 10) -> None:
    """Stop listening (tests): every cache misses from now on."""
    _listener.stopping.set()
    thread = _listener.thread
    if thread is not None and _listener.live:
        try:  # wake it from its wait for notifications now, not at its next heartbeat
            with psycopg.connect(_conninfo(), autocommit=True) as conn:
                conn.execute("SELECT pg_notify(%s, 'sync:stop')", [CHANNEL])
        except psycopg.Error:
            pass
    if thread is not None:
        thread.join(timeout)
    _listener.thread = None
    _listener.live = False
    _invalidate_all()


def listening() -> bool:
    return _listener.live


def notifications_applied() -> int:
    """How many notifications (barriers aside) this process's listener has applied since it started."""
    return _listener.notifications


def notifications_drained(timeout: float = 5.0) -> bool:
    """Wait until this process has applied every notification committed before the call: Postgres delivers
    a channel's notifications in commit order, so once a barrier sent now arrives, the earlier ones have
    (tests, and a writer that must read its own write at once). False if not listening or timed out."""
    if not _listener.live:
        return False
    barrier = f"sync:{uuid.uuid4().hex}"
    _listener.awaited.add(barrier)
    try:
        with psycopg.connect(_conninfo(), autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, %s)", [CHANNEL, barrier])
        deadline = time.monotonic() + timeout
        while barrier not in _listener.arrived:
            if time.monotonic() > deadline or not _listener.live:
                return False
            time.sleep(0.001)
        return True
    finally:
        _listener.awaited.discard(barrier)
        _listener.arrived.discard(barrier)
