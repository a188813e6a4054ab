"""Input and output shapes of the watchlist and notice APIs."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from apps.watchlists.models import Follow, Notice


class _NoExtraFields(serializers.Serializer):
    """An unknown field is a 400 (a misspelt threshold must not be silently ignored)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        extra = (
            sorted(set(self.initial_data) - set(self.fields))
            if isinstance(self.initial_data, Mapping)
            else []
        )
        if extra:
            raise serializers.ValidationError({name: "Unknown field." for name in extra})
        return attrs


class FollowInput(_NoExtraFields):
    curve_key = serializers.CharField(max_length=64)
    threshold_abs = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True, help_text="In the curve's units"
    )
    threshold_pct = serializers.DecimalField(
        max_digits=7, decimal_places=3, required=False, allow_null=True, help_text="Percent; default 5"
    )
    tenor = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="'' whole curve (largest move), 'front' (first contract month) or a tenor label",
    )


class FollowPatchInput(_NoExtraFields):
    threshold_abs = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    threshold_pct = serializers.DecimalField(max_digits=7, decimal_places=3, required=False, allow_null=True)
    tenor = serializers.CharField(max_length=32, required=False, allow_blank=True)


class NoticeReadInput(_NoExtraFields):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_null=True,
        max_length=500,
        help_text="The notices to mark read; omitted or null: every unread notice",
    )


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class MoveOutput(serializers.Serializer):
    asof = serializers.DateField(source="move_asof")
    prev_asof = serializers.DateField(source="move_prev_asof")
    tenor = serializers.CharField(source="move_tenor")
    mid = serializers.FloatField(source="move_mid", allow_null=True)
    diff_abs = serializers.FloatField(source="move_abs", allow_null=True)
    diff_pct = serializers.FloatField(source="move_pct", allow_null=True, help_text="Percent")


class FollowOutput(serializers.ModelSerializer[Follow]):
    threshold_abs = serializers.SerializerMethodField()
    threshold_pct = serializers.SerializerMethodField()
    latest_move = serializers.SerializerMethodField()

    class Meta:
        model = Follow
        fields = ["curve_key", "threshold_abs", "threshold_pct", "tenor", "created_at", "latest_move"]

    def get_threshold_abs(self, follow: Follow) -> float | None:
        return _number(follow.threshold_abs)

    def get_threshold_pct(self, follow: Follow) -> float | None:
        return _number(follow.threshold_pct)

    def get_latest_move(self, follow: Follow) -> dict[str, Any] | None:
        """The move between the curve's two latest vintages (null before it has two)."""
        return None if follow.move_asof is None else dict(MoveOutput(follow).data)


class NoticeOutput(serializers.ModelSerializer[Notice]):
    curve = serializers.CharField(source="curve_label")
    diff_pct = serializers.FloatField(allow_null=True, help_text="Percent")
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "curve_key",
            "curve",
            "asof",
            "prev_asof",
            "tenor",
            "mid",
            "diff_abs",
            "diff_pct",
            "unit",
            "created_at",
            "read",
            "read_at",
        ]

    def get_read(self, notice: Notice) -> bool:
        return notice.read_at is not None
