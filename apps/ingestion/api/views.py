from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ingestion.models import IngestRun
from apps.ingestion.selectors import ingest_run_get, ingest_run_list
from apps.ingestion.services import IngestRejectedError, ingest_run_create
from apps.ingestion.tasks import ingest_run_enqueue
from aurum.api.permissions import Requires


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
            "error_code",
            "error_message",
            "attempts",
            "created",
            "started_at",
            "finished_at",
        ]


class IngestRunListCreateApi(APIView):
    parser_classes = [MultiPartParser]

    def get_permissions(self) -> list:  # type: ignore[type-arg]
        return [Requires("curves:write")()] if self.request.method == "POST" else [Requires("curves:read")()]

    @extend_schema(responses=IngestRunOutput(many=True))
    def get(self, request: Request) -> Response:
        runs = ingest_run_list(tenant=request._request.aurum_membership.tenant)[:100]  # type: ignore[attr-defined]
        return Response(IngestRunOutput(runs, many=True).data)

    @extend_schema(
        request={"multipart/form-data": IngestUploadInput},
        responses={202: IngestRunOutput, 200: IngestRunOutput},
        description=(
            "Upload a vendor EOD workbook. Answers 202 with the queued run (poll its `Location`), "
            "or 200 with the earlier run when these exact bytes were already ingested. "
            "Only the platform's market-data operators may load vendor datasets."
        ),
        examples=[
            OpenApiExample(
                "Queued",
                value={"id": 42, "status": "queued", "file_name": "EOD_EUGP_20250912_1430.xlsx"},
                response_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        tenant = request._request.aurum_membership.tenant  # type: ignore[attr-defined]
        if not tenant.is_operator:
            raise PermissionDenied("Only the platform's market-data operators can load vendor datasets.")
        data = IngestUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            created = ingest_run_create(
                data=upload.read(),
                file_name=upload.name,
                source=IngestRun.Source.API,
                requested_by=request._request.aurum_membership.user,  # type: ignore[attr-defined]
                as_of=data.validated_data.get("as_of"),  # type: ignore[arg-type]
            )
        except IngestRejectedError as exc:
            raise serializers.ValidationError({"file": f"{exc} (run {exc.run.pk})"}) from exc
        if created.created:
            ingest_run_enqueue(created.run)
        response = Response(
            IngestRunOutput(created.run).data, status=status.HTTP_202_ACCEPTED if created.created else 200
        )
        response["Location"] = reverse("ingest-run-detail", args=[created.run.pk])
        return response


class IngestRunDetailApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(responses=IngestRunOutput)
    def get(self, request: Request, run_id: int) -> Response:
        tenant = request._request.aurum_membership.tenant  # type: ignore[attr-defined]
        return Response(IngestRunOutput(ingest_run_get(tenant=tenant, run_id=run_id)).data)
