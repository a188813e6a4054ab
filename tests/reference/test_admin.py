"""Reference data in the platform admin: staff can list, search and view every catalog, not edit it."""

import pytest

from apps.reference.models import (
    Block,
    Calendar,
    CalendarBlock,
    CalendarHoliday,
    Iso,
    IsoDataSource,
    IsoNode,
    Market,
    Product,
    UnitMapping,
)

MODELS = [
    UnitMapping,
    Calendar,
    CalendarHoliday,
    CalendarBlock,
    Iso,
    IsoDataSource,
    Market,
    IsoNode,
    Block,
    Product,
]


@pytest.fixture
def staff(world, api, loaded):
    assert api.login(email=world.staff_email, password=world.staff_password)
    return api


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_staff_can_list_search_and_view_every_catalog(staff, model):
    path = f"/admin/reference/{model._meta.model_name}/"
    obj = model._default_manager.order_by("pk").first()

    assert staff.get(path).status_code == 200
    assert staff.get(path, {"q": "PJM"}).status_code == 200
    assert staff.get(f"{path}{obj.pk}/change/").status_code == 200
    assert staff.get(f"{path}add/").status_code == 403


def test_the_node_list_shows_the_file_rows(staff):
    page = staff.get("/admin/reference/isonode/", {"iso__iso_code__exact": "CAISO"}).content.decode()

    assert "SP15 Trading Hub" in page and "Houston Hub" not in page


def test_a_catalog_row_cannot_be_changed_in_the_admin(staff):
    market = Market.objects.get(iso_id="CAISO", market_code="REAL_TIME")

    staff.post(
        f"/admin/reference/market/{market.pk}/change/",
        {
            "iso": "CAISO",
            "market_code": "REAL_TIME",
            "market_name": "x",
            "market_category": "LMP",
            "settlement_interval_minutes": 1,
        },
    )

    market.refresh_from_db()
    assert (market.market_name, market.settlement_interval_minutes) == ("Real-Time Energy", 15)
