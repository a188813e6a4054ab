"""``/api/v2/audit``: the tenant's audit ledger, newest first, filtered; ``/api/v2/audit/export``: all of it
as CSV or JSON Lines, streamed, with the chain head so an auditor can verify it offline (docs/audit.md).
Both need ``audit:read`` (tenant admins)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.api.serializers import AuditEntryOutput, AuditExportQuery, AuditQuery
from apps.audit.export import export_csv, export_jsonl
from apps.audit.selectors import audit_entry_list, audit_head
from apps.audit.services import audit_export_record
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import v2_list_response
from aurum.api.views import PermissionByMethodView

READ = "audit:read"
HEAD_SEQUENCE = "X-Audit-Head-Sequence"
HEAD_HASH = "X-Audit-Head-Hash"
ENTRY_EXAMPLE = {
    "sequence": 42,
    "at": "2026-01-07T08:00:00.123456+00:00",
    "actor": {"kind": "token", "id": "12", "display": "ci-bot (ana@acme.example)"},
    "action": "scenario.create",
    "resource": {"type": "scenario", "id": "7d0c3f0e-…"},
    "changes": {"name": "Cold winter", "version": 1},
    "request_id": "5f2b9c…",
    "remote_addr": "198.51.100.7",
    "prev_hash": "9a1f…",
    "hash": "c04e…",
}


class AuditListV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="audit_list",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="entries at or after this time"),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="entries before this time"),
            OpenApiParameter(
                "actor", str, description="`user`, `token`, `system`, or `kind:id` (`token:12`)"
            ),
            OpenApiParameter(
                "action", str, description="exact (`scenario.create`) or a prefix ending in `.`"
            ),
            OpenApiParameter("resource", str, description="`type` or `type:id` (`scenario:7d0c…`)"),
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=AuditEntryOutput(many=True),
        description="The tenant's audit ledger, newest first: who (user, token or system) did what to which "
        "resource, from which request and address, with the entry's place in the hash chain. "
        "Needs `audit:read`.",
        examples=[OpenApiExample("A page", value={"data": [ENTRY_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        query = AuditQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        filters = {
            "from": given["from"].isoformat() if given.get("from") else None,
            "to": given["to"].isoformat() if given.get("to") else None,
            "actor": given["actor"],
            "action": given["action"],
            "resource": given["resource"],
        }
        page = v2_page_request(request, filters=filters)
        entries, has_more = page_slice(
            audit_entry_list(
                start=given.get("from"),
                end=given.get("to"),
                actor=given["actor"],
                action=given["action"],
                resource=given["resource"],
            ),
            page,
        )
        data = list(AuditEntryOutput(entries, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)


class AuditExportV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="audit_export",
        parameters=[OpenApiParameter("format", str, enum=["jsonl", "csv"], description="default jsonl")],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.BINARY, description="one entry per line, then the trailer line with the head"
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="one entry per row"),
        },
        description="The whole ledger in sequence order, streamed (constant memory on the server), ending "
        "with this export's own `audit.export` entry. The chain head is in the headers "
        f"`{HEAD_SEQUENCE}` and `{HEAD_HASH}` (and JSONL's last line): recompute the chain offline and "
        "compare (docs/audit.md has the script). Needs `audit:read`.",
        examples=[
            OpenApiExample(
                "JSONL",
                value='{"action":"scenario.create",…,"sequence":1}\n…\n{"entries":42,"head":{…}}\n',
                response_only=True,
                media_type="application/x-ndjson",
            )
        ],
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = AuditExportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        export_format: str = query.validated_data["format"]
        tenant = request_context(request).tenant
        audit_export_record(export_format=export_format)
        head = audit_head()
        chunks = export_csv if export_format == "csv" else export_jsonl
        filename = f"audit-{tenant.schema_name}-{head.sequence}.{export_format}"
        return StreamingHttpResponse(
            chunks(tenant=tenant, head=head),
            content_type="text/csv" if export_format == "csv" else "application/x-ndjson",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "private, no-store",
                HEAD_SEQUENCE: str(head.sequence),
                HEAD_HASH: head.hash,
            },
        )
