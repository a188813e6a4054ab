"""Writes of watchlists: follow, re-threshold and unfollow a curve; mark notices read; and the fan-out that
turns a newly published vintage into notices for the members whose threshold it crosses.

The fan-out runs in a Celery task started by the outbox relay of ``ingestion.completed``
(``AURUM_EVENT_TASKS``): after the ingest committed, never inside it, and at least once. A notice is unique
per (member, curve, vintage), so a repeat finds it there and sends nothing. Each new notice is a domain event
addressed to its member only (``watchlist.notice``): their sockets receive it, nobody else's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Membership
from apps.curves.models import Curve
from apps.curves.selectors import curve_get_for_tenant
from apps.watchlists.models import FRONT, Follow, Notice
from apps.watchlists.selectors import (
    CurveMove,
    TenorMove,
    crosses,
    curve_move,
    curve_moves,
    follow_curves,
    follow_move,
)
from aurum.errors import InvalidInputError
from aurum.events.publish import event_publish_on_commit
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

log = structlog.get_logger(__name__)

NOTICE_EVENT = "watchlist.notice"
DEFAULT_THRESHOLD_PCT = Decimal("5")
_UNSET: Any = object()


def _threshold(name: str, value: object, *, maximum: Decimal) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInputError.field(name, f"{name} must be a number, e.g. 2.5.") from None
    if not number.is_finite() or number <= 0 or number > maximum:
        raise InvalidInputError.field(name, f"{name} must be above 0 and at most {maximum}.")
    return number.quantize(Decimal("0.001") if name == "threshold_pct" else Decimal("0.0001"))


def _tenor(value: object, move: CurveMove | None) -> str:
    tenor = str(value or "").strip()
    if tenor.lower() == FRONT:
        return FRONT
    if tenor and move is not None and tenor not in {item.tenor for item in move.tenors}:
        known = ", ".join(item.tenor for item in move.tenors[:6])
        raise InvalidInputError.field(
            "tenor", f"The curve has no monthly tenor '{tenor}'; use '', 'front' or one of {known}…"
        )
    return tenor


def _move_record(follow: Follow, move: CurveMove | None) -> None:
    tenor = None if move is None else follow_move(follow, move)
    follow.move_asof = None if move is None else move.asof
    follow.move_prev_asof = None if move is None else move.prev_asof
    follow.move_tenor = "" if tenor is None else tenor.tenor
    follow.move_mid = None if tenor is None else tenor.mid
    follow.move_abs = None if tenor is None else tenor.diff_abs
    follow.move_pct = None if tenor is None else tenor.diff_pct


def follow_create(
    *,
    tenant: Tenant,
    membership: Membership,
    curve_key: str,
    threshold_abs: object = None,
    threshold_pct: object = None,
    tenor: object = "",
) -> tuple[Follow, bool]:
    """Follow a curve the tenant licenses (404 otherwise), with a threshold (default 5 %) and a tenor focus;
    following it again changes those. (follow, created); its latest move is computed at once."""
    curve = curve_get_for_tenant(tenant=tenant, curve_key=curve_key)
    abs_value = _threshold("threshold_abs", threshold_abs, maximum=Decimal("1000000"))
    pct_value = _threshold("threshold_pct", threshold_pct, maximum=Decimal("1000"))
    if abs_value is None and pct_value is None:
        pct_value = DEFAULT_THRESHOLD_PCT
    move = curve_move(curve=curve)
    focus = _tenor(tenor, move)
    with transaction.atomic():
        follow = (
            Follow.objects.select_for_update()
            .filter(membership_id=membership.pk, curve_key=curve_key)
            .first()
        )
        created = follow is None
        if follow is None:
            follow = Follow(membership_id=membership.pk, curve_key=curve.curve_key)
        follow.threshold_abs, follow.threshold_pct, follow.tenor = abs_value, pct_value, focus
        _move_record(follow, move)
        follow.save()
    return follow, created


def follow_update(
    *,
    tenant: Tenant,
    follow: Follow,
    threshold_abs: object = _UNSET,
    threshold_pct: object = _UNSET,
    tenor: object = _UNSET,
) -> Follow:
    """Change a follow's thresholds or tenor focus (what is not given stays); at least one threshold stays."""
    curve = curve_get_for_tenant(tenant=tenant, curve_key=follow.curve_key)
    if threshold_abs is not _UNSET:
        follow.threshold_abs = _threshold("threshold_abs", threshold_abs, maximum=Decimal("1000000"))
    if threshold_pct is not _UNSET:
        follow.threshold_pct = _threshold("threshold_pct", threshold_pct, maximum=Decimal("1000"))
    if follow.threshold_abs is None and follow.threshold_pct is None:
        raise InvalidInputError.field(
            None, "Keep at least one threshold: threshold_abs (curve units) or threshold_pct (percent)."
        )
    move = curve_move(curve=curve)
    if tenor is not _UNSET:
        follow.tenor = _tenor(tenor, move)
    _move_record(follow, move)
    follow.save()
    return follow


def follow_delete(*, follow: Follow) -> None:
    """Unfollow; the notices already raised stay."""
    follow.delete()


def notice_mark_read(*, membership: Membership, notice_ids: list[int] | None = None) -> int:
    """Mark the member's notices read (``notice_ids``, or every unread one); the number newly read."""
    notices = Notice.objects.filter(membership_id=membership.pk, read_at__isnull=True)
    if notice_ids is not None:
        notices = notices.filter(pk__in=notice_ids)
    return notices.update(read_at=timezone.now())


def notice_payload(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.pk,
        "curve_key": notice.curve_key,
        "curve": notice.curve_label,
        "asof": notice.asof.isoformat(),
        "prev_asof": notice.prev_asof.isoformat(),
        "tenor": notice.tenor,
        "mid": notice.mid,
        "diff_abs": notice.diff_abs,
        "diff_pct": notice.diff_pct,
        "unit": notice.unit,
        "url": f"/curves/{notice.curve_key}/?asof={notice.asof}&compare={notice.prev_asof}",
    }


def _curve_unit(curve: Curve) -> str:
    if curve.currency and curve.per_unit:
        return f"{curve.currency}/{curve.per_unit}"
    return curve.units_raw


def watchlist_vintage_published(*, tenant: Tenant, dataset: str, asof: date) -> list[Notice]:
    """Update the latest move of every follow of a ``dataset`` curve in the tenant and raise a notice for each
    follow that the ``asof`` vintage moved beyond its threshold; the notices created now (a repeat: none)."""
    if dataset not in tenant_datasets(tenant=tenant):
        return []
    follows = list(
        Follow.objects.filter(curve_key__in=Curve.objects.filter(dataset=dataset).values("curve_key"))
    )
    curves = follow_curves(follows=follows)
    moves = curve_moves(curves=list(curves.values()), asof=asof)
    created: list[Notice] = []
    with transaction.atomic():
        for follow in follows:
            move = moves.get(follow.curve_key)
            if move is None or (follow.move_asof is not None and follow.move_asof > asof):
                continue  # no earlier vintage, or a later one already recorded (a late re-run)
            _move_record(follow, move)
            follow.save(update_fields=list(_MOVE_FIELDS))
            tenor = follow_move(follow, move)
            if tenor is None or not crosses(follow, tenor):
                continue
            notice = _notice_create(
                follow, curves[follow.curve_key], move, tenor, schema_name=tenant.schema_name
            )
            if notice is not None:
                created.append(notice)
    log.info("watchlist fan-out", dataset=dataset, asof=asof, follows=len(follows), notices=len(created))
    return created


_MOVE_FIELDS = ("move_asof", "move_prev_asof", "move_tenor", "move_mid", "move_abs", "move_pct")


def _notice_create(
    follow: Follow, curve: Curve, move: CurveMove, tenor: TenorMove, *, schema_name: str
) -> Notice | None:
    notice = Notice(
        membership_id=follow.membership_id,
        curve_key=follow.curve_key,
        curve_label=str(curve),
        asof=move.asof,
        prev_asof=move.prev_asof,
        tenor=tenor.tenor,
        mid=tenor.mid,
        diff_abs=tenor.diff_abs,
        diff_pct=tenor.diff_pct,
        unit=_curve_unit(curve),
        threshold_abs=follow.threshold_abs,
        threshold_pct=follow.threshold_pct,
    )
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        return None  # raised by an earlier delivery of the same event
    event_publish_on_commit(
        schema_name=schema_name,
        event_type=NOTICE_EVENT,
        payload=notice_payload(notice),
        membership_id=follow.membership_id,
    )
    return notice
