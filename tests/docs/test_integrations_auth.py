"""docs/integrations.md, "Authentication": the documented call answers who the token belongs to."""

from __future__ import annotations

import json
from typing import Any

from tests.support.doc_examples import doc_example, example_run
from tests.support.world import World

DOC = "docs/integrations.md"


def test_the_documented_curl_call_answers_the_tokens_member(asgi_server: Any, committed_world: World) -> None:
    member = committed_world.acme.members["analyst"]
    result = example_run(
        doc_example(DOC, "auth-me-curl"),
        env={"AURUM_URL": asgi_server.url, "AURUM_HOST": "acme.localhost", "AURUM_TOKEN": member.token},
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert json.dumps(body).count(member.email) >= 1


def test_the_documented_call_without_a_valid_token_fails(asgi_server: Any, committed_world: World) -> None:
    result = example_run(
        doc_example(DOC, "auth-me-curl"),
        env={
            "AURUM_URL": asgi_server.url,
            "AURUM_HOST": "acme.localhost",
            "AURUM_TOKEN": "aurum_not-a-token",
        },
    )
    assert result.returncode != 0  # curl -f: the 401 is an error
