"""Where the warehouse's files live: a local folder (``file://``) or an S3 bucket (``s3://bucket/prefix``).

Every reader and writer of warehouse files goes through here, so one set of settings reaches them all:
pyiceberg's FileIO (catalog properties), pyarrow's filesystems (raw workbooks, staged outputs, maintenance,
backups) and DuckDB, which reads S3 through s3fs registered as an fsspec filesystem (its own httpfs extension
is downloaded at run time, which an air-gapped Aurum cannot do). Credentials come from the settings when
given, else from the usual AWS chain (environment, instance role).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import duckdb
import pyarrow.fs as pafs
from django.conf import settings


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def _endpoint() -> tuple[str | None, str]:
    """(host:port or None, scheme) of ``AURUM_S3_ENDPOINT`` (e.g. http://127.0.0.1:9000 for MinIO)."""
    endpoint = settings.AURUM_S3_ENDPOINT
    if not endpoint:
        return None, "https"
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    return parts.netloc, parts.scheme


def s3_filesystem() -> pafs.S3FileSystem:
    host, scheme = _endpoint()
    options: dict[str, Any] = {"region": settings.AURUM_S3_REGION, "scheme": scheme}
    if host:
        options["endpoint_override"] = host
    if settings.AURUM_S3_ACCESS_KEY_ID:
        options["access_key"] = settings.AURUM_S3_ACCESS_KEY_ID
        options["secret_key"] = settings.AURUM_S3_SECRET_ACCESS_KEY
    return pafs.S3FileSystem(**options)


def filesystem_for(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem holding ``uri`` and the path in it (``bucket/key`` for S3)."""
    if is_s3(uri):
        parts = urlsplit(uri)
        return s3_filesystem(), f"{parts.netloc}{parts.path}".rstrip("/")
    return pafs.FileSystem.from_uri(uri)


def iceberg_io_properties() -> dict[str, str]:
    """pyiceberg catalog properties for its FileIO (empty for a local warehouse)."""
    if not is_s3(settings.AURUM_WAREHOUSE):
        return {}
    properties = {"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO", "s3.region": settings.AURUM_S3_REGION}
    if settings.AURUM_S3_ENDPOINT:
        properties["s3.endpoint"] = settings.AURUM_S3_ENDPOINT
    if settings.AURUM_S3_ACCESS_KEY_ID:
        properties["s3.access-key-id"] = settings.AURUM_S3_ACCESS_KEY_ID
        properties["s3.secret-access-key"] = settings.AURUM_S3_SECRET_ACCESS_KEY
    return properties


def duckdb_filesystems_register(con: duckdb.DuckDBPyConnection) -> None:
    """Let ``con`` read the warehouse's ``s3://`` files (nothing to do for a local warehouse)."""
    if not is_s3(settings.AURUM_WAREHOUSE):
        return
    import s3fs  # here, not at the top: only an S3 deployment pays for importing botocore (~0.3 s)

    options: dict[str, Any] = {"client_kwargs": {"region_name": settings.AURUM_S3_REGION}}
    if settings.AURUM_S3_ENDPOINT:
        options["endpoint_url"] = settings.AURUM_S3_ENDPOINT
    if settings.AURUM_S3_ACCESS_KEY_ID:
        options["key"] = settings.AURUM_S3_ACCESS_KEY_ID
        options["secret"] = settings.AURUM_S3_SECRET_ACCESS_KEY
    con.register_filesystem(s3fs.S3FileSystem(**options))
