"""Collected static files (production storage, decision 0060): every file is served by its hashed name, and
only those are compressed; originals stay, uncompressed; source maps are never compressed; Brotli's quality
comes from the settings."""

import gzip
import json
from pathlib import Path

import brotli
import pytest
from django.core.management import call_command

SCRIPT = "/* app */\n" + "function total(rows) { return rows.reduce((a, r) => a + r.price, 0); }\n" * 400
STYLE = "body { background: url('bg.png'); }\n" + ".row { color: #223344; margin: 0 1px; }\n" * 400
SOURCE_MAP = json.dumps({"version": 3, "sources": ["app.ts"], "mappings": "AAAA;" * 4000})


@pytest.fixture
def collected(tmp_path, settings):
    """collectstatic of a small source folder through the production storage, into a fresh STATIC_ROOT."""

    def collect(quality: int) -> Path:
        source = tmp_path / f"source-{quality}"
        source.mkdir()
        (source / "app.js").write_text(SCRIPT + "//# sourceMappingURL=app.js.map\n")
        (source / "app.js.map").write_text(SOURCE_MAP)
        (source / "site.css").write_text(STYLE)
        (source / "bg.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4000))
        root = tmp_path / f"static-{quality}"
        settings.STATIC_ROOT = root
        settings.STATICFILES_DIRS = [source]
        settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "aurum.staticfiles.StaticFilesStorage"},
        }
        settings.AURUM_STATIC_BROTLI_QUALITY = quality
        call_command("collectstatic", interactive=False, verbosity=0)
        return root

    return collect


def _hashed(root: Path, original: str) -> str:
    return str(json.loads((root / "staticfiles.json").read_text())["paths"][original])


def test_only_hashed_files_are_compressed_and_they_decompress_to_the_file(collected):
    root = collected(5)
    script, style = _hashed(root, "app.js"), _hashed(root, "site.css")
    assert script != "app.js" and style != "site.css"
    for name in (script, style):
        data = (root / name).read_bytes()
        assert brotli.decompress((root / f"{name}.br").read_bytes()) == data
        assert gzip.decompress((root / f"{name}.gz").read_bytes()) == data
    # The originals are still collected (a hard-coded URL finds them), but not compressed.
    for name in ("app.js", "site.css"):
        assert (root / name).exists()
        assert not (root / f"{name}.br").exists() and not (root / f"{name}.gz").exists()
    # The manifest points the script at its map's hashed name; no map and no image is compressed.
    hashed_map = _hashed(root, "app.js.map")
    assert f"sourceMappingURL={Path(hashed_map).name}" in (root / script).read_text()
    compressed = sorted(p.name for p in root.iterdir() if p.suffix in (".br", ".gz"))
    assert compressed == sorted(f"{n}{s}" for n in (script, style) for s in (".br", ".gz"))


def test_brotli_quality_comes_from_the_settings(collected):
    fast, small = collected(1), collected(11)
    script = _hashed(fast, "app.js")
    assert script == _hashed(small, "app.js")
    fast_size = (fast / f"{script}.br").stat().st_size
    small_size = (small / f"{script}.br").stat().st_size
    assert small_size < fast_size
    assert brotli.decompress((fast / f"{script}.br").read_bytes()) == (fast / script).read_bytes()
