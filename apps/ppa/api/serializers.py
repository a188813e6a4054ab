"""Input and output shapes of the PPA APIs (v1: the original contract; v2: Aurum's)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from apps.ppa.models import PpaContract, PpaValuation
from apps.ppa.services import OPTION_KEYS


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


class _NoExtraFields(serializers.Serializer):
    """The original's bodies are ``additionalProperties: false``: an unknown field is a 400, not ignored."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        extra = (
            sorted(set(self.initial_data) - set(self.fields))
            if isinstance(self.initial_data, Mapping)
            else []
        )
        if extra:
            raise serializers.ValidationError({name: "Unknown field." for name in extra})
        return attrs


# --- v1 ---------------------------------------------------------------------------------------------------


class ContractCreateV1Input(_NoExtraFields):
    instrument_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    terms = serializers.DictField(required=False, default=dict)


class ContractUpdateV1Input(_NoExtraFields):
    instrument_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    terms = serializers.DictField(required=False, allow_null=True)


class ValuateV1Input(_NoExtraFields):
    ppa_contract_id = serializers.CharField(max_length=64)
    scenario_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    asof_date = serializers.DateField(required=False, allow_null=True)
    options = serializers.DictField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs.get("scenario_id"):
            raise serializers.ValidationError({"scenario_id": "scenario_id is required."})
        return attrs


def contract_v1(contract: PpaContract, *, tenant_id: str) -> dict[str, Any]:
    """``PpaContractOut``."""
    return {
        "ppa_contract_id": str(contract.pk),
        "tenant_id": tenant_id,
        "instrument_id": contract.instrument_id or None,
        "terms": contract.terms,
        "created_at": contract.created_at.isoformat(),
        "updated_at": contract.updated_at.isoformat(),
    }


def valuation_record_v1(row: Mapping[str, Any]) -> dict[str, Any]:
    """``PpaValuationRecord``: one stored ``ppa_valuation`` row."""
    return {
        "asof_date": row["asof_date"].isoformat() if row["asof_date"] else None,
        "scenario_id": row["scenario_id"],
        "period_start": row["period_start"].isoformat() if row["period_start"] else None,
        "period_end": row["period_end"].isoformat() if row["period_end"] else None,
        "metric": row["metric"],
        "value": _number(row["value"]),
        "cashflow": _number(row["cashflow"]),
        "npv": _number(row["npv"]),
        "irr": row["irr"],
        "curve_key": row["curve_key"],
        "version_hash": row["version_hash"],
        "ingested_at": row["_ingest_ts"].isoformat() if row["_ingest_ts"] else None,
    }


def ppa_metric_v1(row: Mapping[str, Any]) -> dict[str, Any]:
    """``PpaMetric``: one valuation row as the original's /v1/ppa/valuate returns it."""
    return {
        "period_start": row["period_start"].isoformat(),
        "period_end": row["period_end"].isoformat(),
        "metric": row["metric"],
        "value": _number(row["value"]),
        "currency": row["currency"],
        "unit": row["unit"],
        "run_id": row["run_id"],
        "curve_key": row["curve_key"],
        "tenor_type": row["tenor_type"],
    }


# --- v2 ---------------------------------------------------------------------------------------------------


class ContractInput(serializers.Serializer):
    instrument_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    curve_key = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The curve valued against by default; one the tenant is licensed for.",
    )
    terms = serializers.DictField(
        help_text=(
            "counterparty; price_usd_mwh or ppa_price; volume_mwh per month, or capacity_mw (× hours × "
            "capacity_factor); discount_rate (annual); upfront_cost; start_date; end_date."
        )
    )


class ContractPatchInput(serializers.Serializer):
    instrument_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    curve_key = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    terms = serializers.DictField(required=False, help_text="Replaces the terms as a whole.")


class ContractOutput(serializers.ModelSerializer):
    instrument_id = serializers.SerializerMethodField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)

    class Meta:
        model = PpaContract
        fields = ["id", "instrument_id", "curve_key", "terms", "created_by", "created_at", "updated_at"]

    def get_instrument_id(self, contract: PpaContract) -> str | None:
        return contract.instrument_id or None


class ValuationInput(serializers.Serializer):
    scenario_run_id = serializers.UUIDField(
        required=False, help_text="Value against this succeeded scenario run's `mid` output."
    )
    curve_key = serializers.CharField(
        max_length=64,
        required=False,
        help_text="The base curve (default: the contract's); with a run, which of its curves.",
    )
    asof = serializers.DateField(
        required=False, help_text="The base curve's as-of (default: its latest). Not with a run."
    )
    options = serializers.DictField(
        required=False, help_text=f"Overrides of the terms for this valuation: {', '.join(OPTION_KEYS)}."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("scenario_run_id") and attrs.get("asof"):
            raise serializers.ValidationError(
                {"asof": "A scenario run has its own as-of; give one or the other."}
            )
        return attrs


class CashflowOutput(serializers.Serializer):
    period = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    price = serializers.FloatField()
    volume_mwh = serializers.FloatField()
    cashflow = serializers.FloatField()
    discounted = serializers.FloatField()


def cashflows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "period": row["period"],
            "period_start": row["period_start"],
            "period_end": row["period_end"],
            "price": row["price"],
            "volume_mwh": row["volume_mwh"],
            "cashflow": _number(row["cashflow"]),
            "discounted": row["discounted"],
        }
        for row in rows
        if row["metric"] == "cashflow"
    ]


class ValuationOutput(serializers.ModelSerializer):
    contract_id = serializers.UUIDField()
    npv = serializers.FloatField()
    irr = serializers.FloatField(allow_null=True, help_text="Monthly IRR (the spec's); null when undefined.")
    irr_annualised = serializers.SerializerMethodField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)

    class Meta:
        model = PpaValuation
        fields = [
            "id",
            "contract_id",
            "source",
            "scenario_id",
            "scenario_run_id",
            "curve_key",
            "asof",
            "metric",
            "currency",
            "npv",
            "irr",
            "irr_annualised",
            "period_start",
            "period_end",
            "months",
            "row_count",
            "options",
            "terms",
            "version_hash",
            "source_snapshot_id",
            "snapshot_id",
            "created_by",
            "created_at",
        ]

    def get_irr_annualised(self, valuation: PpaValuation) -> float | None:
        """(1 + irr)^12 - 1; null when irr is."""
        return None if valuation.irr is None else (1.0 + valuation.irr) ** 12 - 1.0


class ValuationDetailOutput(ValuationOutput):
    cashflows = CashflowOutput(many=True, help_text="One per valued month, in month order.")

    class Meta(ValuationOutput.Meta):
        fields = [*ValuationOutput.Meta.fields, "cashflows"]
