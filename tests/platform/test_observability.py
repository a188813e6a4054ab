"""Request ids and structured logs."""

import json
import logging
import re

from aurum.observability.logging import structured_formatter


def test_incoming_request_id_is_echoed(world, api):
    response = api.get("/api/v2/me", HTTP_X_REQUEST_ID="trace-abc-123", **world.acme.auth())

    assert response["X-Request-Id"] == "trace-abc-123"


def test_request_id_is_generated_when_missing_and_differs_per_request(api):
    first = api.get("/health/live")["X-Request-Id"]
    second = api.get("/health/live")["X-Request-Id"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_unsafe_request_id_is_replaced(api):
    response = api.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-Id"])


def test_problem_responses_carry_the_request_id(world, api):
    response = api.get("/api/v2/me", HTTP_X_REQUEST_ID="rid-401")

    assert response.status_code == 401
    assert response["X-Request-Id"] == "rid-401"
    assert response.json()["request_id"] == "rid-401"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(structured_formatter("json"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_access_log_line_is_json_with_request_id_tenant_and_user(world, api):
    handler = _Lines()
    logger = logging.getLogger("aurum.access")
    logger.addHandler(handler)
    try:
        api.get("/api/v2/me", HTTP_X_REQUEST_ID="rid-log-1", **world.globex.auth("viewer"))
    finally:
        logger.removeHandler(handler)

    records = [json.loads(line) for line in handler.lines]
    mine = [r for r in records if r.get("request_id") == "rid-log-1"]
    assert len(mine) == 1
    assert mine[0]["tenant"] == "globex"
    assert mine[0]["user"] == "viewer@globex.example"
    assert mine[0]["path"] == "/api/v2/me"
    assert mine[0]["status"] == 200
    assert mine[0]["logger"] == "aurum.access"
