"""The Iceberg catalog: pyiceberg's SQL catalog in Aurum's own Postgres (the JDBC catalog layout, which
Trino's Iceberg connector reads too), with data files in ``AURUM_WAREHOUSE`` (a folder or s3://)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog

# pyiceberg (with SQLAlchemy) and the storage layer (Arrow, DuckDB) are imported on the first catalog, not
# with this module: tenants.services imports it, and with it every process that loads the admin (manage.py
# commands that never touch the lakehouse; issue 14). Servers and workers import them at start-up instead
# (aurum/warmup.py).
_lock = threading.Lock()
_catalogs: dict[tuple[str, str, str], SqlCatalog] = {}


def catalog_uri() -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgresql+psycopg://{auth}{host}:{port}/{db['NAME']}"


def get_catalog() -> SqlCatalog:
    """One catalog per process, database, catalog name and warehouse (tests use private ones)."""
    from pyiceberg.catalog.sql import SqlCatalog

    from aurum.lakehouse.storage import iceberg_io_properties
    from aurum.lakehouse.transaction_metadata import transaction_metadata_memo_install

    transaction_metadata_memo_install()  # before any table of this process commits (decision 0048)

    key = (settings.AURUM_ICEBERG_CATALOG, catalog_uri(), settings.AURUM_WAREHOUSE)
    with _lock:
        catalog = _catalogs.get(key)
        if catalog is None:
            catalog = SqlCatalog(
                key[0], uri=key[1], warehouse=key[2], pool_pre_ping="true", **iceberg_io_properties()
            )
            _catalogs[key] = catalog
        return catalog


def catalog_dispose() -> None:
    """Close the catalogs' connection pools (before dropping a test database, or at shutdown)."""
    with _lock:
        for catalog in _catalogs.values():
            catalog.engine.dispose()
        _catalogs.clear()


def namespace_ensure(namespace: str) -> None:
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    try:
        get_catalog().create_namespace(namespace)
    except NamespaceAlreadyExistsError:
        pass
