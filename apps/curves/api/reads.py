"""The paged curve reads shared by v1 and v2: a request's filters parsed once into what the page is bound to
(cursors carry it) and how to fetch ``rows`` rows from ``offset``. The versions differ only in paging,
envelope and columns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from apps.curves import selectors
from apps.curves.api.params import (
    STRIP_TYPES,
    V2_POINT_COLUMNS,
    DimensionFilters,
    Licence,
    TwoVintages,
    Vintage,
    curve_filters,
    dimension_values,
    iso_date,
    validated,
)
from aurum.errors import InvalidInputError
from aurum.lakehouse.engines import QueryResult


@dataclass(frozen=True)
class PagedRead:
    dims: dict[str, Any]  # the dimension filters given (the v1 broad-query rules look at them)
    bound: dict[str, Any]  # every filter of the read: cache key material and what a cursor is bound to
    fetch: Callable[[int, int], QueryResult]  # (rows, offset) -> rows in keyset order


def dims_of(request: Request) -> dict[str, Any]:
    return dimension_values(validated(DimensionFilters, request))


def points_read(request: Request, licence: Licence) -> PagedRead:
    """Observations: latest (default), ``asof`` or ``as_known_at``."""
    dims = dims_of(request)
    vintage = validated(Vintage, request)
    asof, known = vintage.get("asof"), vintage.get("as_known_at")

    def fetch(rows: int, offset: int) -> QueryResult:
        # v1 serves a subset of v2's columns: read those only.
        filters = curve_filters(licence.datasets, dims, limit=rows, offset=offset, columns=V2_POINT_COLUMNS)
        return selectors.curve_points(filters=filters, asof=asof, as_known_at=known)

    return PagedRead(dims, {**dims, "asof": iso_date(asof), "as_known_at": iso_date(known)}, fetch)


def diff_read(request: Request, licence: Licence) -> PagedRead:
    """Two vintages per (curve_key, tenor_label); at least one filter, as the original refuses broad diffs."""
    vintages = validated(TwoVintages, request)
    dims = dims_of(request)
    if not dims:
        raise InvalidInputError.field(None, "curves/diff needs at least one filter (e.g. curve_key or iso).")
    asof_a: date = vintages["asof_a"]
    asof_b: date = vintages["asof_b"]

    def fetch(rows: int, offset: int) -> QueryResult:
        filters = curve_filters(licence.datasets, dims, limit=rows, offset=offset)
        return selectors.curve_diff_points(filters=filters, asof_a=asof_a, asof_b=asof_b)

    return PagedRead(dims, {**dims, "asof_a": asof_a.isoformat(), "asof_b": asof_b.isoformat()}, fetch)


class StripsQuery(serializers.Serializer):
    type = serializers.ChoiceField(choices=STRIP_TYPES)
    asof = serializers.DateField(required=False)


def strips_read(request: Request, licence: Licence) -> PagedRead:
    """Strip rows of one type (the strip type is the tenor type), the ``asof`` vintage or the latest."""
    query = validated(StripsQuery, request)
    dims = dims_of(request)
    dims.pop("tenor_type", None)
    strip_type: str = query["type"]
    asof: date | None = query.get("asof")

    def fetch(rows: int, offset: int) -> QueryResult:
        filters = curve_filters(licence.datasets, dims, limit=rows, offset=offset)
        return selectors.curve_strip_points(filters=filters, strip_type=strip_type, asof=asof)

    return PagedRead(dims, {**dims, "type": strip_type, "asof": iso_date(asof)}, fetch)
