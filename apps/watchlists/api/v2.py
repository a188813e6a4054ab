"""``/api/v2/watchlist`` (the member's followed curves) and ``/api/v2/notices`` (the moves that crossed
their thresholds). Each member sees and changes their own only; a curve outside the tenant's licence is 404.
Every method needs ``curves:read``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.watchlists.api.serializers import (
    FollowInput,
    FollowOutput,
    FollowPatchInput,
    NoticeOutput,
    NoticeReadInput,
)
from apps.watchlists.selectors import follow_get_for_member, follow_list, notice_get_for_member, notice_list
from apps.watchlists.services import follow_create, follow_delete, follow_update, notice_mark_read
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView
from aurum.errors import InvalidInputError

READ = "curves:read"
FOLLOW_EXAMPLE = {
    "curve_key": "0f6d1c5e9a…",
    "threshold_abs": None,
    "threshold_pct": 5.0,
    "tenor": "",
    "created_at": "2026-01-07T08:00:00Z",
    "latest_move": {
        "asof": "2025-12-31",
        "prev_asof": "2025-12-30",
        "tenor": "2026-02",
        "mid": 31.25,
        "diff_abs": -1.8,
        "diff_pct": -5.44,
    },
}
NOTICE_EXAMPLE = {
    "id": 17,
    "curve_key": "0f6d1c5e9a…",
    "curve": "EUGP NBP Gas Base",
    "asof": "2025-12-31",
    "prev_asof": "2025-12-30",
    "tenor": "2026-02",
    "mid": 31.25,
    "diff_abs": -1.8,
    "diff_pct": -5.44,
    "unit": "GBP/therm",
    "created_at": "2026-01-01T07:12:03Z",
    "read": False,
    "read_at": None,
}
PAGING = [
    OpenApiParameter("limit", int, description="1–100, default 10"),
    OpenApiParameter("cursor", str, description="links.next of the previous page"),
]


class WatchlistV2Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": READ}

    @extend_schema(
        operation_id="watchlist_list",
        parameters=PAGING,
        responses=FollowOutput(many=True),
        description="The curves you follow, oldest first, each with its latest move (the two latest "
        "vintages; the tenor in focus, or the curve's largest move). Needs `curves:read`.",
        examples=[OpenApiExample("A page", value={"data": [FOLLOW_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        context = request_context(request)
        page = v2_page_request(request, filters={})
        follows, has_more = page_slice(follow_list(membership=context.membership), page)
        data = list(FollowOutput(follows, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters={})

    @extend_schema(
        operation_id="watchlist_follow",
        request=FollowInput,
        responses={201: FollowOutput, 200: FollowOutput},
        description="Follow a curve the tenant licenses (404 otherwise) with a move threshold: "
        "`threshold_abs` in the curve's units and/or `threshold_pct` in percent (neither: 5 %). "
        "A new vintage moving the curve beyond either raises a notice. `tenor`: '' the whole curve "
        "(its largest move), 'front' or a tenor label. Following a followed curve again changes its "
        "settings (200). Needs `curves:read`.",
        examples=[
            OpenApiExample(
                "Follow at 2 %", value={"curve_key": "0f6d1c5e9a…", "threshold_pct": 2}, request_only=True
            ),
            OpenApiExample(
                "Followed", value={"data": FOLLOW_EXAMPLE}, response_only=True, status_codes=["201"]
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = FollowInput(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        follow, created = follow_create(
            tenant=context.tenant, membership=context.membership, **data.validated_data
        )
        return object_response(
            request,
            FollowOutput(follow).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": request.build_absolute_uri(f"/api/v2/watchlist/{follow.curve_key}")},
        )


class WatchlistItemV2Api(PermissionByMethodView):
    needs = {"GET": READ, "PATCH": READ, "DELETE": READ}

    @extend_schema(operation_id="watchlist_retrieve", responses=FollowOutput)
    def get(self, request: Request, curve_key: str) -> Response:
        follow = follow_get_for_member(membership=request_context(request).membership, curve_key=curve_key)
        return object_response(request, FollowOutput(follow).data)

    @extend_schema(
        operation_id="watchlist_update",
        request=FollowPatchInput,
        responses=FollowOutput,
        description="Change the thresholds or the tenor focus (null removes a threshold; one must remain). "
        "Needs `curves:read`.",
        examples=[
            OpenApiExample(
                "1.5 absolute", value={"threshold_abs": 1.5, "threshold_pct": None}, request_only=True
            )
        ],
    )
    def patch(self, request: Request, curve_key: str) -> Response:
        context = request_context(request)
        follow = follow_get_for_member(membership=context.membership, curve_key=curve_key)
        data = FollowPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        follow = follow_update(tenant=context.tenant, follow=follow, **data.validated_data)
        return object_response(request, FollowOutput(follow).data)

    @extend_schema(
        operation_id="watchlist_unfollow",
        responses={204: None},
        description="Stop following the curve (its notices stay). Needs `curves:read`.",
    )
    def delete(self, request: Request, curve_key: str) -> Response:
        follow = follow_get_for_member(membership=request_context(request).membership, curve_key=curve_key)
        follow_delete(follow=follow)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _unread_filter(request: Request) -> bool | None:
    raw = request.query_params.get("unread")
    if raw in (None, ""):
        return None
    if raw not in ("true", "false"):
        raise InvalidInputError.field("unread", "unread must be true or false.")
    return raw == "true"


class NoticeListV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="notices_list",
        parameters=[
            OpenApiParameter("unread", bool, description="true: unread only; false: read only"),
            *PAGING,
        ],
        responses=NoticeOutput(many=True),
        description="Your notices: unread first, then newest first. Needs `curves:read`.",
        examples=[OpenApiExample("A page", value={"data": [NOTICE_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        unread = _unread_filter(request)
        filters = {"unread": unread}
        page = v2_page_request(request, filters=filters)
        notices, has_more = page_slice(
            notice_list(membership=request_context(request).membership, unread=unread), page
        )
        data = list(NoticeOutput(notices, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)


class NoticeReadV2Api(PermissionByMethodView):
    needs = {"POST": READ}

    @extend_schema(
        operation_id="notices_mark_read",
        request=NoticeReadInput,
        responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}},
        description="Mark notices read (`ids`, or every unread notice); answers how many were newly marked. "
        "Needs `curves:read`.",
        examples=[OpenApiExample("Two", value={"ids": [17, 18]}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = NoticeReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notice_mark_read(
            membership=request_context(request).membership, notice_ids=data.validated_data.get("ids")
        )
        return object_response(request, {"marked": marked})


class NoticeDetailV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(operation_id="notices_retrieve", responses=NoticeOutput)
    def get(self, request: Request, notice_id: str) -> Response:
        notice = notice_get_for_member(membership=request_context(request).membership, notice_id=notice_id)
        return object_response(request, NoticeOutput(notice).data)
