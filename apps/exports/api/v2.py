"""``/api/v2/exports``: export the whole tenant as a zip archive (an async job), follow it, download it.
Every method needs ``tenant:export`` (admins); another tenant's export is 404 (docs/api.md, decision 0033)."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import TENANT_EXPORT
from apps.exports.api.serializers import TenantExportOutput
from apps.exports.selectors import tenant_export_get, tenant_export_list
from apps.exports.services import export_file_open, tenant_export_download_open, tenant_export_request
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView

NEEDS = "Needs `tenant:export` (admins)."
EXPORT_ID = "6a3e2f10-8b4c-4d2e-9f1a-2b3c4d5e6f70"
EXPORT_EXAMPLE = {
    "id": EXPORT_ID,
    "status": "succeeded",
    "reason": "request",
    "requested_by": "admin@acme.example",
    "requested_at": "2026-01-07T08:00:00Z",
    "started_at": "2026-01-07T08:00:01Z",
    "finished_at": "2026-01-07T08:00:09Z",
    "size": 1843211,
    "sha256": "3f1c…",
    "expires_at": "2026-01-14T08:00:09Z",
    "error": "",
    "download_url": f"/api/v2/exports/{EXPORT_ID}/download",
}


class TenantExportListV2Api(PermissionByMethodView):
    needs = {"GET": TENANT_EXPORT, "POST": TENANT_EXPORT}

    @extend_schema(
        operation_id="exports_list",
        parameters=[
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=TenantExportOutput(many=True),
        description=f"The tenant's exports, newest first. {NEEDS}",
        examples=[OpenApiExample("A page", value={"data": [EXPORT_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        page = v2_page_request(request, filters={})
        exports, has_more = page_slice(
            tenant_export_list(tenant=request_context(request).tenant).select_related("requested_by"), page
        )
        data = list(TenantExportOutput(exports, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters={})

    @extend_schema(
        operation_id="exports_create",
        request=None,
        responses={202: TenantExportOutput},
        description="Export the whole tenant: scenarios, runs and their outputs (Parquet), PPA contracts "
        "and valuations, webhook endpoints (without secrets), members and the audit ledger with its "
        "verification, as one zip with a `manifest.json` of sha256s. The export runs in the background: "
        "follow `Location` until `status` is `succeeded`, then download `download_url`. 409 while another "
        f"export of the tenant is queued or running. {NEEDS}",
        examples=[
            OpenApiExample(
                "Queued",
                value={"data": {**EXPORT_EXAMPLE, "status": "queued", "download_url": None}},
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    def post(self, request: Request) -> Response:
        context = request_context(request)
        export = tenant_export_request(tenant=context.tenant, actor=context.user)
        return object_response(
            request,
            TenantExportOutput(export).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(f"/api/v2/exports/{export.pk}")},
        )


class TenantExportDetailV2Api(PermissionByMethodView):
    needs = {"GET": TENANT_EXPORT}

    @extend_schema(
        operation_id="exports_retrieve",
        responses=TenantExportOutput,
        description=f"One export and its state. {NEEDS}",
        examples=[OpenApiExample("Done", value={"data": EXPORT_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, export_id: str) -> Response:
        export = tenant_export_get(tenant=request_context(request).tenant, export_id=export_id)
        return object_response(request, TenantExportOutput(export).data)


class TenantExportDownloadV2Api(PermissionByMethodView):
    needs = {"GET": TENANT_EXPORT}

    @extend_schema(
        operation_id="exports_download",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="the archive"),
        },
        description="The export's zip, streamed; `X-Export-Sha256` is its sha256. Each download is recorded "
        "in the audit ledger (`tenant.export.download`). 409 before the export succeeded, 410 once it "
        f"expired. {NEEDS}",
    )
    def get(self, request: Request, export_id: str) -> FileResponse:
        export = tenant_export_get(tenant=request_context(request).tenant, export_id=export_id)
        location = tenant_export_download_open(export=export)
        name = location.rstrip("/").rpartition("/")[2]
        response = FileResponse(export_file_open(location), as_attachment=True, filename=name)
        response["Content-Type"] = "application/zip"
        response["Cache-Control"] = "private, no-store"
        response["X-Export-Sha256"] = export.sha256
        return response
