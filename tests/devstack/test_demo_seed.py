"""The demo's accounts (decision 0060): made beside the market data, so they need none of it. Three tenants
with their users and tokens, a platform admin, written to demo.json (owner-only); seeding again keeps every
password and token."""

import json

from apps.accounts.models import User
from apps.accounts.services import api_token_authenticate
from aurum.devstack.demo.seed import demo_accounts_seed
from tenants.models import Tenant


def test_the_accounts_seed_makes_working_credentials_and_keeps_them(world, tmp_path):
    out = tmp_path / "demo.json"

    first = demo_accounts_seed(out=out, port=8123)
    again = demo_accounts_seed(out=out, port=8123)

    assert again == first == json.loads(out.read_text())
    assert out.stat().st_mode & 0o777 == 0o600
    assert set(first["tenants"]) == {"acme", "globex", "ops"}
    assert Tenant.objects.get(schema_name="ops").is_operator
    assert first["tenants"]["acme"]["url"] == "http://acme.localhost:8123/"
    roles = [(u["tenant"], u["role"]) for u in first["users"]]
    assert roles == [
        ("acme", "admin"),
        ("acme", "analyst"),
        ("globex", "admin"),
        ("globex", "analyst"),
        ("ops", "admin"),
        ("ops", "trader"),
    ]
    for user in first["users"]:
        token = api_token_authenticate(raw=user["token"])
        assert (token.membership.tenant.schema_name, token.membership.role) == (user["tenant"], user["role"])
        assert User.objects.get(email=user["email"]).check_password(user["password"])
    admin = first["platform_admin"]
    staff = User.objects.get(email=admin["email"])
    assert staff.is_staff and staff.check_password(admin["password"])
