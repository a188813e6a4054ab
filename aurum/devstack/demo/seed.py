"""The demo data set: two tenants with an admin and an analyst each (and the market-data operator's), a
platform admin, one token per user; then acme's scenario, run and PPA contract (``demo_work_seed``).

Idempotent: a second run reuses what exists, including passwords and tokens recorded in var/demo.json.
"""

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.accounts.models import User
from apps.accounts.services import (
    TokenInvalidError,
    api_token_authenticate,
    api_token_create,
    membership_create,
    user_create,
)
from aurum.devstack.demo.feeds import FEED_DATASETS
from aurum.devstack.demo.work import demo_work_seed
from tenants.models import Tenant
from tenants.services import entitlement_grant, plan_ensure, tenant_create

VENDOR_DATASETS = ["vendor:EUGP", "vendor:PW", "vendor:RP", "vendor:SIMPLE"]
DEMO_TENANTS = [
    # (schema, name, plan code, platform market-data operator?)
    ("acme", "Acme Energy Trading", "enterprise", False),
    ("globex", "Globex Power", "standard", False),
    ("ops", "Aurum Market Data", "enterprise", True),
]


def _load(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def demo_seed(*, out: Path, port: int) -> dict[str, Any]:
    """Everything: the accounts, then the work on the market data loaded before."""
    result = demo_accounts_seed(out=out, port=port)
    demo_work_seed(tenant=Tenant.objects.select_related("plan").get(schema_name="acme"))
    return result


def demo_accounts_seed(*, out: Path, port: int) -> dict[str, Any]:
    """Plans, tenants, users, tokens and the platform admin, written to ``out`` (demo.json). Needs no market
    data: the demo makes them while it loads the market data."""
    previous = _load(out)
    known_users = {u["email"]: u for u in previous.get("users", [])}
    enterprise = plan_ensure(
        code="enterprise",
        name="Enterprise",
        datasets=VENDOR_DATASETS + FEED_DATASETS,
        requests_per_second=50,
        burst=100,
        concurrent_scenario_runs=10,
    )
    standard = plan_ensure(
        code="standard",
        name="Standard",
        datasets=[],
        requests_per_second=10,
        burst=20,
        concurrent_scenario_runs=4,
        # Monthly quotas, so the demo shows X-Quota-* headers and /api/v2/usage standing (decision 0026).
        api_requests_per_month=100_000,
        scenario_runs_per_month=500,
        export_rows_per_month=5_000_000,
    )
    plans = {"enterprise": enterprise, "standard": standard}
    base = f"http://localhost:{port}"
    result: dict[str, Any] = {"base_url": base, "admin_url": f"{base}/admin/", "tenants": {}, "users": []}

    for schema, name, plan_code, operator in DEMO_TENANTS:
        tenant = Tenant.objects.filter(schema_name=schema).first() or tenant_create(
            name=name, schema_name=schema, plan=plans[plan_code]
        )
        if tenant.is_operator != operator:
            tenant.is_operator = operator
            tenant.save(update_fields=["is_operator"])
        if schema == "globex":
            entitlement_grant(tenant=tenant, dataset="vendor:EUGP")
            entitlement_grant(tenant=tenant, dataset="feed:fred")  # one feed licensed on its own
        host = tenant.get_primary_domain().domain
        result["tenants"][schema] = {
            "id": tenant.pk,
            "name": tenant.name,
            "host": host,
            "url": f"http://{host}:{port}/",
            "plan": plan_code,
        }
        for role in ("admin", "trader") if operator else ("admin", "analyst"):
            email = f"{role}@{schema}.example"
            result["users"].append(_demo_user(email=email, tenant=tenant, role=role, known=known_users))

    staff_email = "platform@aurum.example"
    password = previous.get("platform_admin", {}).get("password") or secrets.token_urlsafe(12)
    user = User.objects.filter(email=staff_email).first()
    if user is None:
        user_create(email=staff_email, password=password, full_name="Platform Admin", is_staff=True)
    else:
        _password_ensure(user, password)
    result["platform_admin"] = {"email": staff_email, "password": password, "url": f"{base}/admin/"}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    out.chmod(0o600)
    return result


def _demo_user(*, email: str, tenant: Tenant, role: str, known: dict[str, Any]) -> dict[str, Any]:
    previous = known.get(email, {})
    password = previous.get("password") or secrets.token_urlsafe(12)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(email=email, password=password, full_name=f"{tenant.name} {role}")
    else:
        _password_ensure(user, password)
    membership = membership_create(user=user, tenant=tenant, role=role)
    raw = previous.get("token")
    try:
        if not raw:
            raise TokenInvalidError("none yet")
        api_token_authenticate(raw=raw)
    except TokenInvalidError:
        _, raw = api_token_create(membership=membership, name="demo token", created_by=user)
    return {"email": email, "password": password, "tenant": tenant.schema_name, "role": role, "token": raw}


def _password_ensure(user: User, password: str) -> None:
    """The password written to demo.json must work, even if demo.json was lost since the user was made."""
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])


def demo_json_path() -> Path:
    return Path(settings.VAR_DIR) / "demo.json"
