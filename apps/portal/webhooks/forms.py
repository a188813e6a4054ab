"""The forms of ``/settings/webhooks/``: plain input read from the POST and rendered back with its errors.

They only check what HTML cannot carry (a field left empty); the webhook services judge the URL (https,
public address after DNS) and the event types, and their issues are put next to the field they name.
"""

from __future__ import annotations

from django import forms

from apps.webhooks.event_types import EVENT_TYPES

EVENT_CHOICES = [(event_type, event_type) for event_type in EVENT_TYPES]
# The services' issue fields → these forms' fields.
ISSUE_FIELDS = {"url": "url", "events": "events", "description": "description"}


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        widget=forms.URLInput(
            attrs={"placeholder": "https://hooks.example.com/aurum", "autocomplete": "off"}
        ),
        help_text="Aurum POSTs each event here. It must be https and resolve to a public address.",
    )
    description = forms.CharField(
        required=False, max_length=500, help_text="Optional: what receives it, e.g. “Risk system”."
    )
    events = forms.MultipleChoiceField(
        label="Event types",
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one event type."},
        help_text="Only these events are sent to the endpoint.",
    )
