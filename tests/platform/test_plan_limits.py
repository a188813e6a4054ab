"""A plan's limits are at least 1 wherever a plan is saved: the admin, the service and the database."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from aurum.errors import InvalidInputError
from tenants.models import Plan
from tenants.services import plan_ensure

LIMITS = ("requests_per_second", "burst", "rows_per_month", "concurrent_scenario_runs")
VALID = {"requests_per_second": 5, "burst": 10, "rows_per_month": 1000, "concurrent_scenario_runs": 2}


def _staff_login(api, world) -> None:
    assert api.login(email=world.staff_email, password=world.staff_password)


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("value", [0, -1])
def test_plan_ensure_refuses_a_limit_below_one_and_saves_nothing(world, limit, value):
    before = list(Plan.objects.order_by("pk").values())

    with pytest.raises(InvalidInputError) as refused:
        plan_ensure(code="standard", name="Standard", **{**VALID, limit: value})
    with pytest.raises(InvalidInputError):
        plan_ensure(code="brand-new", name="Brand new", **{**VALID, limit: value})

    assert [(i.field, i.message, i.code) for i in refused.value.issues] == [
        (limit, "Must be at least 1.", "min_value")
    ]
    assert list(Plan.objects.order_by("pk").values()) == before


def test_plan_ensure_names_every_limit_below_one(world):
    with pytest.raises(InvalidInputError) as refused:
        plan_ensure(code="zero", name="Zero", requests_per_second=0, burst=0)

    assert refused.value.status == 400
    assert [(i.field, i.message) for i in refused.value.issues] == [
        ("requests_per_second", "Must be at least 1."),
        ("burst", "Must be at least 1."),
    ]
    assert not Plan.objects.filter(code="zero").exists()


def test_plan_ensure_refuses_an_unknown_limit(world):
    with pytest.raises(InvalidInputError) as refused:
        plan_ensure(code="odd", name="Odd", requests_per_minute=5)

    assert [(i.field, i.code) for i in refused.value.issues] == [("requests_per_minute", "unknown")]


def test_model_validation_names_the_field(world):
    with pytest.raises(ValidationError) as refused:
        Plan(code="x", name="X", **{**VALID, "burst": 0}).full_clean()

    assert refused.value.message_dict == {"burst": ["Must be at least 1."]}


@pytest.mark.parametrize("limit", LIMITS)
def test_the_database_refuses_a_limit_below_one(world, limit):
    with pytest.raises(IntegrityError, match=f"plan_{limit}_at_least_1"), transaction.atomic():
        Plan.objects.filter(code="standard").update(**{limit: 0})

    assert getattr(Plan.objects.get(code="standard"), limit) >= 1


def test_the_admin_refuses_a_zero_rate_when_adding_a_plan(world, api):
    _staff_login(api, world)

    response = api.post(
        "/admin/tenants/plan/add/",
        {"code": "free", "name": "Free", **VALID, "requests_per_second": 0, "datasets": ""},
    )

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors == {"requests_per_second": ["Must be at least 1."]}
    assert not Plan.objects.filter(code="free").exists()


def test_the_admin_refuses_a_zero_burst_when_changing_a_plan(world, api):
    _staff_login(api, world)
    plan = Plan.objects.get(code="standard")

    response = api.post(
        f"/admin/tenants/plan/{plan.pk}/change/",
        {"code": "standard", "name": "Standard", **VALID, "burst": 0, "datasets": ""},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"burst": ["Must be at least 1."]}
    plan.refresh_from_db()
    assert plan.burst == 100_000
