"""``/api/v2/curves/{curve_key}/lineage``: explain one number, for licensed tenants only."""

import hashlib

import pytest

from apps.ingestion.services import ingest_run_create, ingest_run_execute
from tests.support.paths import EOD_DIR

EUGP_0912 = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
RP_0912 = EOD_DIR / "EOD_RP_20250912_1430.xlsx"


@pytest.fixture
def eugp_run(world):
    created = ingest_run_create(data=EUGP_0912.read_bytes(), file_name=EUGP_0912.name, source="command")
    return ingest_run_execute(run_id=created.run.pk)


def _austrian_spark_key() -> str:
    from apps.curves.models import Curve

    return Curve.objects.get(
        dataset="vendor:EUGP", location="Austrian", block="BASE", spark_location="Austrian_CEGH"
    ).curve_key


def test_lineage_explains_the_known_spark_spread_value(eugp_run, api, world):
    key = _austrian_spark_key()

    response = api.get(
        f"/api/v2/curves/{key}/lineage",
        {"tenor_label": "2025-09", "asof": "2025-09-12"},
        **world.globex.auth("viewer"),
    )

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["point"]["mid"] == 25.81827660034004
    assert data["point"]["asof_date"] == "2025-09-12"
    assert data["source"]["file_name"] == "EOD_EUGP_20250912_1430.xlsx"
    assert data["source"]["sha256"] == hashlib.sha256(EUGP_0912.read_bytes()).hexdigest()
    assert data["source"]["sheet_name"] == "Spark Spread"
    assert (
        data["source"]["version_hash"]
        == hashlib.sha256(b"EOD_EUGP_20250912_1430.xlsx|Spark Spread|2025-09-12|").hexdigest()
    )
    assert data["ingest_run"]["id"] == eugp_run.pk
    assert data["ingest_run"]["snapshot_id"] == eugp_run.snapshot_id
    assert "no_duplicate_key" in data["quality_rules_passed"]
    assert response.json()["meta"]["request_id"] == response["X-Request-Id"]


def test_lineage_defaults_to_the_curves_latest_asof(eugp_run, api, world):
    response = api.get(
        f"/api/v2/curves/{_austrian_spark_key()}/lineage",
        {"tenor_label": "2025-10"},
        **world.acme.auth("viewer"),
    )

    assert response.json()["data"]["point"]["asof_date"] == "2025-09-12"


def test_curves_outside_the_tenants_licence_are_404(world, api):
    created = ingest_run_create(data=RP_0912.read_bytes(), file_name=RP_0912.name, source="command")
    ingest_run_execute(run_id=created.run.pk)
    from apps.curves.models import Curve

    rp_key = Curve.objects.filter(dataset="vendor:RP").values_list("curve_key", flat=True).first()

    globex = api.get(f"/api/v2/curves/{rp_key}/lineage", {"tenor_label": "2025-10"}, **world.globex.auth())
    acme = api.get(f"/api/v2/curves/{rp_key}/lineage", {"tenor_label": "2025-10"}, **world.acme.auth())
    unknown = api.get(
        "/api/v2/curves/" + "0" * 64 + "/lineage", {"tenor_label": "2025-10"}, **world.acme.auth()
    )

    assert globex.status_code == 404
    assert globex.json()["detail"] == unknown.json()["detail"] == "No such curve."
    assert acme.status_code == 200


def test_missing_point_and_bad_parameters(eugp_run, api, world):
    key = _austrian_spark_key()

    missing = api.get(f"/api/v2/curves/{key}/lineage", {"tenor_label": "1999-01"}, **world.acme.auth())
    no_tenor = api.get(f"/api/v2/curves/{key}/lineage", **world.acme.auth())
    bad_date = api.get(
        f"/api/v2/curves/{key}/lineage", {"tenor_label": "2025-09", "asof": "12/09/2025"}, **world.acme.auth()
    )

    assert missing.status_code == 404
    assert "1999-01" in missing.json()["detail"]
    assert no_tenor.status_code == 400
    assert no_tenor.json()["errors"][0]["field"] == "tenor_label"
    assert bad_date.status_code == 400
    assert bad_date.json()["errors"][0]["field"] == "asof"


def test_lineage_needs_curves_read(world, api):
    from apps.accounts.models import Membership
    from apps.accounts.services import api_token_create

    membership = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, raw = api_token_create(membership=membership, name="no curves", scopes=["scenarios:read"])

    response = api.get(
        "/api/v2/curves/abc/lineage", {"tenor_label": "2025-09"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )

    assert response.status_code == 403
