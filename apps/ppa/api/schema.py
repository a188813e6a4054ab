"""The OpenAPI shapes of the v1 PPA bodies (``serializers.contract_v1``, ``valuation_record_v1``,
``ppa_metric_v1``), named as in the v1 contract (``openapi-spec-v1.yaml``)."""

from __future__ import annotations

from rest_framework import serializers

from aurum.api.openapi import V1PageMeta, v1_envelope


class PpaContractOut(serializers.Serializer):
    ppa_contract_id = serializers.UUIDField()
    tenant_id = serializers.CharField()
    instrument_id = serializers.CharField(allow_null=True)
    terms = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PpaValuationRecord(serializers.Serializer):
    asof_date = serializers.DateField(allow_null=True)
    scenario_id = serializers.CharField(allow_null=True)
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    metric = serializers.CharField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    cashflow = serializers.FloatField(allow_null=True)
    npv = serializers.FloatField(allow_null=True)
    irr = serializers.FloatField(allow_null=True)
    curve_key = serializers.CharField(allow_null=True)
    version_hash = serializers.CharField(allow_null=True)
    ingested_at = serializers.DateTimeField(allow_null=True)


class PpaMetric(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    metric = serializers.CharField()
    value = serializers.FloatField()
    currency = serializers.CharField(allow_null=True)
    unit = serializers.CharField(allow_null=True)
    run_id = serializers.CharField(allow_null=True)
    curve_key = serializers.CharField(allow_null=True)
    tenor_type = serializers.CharField(allow_null=True)


V1_CONTRACTS = v1_envelope("PpaContractListResponse", PpaContractOut(many=True), V1PageMeta())
V1_CONTRACT = v1_envelope("PpaContractResponse", PpaContractOut())
V1_VALUATIONS = v1_envelope("PpaValuationListResponse", PpaValuationRecord(many=True), V1PageMeta())
V1_VALUATE = v1_envelope("PpaValuationResponse", PpaMetric(many=True))
