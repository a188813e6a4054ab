"""A table's pointer: the Iceberg catalog's row naming the table's current metadata file (its "metadata
location"). Every lakehouse read asks it once (the engines reuse a table and its plans while it is
unchanged, aurum/lakehouse/engines.py); a caller that reads Postgres just before may read it in its own
statement (``POINTER_SQL``) and hand it over (``pointers_read``): one round trip fewer (decision 0065)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connection
from pyiceberg.catalog.sql import SqlCatalog
from sqlalchemy import text

from aurum.lakehouse.catalog import get_catalog
from aurum.orm import prepared_cursor

_LOCATION_WHERE = "WHERE catalog_name = {} AND table_namespace = {} AND table_name = {}"
_LOCATION_DJANGO = "SELECT metadata_location FROM public.iceberg_tables " + _LOCATION_WHERE.format(
    "%s", "%s", "%s"
)
POINTER_SQL = f"({_LOCATION_DJANGO})"  # a table's pointer as a scalar subquery (pointer_args)
_LOCATION_SQLALCHEMY = "SELECT metadata_location FROM iceberg_tables " + _LOCATION_WHERE.format(
    ":catalog", ":namespace", ":name"
)


def _on_django_database(catalog: SqlCatalog) -> bool:
    """The catalog lives in Django's own Postgres database (the deployed setup; tests also use private
    SQLite catalogs)."""
    url = catalog.engine.url
    return url.get_backend_name() == "postgresql" and url.database == connection.settings_dict["NAME"]


# Table pointers (metadata locations) a caller read in a statement of its own, moments before the read: the
# engine takes them instead of asking the catalog again (``pointers_read``).
_pointers_read: ContextVar[Mapping[str, str | None] | None] = ContextVar("aurum_pointers_read", default=None)


def pointer_args(identifier: str) -> tuple[str, str, str] | None:
    """The parameters of ``POINTER_SQL`` for the table: its current pointer as a scalar subquery of another
    statement on Django's database, read in the same round trip (a one-curve read takes it with the curve's
    catalog row: one statement fewer per read, issue 14). None where the configured engine is not DuckDB or
    the catalog does not live in Django's database."""
    if settings.AURUM_QUERY_ENGINE != "duckdb":
        return None
    catalog = get_catalog()
    if not _on_django_database(catalog):
        return None
    namespace, _, name = identifier.rpartition(".")
    return catalog.name, namespace, name


@contextmanager
def pointers_read(pointers: Mapping[str, str | None]) -> Iterator[None]:
    """Reads inside take these tables' pointers, read by the caller through ``POINTER_SQL`` just before,
    as the catalog's answer: the same row the engine would ask for a moment later (a table read as missing,
    None, is still loaded from the catalog, which raises NoSuchTableError)."""
    token = _pointers_read.set(pointers)
    try:
        yield
    finally:
        _pointers_read.reset(token)


def table_pointer(catalog: SqlCatalog, identifier: str) -> str | None:
    """The table's current metadata location (None: no such table), as handed over or asked."""
    known = _pointers_read.get()
    if known is not None and identifier in known:
        return known[identifier]
    namespace, _, name = identifier.rpartition(".")
    args = [catalog.name, namespace, name]
    if _on_django_database(catalog):
        # Django's open connection: no pool checkout and pre-ping (0.18 vs 0.54 ms a read, measured); a
        # statement prepared on the server, as every read runs it (decision 0058).
        with prepared_cursor(connection) as cursor:
            cursor.execute(_LOCATION_DJANGO, args)
            found = cursor.fetchone()
    else:
        with catalog.engine.connect() as sa_connection:
            values = {"catalog": args[0], "namespace": args[1], "name": args[2]}
            found = sa_connection.execute(text(_LOCATION_SQLALCHEMY), values).first()
    return None if found is None else str(found[0])
