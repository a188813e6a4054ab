"""Run as root, the demo's Postgres cluster lives outside the checkout (/var/tmp/aurum-<hash of its path>).
A clone deleted and made again at the same path must not inherit the old cluster: its Iceberg catalog would
point at warehouse files that went with the old clone (seen: `make demo` failed with FileNotFoundError on a
metadata file)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from aurum.devstack.services import cluster_root

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the cluster leaves the checkout only when run as root"
)


@pytest.fixture
def service_dir(monkeypatch):
    services = Path(tempfile.mkdtemp(prefix="aurum-test-", dir="/var/tmp"))
    services.chmod(0o755)
    monkeypatch.setenv("AURUM_SERVICE_DIR", str(services))
    yield services
    shutil.rmtree(services, ignore_errors=True)


def test_the_same_checkout_finds_its_cluster_again(tmp_path, service_dir):
    var = tmp_path / "clone" / "var"
    cluster = cluster_root(var, "demo")
    (cluster / "data").mkdir(parents=True)
    (cluster / "data" / "PG_VERSION").write_text("17")

    again = cluster_root(var, "demo")

    assert again == cluster
    assert (again / "data" / "PG_VERSION").read_text() == "17"


def test_a_new_clone_at_the_same_path_starts_a_new_cluster(tmp_path, service_dir):
    var = tmp_path / "clone" / "var"
    cluster = cluster_root(var, "demo")
    (cluster / "data").mkdir(parents=True)
    (cluster / "data" / "PG_VERSION").write_text("17")
    shutil.rmtree(tmp_path / "clone")  # the clone is deleted ...
    var.mkdir(parents=True)  # ... and made again where it was

    fresh = cluster_root(var, "demo")

    assert fresh == cluster  # the same place, named after the path
    assert not (fresh / "data").exists()  # but not the old catalog
