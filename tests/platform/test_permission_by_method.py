"""Views whose methods need different permissions answer HEAD and OPTIONS like GET (not a 500)."""

import pytest


@pytest.mark.parametrize("path", ["/api/v2/ppa/contracts", "/api/v1/ppa/contracts", "/api/v2/scenarios"])
def test_head_and_options_follow_get(world, api, path):
    viewer = world.acme.auth("viewer")
    get = api.get(path, **viewer)
    head = api.head(path, **viewer)
    options = api.options(path, **viewer)
    anonymous = api.head(path)

    assert get.status_code == 200
    assert head.status_code == 200 and head.content == b""
    assert options.status_code == 200
    assert anonymous.status_code in (401, 403)


def test_a_post_only_view_asks_its_own_permission_for_options(world, api):
    viewer = world.acme.auth("viewer")  # may read, may not value (scenarios:run)
    analyst = world.acme.auth("analyst")

    assert api.options("/api/v1/ppa/valuate", **viewer).status_code == 403
    assert api.options("/api/v1/ppa/valuate", **analyst).status_code == 200
