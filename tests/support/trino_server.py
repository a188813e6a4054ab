"""A stand-in Trino coordinator on loopback that speaks Trino's client REST protocol, so the real ``trino``
client (and through it ``TrinoEngine``) runs unchanged against it.

The protocol, as Trino documents it (https://trino.io/docs/current/develop/client-protocol.html): the client
POSTs the SQL text to ``/v1/statement`` with ``X-Trino-User`` / ``X-Trino-Catalog`` headers; every answer is
a JSON ``QueryResults`` object with ``id``, ``infoUri``, ``stats.state``, and, while the query is not done,
``nextUri``, which the client GETs for the next one. ``columns`` (name, type, typeSignature) come with the
first answer that has data; ``data`` is a list of rows in Trino's JSON encoding (dates and decimals as
strings). A failed query answers ``error`` (message, errorCode, errorName, errorType) and no ``nextUri``.
``GET /v1/info`` answers the coordinator's ServerInfo (``nodeVersion``, ``environment``, ``coordinator``,
``starting``, ``uptime``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LONG_ARGUMENTS = {"decimal": 2, "timestamp with time zone": 1, "timestamp": 1}


def _top_level(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return [*parts, text[start:].strip()]


def type_signature(trino_type: str) -> dict[str, Any]:
    """The ``typeSignature`` Trino sends for a column type (``varchar``, ``decimal(18,6)``,
    ``timestamp(6) with time zone``, ``array(row(component varchar, delta double))``, ...)."""
    head, _, rest = trino_type.partition("(")
    inside, _, tail = rest.rpartition(")")
    raw = (head + tail).strip()
    if raw == "array":
        return {"rawType": "array", "arguments": [{"kind": "TYPE", "value": type_signature(inside)}]}
    if raw == "row":
        fields = [part.split(" ", 1) for part in _top_level(inside)]
        return {
            "rawType": "row",
            "arguments": [
                {
                    "kind": "NAMED_TYPE",
                    "value": {"fieldName": {"name": name}, "typeSignature": type_signature(kind)},
                }
                for name, kind in fields
            ],
        }
    numbers = [int(part) for part in inside.split(",")] if inside else []
    if raw in ("varchar", "char"):  # an unbounded varchar is sent with Trino's maximum length
        length = numbers[0] if numbers else 2147483647
        return {"rawType": raw, "arguments": [{"kind": "LONG", "value": length}]}
    assert len(numbers) == _LONG_ARGUMENTS.get(raw, len(numbers)), trino_type
    return {"rawType": raw, "arguments": [{"kind": "LONG", "value": n} for n in numbers]}


@dataclass
class Answer:
    """What the stand-in answers to the next statement: ``columns`` as (name, Trino type), ``rows`` in
    Trino's JSON encoding, ``page_rows`` rows per ``nextUri`` page; or ``error`` (a Trino error object,
    sent after the query was queued); or ``http_status`` for every request (an unavailable coordinator)."""

    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    page_rows: int = 2
    error: dict[str, Any] | None = None
    http_status: int | None = None


@dataclass
class TrinoStandIn:
    port: int
    answer: Answer = field(default_factory=Answer)
    queue: list[Answer] = field(default_factory=list)  # answers for the next statements, in order
    statements: list[dict[str, Any]] = field(default_factory=list)  # {"sql", "headers"} per POST
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path), in order
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    starting: bool = False  # what ``GET /v1/info`` says: a coordinator still starting refuses queries

    @property
    def url(self) -> str:
        return f"http://desk@127.0.0.1:{self.port}"

    @property
    def sql(self) -> str:
        return str(self.statements[-1]["sql"])

    def results(self, query_id: str) -> list[dict[str, Any]]:
        """The answers of one query: queued, then one page per ``page_rows`` rows (the last one FINISHED),
        or queued then FAILED."""
        base = f"http://127.0.0.1:{self.port}"
        info = f"{base}/ui/query.html?{query_id}"
        answer = self.queue.pop(0) if self.queue else self.answer
        answers: list[dict[str, Any]] = [{"id": query_id, "infoUri": info, "stats": {"state": "QUEUED"}}]
        if answer.error is not None:
            answers.append(
                {"id": query_id, "infoUri": info, "stats": {"state": "FAILED"}, "error": answer.error}
            )
        else:
            columns = [
                {"name": name, "type": kind, "typeSignature": type_signature(kind)}
                for name, kind in answer.columns
            ]
            chunks = [
                answer.rows[i : i + answer.page_rows] for i in range(0, len(answer.rows), answer.page_rows)
            ]
            for chunk in chunks or [[]]:
                page: dict[str, Any] = {"id": query_id, "infoUri": info, "stats": {"state": "RUNNING"}}
                page["columns"] = columns
                if chunk:
                    page["data"] = chunk
                answers.append(page)
            answers[-1]["stats"] = {"state": "FINISHED"}
        for token, page in enumerate(answers[:-1]):
            page["nextUri"] = f"{base}/v1/statement/executing/{query_id}/y{token}/{token + 1}"
        return answers


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _send(self, status: int, body: dict[str, Any] | None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        stand_in = self.server.stand_in
        stand_in.requests.append(("POST", self.path))
        sql = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        stand_in.statements.append({"sql": sql, "headers": dict(self.headers.items())})
        if stand_in.answer.http_status is not None:
            self._send(stand_in.answer.http_status, None)
            return
        if self.path != "/v1/statement":
            self._send(404, None)
            return
        query_id = f"20261203_{uuid.uuid4().hex[:12]}"
        stand_in.pages[query_id] = stand_in.results(query_id)
        self._send(200, stand_in.pages[query_id][0])

    def do_GET(self) -> None:  # noqa: N802
        stand_in = self.server.stand_in
        stand_in.requests.append(("GET", self.path))
        if stand_in.answer.http_status is not None:
            self._send(stand_in.answer.http_status, None)
            return
        if self.path == "/v1/info":  # ServerInfo, as the coordinator answers it
            info = {
                "nodeVersion": {"version": "476"},
                "environment": "stand-in",
                "coordinator": True,
                "starting": stand_in.starting,
                "uptime": "1.00m",
            }
            self._send(200, info)
            return
        parts = self.path.strip("/").split("/")  # v1/statement/executing/<id>/<token>/<n>
        pages = stand_in.pages.get(parts[3]) if len(parts) == 6 else None
        if pages is None:
            self._send(404, None)
            return
        self._send(200, pages[int(parts[5])])

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.stand_in.requests.append(("DELETE", self.path))
        self._send(204, None)


class _Server(ThreadingHTTPServer):
    stand_in: TrinoStandIn


@contextmanager
def trino_stand_in() -> Iterator[TrinoStandIn]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stand_in = TrinoStandIn(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.stand_in
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def trino_reads(settings: Any) -> Iterator[TrinoStandIn]:
    """Reads go to the Trino engine (``settings``: pytest-django's fixture), whose client talks HTTP to the
    stand-in coordinator."""
    with trino_stand_in() as stand_in:
        settings.AURUM_QUERY_ENGINE = "trino"
        settings.AURUM_TRINO_URL = stand_in.url
        yield stand_in


def _trino_type(values: list[Any]) -> str:
    present = [value for value in values if value is not None]
    if not present:
        return "varchar"
    value = present[0]
    if isinstance(value, list) and value and isinstance(value[0], dict):  # an array of structs
        fields = ", ".join(f"{name} {_trino_type([item[name] for item in value])}" for name in value[0])
        return f"array(row({fields}))"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, Decimal):
        return "decimal(18,6)"
    if isinstance(value, datetime):
        return "timestamp(6) with time zone"
    if isinstance(value, date):
        return "date"
    return "varchar"


def _encoded(value: Any) -> Any:
    """A value as Trino's JSON encoding carries it (a row as a list of its fields)."""
    if isinstance(value, list):
        return [_encoded(item) for item in value]
    if isinstance(value, dict):
        return [_encoded(item) for item in value.values()]
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def answer_of(rows: list[dict[str, Any]], *, page_rows: int = 2) -> Answer:
    """An answer of ``rows`` (dicts, one key per column, Python values), typed from the values."""
    names = list(rows[0])
    columns = [(name, _trino_type([row[name] for row in rows])) for name in names]
    data = [[_encoded(row[name]) for name in names] for row in rows]
    return Answer(columns=columns, rows=data, page_rows=page_rows)


def trino_error(name: str, error_type: str = "USER_ERROR", code: int = 1) -> dict[str, Any]:
    """A Trino error object (``QueryError``) as the coordinator sends it for a failed query."""
    return {
        "message": f"line 1:15: {name.lower().replace('_', ' ')}",
        "errorCode": code,
        "errorName": name,
        "errorType": error_type,
        "errorLocation": {"lineNumber": 1, "columnNumber": 15},
        "failureInfo": {
            "type": "io.trino.spi.TrinoException",
            "message": name,
            "suppressed": [],
            "stack": [],
        },
    }
