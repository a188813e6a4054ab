"""PPA forms: a contract's terms, and what to value it against. The services validate the terms
(``apps.ppa.valuation.validate_terms``); ``attach_issues`` puts each of their issues next to its input."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django import forms

from aurum.errors import Issue

TERM_FIELDS = (
    "counterparty",
    "price_usd_mwh",
    "volume_mwh",
    "capacity_mw",
    "capacity_factor",
    "discount_rate",
    "upfront_cost",
    "start_date",
    "end_date",
)


class _Accessible(forms.Form):
    """Inputs point at their help and error text (``aria-describedby``) and say when they are invalid."""

    def mark_errors(self) -> None:
        for name, field in self.fields.items():
            described = [f"id_{name}_help"] if field.help_text else []
            if name in self.errors:
                field.widget.attrs["aria-invalid"] = "true"
                described.append(f"id_{name}_error")
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)

    def attach_issues(self, issues: Iterable[Issue], *, aliases: Mapping[str, str] | None = None) -> None:
        """Each issue next to the field its path names (``terms.capacity_mw`` → capacity_mw)."""
        for issue in issues:
            path = issue.field or ""
            name = (aliases or {}).get(path, path.split(".")[-1])
            self.add_error(name if name in self.fields else None, issue.message)
        self.mark_errors()


class ContractForm(_Accessible):
    counterparty = forms.CharField(max_length=200, required=False)
    price_usd_mwh = forms.FloatField(
        label="Contract price (per MWh)", required=False, help_text="What the buyer pays per MWh."
    )
    volume_mwh = forms.FloatField(
        label="Volume per month (MWh)", required=False, help_text="Or leave empty and give the capacity."
    )
    capacity_mw = forms.FloatField(label="Capacity (MW)", required=False)
    capacity_factor = forms.FloatField(
        label="Capacity factor", required=False, help_text="A fraction above 0, at most 1 (default 1)."
    )
    discount_rate = forms.FloatField(
        label="Discount rate (annual)", required=False, help_text="A fraction: 0.08 means 8 % a year."
    )
    upfront_cost = forms.FloatField(label="Upfront cost", required=False)
    start_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="First month valued."
    )
    end_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Last month valued."
    )
    curve_key = forms.CharField(
        label="Curve",
        max_length=64,
        required=False,
        help_text="The curve valued against by default: type a location or product to pick one.",
        widget=forms.TextInput(attrs={"list": "curve-suggestions", "autocomplete": "off"}),
    )
    instrument_id = forms.CharField(label="Instrument id", max_length=64, required=False)

    @classmethod
    def initial_for(cls, terms: Mapping[str, Any], curve_key: str, instrument_id: str) -> dict[str, Any]:
        initial = {name: terms.get(name) for name in TERM_FIELDS}
        if initial["price_usd_mwh"] is None:
            initial["price_usd_mwh"] = terms.get("ppa_price")
        return {**initial, "curve_key": curve_key, "instrument_id": instrument_id}

    def terms(self, existing: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The terms the form sets, on top of any terms it does not show (set through the API)."""
        terms = {key: value for key, value in (existing or {}).items() if key not in TERM_FIELDS}
        if "price_usd_mwh" in self.cleaned_data and self.cleaned_data["price_usd_mwh"] is not None:
            terms.pop("ppa_price", None)
        for name in TERM_FIELDS:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            terms[name] = value.isoformat() if isinstance(value, date) else value
        return terms


class ValuationForm(_Accessible):
    SOURCES = (("curve", "The latest curves"), ("run", "A scenario run"))

    source = forms.ChoiceField(
        choices=SOURCES, widget=forms.RadioSelect, initial="curve", label="Value against"
    )
    curve_key = forms.CharField(
        label="Curve",
        max_length=64,
        required=False,
        help_text=(
            "Empty: the contract's curve (with a run: the run's only curve, else the contract's). "
            "Another: type a location or product to pick one."
        ),
        widget=forms.TextInput(attrs={"list": "curve-suggestions", "autocomplete": "off"}),
    )
    asof = forms.DateField(
        label="As-of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: the curve's latest as-of.",
    )
    run = forms.ChoiceField(label="Scenario run", required=False, choices=())
    discount_rate = forms.FloatField(
        label="Discount rate for this valuation", required=False, help_text="Empty: the contract's."
    )

    def __init__(self, *args: Any, runs: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        run_field = self.fields["run"]
        assert isinstance(run_field, forms.ChoiceField)
        run_field.choices = [("", "Choose a succeeded run"), *runs]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") == "run" and not data.get("run"):
            self.add_error("run", "Choose the scenario run to value against.")
        return data

    def options(self) -> dict[str, Any]:
        rate = self.cleaned_data.get("discount_rate")
        return {} if rate is None else {"discount_rate": rate}
