"""A curve page's state, read from and written to its URL: immutable as-of dates, so a link shows the same
numbers tomorrow."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.urls import reverse

from apps.portal.access import form_invalid


class CurveStateForm(forms.Form):
    asof = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    compare = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    tenor_type = forms.CharField(required=False, max_length=32)
    tenor = forms.CharField(required=False, max_length=100)
    vintage = forms.IntegerField(required=False, min_value=0)


@dataclass(frozen=True)
class CurveState:
    curve_key: str
    asof: date | None = None
    compare: date | None = None
    tenor_type: str = ""
    tenor: str = ""
    vintage: int | None = None  # the scrubber's position; resolved to an as-of, never kept in a URL

    @classmethod
    def from_query(cls, curve_key: str, query: QueryDict) -> CurveState:
        """The state in ``query``; InvalidInputError naming each bad parameter (a date is YYYY-MM-DD)."""
        form = CurveStateForm(query)
        if not form.is_valid():
            hint = "Use a date like 2025-07-03."
            raise form_invalid(form, hints={"asof": hint, "compare": hint})
        data: dict[str, Any] = form.cleaned_data
        return cls(
            curve_key=curve_key,
            asof=data["asof"],
            compare=data["compare"],
            tenor_type=data["tenor_type"] or "",
            tenor=data["tenor"] or "",
            vintage=data["vintage"],
        )

    def params(self) -> dict[str, str]:
        params = {
            "asof": self.asof.isoformat() if self.asof else "",
            "compare": self.compare.isoformat() if self.compare else "",
            "tenor_type": self.tenor_type,
            "tenor": self.tenor,
        }
        return {name: value for name, value in params.items() if value}

    def with_(self, **changes: Any) -> CurveState:
        return replace(self, vintage=None, **changes)

    def url(self, view: str = "portal-curve", **extra: str) -> str:
        query = urlencode({**self.params(), **extra})
        return reverse(view, args=[self.curve_key]) + (f"?{query}" if query else "")
