"""docs/integrations.md, "Webhooks": the three verification examples accept a message Aurum signed (with one
secret, and with two after a rotation) and refuse a tampered one; the catch-up call answers the messages
after a sequence."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.services.messages import webhook_ping
from apps.webhooks.signing import secret_generate, signed_headers
from tests.support.doc_examples import doc_example, example_run
from tests.support.world import World

DOC = "docs/integrations.md"
VERIFIERS = {
    "standardwebhooks": doc_example(DOC, "webhook-verify-python"),
    "hmac": doc_example(DOC, "webhook-verify-python-hmac"),
    "node": doc_example(DOC, "webhook-verify-node"),
}
BODY = json.dumps({"id": str(uuid.uuid4()), "type": "scenario.run.succeeded", "sequence": 7, "data": {}})


def _env(secrets: list[str], secret: str, body: str = BODY) -> dict[str, str]:
    headers = signed_headers(
        secrets_active=secrets,
        msg_id=f"msg_{uuid.uuid4().hex}",
        timestamp=int(time.time()),
        body=BODY.encode(),
    )
    return {
        "WEBHOOK_SECRET": secret,
        "WEBHOOK_ID": headers["webhook-id"],
        "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"],
        "WEBHOOK_SIGNATURE": headers["webhook-signature"],
    }


@pytest.mark.parametrize("name", sorted(VERIFIERS))
def test_a_signed_message_verifies(name: str) -> None:
    secret = secret_generate()

    result = example_run(VERIFIERS[name], env=_env([secret], secret), stdin=BODY)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["scenario.run.succeeded", "7"]


@pytest.mark.parametrize("name", sorted(VERIFIERS))
def test_during_a_rotation_either_secret_verifies(name: str) -> None:
    new, old = secret_generate(), secret_generate()

    with_new = example_run(VERIFIERS[name], env=_env([new, old], new), stdin=BODY)
    with_old = example_run(VERIFIERS[name], env=_env([new, old], old), stdin=BODY)

    assert (with_new.returncode, with_old.returncode) == (0, 0), with_new.stderr + with_old.stderr


@pytest.mark.parametrize("name", sorted(VERIFIERS))
def test_a_tampered_body_or_another_secret_is_refused(name: str) -> None:
    secret = secret_generate()
    tampered = BODY.replace('"sequence": 7', '"sequence": 8')

    changed = example_run(VERIFIERS[name], env=_env([secret], secret), stdin=tampered)
    stranger = example_run(VERIFIERS[name], env=_env([secret], secret_generate()), stdin=BODY)

    assert changed.returncode != 0 and stranger.returncode != 0
    assert "8" not in changed.stdout


def test_the_catch_up_call_answers_the_messages_after_a_sequence(
    asgi_server: Any, committed_world: World
) -> None:
    with schema_context("acme"):
        endpoint = WebhookEndpoint.objects.create(
            url="http://127.0.0.1:9/hook", events=["scenario.run.succeeded"], secret=secret_generate()
        )
        for _ in range(3):
            webhook_ping(endpoint=endpoint)
    try:
        result = example_run(
            doc_example(DOC, "webhook-catch-up-curl"),
            env={
                "AURUM_URL": asgi_server.url,
                "AURUM_HOST": "acme.localhost",
                "AURUM_TOKEN": committed_world.acme.members["admin"].token,
                "WEBHOOK_ENDPOINT": str(endpoint.pk),
                "LAST_SEQUENCE": "1",
            },
        )
    finally:
        with schema_context("acme"):
            endpoint.delete()
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert [(m["sequence"], m["payload"]["type"]) for m in body["data"]] == [
        (2, "webhook.ping"),
        (3, "webhook.ping"),
    ]
