"""docs/integrations.md, "Authentication" (tokens), "Paging with cursors" and "Retrying safely": each
documented example runs against the in-process server and does what the page says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import ApiToken
from aurum.idempotency.models import IdempotentRequest
from aurum.sealing import answer_unseal
from tests.support.doc_examples import doc_example, example_run
from tests.support.world import World

DOC = "docs/integrations.md"
MADE = ("nightly-curve-export", "retry-loop-example", "curl-replay-example")


@pytest.fixture
def env(asgi_server: Any, committed_world: World) -> Iterator[dict[str, str]]:
    """The examples' environment as an acme admin; what they create is removed afterwards."""
    started = timezone.now()
    yield {
        "AURUM_URL": asgi_server.url,
        "AURUM_HOST": "acme.localhost",
        "AURUM_TOKEN": committed_world.acme.members["admin"].token,
    }
    ApiToken.objects.filter(name__in=MADE).delete()
    with schema_context("acme"):
        IdempotentRequest.objects.filter(created_at__gte=started).delete()


def test_the_documented_token_is_created_with_only_the_scopes_asked_for(env):
    result = example_run(doc_example(DOC, "auth-token-create-python"), env=env)

    assert result.returncode == 0, result.stderr
    created, permissions = result.stdout.splitlines()
    token = ApiToken.objects.get(name="nightly-curve-export")
    assert created == f"{token.pk} ['curves:read']"
    assert permissions == "['curves:read']"


def test_the_documented_loop_follows_links_next_to_the_last_page(env):
    whole = httpx.get(
        f"{env['AURUM_URL']}/api/v2/tokens?limit=100",
        headers={"Authorization": f"Bearer {env['AURUM_TOKEN']}", "Host": env["AURUM_HOST"]},
    ).json()["data"]

    result = example_run(doc_example(DOC, "paging-follow-python"), env=env)

    assert result.returncode == 0, result.stderr
    assert len(whole) >= 4  # the four members' tokens at least: two pages of two, or more
    assert result.stdout.split() == [str(len(whole)), str(len(whole))]


def test_the_documented_conditional_request_is_a_304(env):
    result = example_run(doc_example(DOC, "paging-etag-curl"), env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "304"


def test_the_documented_retry_loop_creates_one_token(env):
    result = example_run(doc_example(DOC, "retry-loop-python"), env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "201 retry-loop-example"
    assert ApiToken.objects.filter(name="retry-loop-example").count() == 1


def test_the_documented_curl_retry_is_a_replay(env):
    result = example_run(doc_example(DOC, "retry-replay-curl"), env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["201", "201", "replayed true"]
    assert ApiToken.objects.filter(name="curl-replay-example").count() == 1
    with schema_context("acme"):
        stored = IdempotentRequest.objects.get(
            path="/api/v2/tokens", response_status=201, key__startswith="docs-"
        )
    assert json.loads(answer_unseal(bytes(stored.response_body)))["data"]["name"] == "curl-replay-example"
