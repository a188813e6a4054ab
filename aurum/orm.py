"""Hot-path ORM lookups whose SQL is compiled once (issue 14, decision 0054).

Django compiles a queryset to SQL every time it is evaluated: for the bearer-token lookup (five tables
through ``select_related``) that was half of its ~1.1 ms of CPU, on every API request. A ``CompiledLookup``
builds its queryset once with marker values, keeps the SQL and Django's compiler (per thread, like the
connection it belongs to), and on each call runs that SQL with the real values and builds the instances
exactly as ``QuerySet`` does (the same columns, converters and ``select_related`` objects). Nothing is
cached but the SQL text: every call reads the database, so a revoked token or a changed row is seen at once.

Its statement is prepared on the server once run often enough on a connection (``prepared_cursor``, decision
0058): Postgres then skips planning it (the token lookup's five-table join: ~0.8 ms planned every run against
~0.16 ms prepared, measured).

``shared_tables_only=True``: the lookup reads only tables of apps that live in the public schema alone
(checked when it compiles), so it runs on whatever search path the connection's session has (decision
0057): the token lookup of an API request needs no ``SET search_path = public`` first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class _Compiled:
    connection: Any
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    positions: tuple[int, ...]  # where each marker's value goes in ``params``
    model: type[models.Model]
    fields: slice  # the model's own columns in a row
    init_list: tuple[str, ...]
    populators: Sequence[Any]
    converters: dict[int, Any]  # Django's per-column converters, built once (0.05-0.07 ms a call)
    annotations: tuple[tuple[str, int], ...]  # (name, column) of each annotation, set on the root instance


class CompiledLookup(Generic[M]):
    """``build(*markers)`` must return the queryset with each marker as one lookup's value (each marker
    must appear exactly once among the compiled parameters: distinct, and of the field's own type); calls
    then pass the real values in the same order. Only model querysets (no ``values()``, no ``in`` lookups of
    varying length); an annotation is set on each instance as ``QuerySet`` sets it (e.g. a related table's
    rows as one array column: one statement instead of two)."""

    def __init__(
        self,
        build: Callable[..., models.QuerySet[M]],
        *markers: Any,
        using: str = "default",
        shared_tables_only: bool = False,
    ) -> None:
        self._build = build
        self._markers = markers
        self._using = using
        self._shared_tables_only = shared_tables_only
        self._local = threading.local()

    def _compiled(self) -> _Compiled:
        connection = connections[self._using]
        found: _Compiled | None = getattr(self._local, "compiled", None)
        if found is not None and found.connection is connection:
            return found
        queryset = self._build(*self._markers)
        if queryset._fields is not None:  # type: ignore[attr-defined]
            raise ValueError("a compiled lookup builds model instances only (no values())")
        compiler = queryset.query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        if self._shared_tables_only:
            _check_shared_tables({join.table_name for join in compiler.query.alias_map.values()})
        positions = []
        for marker in self._markers:
            at = [i for i, value in enumerate(params) if type(value) is type(marker) and value == marker]
            if len(at) != 1:
                raise ValueError(f"marker {marker!r} appears {len(at)} times in the compiled parameters")
            positions.append(at[0])
        klass_info = compiler.klass_info
        assert klass_info is not None  # a model query has one
        select_fields = klass_info["select_fields"]
        fields = slice(select_fields[0], select_fields[-1] + 1)
        columns = [column[0] for column in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise ValueError("a compiled lookup does not read composite fields")
        found = _Compiled(
            connection=connection,
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            positions=tuple(positions),
            model=klass_info["model"],
            fields=fields,
            init_list=tuple(column[0].target.attname for column in compiler.select[fields]),
            populators=get_related_populators(klass_info, compiler.select, self._using),  # type: ignore[call-arg]
            converters=compiler.get_converters(columns),
            annotations=tuple(compiler.annotation_col_map.items()),
        )
        self._local.compiled = found
        return found

    def all(self, *values: Any) -> list[M]:
        return self.build(self.rows(*values))

    def rows(self, *values: Any) -> list[tuple[Any, ...]]:
        """The statement's rows, converted as the ORM converts them: plain tuples, which ``build`` turns
        into instances (a cache may keep the rows and build fresh instances for each caller)."""
        if len(values) != len(self._markers):
            raise TypeError(f"expected {len(self._markers)} values, got {len(values)}")
        compiled = self._compiled()
        bound = list(compiled.params)
        for at, value in zip(compiled.positions, values, strict=True):
            bound[at] = value
        with self._search_path(compiled.connection), prepared_cursor(compiled.connection) as cursor:
            cursor.execute(compiled.sql, bound)
            rows = cursor.fetchall()
        # What ``results_iter`` does with the converters it would build again on every call.
        converted = (
            compiled.compiler.apply_converters(rows, compiled.converters) if compiled.converters else rows
        )
        return [tuple(row) for row in converted]

    def row_with(self, row: tuple[Any, ...], attname: str, value: Any) -> tuple[Any, ...]:  # noqa: ANN401
        """``row`` with the main model's column ``attname`` set to ``value``."""
        compiled = self._compiled()
        at = (compiled.fields.start or 0) + compiled.init_list.index(attname)
        return (*row[:at], value, *row[at + 1 :])

    def build(self, rows: list[tuple[Any, ...]]) -> list[M]:
        """New instances (with their related instances and annotations) of rows ``rows`` returned."""
        compiled = self._compiled()
        found = []
        for row in rows:
            instance = compiled.model.from_db(self._using, list(compiled.init_list), row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, instance)
            for name, at in compiled.annotations:
                setattr(instance, name, row[at])
            found.append(instance)
        return found  # type: ignore[return-value]

    def _search_path(self, connection: Any) -> AbstractContextManager[None]:
        if self._shared_tables_only and hasattr(connection, "shared_tables_only"):
            return cast(AbstractContextManager[None], connection.shared_tables_only())
        return nullcontext()

    def first(self, *values: Any) -> M | None:
        """The first row's instance (the queryset should be ordered and sliced ``[:1]``), or None."""
        rows = self.all(*values)
        return rows[0] if rows else None


@contextmanager
def prepared_cursor(connection: Any) -> Iterator[Any]:
    """A cursor of ``connection`` whose statements psycopg prepares on the server once run often enough
    (``aurum.tenancy.postgresql_backend``'s ``prepared_statements``; a plain cursor on another backend). For
    fixed statements run on every request: each distinct SQL text is kept prepared per connection."""
    prepared = getattr(connection, "prepared_statements", None)
    with prepared() if prepared is not None else nullcontext(), connection.cursor() as cursor:
        yield cursor


def _check_shared_tables(tables: set[str]) -> None:
    """Every table must belong to an app in the public schema only (SHARED_APPS, not TENANT_APPS): a tenant
    schema never has a table of that name, so any search path with public finds the same one."""
    tenant_apps = set(settings.TENANT_APPS)
    by_table = {model._meta.db_table: model for model in apps.get_models()}
    for table in sorted(tables):
        model = by_table.get(table)
        if model is None or model._meta.app_config.name in tenant_apps:
            raise ValueError(f"{table} is not a table of a shared-only app: it may exist in tenant schemas")
