"""deploy/trino's catalog files, parsed: each reads the catalog pyiceberg writes (the JDBC layout in Aurum's
Postgres, the catalog name and schema version found in the real test catalog), the warehouse Aurum writes,
and S3 with the same endpoint, region and keys Aurum uses; every value from the environment, named as the
setting Aurum reads. Property names as Trino documents them (deploy/trino/README.md cites the pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.sql import TRINO_CATALOG
from aurum.lakehouse.tables import CURVE_OBSERVATION, curve_observation_table

TRINO = Path(__file__).resolve().parents[2] / "deploy" / "trino"
FOLDERS = ("catalog-s3", "catalog-local")
ENV = re.compile(r"\$\{ENV:([A-Z0-9_]+)\}\Z")
# Environment variables only the Trino processes read (Trino needs a JDBC URL, Aurum a DATABASE_URL).
TRINO_ONLY = {"AURUM_TRINO_PG_URL", "AURUM_TRINO_PG_USER", "AURUM_TRINO_PG_PASSWORD"}
CATALOG_KEYS = {
    "connector.name",
    "iceberg.catalog.type",
    "iceberg.jdbc-catalog.catalog-name",
    "iceberg.jdbc-catalog.schema-version",
    "iceberg.jdbc-catalog.driver-class",
    "iceberg.jdbc-catalog.connection-url",
    "iceberg.jdbc-catalog.connection-user",
    "iceberg.jdbc-catalog.connection-password",
    "iceberg.jdbc-catalog.default-warehouse-dir",
    "iceberg.file-format",
    "iceberg.security",
}
S3_KEYS = {
    "fs.native-s3.enabled",
    "s3.endpoint",
    "s3.region",
    "s3.path-style-access",
    "s3.aws-access-key",
    "s3.aws-secret-key",
}
LOCAL_KEYS = {"fs.native-local.enabled", "local.location"}


def properties(folder: str) -> dict[str, str]:
    path = TRINO / folder / f"{TRINO_CATALOG}.properties"
    lines = [line.strip() for line in path.read_text().splitlines()]
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"a property set twice in {path}"
    return {key: value for key, value in pairs}


def env_name(value: str) -> str:
    found = ENV.match(value)
    assert found, f"{value!r} is not taken from the environment"
    return found.group(1)


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_file_is_the_iceberg_catalog_over_pyicebergs_jdbc_tables(folder: str, settings) -> None:
    props = properties(folder)

    assert set(props) == CATALOG_KEYS | (S3_KEYS if folder == "catalog-s3" else LOCAL_KEYS)
    assert (props["connector.name"], props["iceberg.catalog.type"]) == ("iceberg", "jdbc")
    assert props["iceberg.jdbc-catalog.driver-class"] == "org.postgresql.Driver"
    assert (props["iceberg.security"], props["iceberg.file-format"]) == ("read_only", "PARQUET")
    # The catalog name and the warehouse are Aurum's own settings, under their own names.
    assert env_name(props["iceberg.jdbc-catalog.catalog-name"]) == "AURUM_ICEBERG_CATALOG"
    assert env_name(props["iceberg.jdbc-catalog.default-warehouse-dir"]) == "AURUM_WAREHOUSE"
    secrets = ("connection-url", "connection-user", "connection-password")
    assert {env_name(props[f"iceberg.jdbc-catalog.{key}"]) for key in secrets} == TRINO_ONLY
    for value in props.values():
        if value.startswith("${"):
            name = env_name(value)
            assert name in TRINO_ONLY or hasattr(settings, name), f"{name} is no setting Aurum reads"


def test_the_s3_file_uses_the_s3_settings_aurum_uses() -> None:
    props = properties("catalog-s3")

    assert props["fs.native-s3.enabled"] == "true"
    assert props["s3.path-style-access"] == "true"  # as pyarrow's client with an endpoint (MinIO)
    assert {
        key: env_name(props[key]) for key in S3_KEYS - {"fs.native-s3.enabled", "s3.path-style-access"}
    } == {
        "s3.endpoint": "AURUM_S3_ENDPOINT",
        "s3.region": "AURUM_S3_REGION",
        "s3.aws-access-key": "AURUM_S3_ACCESS_KEY_ID",
        "s3.aws-secret-key": "AURUM_S3_SECRET_ACCESS_KEY",
    }


def test_the_local_file_resolves_the_file_uris_pyiceberg_writes(db, settings) -> None:
    """Trino's local file system maps ``file:///a/b`` to ``<local.location>/a/b``: with the root at ``/``,
    the absolute path pyiceberg wrote into the metadata."""
    props = properties("catalog-local")
    table = curve_observation_table()

    assert props["fs.native-local.enabled"] == "true" and props["local.location"] == "/"
    assert settings.AURUM_WAREHOUSE.startswith("file:///")
    assert table.metadata_location.startswith(settings.AURUM_WAREHOUSE.rstrip("/") + "/")


def test_the_jdbc_catalog_tables_are_the_ones_trino_reads(db, settings) -> None:
    """The rows pyiceberg writes are what Trino's JDBC catalog (schema V1) looks up: the two tables in the
    public schema, ``iceberg_type`` present and 'TABLE', ``catalog_name`` the configured catalog."""
    curve_observation_table()
    namespace, _, name = CURVE_OBSERVATION.partition(".")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name IN ('iceberg_tables', 'iceberg_namespace_properties')"
        )
        columns = set(cursor.fetchall())
        cursor.execute(
            "SELECT catalog_name, iceberg_type FROM public.iceberg_tables "
            "WHERE table_namespace = %s AND table_name = %s AND catalog_name = %s",
            [namespace, name, get_catalog().name],
        )
        rows = cursor.fetchall()

    v1_tables = {
        "catalog_name",
        "table_namespace",
        "table_name",
        "metadata_location",
        "previous_metadata_location",
        "iceberg_type",
    }
    assert {column for table, column in columns if table == "iceberg_tables"} == v1_tables
    assert {column for table, column in columns if table == "iceberg_namespace_properties"} == {
        "catalog_name",
        "namespace",
        "property_key",
        "property_value",
    }
    assert rows == [(settings.AURUM_ICEBERG_CATALOG, "TABLE")]
    assert properties("catalog-s3")["iceberg.jdbc-catalog.schema-version"] == "V1"


def test_the_readme_explains_every_variable_the_files_read() -> None:
    readme = (TRINO / "README.md").read_text()
    names = {env_name(value) for folder in FOLDERS for value in properties(folder).values() if "${" in value}

    assert names and all(f"`{name}`" in readme for name in names)
