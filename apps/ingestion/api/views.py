from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ingestion.models import IngestRun
from apps.ingestion.selectors import ingest_run_get, ingest_run_list
from apps.ingestion.services import ingest_run_create, ingest_size_check, ingest_upload_check
from apps.ingestion.tasks import ingest_run_enqueue
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView
from aurum.errors import ForbiddenError, PayloadTooLargeError

# A multipart body is the file plus a few short fields; a body larger than the file limit and this is
# refused before Django reads it.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024


class IngestUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="An EOD workbook, EOD_{VENDOR}_{YYYYMMDD}_{HHMM}.xlsx")
    as_of = serializers.DateField(required=False, help_text="Override the as-of date found in the workbook")


class IngestRunOutput(serializers.ModelSerializer):
    class Meta:
        model = IngestRun
        fields = [
            "id",
            "status",
            "file_name",
            "sha256",
            "size_bytes",
            "source",
            "vendor",
            "dataset",
            "asof_date",
            "file_stamp",
            "file_stamp_source",
            "rows_parsed",
            "rows_published",
            "rows_derived",
            "rows_quarantined",
            "rows_per_sheet",
            "quarantine_reasons",
            "stage_ms",
            "warnings",
            "snapshot_id",
            "replaced_run",
            "superseded_by",
            "error_code",
            "error_message",
            "attempts",
            "created",
            "started_at",
            "finished_at",
        ]


class IngestRunListCreateApi(PermissionByMethodView):
    needs = {"GET": "curves:read", "POST": "curves:write"}
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="ingest_runs_list",
        parameters=[
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=IngestRunOutput(many=True),
        description=(
            "Ingest runs of the datasets the tenant is licensed for (all, for operators), newest first."
        ),
    )
    def get(self, request: Request) -> Response:
        page = v2_page_request(request, filters={})
        runs, has_more = page_slice(ingest_run_list(tenant=request_context(request).tenant), page)
        data = list(IngestRunOutput(runs, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters={})

    @extend_schema(
        operation_id="ingest_runs_create",
        request={"multipart/form-data": IngestUploadInput},
        responses={202: IngestRunOutput, 200: IngestRunOutput},
        description=(
            "Upload a vendor EOD workbook. Answers 202 with the queued run (poll its `Location`), "
            "or 200 with the earlier run when these exact bytes were already taken. A file over the size "
            "limit is refused unread with a 413 problem; a file that is no workbook of a known vendor (not "
            "a ZIP, truncated, a ZIP bomb, macros, no vendor in the name) with a 422 problem, not kept. "
            "Of two workbooks for one (dataset, as-of) the one with the later time stamp (`_HHMM` in the "
            "file name) wins; an older one arriving later ends `superseded`. Only the platform's "
            "market-data operators may load vendor datasets."
        ),
        examples=[
            OpenApiExample(
                "Queued",
                value={"data": {"id": 42, "status": "queued", "file_name": "EOD_EUGP_20250912_1430.xlsx"}},
                response_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        context = request_context(request)
        if not context.tenant.is_operator:
            raise ForbiddenError("Only the platform's market-data operators can load vendor datasets.")
        limit = settings.AURUM_INGEST_MAX_BYTES
        if _content_length(request) > limit + MULTIPART_ALLOWANCE_BYTES:
            raise PayloadTooLargeError(
                f"The request body is larger than the {limit:,}-byte file limit allows.", limit_bytes=limit
            )
        data = IngestUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        source = IngestRun.Source.API
        ingest_size_check(
            file_name=upload.name, size_bytes=upload.size, source=source, requested_by=context.user
        )
        content = upload.read()
        ingest_upload_check(data=content, file_name=upload.name, source=source, requested_by=context.user)
        created = ingest_run_create(
            data=content,
            file_name=upload.name,
            source=source,
            requested_by=context.user,
            as_of=data.validated_data.get("as_of"),
        )
        if created.created:
            ingest_run_enqueue(created.run)
        return object_response(
            request,
            IngestRunOutput(created.run).data,
            status=status.HTTP_202_ACCEPTED if created.created else status.HTTP_200_OK,
            headers={"Location": reverse("ingest-run-detail", args=[created.run.pk])},
        )


def _content_length(request: Request) -> int:
    """The declared body size; 0 when absent or not a number (Django's parser then reads what comes)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class IngestRunDetailApi(PermissionByMethodView):
    needs = {"GET": "curves:read"}

    @extend_schema(operation_id="ingest_runs_retrieve", responses=IngestRunOutput)
    def get(self, request: Request, run_id: int) -> Response:
        run = ingest_run_get(tenant=request_context(request).tenant, run_id=run_id)
        return object_response(request, IngestRunOutput(run).data)
