"""Input and output shapes of ``/api/v2/datasets`` and ``/api/v2/backfills``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from apps.datasets.models import Backfill, BackfillWindow
from apps.datasets.selectors import DatasetStatus
from aurum.datasets.contracts import Publication


class BackfillInput(serializers.Serializer):
    dataset = serializers.CharField(max_length=200, help_text="a dataset id of GET /api/v2/datasets")
    from_ = serializers.DateField(help_text="first day of data (YYYY-MM-DD)")
    to = serializers.DateField(help_text="last day of data, inclusive")
    dry_run = serializers.BooleanField(default=False, help_text="answer the windows without running them")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        extra = (
            sorted(set(self.initial_data) - set(self.fields))
            if isinstance(self.initial_data, Mapping)
            else []
        )
        if extra:
            raise serializers.ValidationError({name: "unknown field" for name in extra})
        return attrs


def publication_out(publication: Publication | None) -> dict[str, Any] | None:
    if publication is None:
        return None
    return {
        "publication_day": publication.day,
        "expected_at": publication.expected_at,
        "due_at": publication.due_at,
        "period": {"start": publication.period.start, "end": publication.period.end},
    }


def dataset_out(state: DatasetStatus, *, with_contract: bool = True) -> dict[str, Any]:
    contract = state.contract
    out: dict[str, Any] = {
        "id": contract.id,
        "title": contract.title,
        "kind": contract.kind,
        "licence": contract.licence,
        "status": state.status,
        "last_vintage": state.last_vintage,
        "latest_due": publication_out(state.due),
        "next_expected": publication_out(state.next_expected),
        "late_since": state.state.late_at if state.state else None,
        "recovered_at": state.state.recovered_at if state.state else None,
    }
    if with_contract:
        out["contract"] = contract.describe()
    return out


class BackfillWindowOutput(serializers.ModelSerializer):
    class Meta:
        model = BackfillWindow
        fields = [
            "id",
            "window_start",
            "window_end",
            "status",
            "attempts",
            "source_file",
            "fetch_run",
            "ingest_run",
            "error_code",
            "error",
            "claimed_at",
            "finished_at",
        ]


class BackfillOutput(serializers.ModelSerializer):
    requested_by = serializers.SerializerMethodField()
    windows_by_status = serializers.SerializerMethodField()

    class Meta:
        model = Backfill
        fields = [
            "id",
            "dataset",
            "first_day",
            "last_day",
            "status",
            "source_dir",
            "requested_by",
            "windows_by_status",
            "created",
            "finished_at",
        ]

    def get_requested_by(self, backfill: Backfill) -> str | None:
        return backfill.requested_by.email if backfill.requested_by else None

    def get_windows_by_status(self, backfill: Backfill) -> dict[str, int]:
        counts = getattr(backfill, "window_counts", None)
        if counts is None:
            counts = {}
            for window in backfill.windows.all():
                counts[window.status] = counts.get(window.status, 0) + 1
        return dict(sorted(counts.items()))


class BackfillDetailOutput(BackfillOutput):
    windows = BackfillWindowOutput(many=True, read_only=True)

    class Meta(BackfillOutput.Meta):
        fields = [*BackfillOutput.Meta.fields, "windows"]
