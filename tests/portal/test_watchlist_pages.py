"""The watchlist in the portal (test client): the follow control of a curve page, following and unfollowing,
thresholds on /watchlist/, the home panel with notices and marking them read; licence and member isolation."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.curves.models import Curve
from apps.watchlists.models import Follow
from apps.watchlists.services import watchlist_vintage_published
from tenants.models import Tenant
from tests.support.curves import D3, a_curve


def _follows(world, role: str = "analyst") -> list[Follow]:
    with schema_context("acme"):
        return list(Follow.objects.filter(membership_id=world.acme.members[role].membership_id))


def test_follow_from_the_curve_page_then_change_the_threshold_then_unfollow(portal, world):
    client = portal()
    curve = a_curve("EUGP", D3)

    page = client.get(f"/curves/{curve}/?asof={D3}").content.decode()
    control = client.get(f"/watchlist/follow/{curve}/").content.decode()
    followed = client.post(
        f"/watchlist/follow/{curve}/", {"threshold_pct": "2.5", "next": f"/curves/{curve}/"}
    )
    after = client.get(f"/watchlist/follow/{curve}/").content.decode()
    changed = client.post(
        f"/watchlist/follow/{curve}/",
        {"scope": "update", "threshold_pct": "", "threshold_abs": "1.25", "tenor": "front"},
    )
    listing = client.get("/watchlist/").content.decode()

    assert f'hx-get="/watchlist/follow/{curve}/"' in page
    assert ">Follow</button>" in control
    assert followed.status_code == 302 and followed["Location"] == f"/curves/{curve}/"
    assert "Following (threshold 2.5 %)" in after
    assert changed.status_code == 302 and changed["Location"] == "/watchlist/"
    (follow,) = _follows(world)
    assert (follow.threshold_pct, str(follow.threshold_abs), follow.tenor) == (None, "1.2500", "front")
    assert 'value="1.25"' in listing and 'value="front"' in listing
    assert _follows(world, "viewer") == []  # another member's watchlist is untouched

    unfollowed = client.post(f"/watchlist/follow/{curve}/", {"action": "unfollow"})
    assert unfollowed.status_code == 302 and _follows(world) == []


def test_an_unlicensed_curve_is_404_and_a_bad_threshold_says_what_to_change(portal, world):
    rp_curve = Curve.objects.filter(dataset="vendor:RP").values_list("curve_key", flat=True)[0]
    curve = a_curve("EUGP", D3)

    unlicensed = portal("globex").post(f"/watchlist/follow/{rp_curve}/", {"threshold_pct": "5"})
    unlicensed_get = portal("globex").get(f"/watchlist/follow/{rp_curve}/")
    bad = portal().post(f"/watchlist/follow/{curve}/", {"threshold_pct": "-1"})

    assert unlicensed.status_code == 404 and unlicensed_get.status_code == 404
    assert bad.status_code == 400 and "threshold_pct" in bad.content.decode()
    assert _follows(world) == []


def test_the_home_panel_lists_follows_and_notices_unread_first_and_marks_read(portal, world):
    client = portal()
    curve = a_curve("EUGP", D3)
    client.post(f"/watchlist/follow/{curve}/", {"threshold_abs": "0.0001"})
    with schema_context("acme"):
        tenant = Tenant.objects.select_related("plan").get(schema_name="acme")
        (notice,) = watchlist_vintage_published(tenant=tenant, dataset="vendor:EUGP", asof=D3)

    home = client.get("/").content.decode()
    panel = client.get("/watchlist/panel/").content.decode()
    viewer_panel = portal(role="viewer").get("/watchlist/panel/").content.decode()
    marked = client.post("/watchlist/notices/read/", {"id": str(notice.pk)}, HTTP_HX_REQUEST="true")

    assert 'id="watchlist-panel"' in home and "watchlist.js" in home
    assert "1 unread" in panel and f"/curves/{curve}/?asof={D3}" in panel
    assert "You follow no curve yet." in viewer_panel and "No notices." in viewer_panel
    assert marked.status_code == 200 and "unread" not in marked.content.decode()
