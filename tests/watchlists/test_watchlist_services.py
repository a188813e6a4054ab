"""Following curves and the notices a new vintage raises, on the real EUGP workbooks of 1-3 July 2025."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Membership
from apps.curves.models import Curve
from apps.curves.selectors import curve_points
from apps.watchlists.models import Follow, Notice
from apps.watchlists.selectors import curve_move, notice_list
from apps.watchlists.services import (
    follow_create,
    follow_update,
    notice_mark_read,
    watchlist_vintage_published,
)
from aurum.errors import InvalidInputError, NotFoundError
from aurum.events.models import OutboxEvent
from aurum.lakehouse.queries import CurveFilters
from tenants.models import Tenant

EUGP = "vendor:EUGP"
DAY1, DAY2, DAY3 = date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3)


def _member(world, tenant: str = "acme", role: str = "analyst") -> Membership:
    return Membership.objects.select_related("tenant").get(
        pk=getattr(world, tenant).members[role].membership_id
    )


def _tenant(name: str) -> Tenant:
    return Tenant.objects.select_related("plan").get(schema_name=name)


def _mids(curve: Curve, asof: date) -> dict[str, float]:
    filters = CurveFilters(datasets=(EUGP,), curve_keys=(curve.curve_key,), tenor_type="MONTHLY")
    rows = curve_points(filters=filters, asof=asof).table.to_pylist()
    return {row["tenor_label"]: row["mid"] for row in rows if row["mid"] is not None}


@pytest.fixture
def ttf(lake) -> Curve:
    """A real EUGP curve with points on every day (the first by key with a move from day 2 to day 3)."""
    for curve in Curve.objects.filter(dataset=EUGP).order_by("curve_key"):
        move = curve_move(curve=curve, asof=DAY3)
        if move is not None and any(tenor.diff_abs for tenor in move.tenors):
            return curve
    raise AssertionError("no EUGP curve moved between 2 and 3 July")


def test_a_move_is_the_difference_of_the_two_vintages_mids_tenor_by_tenor(world, ttf):
    before, after = _mids(ttf, DAY2), _mids(ttf, DAY3)

    move = curve_move(curve=ttf, asof=DAY3)

    assert move is not None and (move.prev_asof, move.asof) == (DAY2, DAY3)
    assert [tenor.tenor for tenor in move.tenors] == sorted(set(before) & set(after))
    for tenor in move.tenors:
        assert tenor.diff_abs == pytest.approx(after[tenor.tenor] - before[tenor.tenor])
        assert tenor.diff_pct == pytest.approx((after[tenor.tenor] / before[tenor.tenor] - 1) * 100)
    assert curve_move(curve=ttf, asof=DAY1) is None  # nothing before the first vintage


def test_follow_records_the_latest_move_with_a_default_threshold_of_5_percent(world, ttf):
    member = _member(world)
    with schema_context("acme"):
        follow, created = follow_create(tenant=member.tenant, membership=member, curve_key=ttf.curve_key)

    move = curve_move(curve=ttf, asof=DAY3)
    assert move is not None
    largest = max(move.tenors, key=lambda tenor: abs(tenor.diff_abs))
    assert created and (follow.threshold_abs, follow.threshold_pct, follow.tenor) == (None, Decimal("5"), "")
    assert (follow.move_prev_asof, follow.move_asof, follow.move_tenor) == (DAY2, DAY3, largest.tenor)
    assert follow.move_abs == pytest.approx(largest.diff_abs)


def test_a_vintage_beyond_the_threshold_raises_one_notice_addressed_to_the_member(world, ttf):
    member, other = _member(world), _member(world, role="viewer")
    move = curve_move(curve=ttf, asof=DAY3)
    assert move is not None
    largest = max(move.tenors, key=lambda tenor: abs(tenor.diff_abs))
    with schema_context("acme"):
        follow_create(
            tenant=member.tenant,
            membership=member,
            curve_key=ttf.curve_key,
            threshold_abs=abs(largest.diff_abs) / 2,
        )
        # the viewer's threshold is above every tenor's move: nothing for them
        follow_create(
            tenant=member.tenant,
            membership=other,
            curve_key=ttf.curve_key,
            threshold_abs=abs(largest.diff_abs) * 2,
        )
        events_before = OutboxEvent.objects.filter(event_type="watchlist.notice").count()

        notices = watchlist_vintage_published(tenant=_tenant("acme"), dataset=EUGP, asof=DAY3)
        again = watchlist_vintage_published(tenant=_tenant("acme"), dataset=EUGP, asof=DAY3)

        assert [(n.membership_id, n.curve_key, n.asof, n.prev_asof, n.tenor) for n in notices] == [
            (member.pk, ttf.curve_key, DAY3, DAY2, largest.tenor)
        ]
        assert notices[0].diff_abs == pytest.approx(largest.diff_abs)
        assert again == []  # a repeated delivery of the event raises nothing twice
        assert Notice.objects.filter(membership_id=other.pk).count() == 0
        assert list(notice_list(membership=member)) == notices
    events = OutboxEvent.objects.filter(event_type="watchlist.notice").order_by("id")
    assert events.count() == events_before + 1
    event = events.last()
    assert event is not None
    assert (event.tenant_schema, event.membership_id) == ("acme", member.pk)
    assert event.payload["curve_key"] == ttf.curve_key and event.payload["tenor"] == largest.tenor


def test_a_percent_threshold_and_a_tenor_focus(world, ttf):
    member = _member(world)
    move = curve_move(curve=ttf, asof=DAY3)
    assert move is not None
    front = move.tenors[0]
    assert front.diff_pct is not None
    with schema_context("acme"):
        follow, _ = follow_create(
            tenant=member.tenant,
            membership=member,
            curve_key=ttf.curve_key,
            threshold_pct=Decimal(str(round(abs(front.diff_pct), 3))) + Decimal("0.01"),
            tenor="front",
        )
        assert watchlist_vintage_published(tenant=_tenant("acme"), dataset=EUGP, asof=DAY3) == []
        assert (
            follow_update(tenant=member.tenant, follow=follow, threshold_pct=Decimal("0.001")).move_tenor
            == front.tenor
        )
        notices = watchlist_vintage_published(tenant=_tenant("acme"), dataset=EUGP, asof=DAY3)
    assert [(n.tenor, n.diff_pct) for n in notices] == [(front.tenor, pytest.approx(front.diff_pct))]


def test_another_tenant_s_followers_are_untouched_and_an_unlicensed_curve_is_404(world, ttf):
    acme, globex = _member(world), _member(world, "globex")
    rp_curve = Curve.objects.filter(dataset="vendor:RP").first()
    assert rp_curve is not None
    with schema_context("acme"):
        follow_create(
            tenant=acme.tenant, membership=acme, curve_key=ttf.curve_key, threshold_abs=Decimal("0.0001")
        )
    with schema_context("globex"):
        with pytest.raises(NotFoundError):
            follow_create(tenant=globex.tenant, membership=globex, curve_key=rp_curve.curve_key)
        with pytest.raises(NotFoundError):
            follow_create(tenant=globex.tenant, membership=globex, curve_key="no-such-curve")
        # globex follows nothing: acme's follow raises nothing here
        assert watchlist_vintage_published(tenant=_tenant("globex"), dataset=EUGP, asof=DAY3) == []
        assert Follow.objects.count() == 0 and Notice.objects.count() == 0
    with schema_context("acme"):
        assert len(watchlist_vintage_published(tenant=_tenant("acme"), dataset=EUGP, asof=DAY3)) == 1


def test_bad_thresholds_and_tenors_are_400s_naming_the_field(world, ttf):
    member = _member(world)
    with schema_context("acme"):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"threshold_abs": -1}, "threshold_abs"),
            ({"threshold_pct": 0}, "threshold_pct"),
            ({"threshold_pct": "abc"}, "threshold_pct"),
            ({"tenor": "2099-01"}, "tenor"),
        ]
        for kwargs, field in cases:
            with pytest.raises(InvalidInputError) as error:
                follow_create(tenant=member.tenant, membership=member, curve_key=ttf.curve_key, **kwargs)
            assert error.value.issues[0].field == field
        follow, _ = follow_create(tenant=member.tenant, membership=member, curve_key=ttf.curve_key)
        with pytest.raises(InvalidInputError):
            follow_update(tenant=member.tenant, follow=follow, threshold_pct=None)
        assert Follow.objects.get(pk=follow.pk).threshold_pct == Decimal("5")


def test_mark_read_touches_only_the_member_s_unread_notices(world, ttf):
    member, other = _member(world), _member(world, role="viewer")
    with schema_context("acme"):
        for membership in (member, other):
            follow_create(
                tenant=member.tenant,
                membership=membership,
                curve_key=ttf.curve_key,
                threshold_abs=Decimal("0.0001"),
            )
        watchlist_vintage_published(tenant=_tenant("acme"), dataset=EUGP, asof=DAY3)

        assert notice_mark_read(membership=member) == 1
        assert notice_mark_read(membership=member) == 0
        assert Notice.objects.get(membership_id=other.pk).read_at is None
