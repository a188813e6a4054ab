"""``/api/v2/feeds/quarantine``: the feed rows a dataset contract's quality rules held back, with the rules
each failed; release (publish it after all) or reject it. The platform's operators only (an operator tenant;
`curves:read` to list, `curves:write` to decide); others get 403 on the list and 404 on a row."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.feeds.models import FeedQuarantineRow
from apps.feeds.quarantine_review import feed_quarantine_decide
from apps.feeds.selectors import feed_quarantine_get, feed_quarantine_list
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView
from aurum.errors import ForbiddenError, InvalidInputError

OPERATORS = "Only the platform's market-data operators review quarantined feed rows."


class QuarantineRowOutput(serializers.ModelSerializer):
    class Meta:
        model = FeedQuarantineRow
        fields = [
            "id",
            "provider",
            "dataset",
            "window_start",
            "window_end",
            "fetch_run",
            "reasons",
            "row",
            "status",
            "decided_at",
            "decided_by",
        ]


def _operator(request: Request) -> None:
    if not request_context(request).tenant.is_operator:
        raise ForbiddenError(OPERATORS)


class FeedQuarantineListV2Api(PermissionByMethodView):
    needs = {"GET": "curves:read"}

    @extend_schema(
        operation_id="feed_quarantine_list",
        parameters=[
            OpenApiParameter("status", str, enum=["held", "released", "rejected"]),
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=QuarantineRowOutput(many=True),
        description=f"Held-back feed rows, oldest first, with the quality rules each failed. {OPERATORS}",
    )
    def get(self, request: Request) -> Response:
        _operator(request)
        status = request.query_params.get("status") or None
        if status is not None and status not in FeedQuarantineRow.Status.values:
            raise InvalidInputError.field("status", "must be held, released or rejected")
        filters = {"status": status} if status else {}
        page = v2_page_request(request, filters=filters)
        rows, has_more = page_slice(
            feed_quarantine_list(tenant=request_context(request).tenant, status=status), page
        )
        data = list(QuarantineRowOutput(rows, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)


class _Decide(PermissionByMethodView):
    """Release (``release = True``) or reject the held row of the path (404 unless the caller may see it)."""

    needs = {"POST": "curves:write"}
    release: bool

    def post(self, request: Request, row_id: int) -> Response:
        context = request_context(request)
        row = feed_quarantine_get(tenant=context.tenant, row_id=row_id)
        decided = feed_quarantine_decide(
            row=row,
            release=self.release,
            decided_by=context.user.email,
            tenant_schema=context.tenant.schema_name,
        )
        return object_response(request, QuarantineRowOutput(decided).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="feed_quarantine_release",
        request=None,
        responses=QuarantineRowOutput,
        description="Publish the held row to its lakehouse table after all (audited); 409 when decided "
        "already.",
    )
)
class FeedQuarantineReleaseV2Api(_Decide):
    release = True


@extend_schema_view(
    post=extend_schema(
        operation_id="feed_quarantine_reject",
        request=None,
        responses=QuarantineRowOutput,
        description="Confirm the held row stays out of the lakehouse (audited); 409 when decided already.",
    )
)
class FeedQuarantineRejectV2Api(_Decide):
    release = False
