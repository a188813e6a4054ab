"""``/api/v2/webhooks``: the tenant's webhook endpoints, their delivery log, catch-up by sequence, ping,
redelivery, secret rotation and re-enabling. Every method needs ``webhooks:manage`` (admins); another
tenant's endpoint is 404."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import WEBHOOKS_MANAGE
from apps.webhooks.api.serializers import (
    AfterSequenceInput,
    DeliveryOutput,
    EndpointInput,
    EndpointOutput,
    EndpointPatchInput,
    EndpointWithSecretOutput,
    MessageOutput,
)
from apps.webhooks.selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
    webhook_message_list,
)
from apps.webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_endpoint_update,
    webhook_secret_rotate,
)
from apps.webhooks.services.messages import webhook_message_redeliver, webhook_ping
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView

MANAGE = WEBHOOKS_MANAGE
ENDPOINT_ID = "2f6b8c1e-5d3a-4e7b-9c0d-1a2b3c4d5e6f"
ENDPOINT_EXAMPLE = {
    "id": ENDPOINT_ID,
    "url": "https://hooks.example.com/aurum",
    "description": "Risk system",
    "events": ["ingestion.completed", "scenario.run.succeeded"],
    "enabled": True,
    "disabled_reason": "",
    "disabled_at": None,
    "last_sequence": 41,
    "consecutive_failures": 0,
    "previous_secret_expires_at": None,
    "created_at": "2026-01-07T08:00:00Z",
    "updated_at": "2026-01-07T08:00:00Z",
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0YSHUzsUuGo="
MESSAGE_EXAMPLE = {
    "webhook_id": "msg_5b0a3c2d1e0f4a5b8c7d6e5f4a3b2c1d",
    "sequence": 42,
    "event_id": "0d6c8e2a-1b3c-4d5e-8f9a-0b1c2d3e4f5a",
    "event_type": "scenario.run.succeeded",
    "state": "succeeded",
    "attempts": 1,
    "next_attempt_at": "2026-01-07T08:00:01Z",
    "delivered_at": "2026-01-07T08:00:01Z",
    "created_at": "2026-01-07T08:00:01Z",
    "payload": {
        "id": "0d6c8e2a-1b3c-4d5e-8f9a-0b1c2d3e4f5a",
        "type": "scenario.run.succeeded",
        "tenant": "acme",
        "occurred_at": "2026-01-07T08:00:00.812Z",
        "sequence": 42,
        "data": {"run_id": "7b1c…", "status": "succeeded", "url": "/api/v2/scenario-runs/7b1c…"},
    },
}
DELIVERY_EXAMPLE = {
    "id": 311,
    "webhook_id": "msg_5b0a3c2d1e0f4a5b8c7d6e5f4a3b2c1d",
    "event_id": "0d6c8e2a-1b3c-4d5e-8f9a-0b1c2d3e4f5a",
    "event_type": "scenario.run.succeeded",
    "sequence": 42,
    "attempt": 2,
    "attempted_at": "2026-01-07T08:00:11Z",
    "outcome": "succeeded",
    "status_code": 200,
    "duration_ms": 84,
    "error": "",
    "response_headers": {"content-type": "text/plain"},
    "response_body": "ok",
    "message_state": "succeeded",
}
PAGING = [
    OpenApiParameter("limit", int, description="1–100, default 10"),
    OpenApiParameter("cursor", str, description="links.next of the previous page"),
]
NEEDS = "Needs `webhooks:manage` (admins)."


class WebhookListV2Api(PermissionByMethodView):
    needs = {"GET": MANAGE, "POST": MANAGE}

    @extend_schema(
        operation_id="webhooks_list",
        parameters=PAGING,
        responses=EndpointOutput(many=True),
        description=f"The tenant's webhook endpoints, oldest first (never their secrets). {NEEDS}",
        examples=[OpenApiExample("A page", value={"data": [ENDPOINT_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        page = v2_page_request(request, filters={})
        endpoints, has_more = page_slice(webhook_endpoint_list(), page)
        data = list(EndpointOutput(endpoints, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters={})

    @extend_schema(
        operation_id="webhooks_create",
        request=EndpointInput,
        responses={201: EndpointWithSecretOutput},
        description="Add an endpoint: Aurum POSTs the subscribed events to `url`, signed in the Standard "
        "Webhooks format with the `secret` of this answer (`whsec_…`, shown once). The URL must be "
        f"https and resolve to a public address (400 otherwise). {NEEDS}",
        examples=[
            OpenApiExample(
                "Runs and ingests",
                value={
                    "url": "https://hooks.example.com/aurum",
                    "events": ["ingestion.completed", "scenario.run.succeeded"],
                    "description": "Risk system",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={"data": {**ENDPOINT_EXAMPLE, "last_sequence": 0, "secret": SECRET_EXAMPLE}},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(
            membership_id=request_context(request).membership.pk, **data.validated_data
        )
        return object_response(
            request,
            EndpointWithSecretOutput(endpoint).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(f"/api/v2/webhooks/{endpoint.pk}")},
        )


class WebhookDetailV2Api(PermissionByMethodView):
    needs = {"GET": MANAGE, "PATCH": MANAGE, "DELETE": MANAGE}

    @extend_schema(
        operation_id="webhooks_retrieve",
        responses=EndpointOutput,
        description=f"One endpoint (without its secret). {NEEDS}",
        examples=[OpenApiExample("One", value={"data": ENDPOINT_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        return object_response(request, EndpointOutput(webhook_endpoint_get(endpoint_id=endpoint_id)).data)

    @extend_schema(
        operation_id="webhooks_update",
        request=EndpointPatchInput,
        responses=EndpointOutput,
        description="Change the URL, the subscribed events or the description; `enabled: false` pauses "
        f"deliveries (messages are kept), `enabled: true` resumes them. {NEEDS}",
        examples=[
            OpenApiExample(
                "Subscribe to failures too", value={"events": ["scenario.run.failed"]}, request_only=True
            ),
            OpenApiExample("Changed", value={"data": ENDPOINT_EXAMPLE}, response_only=True),
        ],
    )
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
        data = EndpointPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint=endpoint, **data.validated_data)
        return object_response(request, EndpointOutput(endpoint).data)

    @extend_schema(
        operation_id="webhooks_delete",
        responses={204: None},
        description=f"Delete the endpoint with its messages and delivery log. {NEEDS}",
    )
    def delete(self, request: Request, endpoint_id: str) -> Response:
        webhook_endpoint_delete(endpoint=webhook_endpoint_get(endpoint_id=endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretV2Api(PermissionByMethodView):
    needs = {"POST": MANAGE}

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        request=None,
        responses=EndpointWithSecretOutput,
        description="A new signing secret (in this answer only). For 24 h every message carries two "
        "signatures, one per secret, so receivers switch over without losing a message "
        f"(`previous_secret_expires_at`). {NEEDS}",
        examples=[
            OpenApiExample(
                "Rotated",
                value={
                    "data": {
                        **ENDPOINT_EXAMPLE,
                        "previous_secret_expires_at": "2026-01-08T08:00:00Z",
                        "secret": SECRET_EXAMPLE,
                    }
                },
                response_only=True,
            )
        ],
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = webhook_secret_rotate(endpoint=webhook_endpoint_get(endpoint_id=endpoint_id))
        return object_response(request, EndpointWithSecretOutput(endpoint).data)


class WebhookPingV2Api(PermissionByMethodView):
    needs = {"POST": MANAGE}

    @extend_schema(
        operation_id="webhooks_ping",
        request=None,
        responses={202: MessageOutput},
        description="Send a `webhook.ping` message to the endpoint now (it takes the next sequence number); "
        f"its attempts appear in the delivery log. {NEEDS}",
        examples=[
            OpenApiExample(
                "Queued",
                value={"data": {**MESSAGE_EXAMPLE, "event_type": "webhook.ping", "state": "pending"}},
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        message = webhook_ping(endpoint=webhook_endpoint_get(endpoint_id=endpoint_id))
        return object_response(request, MessageOutput(message).data, status=status.HTTP_202_ACCEPTED)


class WebhookEnableV2Api(PermissionByMethodView):
    needs = {"POST": MANAGE}

    @extend_schema(
        operation_id="webhooks_enable",
        request=None,
        responses=EndpointOutput,
        description="Enable an endpoint Aurum disabled after a run of failures (or you paused): the failure "
        f"count starts over and the messages it held are delivered now. {NEEDS}",
        examples=[OpenApiExample("Enabled", value={"data": ENDPOINT_EXAMPLE}, response_only=True)],
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        endpoint = webhook_endpoint_enable(endpoint=webhook_endpoint_get(endpoint_id=endpoint_id))
        return object_response(request, EndpointOutput(endpoint).data)


class WebhookDeliveryListV2Api(PermissionByMethodView):
    needs = {"GET": MANAGE}

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=PAGING,
        responses=DeliveryOutput(many=True),
        description="The endpoint's delivery attempts, newest first: status, duration, the receiver's "
        f"headers and the first 4 KiB of its body, or the error. {NEEDS}",
        examples=[OpenApiExample("A page", value={"data": [DELIVERY_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
        page = v2_page_request(request, filters={})
        deliveries, has_more = page_slice(webhook_delivery_list(endpoint=endpoint), page)
        data = list(DeliveryOutput(deliveries, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters={})


class WebhookRedeliverV2Api(PermissionByMethodView):
    needs = {"POST": MANAGE}

    @extend_schema(
        operation_id="webhooks_redeliver",
        request=None,
        responses={202: MessageOutput},
        description="Deliver the attempt's message again now (same `webhook-id`, body and sequence), with "
        f"a fresh retry window. {NEEDS}",
        examples=[
            OpenApiExample(
                "Queued",
                value={"data": {**MESSAGE_EXAMPLE, "state": "pending"}},
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    def post(self, request: Request, endpoint_id: str, delivery_id: str) -> Response:
        endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
        delivery = webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        message = webhook_message_redeliver(message=delivery.message)
        return object_response(request, MessageOutput(message).data, status=status.HTTP_202_ACCEPTED)


class WebhookEventListV2Api(PermissionByMethodView):
    needs = {"GET": MANAGE}

    @extend_schema(
        operation_id="webhooks_events_list",
        parameters=[
            OpenApiParameter("after_sequence", int, description="The last sequence you processed; default 0"),
            *PAGING,
        ],
        responses=MessageOutput(many=True),
        description="Catch-up: the endpoint's messages after `after_sequence`, in sequence order, each with "
        f"the body that was (or will be) POSTed and its delivery state. {NEEDS}",
        examples=[OpenApiExample("A page", value={"data": [MESSAGE_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
        params = AfterSequenceInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        after = params.validated_data["after_sequence"]
        filters = {"after_sequence": after}
        page = v2_page_request(request, filters=filters)
        messages, has_more = page_slice(webhook_message_list(endpoint=endpoint, after_sequence=after), page)
        data = list(MessageOutput(messages, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)
