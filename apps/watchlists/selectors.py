"""Reads of watchlists: a member's follows and notices (tenant schema), and a curve's move between two
vintages (lakehouse).

Follows and notices belong to one member: every get is scoped to the asking membership, so another member's
(or another tenant's: another schema) is simply not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import F, QuerySet

from apps.accounts.models import Membership
from apps.curves.models import Curve
from apps.curves.selectors import curve_diff_points
from apps.ingestion.selectors import curve_asof_dates
from apps.watchlists.models import FRONT, Follow, Notice
from aurum.errors import NotFoundError
from aurum.lakehouse.queries import CurveFilters

MONTHLY = "MONTHLY"


@dataclass(frozen=True)
class TenorMove:
    """One tenor's move from the vintage before (``prev_asof``) to ``asof``; ``diff_pct`` in percent."""

    tenor: str
    contract_month: date | None
    mid: float | None
    diff_abs: float
    diff_pct: float | None


@dataclass(frozen=True)
class CurveMove:
    curve_key: str
    asof: date
    prev_asof: date
    tenors: tuple[TenorMove, ...]  # monthly tenors, by contract month


def follow_list(*, membership: Membership) -> QuerySet[Follow]:
    """The member's followed curves, oldest follow first."""
    return Follow.objects.filter(membership_id=membership.pk).order_by("created_at", "id")


def follow_get_for_member(*, membership: Membership, curve_key: str) -> Follow:
    """The member's follow of ``curve_key``; 404 when they do not follow it."""
    follow = follow_list(membership=membership).filter(curve_key=curve_key).first()
    if follow is None:
        raise NotFoundError("You do not follow this curve.")
    return follow


def follow_curves(*, follows: list[Follow]) -> dict[str, Curve]:
    """The catalog entries of the follows' curves by key (one query)."""
    keys = {follow.curve_key for follow in follows}
    return {curve.curve_key: curve for curve in Curve.objects.filter(curve_key__in=keys)}


def notice_list(*, membership: Membership, unread: bool | None = None) -> QuerySet[Notice]:
    """The member's notices: unread first, then newest first; ``unread`` filters on read state."""
    notices = Notice.objects.filter(membership_id=membership.pk)
    if unread is not None:
        notices = notices.filter(read_at__isnull=unread)
    return notices.order_by(F("read_at").desc(nulls_first=True), "-created_at", "-id")


def notice_get_for_member(*, membership: Membership, notice_id: object) -> Notice:
    try:
        pk = int(str(notice_id))
    except ValueError:
        pk = None
    notice = None if pk is None else Notice.objects.filter(membership_id=membership.pk, pk=pk).first()
    if notice is None:
        raise NotFoundError("No such notice.")
    return notice


def curve_move(*, curve: Curve, asof: date | None = None) -> CurveMove | None:
    """The curve's monthly tenors' moves from the vintage before ``asof`` (default: its latest) to ``asof``;
    None when there is no earlier vintage (or no such vintage)."""
    vintages = curve_asof_dates(curve=curve)
    day = asof if asof is not None else (vintages[-1] if vintages else None)
    if day is None:
        return None
    return curve_moves(curves=[curve], asof=day).get(curve.curve_key)


def curve_moves(*, curves: list[Curve], asof: date) -> dict[str, CurveMove | None]:
    """``curve_move`` of each curve on ``asof``, by curve key, with one lakehouse read per (dataset, previous
    vintage) rather than one per curve (a fan-out over many followed curves of a dataset reads once)."""
    moves: dict[str, CurveMove | None] = {curve.curve_key: None for curve in curves}
    groups: dict[tuple[str, date], list[str]] = {}
    for curve in curves:
        vintages = curve_asof_dates(curve=curve)
        earlier = [vintage for vintage in vintages if vintage < asof]
        if asof in vintages and earlier:
            groups.setdefault((curve.dataset, earlier[-1]), []).append(curve.curve_key)
    for (dataset, prev_asof), keys in groups.items():
        filters = CurveFilters(datasets=(dataset,), curve_keys=tuple(sorted(keys)), tenor_type=MONTHLY)
        rows = curve_diff_points(filters=filters, asof_a=prev_asof, asof_b=asof).table.to_pylist()
        tenors: dict[str, list[TenorMove]] = {key: [] for key in keys}
        for row in rows:
            if row["diff_abs"] is None:
                continue
            tenors[row["curve_key"]].append(
                TenorMove(
                    tenor=row["tenor_label"],
                    contract_month=row["contract_month"],
                    mid=row["mid_b"],
                    diff_abs=float(row["diff_abs"]),
                    diff_pct=None if row["diff_pct"] is None else float(row["diff_pct"]) * 100,
                )
            )
        for key in keys:
            ordered = sorted(tenors[key], key=lambda move: (move.contract_month or date.max, move.tenor))
            moves[key] = CurveMove(curve_key=key, asof=asof, prev_asof=prev_asof, tenors=tuple(ordered))
    return moves


def crosses(follow: Follow, move: TenorMove) -> bool:
    """Whether ``move`` is beyond the follow's threshold (absolute in curve units, or percent)."""
    if follow.threshold_abs is not None and abs(move.diff_abs) >= float(follow.threshold_abs):
        return True
    return (
        follow.threshold_pct is not None
        and move.diff_pct is not None
        and abs(move.diff_pct) >= float(follow.threshold_pct)
    )


def follow_move(follow: Follow, move: CurveMove) -> TenorMove | None:
    """The move that speaks for the follow: its focus tenor's (``front``: the first contract month; a label:
    that tenor), or for the whole curve the largest absolute move among the tenors beyond the threshold (the
    largest of all when none is). None when the focus tenor is not in both vintages."""
    if not move.tenors:
        return None
    if follow.tenor == FRONT:
        return move.tenors[0]
    if follow.tenor:
        return next((tenor for tenor in move.tenors if tenor.tenor == follow.tenor), None)
    beyond = [tenor for tenor in move.tenors if crosses(follow, tenor)]
    return max(beyond or move.tenors, key=lambda tenor: (abs(tenor.diff_abs), tenor.tenor))
