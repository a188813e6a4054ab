from datetime import date, timedelta
from typing import Any

from rest_framework import serializers

from apps.usage.quotas import METRICS

MAX_RANGE_DAYS = 366


class UsageQueryInput(serializers.Serializer):
    """``from`` and ``to`` (inclusive, UTC days); both default to this month so far."""

    to = serializers.DateField(required=False, help_text="last day (UTC), inclusive; default today")

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword: the field is added by name.
        return {
            "from": serializers.DateField(
                required=False, help_text="first day (UTC); default the 1st of this month"
            ),
            **super().get_fields(),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today: date = self.context["today"]
        start = attrs.get("from") or (attrs.get("to") or today).replace(day=1)
        end = attrs.get("to") or max(today, start)
        if end < start:
            raise serializers.ValidationError({"to": "to must not be before from."})
        if end - start >= timedelta(days=MAX_RANGE_DAYS):
            raise serializers.ValidationError(
                {"to": f"At most {MAX_RANGE_DAYS} days from 'from' to 'to'; ask for several ranges."}
            )
        return {"start": start, "end": end}


class UsageDayOutput(serializers.Serializer):
    day = serializers.DateField()
    credential = serializers.CharField(
        help_text="token:<token id>, session:<membership id> (the portal), or system"
    )
    api_requests = serializers.IntegerField()
    rows_served = serializers.IntegerField()
    scenario_runs = serializers.IntegerField()
    export_rows = serializers.IntegerField()


class QuotaOutput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=METRICS)
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    used = serializers.IntegerField(help_text="this month so far, every credential")
    remaining = serializers.IntegerField(allow_null=True)
    resets_at = serializers.DateTimeField()


class UsageOutput(serializers.Serializer):
    to = serializers.DateField(source="end")
    days = UsageDayOutput(many=True)
    quotas = QuotaOutput(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": serializers.DateField(source="start"), **super().get_fields()}
