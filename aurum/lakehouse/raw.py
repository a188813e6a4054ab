"""Raw files kept by content hash in the warehouse (``raw/``): every workbook received stays reviewable."""

import pyarrow.fs as pafs
from django.conf import settings

from aurum.lakehouse.storage import filesystem_for


def _filesystem() -> tuple[pafs.FileSystem, str]:
    filesystem, root = filesystem_for(settings.AURUM_WAREHOUSE)
    return filesystem, root.rstrip("/")


def raw_put(*, data: bytes, sha256: str, file_name: str) -> str:
    """Store ``data`` once per content hash; return its URI. Storing the same bytes again is a no-op."""
    filesystem, root = _filesystem()
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in file_name)[:200] or "upload"
    folder = f"{root}/raw/{sha256[:2]}/{sha256}"
    path = f"{folder}/{safe_name}"
    if filesystem.get_file_info(path).type == pafs.FileType.NotFound:
        filesystem.create_dir(folder, recursive=True)
        with filesystem.open_output_stream(path) as stream:
            stream.write(data)
    return f"{settings.AURUM_WAREHOUSE.rstrip('/')}/raw/{sha256[:2]}/{sha256}/{safe_name}"


def raw_get(uri: str) -> bytes:
    filesystem, path = filesystem_for(uri)
    with filesystem.open_input_stream(path) as stream:
        return bytes(stream.read())
