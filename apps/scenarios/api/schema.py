"""The OpenAPI shapes of the v1 scenario bodies (``serializers.scenario_v1``, ``run_v1``,
``output_points_v1``; the bulk and latest-metric bodies of ``v1``), after the v1 contract
(``openapi-spec-v1.yaml``: ScenarioData, ScenarioRunData, ScenarioOutputPoint, ScenarioMetricLatest)."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from apps.scenarios.models import Scenario, ScenarioRun
from aurum.api.openapi import V1Meta, V1PageMeta, v1_envelope

# v1 calls a timed-out run "timeout" (the contract's ScenarioRunStatus).
V1_RUN_STATUSES = [
    "timeout" if status == ScenarioRun.Status.TIMED_OUT else status for status in ScenarioRun.Status.values
]


class AssumptionV1(serializers.Serializer):
    driver_type = serializers.CharField(
        help_text="policy, load_growth, fuel_curve, fleet_change, stochastic, …"
    )
    payload = serializers.DictField()
    version = serializers.IntegerField()
    name = serializers.CharField(required=False)


class SelectionV1(serializers.Serializer):
    curve_keys = serializers.ListField(child=serializers.CharField())
    curve_filter = serializers.DictField(child=serializers.CharField())
    base_asof = serializers.DateField(allow_null=True, help_text="null: the latest")


class ScenarioV1(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Scenario.Status.choices)
    unique_key = serializers.CharField()
    assumptions = AssumptionV1(many=True)
    parameters = serializers.DictField()
    tags = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    created_by = serializers.EmailField(allow_null=True)
    version = serializers.IntegerField()
    metadata = SelectionV1(help_text="the curves the scenario moves")


class ScenarioRunV1(serializers.Serializer):
    id = serializers.UUIDField()
    scenario_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=V1_RUN_STATUSES)
    priority = serializers.ChoiceField(choices=ScenarioRun.Priority.values)
    run_key = serializers.CharField(help_text="{scenario_id}:{input_hash}")
    input_hash = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)
    retry_count = serializers.IntegerField()
    max_retries = serializers.IntegerField()
    progress_percent = serializers.FloatField()
    parameters = serializers.DictField()
    environment = serializers.DictField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


class ScenarioOutputPointV1(serializers.Serializer):
    timestamp = serializers.DateTimeField(help_text="the contract month, midnight UTC")
    metric_name = serializers.CharField()
    value = serializers.FloatField()
    unit = serializers.CharField()
    tags = serializers.DictField(
        child=serializers.CharField(),
        help_text="curve_key, tenor_label, tenor_type, contract_month, asof_date, run_id, band_lower and "
        "band_upper",
    )


class ScenarioMetricLatestV1(serializers.Serializer):
    scenario_id = serializers.UUIDField()
    metric_name = serializers.CharField()
    value = serializers.FloatField(help_text="the metric's mean over the latest succeeded run's rows")
    unit = serializers.CharField(help_text="the curves' unit; mixed when they differ")
    timestamp = serializers.DateTimeField(allow_null=True, help_text="when the run completed")
    trend = serializers.ChoiceField(choices=["up", "down", "flat"], allow_null=True)
    change_percent = serializers.FloatField(allow_null=True, help_text="against the previous succeeded run")


class MetricLatestMeta(V1Meta):
    run_id = serializers.UUIDField()
    rows = serializers.IntegerField(help_text="output rows of the run")


class BulkRunItem(serializers.Serializer):
    index = serializers.IntegerField(help_text="position in runs")
    idempotency_key = serializers.CharField(allow_null=True)
    run_id = serializers.UUIDField(allow_null=True)
    status = serializers.CharField(help_text="the created run's status, or failed")
    error = serializers.CharField(allow_null=True, help_text="why the item failed (its key is another's)")


class BulkRunDuplicate(serializers.Serializer):
    index = serializers.IntegerField(help_text="position in runs")
    idempotency_key = serializers.CharField(allow_null=True)
    existing_run_id = serializers.UUIDField()
    existing_status = serializers.ChoiceField(choices=ScenarioRun.Status.values)
    created_at = serializers.DateTimeField()


class BulkRunsMeta(V1Meta):
    total_runs = serializers.IntegerField()
    successful_runs = serializers.IntegerField()
    duplicate_runs = serializers.IntegerField()
    failed_runs = serializers.IntegerField()


V1_SCENARIOS = v1_envelope("ScenarioListV1Response", ScenarioV1(many=True), V1PageMeta())
V1_SCENARIO = v1_envelope("ScenarioV1Response", ScenarioV1())
V1_RUNS = v1_envelope("ScenarioRunListV1Response", ScenarioRunV1(many=True), V1PageMeta())


class RunMetaV1(V1Meta):
    error_code = serializers.ChoiceField(
        choices=ScenarioRun.ErrorCode.values,
        allow_null=True,
        required=False,
        help_text="Aurum's addition (one run's answers): why the run failed; ADMIN_FAILED when an "
        "administrator failed it",
    )


V1_RUN = v1_envelope("ScenarioRunV1Response", ScenarioRunV1(), RunMetaV1())
V1_OUTPUTS = v1_envelope("ScenarioOutputV1Response", ScenarioOutputPointV1(many=True), V1PageMeta())
# Built from a dict: a serializer class may not declare a field named "data" (it is a Serializer attribute).
V1_BULK_RUNS = inline_serializer(
    name="BulkRunsV1Response",
    fields={
        "meta": BulkRunsMeta(),
        "data": BulkRunItem(many=True, help_text="the runs created, and the items that failed"),
        "duplicates": BulkRunDuplicate(many=True, help_text="items whose inputs or key already had a run"),
    },
)
V1_METRIC_LATEST = v1_envelope("ScenarioMetricLatestV1Response", ScenarioMetricLatestV1(), MetricLatestMeta())
