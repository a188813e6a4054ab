"""Removing a tenant's lakehouse namespace: every Iceberg table of ``t_<schema>`` dropped from the catalog
and its folder (data, metadata) deleted, the run-output staging files too; what was removed, counted."""

from __future__ import annotations

from typing import Any

import pyarrow.fs as pafs
from django.conf import settings
from pyiceberg.exceptions import NoSuchNamespaceError

from apps.scenarios.outputs import QUARANTINE_FOLDER, STAGING_FOLDER
from aurum.lakehouse.catalog import get_catalog


def _folder_remove(filesystem: pafs.FileSystem, path: str) -> tuple[int, int]:
    """Delete a folder and everything under it; (files, bytes) removed."""
    infos = filesystem.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
    files = [info for info in infos if info.type == pafs.FileType.File]
    if filesystem.get_file_info(path).type != pafs.FileType.NotFound:
        filesystem.delete_dir(path)
    return len(files), sum(info.size or 0 for info in files)


def _path_of(location: str) -> str:
    filesystem, path = pafs.FileSystem.from_uri(location)
    return str(path)


def namespace_remove(*, namespace: str, schema_name: str) -> dict[str, Any]:
    """Drop every table of ``namespace`` and delete its files, then the namespace; the report."""
    catalog = get_catalog()
    filesystem, root = pafs.FileSystem.from_uri(settings.AURUM_WAREHOUSE)
    tables: list[str] = []
    files = size = 0
    try:
        identifiers = catalog.list_tables(namespace)
    except NoSuchNamespaceError:
        identifiers = []
    for identifier in identifiers:
        name = ".".join(identifier)
        location = catalog.load_table(identifier).location()
        catalog.drop_table(identifier)
        removed_files, removed_bytes = _folder_remove(filesystem, _path_of(location))
        tables.append(name)
        files, size = files + removed_files, size + removed_bytes
    # The namespace's own folder (anything left beside the tables) and the staged run outputs.
    for folder in (
        f"{root.rstrip('/')}/{namespace}",
        f"{root.rstrip('/')}/{namespace}.db",
        f"{root.rstrip('/')}/{STAGING_FOLDER}/{schema_name}",
        f"{root.rstrip('/')}/{QUARANTINE_FOLDER}/{schema_name}",
    ):
        removed_files, removed_bytes = _folder_remove(filesystem, folder)
        files, size = files + removed_files, size + removed_bytes
    try:
        catalog.drop_namespace(namespace)
        namespace_dropped = True
    except NoSuchNamespaceError:
        namespace_dropped = False
    return {
        "namespace": namespace,
        "namespace_dropped": namespace_dropped,
        "tables_dropped": tables,
        "files_removed": files,
        "bytes_removed": size,
    }
