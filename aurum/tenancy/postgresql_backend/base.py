"""django-tenants' PostgreSQL backend, issuing ``SET search_path`` only when the session's path is not already
the one a query needs (issue 14, decision 0057).

django-tenants forgets the path it set whenever ``set_tenant`` is called, so every API request paid two
extra round trips: ``SET search_path = public`` for the token lookup and ``SET search_path = <tenant>,
public`` for the rest, even when the connection's session had that tenant's path from the request before.
This wrapper remembers what the *session* has (set by its own ``SET``), and forgets it whenever the session's
path may have changed behind it: a new or closed connection, a rollback or savepoint rollback (a ``SET`` is
transactional), and any statement that mentions ``search_path`` or ``clone_schema`` (django-tenants' clone
function sets the path itself).

The request's connection health check (``CONN_HEALTH_CHECKS``: a ``SELECT 1`` round trip before the first
query of every request) is skipped while the connection answered a statement less than
``AURUM_DB_HEALTH_CHECK_IDLE_SECONDS`` ago (1 s by default; 0: always check). A connection that died within
that window (Postgres restarted) fails its next request with a 503 problem, and Django closes it at the end of
that request (it checks a connection after an error); the next request opens a new one.

``shared_tables_only()`` marks queries that read only shared apps' tables, which exist in the public schema
alone: any session path that includes public resolves them to the same tables, so no ``SET`` is issued for
them (the bearer-token lookup, ``aurum.orm.CompiledLookup(shared_tables_only=True)``, which checks its
tables).

``prepared_statements()`` (decision 0058): cursors opened inside bind their parameters on the server
(Django's ``ServerBindingCursor``), so psycopg prepares a statement once it has run ``prepare_threshold``
times on the connection (``AURUM_DB_PREPARE_THRESHOLD``) and Postgres stops planning it on every run. Only
the hot fixed lookups of every API request use it (``aurum.orm.prepared_cursor``); Django's own cursors bind
on the client and are never prepared. With the threshold off (a pooler in transaction mode older than
PgBouncer 1.21), it changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.conf import settings
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import errors
from django_tenants.postgresql_backend import base as tenants_base
from django_tenants.utils import get_public_schema_name

clock = time.monotonic  # when a statement was answered (tests move it)


def _may_change_path(sql: object) -> bool:
    """After this statement the session's search_path is not known any more. Plain substring tests: a
    case-insensitive regex over every statement cost ~0.7 M instructions an API request (callgrind)."""
    if not isinstance(sql, str):
        return True
    lowered = sql.lower()
    return "search_path" in lowered or "clone_schema" in lowered


class DatabaseOperations(tenants_base.DatabaseWrapper.ops_class):  # type: ignore[name-defined,misc]
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str | None:
        """A prepared cursor's statement as Django logs a server-side binding's (with its values): psycopg
        keeps no text of a prepared execution. Only logged queries (DEBUG, ``CaptureQueriesContext``) ask."""
        if isinstance(cursor, ServerBindingCursor):
            try:
                return str(self.compose_sql(sql, params))
            except errors.DataError:  # a value the client cannot render: as Django answers for its own
                return None
        return cast(str | None, super().last_executed_query(cursor, sql, params))


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    ops_class = DatabaseOperations
    search_path_set_schemas: list[str] | None  # django-tenants': the path it last set (None: set it)
    health_check_done: bool  # Django's: this request's health check is done (or skipped)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.session_search_path: list[str] | None = None
        self._shared_tables_only = 0
        self._prepared_statements = 0
        self._answered_at = float("-inf")  # time.monotonic() of the connection's last answered statement
        self._health_check_idle = float(getattr(settings, "AURUM_DB_HEALTH_CHECK_IDLE_SECONDS", 1.0))
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._watch_statement)

    def _watch_statement(
        self, execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any
    ) -> Any:
        try:
            answer = execute(sql, params, many, context)
        finally:
            if _may_change_path(sql):
                self.session_search_path = None
        self._answered_at = clock()
        return answer

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and clock() - self._answered_at < self._health_check_idle
        ):
            self.health_check_done = True  # it answered moments ago: no SELECT 1 round trip
            return
        super().close_if_health_check_failed()

    @contextmanager
    def shared_tables_only(self) -> Iterator[None]:
        """Queries inside read only tables of shared apps (public schema only): they run on whatever path
        the session has, as long as it includes public."""
        self._shared_tables_only += 1
        try:
            yield
        finally:
            self._shared_tables_only -= 1

    @contextmanager
    def prepared_statements(self) -> Iterator[None]:
        """Cursors opened inside bind on the server, so psycopg may prepare what they run (see above)."""
        self._prepared_statements += 1
        try:
            yield
        finally:
            self._prepared_statements -= 1

    def create_cursor(self, name: str | None = None) -> Any:
        connection = self.connection
        if name is None and self._prepared_statements and connection.prepare_threshold is not None:
            factory = connection.cursor_factory
            connection.cursor_factory = ServerBindingCursor
            try:
                return super().create_cursor(name)
            finally:
                connection.cursor_factory = factory
        return super().create_cursor(name)

    def _handle_search_path(self, cursor: Any = None) -> None:
        if self._setting_search_path or not self.schema_name:
            super()._handle_search_path(cursor)  # re-entry, or django-tenants' "schema not set" error
            return
        wanted = self._get_cursor_search_paths()
        session = self.session_search_path
        if session is not None and (
            session == wanted or (self._shared_tables_only and get_public_schema_name() in session)
        ):
            self.search_path_set_schemas = session
            return
        self.search_path_set_schemas = None  # django-tenants skips its SET while this is set
        super()._handle_search_path(cursor)
        self.session_search_path = self.search_path_set_schemas

    def connect(self) -> None:
        self.session_search_path = None
        self._answered_at = float("-inf")
        super().connect()

    def close(self) -> None:
        self.session_search_path = None
        self._answered_at = float("-inf")
        super().close()

    def rollback(self) -> None:
        self.session_search_path = None
        super().rollback()

    def savepoint_rollback(self, sid: str) -> None:
        try:
            super().savepoint_rollback(sid)
        finally:
            self.session_search_path = None
