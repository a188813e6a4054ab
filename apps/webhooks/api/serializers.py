"""Input and output shapes of the webhook API. Secrets appear only in the create and rotate answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from apps.webhooks.event_types import EVENT_TYPES
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage


class _NoExtraFields(serializers.Serializer):
    """An unknown field is a 400 (a misspelt field must not be silently ignored)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        extra = (
            sorted(set(self.initial_data) - set(self.fields))
            if isinstance(self.initial_data, Mapping)
            else []
        )
        if extra:
            raise serializers.ValidationError({name: "Unknown field." for name in extra})
        return attrs


class EndpointInput(_NoExtraFields):
    url = serializers.CharField(max_length=2000, help_text="https:// URL that receives the POSTs")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)), min_length=1, max_length=len(EVENT_TYPES)
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class EndpointPatchInput(_NoExtraFields):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)),
        min_length=1,
        max_length=len(EVENT_TYPES),
        required=False,
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False, help_text="false pauses; true enables again")


class AfterSequenceInput(serializers.Serializer):
    after_sequence = serializers.IntegerField(min_value=0, required=False, default=0)


class EndpointOutput(serializers.ModelSerializer[WebhookEndpoint]):
    enabled = serializers.BooleanField(source="is_enabled")
    last_sequence = serializers.IntegerField(source="sequence")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "last_sequence",
            "consecutive_failures",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(help_text="whsec_…: shown in this answer only; keep it")

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


class MessageOutput(serializers.ModelSerializer[WebhookMessage]):
    webhook_id = serializers.CharField(help_text="The webhook-id header of every attempt")
    event_type = serializers.CharField(help_text="The type (also in payload)")
    payload = serializers.JSONField(
        help_text="The body POSTed: {id, type, tenant, occurred_at, sequence, data}"
    )

    class Meta:
        model = WebhookMessage
        fields = [
            "webhook_id",
            "sequence",
            "event_id",
            "event_type",
            "state",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
        ]


class DeliveryOutput(serializers.ModelSerializer[WebhookDelivery]):
    webhook_id = serializers.CharField(source="message.webhook_id")
    event_id = serializers.UUIDField(source="message.event_id")
    event_type = serializers.CharField(source="message.event_type")
    sequence = serializers.IntegerField(source="message.sequence")
    message_state = serializers.CharField(source="message.state")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_id",
            "event_type",
            "sequence",
            "attempt",
            "attempted_at",
            "outcome",
            "status_code",
            "duration_ms",
            "error",
            "response_headers",
            "response_body",
            "message_state",
        ]
