"""The Iceberg catalog: pyiceberg's SQL catalog in Aurum's own Postgres (the JDBC catalog layout, which
Trino's Iceberg connector reads too), with data files in ``AURUM_WAREHOUSE`` (a folder or s3://)."""

import threading
from urllib.parse import quote

from django.conf import settings
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError

from aurum.lakehouse.storage import iceberg_io_properties
from aurum.lakehouse.transaction_metadata import transaction_metadata_memo_install

transaction_metadata_memo_install()

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
    try:
        get_catalog().create_namespace(namespace)
    except NamespaceAlreadyExistsError:
        pass
