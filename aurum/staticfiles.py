"""The production static-files storage: WhiteNoise's hashed, compressed files, compressing only what is
served (decision 0060).

WhiteNoise compresses every collected file twice (Brotli at quality 11, then gzip), the unhashed original as
well as its hashed copy. Pages reach static files only by their hashed names (``{% static %}`` and the
manifest's rewritten ``url()`` and ``sourceMappingURL`` references), so the originals are kept but left
uncompressed, and source maps, which only a browser's developer tools fetch, are not compressed either.
Brotli's quality is a setting (``AURUM_STATIC_BROTLI_QUALITY``): 11, the smallest files, at release; the
demo, which collects on every fresh clone, uses a faster one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import brotli
from django.conf import settings
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Never compressed: WhiteNoise's own list (images, fonts, archives…) and source maps.
SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")


class _QualityCompressor(Compressor):
    def __init__(self, *, brotli_quality: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.brotli_quality = brotli_quality

    def compress_brotli(self, data: bytes) -> bytes:  # type: ignore[override]
        return bytes(brotli.compress(data, quality=self.brotli_quality))


class StaticFilesStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    def create_compressor(self, **kwargs: Any) -> Compressor:
        kwargs["extensions"] = SKIP_COMPRESS_EXTENSIONS
        return _QualityCompressor(brotli_quality=settings.AURUM_STATIC_BROTLI_QUALITY, **kwargs)

    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        # ``hashed_files`` maps each original name to its hashed one once the manifest's pass is done, which
        # WhiteNoise's post-processing waits for before it compresses.
        hashed = self.hashed_files
        served = [path for path in paths if hashed.get(path, path) == path]
        return super().compress_files(served)  # type: ignore[no-any-return]
